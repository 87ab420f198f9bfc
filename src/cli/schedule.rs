//! `drctl schedule plan|apply|remove`: EventBridge Scheduler schedules that run drills and
//! `check` through drctl's Lambda function. Drill files are loaded and checked before any AWS
//! call (invalid files: exit 2, nothing read or changed); the plan goes to stdout (human or
//! JSON), what was done to stderr. `apply` and `remove` ask before changing anything unless
//! `--yes`, and refuse without a terminal (exit 4), as `failover` does.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::args::{
    OutputFormat, ScheduleAction, ScheduleApplyArgs, ScheduleArgs, ScheduleRemoveArgs,
    ScheduleSpecArgs,
};
use super::exit::{Exit, UsageError};
use super::frontend::{aws_clients, interactive, prompt, runtime};
use super::settings::Settings;
use crate::runbook::{Drill, Loaded, load_file};
use crate::schedule::{
    ChangeKind, DesiredSchedule, ScheduleGroup, SchedulePlan, ScheduleTarget, desired_schedules,
    render_plan,
};

/// Runs `drctl schedule ...`.
pub fn run(settings: &Settings, args: &ScheduleArgs) -> anyhow::Result<Exit> {
    match &args.action {
        ScheduleAction::Plan(spec) => plan(settings, spec),
        ScheduleAction::Apply(apply_args) => apply(settings, apply_args),
        ScheduleAction::Remove(remove_args) => remove(settings, remove_args),
    }
}

/// The desired schedules from the drill files, or the exit code after printing why not.
fn desired(
    settings: &Settings,
    spec: &ScheduleSpecArgs,
) -> anyhow::Result<Result<Vec<DesiredSchedule>, Exit>> {
    let files = if spec.files.is_empty() {
        crate::runner::drill_files(Path::new("drills"), "drill files to schedule")
            .map_err(|e| UsageError(e.to_string()))?
    } else {
        spec.files.clone()
    };
    let mut drills: Vec<Drill> = Vec::new();
    let mut invalid = false;
    for file in &files {
        match load_file(file, &BTreeMap::new()) {
            Ok(Loaded::Drill(drill, _)) => drills.push(drill),
            Ok(Loaded::Runbook(runbook)) => {
                eprintln!(
                    "error: {} is a runbook (`{}`), not a drill; schedules run drills, so name drill files",
                    file.display(),
                    runbook.name
                );
                invalid = true;
            }
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render(settings.color));
                invalid = true;
            }
        }
    }
    let target = ScheduleTarget {
        function_arn: spec.function_arn.clone(),
        role_arn: spec.role_arn.clone(),
    };
    if !invalid {
        match desired_schedules(&target, spec.check_every(), &drills) {
            Ok(desired) => return Ok(Ok(desired)),
            Err(problems) => {
                for problem in problems {
                    eprintln!("error: {problem}");
                }
            }
        }
    }
    eprintln!("no schedule was read or changed: fix the files above first");
    Ok(Err(Exit::Invalid))
}

/// Ask before changing schedules; `Err(exit)` when refused.
fn confirm(question: &str, yes: bool) -> Result<(), Exit> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        eprintln!(
            "error: refusing to change schedules without confirmation: there is no terminal to ask. Pass --yes to confirm (nothing was changed)"
        );
        return Err(Exit::Refused);
    }
    match prompt(&format!("{question} [y/N] ")) {
        Some(a) if matches!(a.to_ascii_lowercase().as_str(), "y" | "yes") => Ok(()),
        _ => {
            eprintln!("not confirmed; nothing was changed");
            Err(Exit::Refused)
        }
    }
}

fn print_plan(
    plan: &SchedulePlan,
    format: OutputFormat,
    applied: Option<bool>,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            let mut doc = serde_json::to_value(plan)?;
            doc["summary"] = json!({
                "create": plan.count(ChangeKind::Create),
                "update": plan.count(ChangeKind::Update),
                "delete": plan.count(ChangeKind::Delete),
                "unchanged": plan.count(ChangeKind::Unchanged),
            });
            if let Some(applied) = applied {
                doc["applied"] = json!(applied);
            }
            serde_json::to_writer_pretty(&mut stdout, &doc)?;
            writeln!(stdout)?;
        }
        _ => write!(stdout, "{}", render_plan(plan))?,
    }
    Ok(())
}

