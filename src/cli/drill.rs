//! `drctl drill DRILL_FILE`: run a drill's runbook in its isolation mode, time it from T0
//! (declared after the pre-checks), undo what it did, measure RTO/RPO with evidence, keep
//! the report and the history, and exit 0 (met), 3 (missed) or 1 (failed).

use std::collections::BTreeMap;

use super::args::{DrillArgs, OutputFormat};
use super::execute::{
    OnInterrupt, RunContext, RunEnd, approvals, engine_for, interrupts, print_report, run_session,
    runtime, session_error,
};
use super::exit::Exit;
use super::failover::{confirm, dry_run};
use super::settings::Settings;
use crate::actions::{Approvals, Mode};
use crate::engine::Interrupts;
use crate::runbook::{self, Drill, Isolation, Runbook};
use crate::runner::{self, RunRequest, SessionError};

/// Runs `drctl drill`.
pub fn run(settings: &Settings, args: &DrillArgs) -> anyhow::Result<Exit> {
    let format = settings.output(
        "drill",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Jsonl],
    )?;
    let (drill, runbook) = match runbook::load_drill(&args.drill_file, &args.vars.map()) {
        Ok(loaded) => loaded,
        Err(d) => {
            eprint!("{}", d.render(settings.color));
            return Ok(Exit::Invalid);
        }
    };
    let mode = match drill.mode {
        Isolation::Isolated => Mode::DrillIsolated,
        Isolation::Live => Mode::DrillLive,
    };
    let rt = runtime()?;
    rt.block_on(async {
        if args.dry_run {
            return dry_run(settings, &runbook, mode, None, format).await;
        }
        // A live drill is a real failover: it needs the same confirmation.
        if mode == Mode::DrillLive
            && let Err(exit) = confirm("run a LIVE drill (a real failover)", &runbook, args.yes)
        {
            return Ok(exit);
        }
        // Pre-checks: credentials (fail fast) and the lock, before the incident clock starts.
        let (engine, progress) = engine_for(settings, format).await?;
        let store = settings.store()?;
        let mut request = drill_request(runbook, drill, mode, args.vars.map(), args.max_parallel);
        request.force_unlock = args.force_unlock;
        let ctx = RunContext {
            settings,
            engine: &engine,
            progress: &progress,
            store: &*store,
        };
        let approvals = approvals(&args.approve, &progress);
        let end = drill_core(&ctx, request, approvals, interrupts(), OnInterrupt::Finish).await;
        progress.finish();
        match end {
            Err(e) => Ok(session_error(settings, e)),
            Ok(RunEnd::Finished(finished)) => {
                print_report(
                    settings,
                    format,
                    &finished.report,
                    Some(finished.html.as_str()),
                )?;
                let exit = finished.exit();
                finished.announce().await;
                Ok(exit)
            }
            // Only `OnInterrupt::Continue` leaves a run unfinished.
            Ok(RunEnd::Continuing { .. }) => Ok(Exit::Interrupted),
        }
    })
}

/// The request for a new drill run (no lock forcing, no step selection).
pub(crate) fn drill_request(
    runbook: Runbook,
    drill: Drill,
    mode: Mode,
    var_overrides: BTreeMap<String, String>,
    max_parallel: u16,
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
        max_parallel: max_parallel as usize,
        force_unlock: false,
    }
}

/// A drill's run, for the CLI and the Lambda handler: take the lock and write the journal
/// (T0 is now), run the steps, then finish the drill (undo, report, history) or, after an
/// interrupt with [`OnInterrupt::Continue`], leave it to be continued.
pub(crate) async fn drill_core(
    ctx: &RunContext<'_>,
    request: RunRequest,
    approvals: Approvals,
    interrupts: Interrupts,
    on_interrupt: OnInterrupt,
) -> Result<RunEnd, SessionError> {
    let session = runner::start_run(ctx.store, request, ctx.engine.clock)?;
    run_session(ctx, &session, false, approvals, interrupts, on_interrupt).await
}
