//! The runner: start a failover, run a drill, resume a run, clean up after one, as library
//! calls both front ends make. A call takes plain settings and the front end's callbacks
//! (events through the engine's sink, notices, approvals, interrupts) and returns a typed
//! outcome: the report, the run's status and its [`ExitClass`].

use chrono::{DateTime, Utc};

use super::announce::{Announce, Announcements};
use super::cleanup::{Cleanup, CleanupError, cleanup_run};
use super::frontend::{Notice, NoticeSink};
use super::outcome::ExitClass;
use super::session::{RunRequest, Session, SessionError, finish_drill, save_report, start_run};
use crate::actions::{Approvals, Mode};
use crate::engine::{Engine, Interrupts, RunEvent, RunStatus};
use crate::report::Report;
use crate::runbook::{Drill, Runbook};
use crate::store::SharedStore;

/// What a run needs from the process that asks for it.
#[derive(Clone)]
pub struct Runner {
    /// The AWS clients, the clock and where the run's events go.
    pub engine: Engine,
    pub store: SharedStore,
    /// Where everything else worth saying goes.
    pub notices: NoticeSink,
    pub announce: Announcements,
}

/// What to do with a run an interrupt stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInterrupt {
    /// Finish it now (the CLI after Ctrl-C): a drill undoes what it did; the report says
    /// `interrupted` and `drctl resume` can continue it.
    Finish,
    /// Leave it to be continued (the Lambda handler at its deadline): no undo, no report, no
    /// history; the journal and the lock stay (`Session::leave_for_continuation`).
    Continue,
}

/// How a run ended for its caller.
pub enum RunEnd {
    /// Finished (succeeded, failed, or interrupted and finished): the report is kept.
    Finished(Box<Finished>),
    /// Stopped by an interrupt and left to be continued, with its id and T0.
    Continuing { run_id: String, t0: DateTime<Utc> },
}

/// A finished run: its status, report, report location, and the finish announcement still
/// to make (after the front end has shown the report, so that output keeps its order).
pub struct Finished {
    pub status: RunStatus,
    pub report: Report,
    /// Where the report is: the HTML path, or the command that renders it.
    pub html: String,
    /// Whether the run is a drill (for [`Finished::class`]).
    pub drill: bool,
    announce: Option<Announce>,
}

impl Finished {
    /// How the run ended, as docs/exit-codes.md classifies it.
    pub fn class(&self) -> ExitClass {
        ExitClass::of_run(self.status, &self.report, self.drill)
    }

    /// Emit the EMF line and publish the finish message (`--emf`, `--notify`), if the run
    /// was announced as started by this process.
    pub async fn announce(self) {
        if let Some(announce) = self.announce {
            announce.run_finished(&self.report, &self.html).await;
        }
    }
}

impl RunRequest {
    /// The request for a new drill run (no lock forcing, no step selection).
    pub fn drill(
        runbook: Runbook,
        drill: Drill,
        mode: Mode,
        var_overrides: std::collections::BTreeMap<String, String>,
        max_parallel: usize,
    ) -> RunRequest {
        RunRequest {
            command: "drill".into(),
            runbook,
            drill: Some(drill),
            mode,
            t0: None,
            var_overrides,
            only: vec![],
            skip: vec![],
            max_parallel,
            force_unlock: false,
        }
    }
}

impl Runner {
    /// A real recovery: take the lock, journal the header (T0 from the request), run the
    /// steps, keep the report. Continuing it later is `resume`.
    pub async fn failover(
        &self,
        request: RunRequest,
        approvals: Approvals,
        interrupts: Interrupts,
    ) -> Result<Finished, SessionError> {
        let session = start_run(&*self.store, request, self.engine.clock)?;
        if let Some(old) = &session.displaced_lock {
            (self.notices)(Notice::Warning(format!(
                "took over the lock of run {} (pid {} on {})",
                old.run_id, old.pid, old.host
            )));
        }
        let mut announce = Announce::new(&self.announce, &self.engine.aws, &self.notices);
        announce.run_started(&session.header, false);
        let status = self.execute(&session, approvals, false, interrupts).await;
        let report = Report::build(&session.replay()?, &session.plan);
        let html = save_report(&*self.store, &report)
            .map_err(|e| SessionError::Io(format!("cannot keep the report: {e}")))?;
        Ok(Finished {
            status,
            report,
            html,
            drill: false,
            announce: Some(announce),
        })
    }

