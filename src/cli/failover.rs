//! `drctl failover RUNBOOK`: a real recovery. Asks for the recovery region's name to be
//! typed (or `--yes`), refuses without a terminal, journals every step so a crash can be
//! resumed, and reports the achieved RTO/RPO measured from `--incident-start`.

use anyhow::Context;
use chrono::Utc;

use super::announce::Announce;
use super::args::{FailoverArgs, OutputFormat};
use super::execute::{
    approvals, engine_for, execute, exit_for, interactive, interrupts, print_dry_run, print_report,
    prompt, runtime, session_error, view_for,
};
use super::exit::{Exit, UsageError};
use super::progress::EventView;
use super::settings::Settings;
use crate::actions::Mode;
use crate::aws::{AwsClients, AwsSettings};
use crate::engine::{Engine, RunHeader, RunOptions, RunStatus, null_sink};
use crate::measure::Clock;
use crate::report::Report;
use crate::runbook::{self, Runbook};
use crate::runner::{self, RunRequest};
use crate::store::hostname;

/// The region a person must type to confirm: the runbook's `recovery` region, else the
/// region most steps run in.
pub(crate) fn confirmation_region(runbook: &Runbook) -> String {
    if let Some(r) = runbook.regions.get("recovery") {
        return r.clone();
    }
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for step in &runbook.steps {
        if let Some(r) = runbook.region_of(step) {
            *counts.entry(r.to_string()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(r, _)| r)
        .unwrap_or_else(|| runbook.name.clone())
}

/// Ask for confirmation; `Err(exit)` when refused. Makes no AWS call.
pub(crate) fn confirm(what: &str, runbook: &Runbook, yes: bool) -> Result<(), Exit> {
    if yes {
        return Ok(());
    }
    let region = confirmation_region(runbook);
    if !interactive() {
        eprintln!(
            "error: refusing to {what} without confirmation: there is no terminal to ask. Pass --yes to confirm (nothing was changed)"
        );
        return Err(Exit::Refused);
    }
    let answer = prompt(&format!(
        "This will {what} with runbook `{}` ({} steps, into {region}).\nType the recovery region ({region}) to continue: ",
        runbook.name,
        runbook.steps.len()
    ));
    if answer.as_deref() == Some(region.as_str()) {
        Ok(())
    } else {
        eprintln!("error: confirmation did not match `{region}`; nothing was changed");
        Err(Exit::Refused)
    }
}

/// A header for dry runs (nothing is journalled).
pub(crate) fn dry_header(runbook: &Runbook, mode: Mode) -> RunHeader {
    RunHeader {
        run_id: "dry-run".into(),
        command: "dry-run".into(),
        runbook_name: runbook.name.clone(),
        runbook_path: runbook.path.clone(),
        runbook_sha256: String::new(),
        drill_path: None,
        drill_name: None,
        mode,
        t0: Utc::now(),
        rto_target_secs: None,
        rpo_target_secs: None,
        var_overrides: Default::default(),
        only: vec![],
        skip: vec![],
        max_parallel: 1,
        host: hostname(),
        pid: std::process::id(),
    }
}

/// Print the mutating calls of a plan without making any AWS call.
pub(crate) async fn dry_run(
    settings: &Settings,
    runbook: &Runbook,
    mode: Mode,
    selected: Option<std::collections::BTreeSet<String>>,
    format: OutputFormat,
) -> anyhow::Result<Exit> {
    // Building clients resolves configuration only; no request is sent.
    let aws = AwsClients::new(&AwsSettings {
        profile: settings.profile.clone(),
        region: settings.region.clone(),
        endpoint_url: settings.endpoint_url.clone(),
        ..AwsSettings::default()
    })
    .await;
    let engine = Engine {
        aws,
        clock: Clock::system(),
        sink: null_sink(),
    };
    let plan = runbook::compile(runbook)?;
    let opts = RunOptions {
        max_parallel: 1,
        approvals: crate::actions::Approvals {
            pre_approved: Default::default(),
            ask: None,
        },
        selected,
    };
    print_dry_run(
        &engine.dry_run(&dry_header(runbook, mode), &plan, &opts),
        format,
    )?;
    Ok(Exit::Success)
}

/// Runs `drctl failover`.
pub fn run(settings: &Settings, args: &FailoverArgs) -> anyhow::Result<Exit> {
    let format = settings.output(
        "failover",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Jsonl],
    )?;
    let runbook = match runbook::load_runbook(&args.runbook, &args.vars.map()) {
        Ok(rb) => rb,
        Err(d) => {
            eprint!("{}", d.render(settings.color));
            return Ok(Exit::Invalid);
        }
    };
    let selected = runner::selection(&runbook, &args.only, &args.skip).map_err(UsageError)?;
    let rt = runtime()?;
    rt.block_on(async {
        if args.dry_run {
            return dry_run(settings, &runbook, Mode::Failover, selected, format).await;
        }
        if let Err(exit) = confirm("fail over", &runbook, args.yes) {
            return Ok(exit);
        }
        let (engine, progress) = engine_for(settings, format).await?;
        let store = settings.store()?;
        let clock = engine.clock;
        let request = RunRequest {
            command: "failover".into(),
            runbook,
            drill: None,
            mode: Mode::Failover,
            t0: args.incident_start.map(|t| t.with_timezone(&Utc)),
            var_overrides: args.vars.map(),
            only: args.only.clone(),
            skip: args.skip.clone(),
            max_parallel: args.max_parallel as usize,
            force_unlock: args.force_unlock,
        };
        let session = match runner::start_run(&*store, request, clock) {
            Ok(s) => s,
            Err(e) => return Ok(session_error(settings, e)),
        };
        if let Some(old) = &session.displaced_lock {
            progress.println(&format!(
                "warning: took over the lock of run {} (pid {} on {})",
                old.run_id, old.pid, old.host
            ));
        }
        let mut announce = Announce::new(settings, &engine.aws, &progress);
        announce.run_started(&session.header, false);
        let status = execute(
            &engine,
            &session,
            approvals(&args.approve, &progress),
            false,
            interrupts(),
        )
        .await;
        progress.finish();
        let state = session.replay()?;
        let report = Report::build(&state, &session.plan);
        let html = runner::save_report(&*store, &report).context("cannot keep the report")?;
        print_report(settings, format, &report, Some(&html))?;
        if status != RunStatus::Succeeded
            && format != OutputFormat::Json
            && !matches!(view_for(settings, format), EventView::Silent)
        {
            eprintln!("the run can be continued: drctl resume {}", report.run_id);
        }
        announce.run_finished(&report, &html).await;
        Ok(exit_for(status, &report, false))
    })
}
