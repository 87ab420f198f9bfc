//! `drctl resume RUN_ID`: continue a run after a crash, Ctrl-C or a failed step. Succeeded
//! steps are skipped; steps that were running when the process died are *in doubt* and
//! their actions reconcile with AWS (by token or tag) before acting again.

use anyhow::Context;

use super::announce::Announce;
use super::args::{OutputFormat, ResumeArgs};
use super::execute::{
    approvals, engine_for, execute, exit_for, interactive, print_report, runtime, session_error,
};
use super::exit::Exit;
use super::settings::Settings;
use crate::engine::RunStatus;
use crate::measure::Clock;
use crate::report::Report;
use crate::runner;

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
        let (engine, progress, _) = engine_for(settings, format).await?;
        let drill = session.header.drill_name.is_some();
        let approvals = approvals(&args.approve, &progress);
        // A run that had already finished is only reported again: announcing it (or printing
        // its metrics) a second time would count it twice.
        let mut announce = None;
        let status = if session.state.status == Some(RunStatus::Succeeded) {
            progress.println(&format!("run {} already finished; nothing to run", args.run_id));
            RunStatus::Succeeded
        } else {
            let announce = announce.insert(Announce::new(settings, &engine.aws, &progress));
            announce.run_started(&session.header, true);
            execute(&engine, &session, approvals.clone(), true).await
        };
        let (report, html) = if drill {
            runner::finish_drill(&engine, &session, &*store, approvals)
                .await
                .map_err(|e| anyhow::anyhow!(e))?
        } else {
            let report = Report::build(&session.replay()?, &session.plan);
            let html = runner::save_report(&*store, &report).context("cannot keep the report")?;
            (report, html)
        };
        progress.finish();
        print_report(settings, format, &report, Some(&html))?;
        if let Some(announce) = announce {
            announce.run_finished(&report, &html).await;
        }
        Ok(exit_for(status, &report, drill))
    })
}