fn plan(settings: &Settings, spec: &ScheduleSpecArgs) -> anyhow::Result<Exit> {
    let format = settings.output("schedule plan", &[OutputFormat::Human, OutputFormat::Json])?;
    let desired = match desired(settings, spec)? {
        Ok(d) => d,
        Err(exit) => return Ok(exit),
    };
    let plan = runtime()?.block_on(async {
        let aws = aws_clients(settings).await?;
        let group = ScheduleGroup::new(&aws, &aws.default_region(), &spec.group);
        group
            .plan(&desired)
            .await
            .map_err(|e| anyhow::anyhow!("failed to {e}"))
    })?;
    print_plan(&plan, format, None)?;
    Ok(Exit::Success)
}

fn apply(settings: &Settings, args: &ScheduleApplyArgs) -> anyhow::Result<Exit> {
    let format = settings.output("schedule apply", &[OutputFormat::Human, OutputFormat::Json])?;
    let desired = match desired(settings, &args.spec)? {
        Ok(d) => d,
        Err(exit) => return Ok(exit),
    };
    runtime()?.block_on(async {
        let aws = aws_clients(settings).await?;
        let group = ScheduleGroup::new(&aws, &aws.default_region(), &args.spec.group);
        let plan = group
            .plan(&desired)
            .await
            .map_err(|e| anyhow::anyhow!("failed to {e}"))?;
        if plan.is_noop() {
            print_plan(&plan, format, Some(false))?;
            if !settings.quiet() {
                eprintln!("nothing to change");
            }
            return Ok(Exit::Success);
        }
        if format != OutputFormat::Json {
            print_plan(&plan, format, None)?;
        }
        let changes = plan.changes.len() - plan.count(ChangeKind::Unchanged);
        if let Err(exit) = confirm(
            &format!(
                "Apply {changes} change(s) to schedule group `{}` in {}?",
                plan.group, plan.region
            ),
            args.yes,
        ) {
            return Ok(exit);
        }
        let mut made = 0;
        let result = group
            .apply(&plan, |kind, name| {
                made += 1;
                if !settings.quiet() {
                    let verb = match kind {
                        ChangeKind::Create => "created",
                        ChangeKind::Update => "updated",
                        ChangeKind::Delete => "deleted",
                        ChangeKind::Unchanged => "kept",
                    };
                    eprintln!("{verb} {name}");
                }
            })
            .await;
        if let Err(e) = result {
            return Err(anyhow::anyhow!(
                "failed to {e}\n{made} of {changes} change(s) were made; run `drctl schedule apply` again to finish"
            ));
        }
        if format == OutputFormat::Json {
            print_plan(&plan, format, Some(true))?;
        }
        Ok(Exit::Success)
    })
}

fn remove(settings: &Settings, args: &ScheduleRemoveArgs) -> anyhow::Result<Exit> {
    let format = settings.output(
        "schedule remove",
        &[OutputFormat::Human, OutputFormat::Json],
    )?;
    runtime()?.block_on(async {
        let aws = aws_clients(settings).await?;
        let group = ScheduleGroup::new(&aws, &aws.default_region(), &args.group);
        let found = async {
            if group.exists().await? {
                group.managed().await
            } else {
                Ok(Vec::new())
            }
        }
        .await
        .map_err(|e| anyhow::anyhow!("failed to {e}"))?;
        let names: Vec<&str> = found.iter().map(|s| s.name.as_str()).collect();
        let print = |deleted: &[&str]| -> anyhow::Result<()> {
            let mut stdout = std::io::stdout().lock();
            match format {
                OutputFormat::Json => {
                    let doc = json!({"region": group.region(), "group": group.name(), "deleted": deleted});
                    serde_json::to_writer_pretty(&mut stdout, &doc)?;
                    writeln!(stdout)?;
                }
                _ => {
                    for name in deleted {
                        writeln!(stdout, "deleted {name}")?;
                    }
                }
            }
            Ok(())
        };
        if names.is_empty() {
            if !settings.quiet() {
                eprintln!(
                    "no drctl- schedules in group `{}` in {}; nothing to remove",
                    group.name(),
                    group.region()
                );
            }
            print(&[])?;
            return Ok(Exit::Success);
        }
        eprintln!(
            "schedules to delete from group `{}` in {}:",
            group.name(),
            group.region()
        );
        for name in &names {
            eprintln!("  - {name}");
        }
        if let Err(exit) = confirm(
            &format!("Delete these {} schedule(s)?", names.len()),
            args.yes,
        ) {
            return Ok(exit);
        }
        let mut deleted = Vec::new();
        for name in &names {
            if let Err(e) = group.delete(name).await {
                print(&deleted)?;
                return Err(anyhow::anyhow!(
                    "failed to {e}\n{} of {} schedule(s) were deleted; run `drctl schedule remove` again to finish",
                    deleted.len(),
                    names.len()
                ));
            }
            deleted.push(*name);
        }
        print(&deleted)?;
        Ok(Exit::Success)
    })
}
