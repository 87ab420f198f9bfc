//! `drctl resume RUN_ID`: continue a run after a crash, Ctrl-C or a failed step. Succeeded
//! steps are skipped; steps that were running when the process died are *in doubt* and
//! their actions reconcile with AWS (by token or tag) before acting again.

use super::args::{OutputFormat, ResumeArgs};
use super::execute::{
    OnInterrupt, RunContext, RunEnd, approvals, engine_for, interactive, interrupts, print_report,
    refinish_session, run_session, runtime, session_error,
};
use super::exit::Exit;
use super::settings::Settings;
use crate::actions::Approvals;
use crate::engine::{Interrupts, RunStatus};
use crate::measure::Clock;
use crate::runner::{self, Session, SessionError};

/// Runs `drctl resume`.
pub fn run(settings: &Settings, args: &ResumeArgs) -> anyhow::Result<Exit> {
    let format = settings.output(
        "resume",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Jsonl],
    )?;
    let store = settings.store()?;
    let rt = runtime()?;
    rt.block_on(async {
        let clock = Clock::system();
        if !args.yes && !interactive() {
            eprintln!("error: refusing to resume run {} without confirmation: there is no terminal to ask. Pass --yes (nothing was changed)", args.run_id);
            return Ok(Exit::Refused);
        }
        // The run and its runbook are checked before anything reaches for AWS.
        let session = match runner::open_run(&*store, &args.run_id, clock, args.force_unlock) {
            Ok(s) => s,
            Err(e) => return Ok(session_error(settings, e)),
        };
        let (engine, progress) = engine_for(settings, format).await?;
        let ctx = RunContext {
            settings,
            engine: &engine,
            progress: &progress,
            store: &*store,
        };
        let approvals = approvals(&args.approve, &progress);
        let end = resume_core(&ctx, &session, approvals, interrupts(), OnInterrupt::Finish)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        progress.finish();
        match end {
            RunEnd::Finished(finished) => {
                print_report(settings, format, &finished.report, Some(finished.html.as_str()))?;
                let exit = finished.exit();
                finished.announce().await;
                Ok(exit)
            }
            // Only `OnInterrupt::Continue` leaves a run unfinished.
            RunEnd::Continuing { .. } => Ok(Exit::Interrupted),
        }
    })
}

/// Continue an opened run (`runner::open_run`), for the CLI and the Lambda handler. A run
/// that had already finished is only finished again (report, and a drill's pending undo):
/// announcing it (or printing its metrics) a second time would count it twice.
pub(crate) async fn resume_core(
    ctx: &RunContext<'_>,
    session: &Session,
    approvals: Approvals,
    interrupts: Interrupts,
    on_interrupt: OnInterrupt,
) -> Result<RunEnd, SessionError> {
    if session.state.status == Some(RunStatus::Succeeded) {
        ctx.progress.println(&format!(
            "run {} already finished; nothing to run",
            session.header.run_id
        ));
        return refinish_session(ctx, session, approvals).await;
    }
    run_session(ctx, session, true, approvals, interrupts, on_interrupt).await
}
