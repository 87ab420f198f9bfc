//! `drctl drill DRILL_FILE`: run a drill's runbook in its isolation mode, time it from T0
//! (declared after the pre-checks), undo what it did, measure RTO/RPO with evidence, keep
//! the report and the history, and exit 0 (met), 3 (missed) or 1 (failed).

use super::announce::Announce;
use super::args::{DrillArgs, OutputFormat};
use super::execute::{
    approvals, engine_for, execute, exit_for, print_report, runtime, session_error,
};
use super::exit::Exit;
use super::failover::{confirm, dry_run};
use super::settings::Settings;
use crate::actions::Mode;
use crate::runbook::{self, Isolation};
use crate::runner::{self, RunRequest};

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
        let (engine, progress, store) = engine_for(settings, format).await?;
        let clock = engine.clock;
        let request = RunRequest {
            command: "drill".into(),
            runbook,
            drill: Some(drill),
            mode,
            t0: None,
            var_overrides: args.vars.map(),
            only: vec![],
            skip: vec![],
            max_parallel: args.max_parallel as usize,
            force_unlock: args.force_unlock,
        };
        let session = match runner::start_run(&*store, request, clock) {
            Ok(s) => s,
            Err(e) => return Ok(session_error(settings, e)),
        };
        let mut announce = Announce::new(settings, &engine.aws, &progress);
        announce.run_started(&session.header, false);
        let approvals = approvals(&args.approve, &progress);
        let status = execute(&engine, &session, approvals.clone(), false).await;
        let (report, html) = match runner::finish_drill(&engine, &session, &*store, approvals).await
        {
            Ok(r) => r,
            Err(e) => {
                progress.finish();
                return Ok(session_error(settings, e));
            }
        };
        progress.finish();
        print_report(settings, format, &report, Some(&html))?;
        announce.run_finished(&report, &html).await;
        Ok(exit_for(status, &report, true))
    })
}
