//! `drctl cleanup`: remove what a drill run left behind, and only that.
//!
//! Two sources, in this order:
//! 1. The journal. Succeeded steps whose undo data is not undone yet (the undo failed, was
//!    cut short, or never ran) are undone through the same `Engine::undo` a drill uses, which
//!    journals each undo, so a second cleanup does not repeat it.
//! 2. AWS, for what the journal's undo data cannot cover (a step killed after creating
//!    something, a step that failed after creating something): EFS file systems tagged
//!    `drctl:run-id = <run>` in the runbook's regions (mount targets first, then the file
//!    system), and Route 53 records named `drctl-drill-<run id>.*` in
//!    the zones the runbook's `route53.failover` steps use.
//!
//! Only resources carrying this run's id are touched: a tag holds the whole id, and so does a
//! drill record's name. As a second guard a record is deleted only when this run's journal
//! also names it (the action journals a record before creating it); others with the prefix
//! are listed as kept.
//!
//! A live drill that succeeded made the new production: undoing it is its failback, which
//! moves production back, so cleanup does it only when confirmed (`--yes`, or a person at
//! the terminal). And in live drills the search by id runs only once every undo has
//! succeeded: until traffic is back, a file system tagged with the run may be serving it.
//!
//! A run whose process is alive (its lock is held and fresh) is refused. Otherwise cleanup
//! takes the runbook's lock when it is free or held (stale) by this run, so a `drctl
//! resume` of the run cannot act at the same time; when another run holds it, cleanup goes
//! on without it, since that run never touches resources carrying this run's id.
//!
//! What cleanup did is kept in `runs/<id>/cleanup.json`; a complete cleanup newer than the
//! journal's last entry takes the run off the `--all-stale` list.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::outcome::ExitClass;
use super::prepare::{runbook_of, sha256_file};
use super::session::{heartbeat, save_report};
use crate::actions::{
    Approvals, RUN_ID_TAG, STEP_TAG, delete_drill_record, delete_file_system, drill_records,
    tagged_file_systems,
};
use crate::engine::{
    Engine, Entry, ExecPlan, JournalError, RunOptions, RunState, StepStatus, UndoStatus,
};
use crate::report::Report;
use crate::runbook::{Runbook, compile, interpolate};
use crate::store::{LockError, LockHolder, SharedLock, Store};

/// The cleanup JSON format version.
pub const CLEANUP_SCHEMA_VERSION: u32 = 1;

/// A step undone through its action's drill undo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoneStep {
    pub step: String,
    pub action: String,
    /// What the step had created, as it recorded it.
    pub created: Vec<String>,
}

/// A resource found in AWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    /// `efs-file-system` or `route53-record`.
    pub kind: String,
    pub id: String,
    pub region: String,
    /// How it was found (the tag, or the name and the journal), or why it was kept.
    pub detail: String,
}

/// What cleanup did (in a dry run: would do) for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cleanup {
    pub schema_version: u32,
    pub run_id: String,
    pub runbook: String,
    pub drill: Option<String>,
    pub dry_run: bool,
    pub at: DateTime<Utc>,
    /// Steps undone from the journal's undo data.
    pub undone: Vec<UndoneStep>,
    /// Resources found by tag or name and removed.
    pub removed: Vec<Found>,
    /// Resources found but left alone.
    pub kept: Vec<Found>,
    /// What could not be undone, removed or looked at.
    pub failures: Vec<String>,
    /// Nothing this run created is known to remain.
    pub complete: bool,
}

/// Why a run cannot be cleaned up.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    #[error("there is no run `{0}` in {1} (see `drctl runs`)")]
    NoSuchRun(String, String),
    #[error("run {0} is a {1} run, not a drill: cleanup only removes what drills leave behind")]
    NotADrill(String, String),
    #[error(
        "run {0} is a live drill whose failback is pending: cleaning it up moves production back to the primary side; confirm with --yes"
    )]
    FailbackUnconfirmed(String),
    #[error(
        "run {} is still running (pid {} on {}); let it finish (it cleans up after itself) or stop it first",
        .0.run_id, .0.pid, .0.host
    )]
    Running(Box<LockHolder>),
    #[error("cannot load the runbook of run {0}, so its regions and zones are unknown:\n{1}")]
    Runbook(String, String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{0}")]
    Io(String),
}

impl CleanupError {
    /// Whether the request itself was wrong (exit 2), as opposed to refused or failed.
    pub fn is_invalid(&self) -> bool {
        matches!(
            self,
            CleanupError::NoSuchRun(..) | CleanupError::NotADrill(..) | CleanupError::Runbook(..)
        )
    }

