//! Starting and reopening runs: take the runbook's lock, write (or reopen) the journal,
//! renew the lease while the run lives, and after a drill undo what it did, measure it and
//! keep its report and history.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::outcome::ExitClass;
use super::prepare::{new_run_id, runbook_of, selection, sha256_file};
use crate::actions::Mode;
use crate::engine::{
    Engine, ExecPlan, JournalError, RunHeader, RunOptions, RunState, SharedJournal, lifecycle,
};
use crate::measure::Clock;
use crate::report::render_html;
use crate::report::{HistoryEntry, Report};
use crate::runbook::{Drill, Runbook, compile};
use crate::store::{LockError, LockHolder, SharedLock, Store, hostname};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// `failover` or `drill`.
    pub command: String,
    pub runbook: Runbook,
    pub drill: Option<Drill>,
    pub mode: Mode,
    /// T0; `None` means now.
    pub t0: Option<DateTime<Utc>>,
    pub var_overrides: BTreeMap<String, String>,
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub max_parallel: usize,
    pub force_unlock: bool,
}

/// Why a run could not be started or reopened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Bad input: exit code 2.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
}

impl SessionError {
    /// How a command that could not start or reopen its run ended.
    pub fn class(&self) -> ExitClass {
        match self {
            SessionError::Lock(LockError::Io { .. }) => ExitClass::Failure,
            SessionError::Lock(_) => ExitClass::Refused,
            SessionError::Invalid(_) => ExitClass::Invalid,
            _ => ExitClass::Failure,
        }
    }
}

/// A run in progress: its plan, journal, lock and the state replayed when it was opened.
pub struct Session {
    pub header: RunHeader,
    pub runbook: Runbook,
    pub plan: ExecPlan,
    pub selected: Option<BTreeSet<String>>,
    pub writer: SharedJournal,
    pub lock: SharedLock,
    pub state: RunState,
    /// A stale or forced lock this session took over.
    pub displaced_lock: Option<LockHolder>,
}

impl Session {
    /// Renew the lock's lease until the returned handle is dropped or aborted.
    pub fn heartbeat(&self, clock: Clock) -> tokio::task::JoinHandle<()> {
        heartbeat(self.lock.clone(), clock)
    }

    /// The run's state as the journal now tells it.
    pub fn replay(&self) -> Result<RunState, SessionError> {
        let writer = self
            .writer
            .lock()
            .map_err(|_| SessionError::Io("journal lock poisoned".into()))?;
        let entries = writer.entries()?;
        RunState::replay(&entries).ok_or(SessionError::Journal(JournalError::NoHeader {
            location: writer.location(),
        }))
    }

    /// Leave an interrupted run to be continued by a later process (the Lambda handler, when
    /// an invocation's deadline stopped a drill): no undo, no report, no history. The
    /// journal says so (a `run_interrupted` record with [`CONTINUATION_REASON`], which
    /// [`continuation_of`] looks for) and the lock stays, naming this run, with its lease
    /// ended so that the next invocation takes it over (`RunLock::keep_for_resume`).
    pub fn leave_for_continuation(&self, clock: Clock) -> Result<(), SessionError> {
        let now = clock.now();
        let mut journal = self
            .writer
            .lock()
            .map_err(|_| SessionError::Io("journal lock poisoned".into()))?;
        lifecycle::left(&mut **journal, now, CONTINUATION_REASON)?;
        drop(journal);
        self.lock
            .lock()
            .map_err(|_| SessionError::Io("run lock poisoned".into()))?
            .keep_for_resume(now)?;
        Ok(())
    }

    /// Options for the engine.
    pub fn options(&self, approvals: crate::actions::Approvals) -> RunOptions {
        RunOptions {
            max_parallel: self.header.max_parallel,
            approvals,
            selected: self.selected.clone(),
        }
    }
}

/// Renew `lock`'s lease every quarter lease until the returned handle is aborted.
pub(crate) fn heartbeat(lock: SharedLock, clock: Clock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut warned = false;
        loop {
            tokio::time::sleep(crate::store::lease() / 4).await;
            let lock = lock.clone();
            // A shared store's renewal is a network call: keep it off the async workers.
            let renewed = tokio::task::spawn_blocking(move || match lock.lock() {
                Ok(mut held) => held.renew(clock.now()).map_err(|e| e.to_string()).err(),
                Err(_) => Some("lock poisoned".to_string()),
            })
            .await;
            if let Ok(Some(e)) = renewed
                && !warned
            {
                tracing::warn!("cannot renew the run's lock: {e}");
                warned = true;
            }
        }
    })
}

