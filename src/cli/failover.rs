//! `drctl failover RUNBOOK`: a real recovery. Asks for the recovery region's name to be
//! typed (or `--yes`), refuses without a terminal, journals every step so a crash can be
//! resumed, and reports the achieved RTO/RPO measured from `--incident-start`.

use chrono::Utc;

use super::args::{FailoverArgs, OutputFormat};
use super::exit::{Exit, UsageError};
use super::frontend::{
    approvals, interactive, interrupts, print_dry_run, print_report, prompt, runner_for, runtime,
    session_error, view_for,
};
use super::progress::EventView;
use super::settings::Settings;
use crate::actions::Mode;
use crate::aws::{AwsClients, AwsSettings};
use crate::engine::RunStatus;
use crate::runbook::{self, Runbook};
use crate::runner::{self, RunRequest};

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
    print_dry_run(&runner::dry_run(aws, runbook, mode, selected)?, format)?;
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
    let selected = runner::selection(&runbook, &args.only, &args.skip)
        .map_err(|e| UsageError(e.to_string()))?;
    let rt = runtime()?;
    rt.block_on(async {
        if args.dry_run {
            return dry_run(settings, &runbook, Mode::Failover, selected, format).await;
        }
        if let Err(exit) = confirm("fail over", &runbook, args.yes) {
            return Ok(exit);
        }
        let (runner, progress) = runner_for(settings, format, settings.store()?).await?;
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
        let approvals = approvals(&args.approve, &progress);
        let finished = runner.failover(request, approvals, interrupts()).await;
        progress.finish();
        let finished = match finished {
            Ok(f) => f,
            Err(e) => return Ok(session_error(settings, e)),
        };
        print_report(settings, format, &finished.report, Some(&finished.html))?;
        if finished.status != RunStatus::Succeeded
            && format != OutputFormat::Json
            && !matches!(view_for(settings, format), EventView::Silent)
        {
            eprintln!(
                "the run can be continued: drctl resume {}",
                finished.report.run_id
            );
        }
        let exit = finished.class();
        finished.announce().await;
        Ok(exit)
    })
}
