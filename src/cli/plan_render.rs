//! The three renderings of a plan — human text, JSON, Graphviz — over the same view, so they
//! cannot disagree about waves or the critical path.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::runbook::{Drill, Plan, Runbook, Step, format_duration};

/// Everything a plan rendering shows.
pub struct PlanView<'a> {
    pub runbook: &'a Runbook,
    pub drill: Option<&'a Drill>,
    pub plan: &'a Plan,
}

impl PlanView<'_> {
    fn waves_of(&self) -> HashMap<&str, usize> {
        self.plan
            .waves
            .iter()
            .enumerate()
            .flat_map(|(i, wave)| wave.iter().map(move |id| (id.as_str(), i + 1)))
            .collect()
    }

    fn targets(&self) -> crate::runbook::Targets {
        self.drill.map_or(self.runbook.targets, |d| d.targets)
    }
}

fn secs(s: u64) -> String {
    format_duration(Duration::from_secs(s))
}

/// The plan as text for a person.
pub fn render_human(view: &PlanView<'_>) -> String {
    let runbook = view.runbook;
    let plan = view.plan;
    let mut out = String::new();
    match view.drill {
        Some(d) => out.push_str(&format!(
            "plan of drill `{}` ({} mode): runbook `{}` ({})\n",
            d.name,
            d.mode.as_str(),
            runbook.name,
            runbook.path.display()
        )),
        None => out.push_str(&format!(
            "plan of runbook `{}` ({})\n",
            runbook.name,
            runbook.path.display()
        )),
    }
    if let Some(description) = &runbook.description {
        out.push_str(&format!("  {description}\n"));
    }
    if !runbook.regions.is_empty() {
        let regions: Vec<String> = runbook
            .regions
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        out.push_str(&format!("  regions: {}\n", regions.join(", ")));
    }
    let targets = view.targets();
    let show = |t: Option<Duration>| t.map_or("none".to_owned(), format_duration);
    out.push_str(&format!(
        "  targets: RTO {}, RPO {}\n",
        show(targets.rto),
        show(targets.rpo)
    ));
    let verdict = match targets.rto {
        Some(rto) if Duration::from_secs(plan.predicted_secs) > rto => format!(
            " — OVER the {} RTO target by {}",
            format_duration(rto),
            secs(plan.predicted_secs - rto.as_secs())
        ),
        Some(rto) => format!(", within the {} RTO target", format_duration(rto)),
        None => String::new(),
    };
    out.push_str(&format!(
        "  {} in {}; predicted {}{verdict}\n",
        count(runbook.steps.len(), "step"),
        count(plan.waves.len(), "wave"),
        secs(plan.predicted_secs),
    ));

    let id_width = runbook.steps.iter().map(|s| s.id.len()).max().unwrap_or(0);
    let action_width = runbook
        .steps
        .iter()
        .map(|s| s.action.name.len())
        .max()
        .unwrap_or(0);
    let region = |s: &Step| match (&s.region, runbook.region_of(s)) {
        (Some(name), Some(code)) => format!("{name} ({code})"),
        _ => "-".to_owned(),
    };
    let region_width = runbook
        .steps
        .iter()
        .map(|s| region(s).len())
        .max()
        .unwrap_or(0);
    for (i, wave) in plan.waves.iter().enumerate() {
        out.push_str(&format!("\nwave {}\n", i + 1));
        for id in wave {
            let Some(step) = runbook.step(id) else {
                continue;
            };
            let mut notes = Vec::new();
            if step.action.mutating {
                notes.push("mutating".to_owned());
            }
            if step.verify {
                notes.push("recovery check".to_owned());
            }
            if step.drill_skip {
                notes.push("skipped in drills".to_owned());
            }
            if !step.after.is_empty() {
                notes.push(format!("after {}", step.after.join(", ")));
            }
            let line = format!(
                "  {:id_width$}  {:action_width$}  {:region_width$}  ~{:<7} {}",
                step.id,
                step.action.name,
                region(step),
                secs(step.action.estimate_secs),
                notes.join("; "),
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\ncritical path ({}): {}\n",
        secs(plan.predicted_secs),
        plan.critical_path.join(" -> ")
    ));
    let mutating: Vec<&str> = runbook
        .steps
        .iter()
        .filter(|s| s.action.mutating)
        .map(|s| s.id.as_str())
        .collect();
    out.push_str(&format!(
        "changes AWS state ({}): {}\n",
        mutating.len(),
        none_or(&mutating)
    ));
    let checks: Vec<&str> = runbook
        .steps
        .iter()
        .filter(|s| s.verify)
        .map(|s| s.id.as_str())
        .collect();
    out.push_str(&format!(
        "recovery checks ({}): {}\n",
        checks.len(),
        none_or(&checks)
    ));
    out
}

fn none_or(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The plan as JSON for scripts.
pub fn render_json(view: &PlanView<'_>) -> Value {
    let runbook = view.runbook;
    let plan = view.plan;
    let waves = view.waves_of();
    let targets = view.targets();
    let steps: Vec<Value> = runbook
        .steps
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "action": s.action.name,
                "region": s.region,
                "region_code": runbook.region_of(s),
                "after": s.after,
                "wave": waves.get(s.id.as_str()),
                "estimate_seconds": s.action.estimate_secs,
                "timeout_seconds": s.timeout.map(|t| t.as_secs()),
                "mutating": s.action.mutating,
                "verify": s.verify,
                "drill_skip": s.drill_skip,
                "line": s.line,
            })
        })
        .collect();
    json!({
        "runbook": runbook.name,
        "file": runbook.path.display().to_string(),
        "drill": view.drill.map(|d| json!({
            "name": d.name,
            "file": d.path.display().to_string(),
            "mode": d.mode.as_str(),
            "schedule": d.schedule,
        })),
        "targets": {
            "rto_seconds": targets.rto.map(|t| t.as_secs()),
            "rpo_seconds": targets.rpo.map(|t| t.as_secs()),
        },
        "order": plan.order,
        "waves": plan.waves,
        "critical_path": plan.critical_path,
        "predicted_seconds": plan.predicted_secs,
        "steps": steps,
    })
}

/// The plan as a Graphviz digraph: edges point from a step to the steps that run after it;
/// the critical path is red.
pub fn render_dot(view: &PlanView<'_>) -> String {
    let runbook = view.runbook;
    let plan = view.plan;
    let critical: Vec<(&str, &str)> = plan
        .critical_path
        .windows(2)
        .map(|w| (w[0].as_str(), w[1].as_str()))
        .collect();
    let on_path = |id: &str| plan.critical_path.iter().any(|c| c == id);
    let mut out = format!("digraph \"{}\" {{\n", escape(&runbook.name));
    out.push_str("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    for step in &runbook.steps {
        let color = if on_path(&step.id) {
            ", color=red, penwidth=2"
        } else {
            ""
        };
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\\n~{}\"{color}];\n",
            escape(&step.id),
            escape(&step.id),
            escape(step.action.name),
            secs(step.action.estimate_secs)
        ));
    }
    for step in &runbook.steps {
        for dep in &step.after {
            let color = if critical.contains(&(dep.as_str(), step.id.as_str())) {
                " [color=red, penwidth=2]"
            } else {
                ""
            };
            out.push_str(&format!(
                "  \"{}\" -> \"{}\"{color};\n",
                escape(dep),
                escape(&step.id)
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