/// How far back [`continuation_of`] looks for a run to continue.
pub const CONTINUATION_WINDOW: chrono::Duration = chrono::Duration::days(2);

/// The reason journalled when a run is left for a later invocation to continue.
pub const CONTINUATION_REASON: &str =
    "deadline: left to be continued by the next invocation (same run, same T0)";

/// The run of drill `drill` that a deadline left to be continued, if any (newest first).
///
/// A run qualifies when its journal's last word is [`Session::leave_for_continuation`]'s:
/// it finished `interrupted` with [`CONTINUATION_REASON`]. A resume clears that (its
/// `run_resumed` record), so a run is continued once at a time; a run stopped by Ctrl-C,
/// one that crashed, and one whose drill was finished (undone, reported) never qualify.
///
/// This is the one place that searches runs by drill: it lists run ids and replays the
/// journals of the runs started in the last [`CONTINUATION_WINDOW`] (run ids begin with their
/// start time), so a frequent check reads a handful of journals, not the whole history. An
/// older cut run is left to a `resume` event or `drctl cleanup --all-stale`.
pub fn continuation_of(store: &dyn Store, drill: &str) -> Result<Option<String>, SessionError> {
    let ids = store
        .run_ids()
        .map_err(|e| SessionError::Io(format!("cannot list the runs: {e}")))?;
    let since = Utc::now() - CONTINUATION_WINDOW;
    for id in ids.into_iter().rev() {
        let started = id
            .get(..16)
            .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%SZ").ok())
            .map(|t| t.and_utc());
        if started.is_some_and(|t| t < since) {
            break; // ids are oldest first: every remaining one is older
        }
        let Some(entries) = store.read_journal(&id)? else {
            continue;
        };
        let Some(state) = RunState::replay(&entries) else {
            continue;
        };
        if state.header.drill_name.as_deref() == Some(drill)
            && state.status == Some(crate::engine::RunStatus::Interrupted)
            && state.interrupted.as_deref() == Some(CONTINUATION_REASON)
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Start a new run: lock, then journal header.
pub fn start_run(
    store: &dyn Store,
    req: RunRequest,
    clock: Clock,
) -> Result<Session, SessionError> {
    let selected = selection(&req.runbook, &req.only, &req.skip)
        .map_err(|e| SessionError::Invalid(e.to_string()))?;
    let plan = compile(&req.runbook).map_err(|e| SessionError::Invalid(e.to_string()))?;
    let now = clock.now();
    let run_id = new_run_id(now);
    let (lock, displaced) =
        store.acquire_lock(&req.runbook.name, &run_id, now, req.force_unlock)?;
    let sha = sha256_file(&req.runbook.path).map_err(|e| {
        SessionError::Io(format!("cannot read {}: {e}", req.runbook.path.display()))
    })?;
    let targets = req
        .drill
        .as_ref()
        .map(|d| d.targets)
        .unwrap_or(req.runbook.targets);
    let header = RunHeader {
        run_id: run_id.clone(),
        command: req.command.clone(),
        runbook_name: req.runbook.name.clone(),
        runbook_path: absolute(&req.runbook.path),
        runbook_sha256: sha,
        drill_path: req.drill.as_ref().map(|d| absolute(&d.path)),
        drill_name: req.drill.as_ref().map(|d| d.name.clone()),
        mode: req.mode,
        t0: req.t0.unwrap_or(now),
        rto_target_secs: targets.rto.map(|d| d.as_secs()),
        rpo_target_secs: targets.rpo.map(|d| d.as_secs()),
        var_overrides: req.var_overrides.clone(),
        only: req.only.clone(),
        skip: req.skip.clone(),
        max_parallel: req.max_parallel.max(1),
        host: hostname(),
        pid: std::process::id(),
    };
    let mut writer = store.create_journal(&run_id)?;
    let entry = lifecycle::started(&mut *writer, now, &header)?;
    let state = RunState::replay(&[entry])
        .ok_or_else(|| SessionError::Io("cannot replay the new journal".into()))?;
    Ok(Session {
        plan,
        runbook: req.runbook,
        header,
        selected,
        writer: Arc::new(Mutex::new(writer)),
        lock: Arc::new(Mutex::new(lock)),
        state,
        displaced_lock: displaced,
    })
}

fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reopen a run to continue it (`drctl resume`). The runbook is loaded again from the path
/// the journal names and must be unchanged; the lock is taken again (a stale lock of the
/// same run is taken over).
pub fn open_run(
    store: &dyn Store,
    run_id: &str,
    clock: Clock,
    force_unlock: bool,
) -> Result<Session, SessionError> {
    let Some(entries) = store.read_journal(run_id)? else {
        return Err(SessionError::Invalid(format!(
            "there is no run `{run_id}` in {} (see `drctl runs`)",
            store.location()
        )));
    };
    let state = RunState::replay(&entries).ok_or_else(|| JournalError::NoHeader {
        location: format!("{} run {run_id}", store.location()),
    })?;
    let header = state.header.clone();
    let sha = sha256_file(&header.runbook_path).map_err(|e| {
        SessionError::Invalid(format!(
            "cannot read the runbook of run {run_id} at {}: {e}",
            header.runbook_path.display()
        ))
    })?;
    if sha != header.runbook_sha256 {
        return Err(SessionError::Invalid(format!(
            "runbook {} changed since run {run_id} started; resuming would run different steps. Restore the file, or start a new run",
            header.runbook_path.display()
        )));
    }
    let runbook = runbook_of(&header).map_err(|d| SessionError::Invalid(d.render(false)))?;
    let plan = compile(&runbook).map_err(|e| SessionError::Invalid(e.to_string()))?;
    let selected = selection(&runbook, &header.only, &header.skip)
        .map_err(|e| SessionError::Invalid(e.to_string()))?;
    let (lock, displaced) =
        store.acquire_lock(&header.runbook_name, run_id, clock.now(), force_unlock)?;
    let (mut writer, _) = store.reopen_journal(run_id)?;
    lifecycle::resumed(&mut *writer, clock.now(), std::process::id(), hostname())?;
    Ok(Session {
        plan,
        runbook,
        header,
        selected,
        writer: Arc::new(Mutex::new(writer)),
        lock: Arc::new(Mutex::new(lock)),
        state,
        displaced_lock: displaced,
    })
}

/// The approval name that gates a live drill's failback.
pub const FAILBACK: &str = "failback";

async fn approved(approvals: &crate::actions::Approvals, gate: &str, question: &str) -> bool {
    if approvals.pre_approved.contains(gate) {
        return true;
    }
    match &approvals.ask {
        Some(ask) => ask(gate.to_string(), question.to_string()).await,
        None => false,
    }
}

/// After a drill's steps: undo what it did (isolated drills, and any drill that failed),
/// build the report, keep it (JSON and HTML) and append the history.
pub async fn finish_drill(
    engine: &Engine,
    session: &Session,
    store: &dyn Store,
    approvals: crate::actions::Approvals,
) -> Result<(Report, String), SessionError> {
    let state = session.replay()?;
    let succeeded = state.status == Some(crate::engine::RunStatus::Succeeded);
    // A live drill fails back only behind its own approval (`--approve failback`, or a
    // person at the terminal); without one, production stays on the recovery side and the
    // report says the failback is pending (`drctl cleanup RUN_ID` performs it).
    let failback = session.header.mode == Mode::DrillLive
        && succeeded
        && approved(
            &approvals,
            FAILBACK,
            "The live failover succeeded. Fail back now?",
        )
        .await;
    if state.undo_due() || failback {
        let opts = session.options(approvals);
        // Undo gets its own bounded time: cleanup must not hang a scheduled run forever.
        let _ = tokio::time::timeout(
            Duration::from_secs(3600),
            engine.undo(&session.plan, session.writer.clone(), &state, &opts),
        )
        .await;
    }
    let state = session.replay()?;
    let report = Report::build(&state, &session.plan);
    let location = save_report(store, &report)?;
    store
        .append_history(&HistoryEntry::from(&report))
        .map_err(|e| SessionError::Io(e.to_string()))?;
    Ok((report, location))
}

/// Keep the report in the store, with its HTML rendering (and the drill history chart) when
/// the store keeps one; returns where a person finds it.
pub fn save_report(store: &dyn Store, report: &Report) -> Result<String, SessionError> {
    let html = store
        .keeps_html_report()
        .then(|| render_html(report, &store.read_history().unwrap_or_default()));
    store
        .save_report(report, html.as_deref())
        .map_err(|e| SessionError::Io(e.to_string()))
}
