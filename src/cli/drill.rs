//! `drctl drill DRILL_FILE`: run a drill's runbook in its isolation mode, time it from T0
//! (declared after the pre-checks), undo what it did, measure RTO/RPO with evidence, keep
//! the report and the history, and exit 0 (met), 3 (missed) or 1 (failed).

use super::args::{DrillArgs, OutputFormat};
use super::exit::Exit;
use super::failover::{confirm, dry_run};
use super::frontend::{approvals, interrupts, print_report, runner_for, runtime, session_error};
use super::settings::Settings;
use crate::actions::Mode;
use crate::runbook::{self, Isolation};
use crate::runner::{OnInterrupt, RunEnd, RunRequest};

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
        let (runner, progress) = runner_for(settings, format, settings.store()?).await?;
        let mut request = RunRequest::drill(
            runbook,
            drill,
            mode,
            args.vars.map(),
            args.max_parallel as usize,
        );
        request.force_unlock = args.force_unlock;
        let approvals = approvals(&args.approve, &progress);
        let end = runner
            .drill(request, approvals, interrupts(), OnInterrupt::Finish)
            .await;
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
                let exit = finished.class();
                finished.announce().await;
                Ok(exit)
            }
            // Only `OnInterrupt::Continue` leaves a run unfinished.
            Ok(RunEnd::Continuing { .. }) => Ok(Exit::Interrupted),
        }
    })
}