    /// A drill's run: take the lock and write the journal (T0 is now), run the steps, then
    /// finish the drill (undo, report, history) or, after an interrupt with
    /// [`OnInterrupt::Continue`], leave it to be continued.
    pub async fn drill(
        &self,
        request: RunRequest,
        approvals: Approvals,
        interrupts: Interrupts,
        on_interrupt: OnInterrupt,
    ) -> Result<RunEnd, SessionError> {
        let session = start_run(&*self.store, request, self.engine.clock)?;
        self.run_session(&session, false, approvals, interrupts, on_interrupt)
            .await
    }

    /// Continue an opened run (`session::open_run`). A run that had already finished is
    /// only finished again (report, and a drill's pending undo): announcing it (or emitting
    /// its metrics) a second time would count it twice.
    pub async fn resume(
        &self,
        session: &Session,
        approvals: Approvals,
        interrupts: Interrupts,
        on_interrupt: OnInterrupt,
    ) -> Result<RunEnd, SessionError> {
        if session.state.status == Some(RunStatus::Succeeded) {
            (self.notices)(Notice::Info(format!(
                "run {} already finished; nothing to run",
                session.header.run_id
            )));
            let (report, html) = self.finish_session(session, approvals).await?;
            return Ok(RunEnd::Finished(Box::new(Finished {
                status: RunStatus::Succeeded,
                report,
                html,
                drill: session.header.drill_name.is_some(),
                announce: None,
            })));
        }
        self.run_session(session, true, approvals, interrupts, on_interrupt)
            .await
    }

    /// Remove what drill run `run_id` left behind (`dry_run`: only list it); a live drill's
    /// pending failback only when `confirm_failback`.
    pub async fn cleanup(
        &self,
        run_id: &str,
        dry_run: bool,
        confirm_failback: bool,
    ) -> Result<Cleanup, CleanupError> {
        cleanup_run(
            &self.engine,
            &*self.store,
            run_id,
            dry_run,
            confirm_failback,
        )
        .await
    }

    /// Execute a session's plan until it ends or `interrupts` stops it, renewing the lock's
    /// lease meanwhile; returns the final status.
    async fn execute(
        &self,
        session: &Session,
        approvals: Approvals,
        resumed: bool,
        interrupts: Interrupts,
    ) -> RunStatus {
        let engine = &self.engine;
        (engine.sink)(RunEvent::RunStarted {
            run_id: session.header.run_id.clone(),
            runbook: session.header.runbook_name.clone(),
            mode: session.header.mode,
            t0: session.header.t0,
            rto_target_secs: session.header.rto_target_secs,
            steps: session.plan.steps.iter().map(|s| s.id.clone()).collect(),
            resumed,
            at: engine.clock.now(),
        });
        let heartbeat = session.heartbeat(engine.clock);
        let opts = session.options(approvals);
        let state = session.replay().unwrap_or_else(|_| session.state.clone());
        let status = engine
            .execute(
                &session.plan,
                session.writer.clone(),
                state,
                &opts,
                interrupts,
            )
            .await;
        heartbeat.abort();
        status
    }

    /// Run an opened session (new or resumed) to its end: announce the start, execute,
    /// then either leave it for continuation (an interrupt with [`OnInterrupt::Continue`])
    /// or finish it (a drill: undo, report, history; a failover: report).
    async fn run_session(
        &self,
        session: &Session,
        resumed: bool,
        approvals: Approvals,
        interrupts: Interrupts,
        on_interrupt: OnInterrupt,
    ) -> Result<RunEnd, SessionError> {
        let mut announce = Announce::new(&self.announce, &self.engine.aws, &self.notices);
        announce.run_started(&session.header, resumed);
        let status = self
            .execute(session, approvals.clone(), resumed, interrupts)
            .await;
        if status == RunStatus::Interrupted && on_interrupt == OnInterrupt::Continue {
            session.leave_for_continuation(self.engine.clock)?;
            return Ok(RunEnd::Continuing {
                run_id: session.header.run_id.clone(),
                t0: session.header.t0,
            });
        }
        let (report, html) = self.finish_session(session, approvals).await?;
        Ok(RunEnd::Finished(Box::new(Finished {
            status,
            report,
            html,
            drill: session.header.drill_name.is_some(),
            announce: Some(announce),
        })))
    }

    /// A drill: undo, report, history (`session::finish_drill`); a failover: the report.
    async fn finish_session(
        &self,
        session: &Session,
        approvals: Approvals,
    ) -> Result<(Report, String), SessionError> {
        if session.header.drill_name.is_some() {
            finish_drill(&self.engine, session, &*self.store, approvals).await
        } else {
            let report = Report::build(&session.replay()?, &session.plan);
            let html = save_report(&*self.store, &report)
                .map_err(|e| SessionError::Io(format!("cannot keep the report: {e}")))?;
            Ok((report, html))
        }
    }
}