    /// Whether cleanup refused: the run is alive, or its failback is not confirmed (exit 4).
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            CleanupError::Running(_) | CleanupError::FailbackUnconfirmed(_)
        )
    }

    /// How a cleanup that could not be done ended.
    pub fn class(&self) -> ExitClass {
        if self.is_invalid() {
            ExitClass::Invalid
        } else if self.is_refused() {
            ExitClass::Refused
        } else {
            ExitClass::Failure
        }
    }
}

/// A drill run that may have left something behind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleRun {
    pub run_id: String,
    pub reason: String,
}

/// The holder of the run's lock, if it is this run and alive.
fn live_holder(store: &dyn Store, state: &RunState, now: DateTime<Utc>) -> Option<LockHolder> {
    store
        .lock_holder(&state.header.runbook_name)
        .filter(|h| h.run_id == state.header.run_id && store.stale_reason(h, now).is_none())
}

fn read_run(store: &dyn Store, run_id: &str) -> Result<(Vec<Entry>, RunState), CleanupError> {
    let Some(entries) = store.read_journal(run_id)? else {
        return Err(CleanupError::NoSuchRun(run_id.into(), store.location()));
    };
    let state = RunState::replay(&entries).ok_or_else(|| JournalError::NoHeader {
        location: format!("{} run {run_id}", store.location()),
    })?;
    Ok((entries, state))
}

/// The last cleanup recorded for a run.
fn last_cleanup(store: &dyn Store, run_id: &str) -> Option<Cleanup> {
    serde_json::from_value(store.load_cleanup(run_id)?).ok()
}

