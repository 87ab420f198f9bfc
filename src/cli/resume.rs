//! `drctl resume RUN_ID`: continue a run after a crash, Ctrl-C or a failed step. Succeeded
//! steps are skipped; steps that were running when the process died are *in doubt* and
//! their actions reconcile with AWS (by token or tag) before acting again.

use super::args::{OutputFormat, ResumeArgs};
use super::exit::Exit;
use super::frontend::{
    approvals, interactive, interrupts, print_report, runner_for, runtime, session_error,
};
use super::settings::Settings;
use crate::measure::Clock;
use crate::runner::{self, OnInterrupt, RunEnd};

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
        let (runner, progress) = runner_for(settings, format, store.clone()).await?;
        let approvals = approvals(&args.approve, &progress);
        let end = runner
            .resume(&session, approvals, interrupts(), OnInterrupt::Finish)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        progress.finish();
        match end {
            RunEnd::Finished(finished) => {
                print_report(settings, format, &finished.report, Some(finished.html.as_str()))?;
                let exit = finished.class();
                finished.announce().await;
                Ok(exit)
            }
            // Only `OnInterrupt::Continue` leaves a run unfinished.
            RunEnd::Continuing { .. } => Ok(Exit::Interrupted),
        }
    })
}
