//! `drctl plan FILE`: load a runbook (or a drill's runbook) and print its plan.

use std::io::Write;

use crate::runbook::{Loaded, load_file, plan};

use super::args::{OutputFormat, PlanArgs};
use super::exit::Exit;
use super::plan_render::{PlanView, render_dot, render_human, render_json};
use super::settings::Settings;

/// Runs `drctl plan`.
pub fn run(settings: &Settings, args: &PlanArgs) -> anyhow::Result<Exit> {
    let format = settings.output(
        "plan",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Dot],
    )?;
    let loaded = match load_file(&args.file, &args.vars.map()) {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            eprintln!("{}", diagnostics.render(settings.color));
            let n = diagnostics.len();
            eprintln!(
                "cannot plan {}: {n} error{}",
                args.file.display(),
                if n == 1 { "" } else { "s" }
            );
            return Ok(Exit::Invalid);
        }
    };
    let (drill, runbook) = match &loaded {
        Loaded::Runbook(r) => (None, r),
        Loaded::Drill(d, r) => (Some(d), r),
    };
    let plan = plan(runbook);
    let view = PlanView {
        runbook,
        drill,
        plan: &plan,
    };
    let text = match format {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&render_json(&view))?;
            text.push('\n');
            text
        }
        OutputFormat::Dot => render_dot(&view),
        _ => render_human(&view),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Exit::Success)
}