/// Why a drill run may have left something behind, or `None` when its journal shows a
/// complete cleanup.
fn why_stale(state: &RunState) -> Option<String> {
    if state.failback_pending() {
        return Some(
            "a live drill whose failback is pending (it moves production back: confirm with --yes)"
                .into(),
        );
    }
    let mut reasons = Vec::new();
    let cut_short: Vec<&str> = state
        .steps
        .iter()
        .filter(|(_, s)| matches!(s.undo, Some(UndoStatus::Failed(_) | UndoStatus::Started)))
        .map(|(id, _)| id.as_str())
        .collect();
    if !cut_short.is_empty() {
        reasons.push(format!(
            "the undo of {} failed or was cut short",
            cut_short.join(", ")
        ));
    }
    let never: Vec<&str> = state
        .undo_pending()
        .into_iter()
        .filter(|id| !cut_short.contains(id))
        .collect();
    if !never.is_empty() {
        reasons.push(format!("{} never got undone", never.join(", ")));
    }
    if state.status.is_none() {
        reasons.push("the run never finished".into());
    }
    let unfinished: Vec<&str> = state
        .steps
        .iter()
        .filter(|(_, s)| {
            matches!(s.status, StepStatus::Failed | StepStatus::Running) && !s.notes.is_empty()
        })
        .map(|(id, _)| id.as_str())
        .collect();
    if !unfinished.is_empty() {
        reasons.push(format!(
            "{} stopped after recording work, so may have created something",
            unfinished.join(", ")
        ));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// Every drill run in the store whose cleanup is not known to be complete and whose process
/// is not alive, oldest first.
pub fn stale_runs(store: &dyn Store, now: DateTime<Utc>) -> Result<Vec<StaleRun>, CleanupError> {
    let mut stale = Vec::new();
    for run_id in store
        .run_ids()
        .map_err(|e| CleanupError::Io(e.to_string()))?
    {
        let state = match read_run(store, &run_id) {
            Ok((_, state)) => state,
            Err(e) => {
                stale.push(StaleRun {
                    run_id,
                    reason: format!("its journal cannot be read: {e}"),
                });
                continue;
            }
        };
        if !state.header.mode.is_drill()
            || !(state.undo_due() || state.failback_pending())
            || live_holder(store, &state, now).is_some()
        {
            continue;
        }
        if last_cleanup(store, &run_id)
            .is_some_and(|c| c.complete && !c.dry_run && c.at >= state.last_at)
        {
            continue;
        }
        if let Some(reason) = why_stale(&state) {
            stale.push(StaleRun { run_id, reason });
        }
    }
    Ok(stale)
}

/// The runbook's lock for the cleanup: taken when free or held (stale) by this run; `None`
/// when another run holds it.
fn take_lock(
    store: &dyn Store,
    state: &RunState,
    now: DateTime<Utc>,
) -> Result<Option<SharedLock>, CleanupError> {
    let h = &state.header;
    match store.acquire_lock(&h.runbook_name, &h.run_id, now, false) {
        Ok((lock, _)) => Ok(Some(Arc::new(Mutex::new(lock)))),
        Err(LockError::Held(holder)) if holder.run_id == h.run_id => {
            Err(CleanupError::Running(holder))
        }
        Err(LockError::Held(_) | LockError::Stale { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Remove what run `run_id` left behind (`dry_run`: only list it). A live drill's pending
/// failback is performed only when `confirm_failback`.
pub async fn cleanup_run(
    engine: &Engine,
    store: &dyn Store,
    run_id: &str,
    dry_run: bool,
    confirm_failback: bool,
) -> Result<Cleanup, CleanupError> {
    let (entries, state) = read_run(store, run_id)?;
    let header = &state.header;
    if !header.mode.is_drill() {
        return Err(CleanupError::NotADrill(
            run_id.into(),
            header.command.clone(),
        ));
    }
    if state.failback_pending() && !confirm_failback && !dry_run {
        return Err(CleanupError::FailbackUnconfirmed(run_id.into()));
    }
    let now = engine.clock.now();
    if let Some(holder) = live_holder(store, &state, now) {
        return Err(CleanupError::Running(Box::new(holder)));
    }
    let runbook =
        runbook_of(header).map_err(|d| CleanupError::Runbook(run_id.into(), d.render(false)))?;
    let plan =
        compile(&runbook).map_err(|e| CleanupError::Runbook(run_id.into(), e.to_string()))?;
    let lock = if dry_run {
        None
    } else {
        take_lock(store, &state, now)?
    };
    let lease = lock.clone().map(|l| heartbeat(l, engine.clock));

    let mut out = Cleanup {
        schema_version: CLEANUP_SCHEMA_VERSION,
        run_id: run_id.into(),
        runbook: header.runbook_name.clone(),
        drill: header.drill_name.clone(),
        dry_run,
        at: now,
        undone: Vec::new(),
        removed: Vec::new(),
        kept: Vec::new(),
        failures: Vec::new(),
        complete: false,
    };
    undo_from_journal(engine, store, &state, &plan, dry_run, &mut out).await?;
    // In a live drill, what carries the run's id may serve production until every step is
    // undone (traffic back on the primary side).
    let live = header.mode == crate::actions::Mode::DrillLive;
    if live && !out.failures.is_empty() {
        out.failures.push(
            "the search by run id was skipped: in a live drill, what carries the run's id may still serve production until every undo has succeeded".into(),
        );
        return finish(engine, store, out, &plan, lease, lock);
    }
    let sweep = Sweep {
        engine,
        state: &state,
        plan: &plan,
        journal_text: serde_json::to_string(&entries)
            .unwrap_or_default()
            .to_ascii_lowercase(),
        dry_run,
    };
    sweep.file_systems(&runbook, &mut out).await;
    sweep.drill_records(&runbook, &mut out).await;
    finish(engine, store, out, &plan, lease, lock)
}

/// Close a cleanup: its verdict, its record, the lease and the lock.
fn finish(
    engine: &Engine,
    store: &dyn Store,
    mut out: Cleanup,
    plan: &ExecPlan,
    lease: Option<tokio::task::JoinHandle<()>>,
    lock: Option<SharedLock>,
) -> Result<Cleanup, CleanupError> {
    out.complete = out.failures.is_empty();
    out.at = engine.clock.now();
    if let Some(lease) = lease {
        lease.abort();
    }
    if !out.dry_run {
        record(store, &out, plan)?;
    }
    drop(lock);
    Ok(out)
}

/// Part 1: the journal's undo data, through the drill's own undo.
async fn undo_from_journal(
    engine: &Engine,
    store: &dyn Store,
    state: &RunState,
    plan: &ExecPlan,
    dry_run: bool,
    out: &mut Cleanup,
) -> Result<(), CleanupError> {
    let header = &state.header;
    let pending: Vec<UndoneStep> = state
        .undo_pending()
        .into_iter()
        .map(|id| UndoneStep {
            step: id.to_string(),
            action: plan
                .step(id)
                .map(|s| s.action.spec().name.to_string())
                .unwrap_or_else(|| "?".into()),
            created: state
                .step(id)
                .outcome
                .map(|o| o.created)
                .unwrap_or_default(),
        })
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    // The undo data is the action's own format: a step id that now names another action
    // would hand it data it cannot read, or worse, misread.
    let changed = sha256_file(&header.runbook_path)
        .map(|sha| sha != header.runbook_sha256)
        .unwrap_or(true);
    if changed {
        out.failures.push(format!(
            "runbook {} changed since the run, so the undo data of {} cannot safely be matched to actions; restore the file and run cleanup again",
            header.runbook_path.display(),
            pending
                .iter()
                .map(|u| format!("step `{}`", u.step))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Ok(());
    }
    if dry_run {
        out.undone = pending;
        return Ok(());
    }
    let (writer, _) = store.reopen_journal(&header.run_id)?;
    let opts = RunOptions {
        max_parallel: 1,
        approvals: Approvals {
            pre_approved: Default::default(),
            ask: None,
        },
        selected: None,
    };
    let failed = engine
        .undo(plan, Arc::new(Mutex::new(writer)), state, &opts)
        .await;
    for step in pending {
        match failed.iter().find(|(id, _)| *id == step.step) {
            Some((id, message)) => out.failures.push(format!("undo of step `{id}`: {message}")),
            None => out.undone.push(step),
        }
    }
    Ok(())
}

/// Part 2: what AWS shows carrying the run's id.
struct Sweep<'a> {
    engine: &'a Engine,
    state: &'a RunState,
    plan: &'a ExecPlan,
    /// The journal, lowercased: names a record the run created.
    journal_text: String,
    dry_run: bool,
}

impl Sweep<'_> {
    fn run_id(&self) -> &str {
        &self.state.header.run_id
    }

    /// In a dry run, whether the journal undo would already remove `id`.
    fn undo_would_remove(&self, id: &str) -> bool {
        self.dry_run
            && self.state.undo_pending().iter().any(|step| {
                self.state
                    .step(step)
                    .outcome
                    .and_then(|o| o.undo)
                    .is_some_and(|u| u.to_string().to_ascii_lowercase().contains(id))
            })
    }

    async fn file_systems(&self, runbook: &Runbook, out: &mut Cleanup) {
        let ctx = self
            .engine
            .task_context(&self.state.header, self.plan, "cleanup");
        let regions: BTreeSet<&String> = runbook.regions.values().collect();
        for region in regions {
            let found = match tagged_file_systems(&self.engine.aws, region, self.run_id()).await {
                Ok(found) => found,
                Err(e) => {
                    out.failures
                        .push(format!("cannot look for file systems: {e}"));
                    continue;
                }
            };
            for fs in found {
                let item = Found {
                    kind: "efs-file-system".into(),
                    id: fs.id.clone(),
                    region: region.clone(),
                    detail: format!(
                        "tagged {RUN_ID_TAG}={}{}",
                        self.run_id(),
                        fs.step
                            .map(|s| format!(", {STEP_TAG}={s}"))
                            .unwrap_or_default()
                    ),
                };
                if self.dry_run {
                    if !self.undo_would_remove(&fs.id.to_ascii_lowercase()) {
                        out.removed.push(item);
                    }
                    continue;
                }
                match delete_file_system(&ctx, region, &fs.id).await {
                    Ok(()) => out.removed.push(item),
                    Err(e) => out.failures.push(e.to_string()),
                }
            }
        }
    }

    async fn drill_records(&self, runbook: &Runbook, out: &mut Cleanup) {
        let ctx = self
            .engine
            .task_context(&self.state.header, self.plan, "cleanup");
        // The zones the runbook's route53.failover steps use, with the region they call from.
        let zones: BTreeSet<(String, String)> = runbook
            .steps
            .iter()
            .filter(|s| s.action.name == "route53.failover")
            .filter_map(|s| {
                let zone = s.param("zone")?.as_str()?;
                Some((
                    runbook.region_of(s)?.to_string(),
                    interpolate(zone, &|_| None).ok()?,
                ))
            })
            .collect();
        for (region, zone) in zones {
            let records = match drill_records(&ctx, &region, &zone, self.run_id()).await {
                Ok(records) => records,
                Err(e) => {
                    out.failures
                        .push(format!("cannot look for drill records: {e}"));
                    continue;
                }
            };
            for record in records {
                let name = record.record.name.to_ascii_lowercase();
                let mut item = Found {
                    kind: "route53-record".into(),
                    id: record.id(),
                    region: region.clone(),
                    detail: format!(
                        "in {}, a drill record of this run (its journal names it)",
                        record.zone()
                    ),
                };
                if !self.journal_text.contains(&name) {
                    item.detail = format!(
                        "in {}, has this run's 8-character prefix, which runs started the same day share, but this run's journal does not name it",
                        record.zone()
                    );
                    out.kept.push(item);
                    continue;
                }
                if self.dry_run {
                    if !self.undo_would_remove(&name) {
                        out.removed.push(item);
                    }
                    continue;
                }
                match delete_drill_record(&ctx, &record).await {
                    Ok(()) => out.removed.push(item),
                    Err(e) => out.failures.push(e.to_string()),
                }
            }
        }
    }
}

/// Keep what cleanup did, and bring the run's report up to date with its undo records.
fn record(store: &dyn Store, out: &Cleanup, plan: &ExecPlan) -> Result<(), CleanupError> {
    let doc = serde_json::to_value(out).map_err(|e| CleanupError::Io(e.to_string()))?;
    store
        .save_cleanup(&out.run_id, &doc)
        .map_err(|e| CleanupError::Io(e.to_string()))?;
    if matches!(store.load_report(&out.run_id), Ok(Some(_))) {
        let (_, state) = read_run(store, &out.run_id)?;
        save_report(store, &Report::build(&state, plan))
            .map_err(|e| CleanupError::Io(e.to_string()))?;
    }
    Ok(())
}
