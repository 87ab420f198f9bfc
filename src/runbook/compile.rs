//! From a validated runbook to what the engine executes ([`ExecPlan`]): the steps in a
//! topological order, each with its action's implementation, its region's AWS code, its
//! timeout and retry policy, and its parameters compiled once into engine values: strings
//! become [`Template`]s of literal text and `${steps.<id>.<output>}` references, durations
//! milliseconds. The engine never parses a runbook string.

use std::time::Duration;

use serde_json::{Map, Value as Json};

use super::interpolate::{Piece, Reference, parse_template};
use super::model::{Runbook, Step, Value};
use super::plan::plan;
use crate::actions;
use crate::engine::{
    ExecPlan, ExecStep, OutputRef, Param, Part, RetryPolicy, StepParams, Template,
};

/// Why a validated runbook cannot be handed to the engine. Validation rules these out; the
/// error exists so that a gap between the two is a message, not a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("step `{step}` uses action `{action}`, which this build of drctl cannot run")]
    NoImplementation { step: String, action: String },
    #[error("parameter `{param}` of step `{step}`: {message}")]
    Template {
        step: String,
        param: String,
        message: String,
    },
}

/// A step's timeout when the runbook gives none: three times the action's estimate, at
/// least ten minutes.
pub fn default_timeout(estimate_secs: u64) -> Duration {
    Duration::from_secs((estimate_secs * 3).max(600))
}

/// The engine's view of a runbook, steps in a topological order.
pub fn compile(runbook: &Runbook) -> Result<ExecPlan, CompileError> {
    let order = plan(runbook).order;
    let steps = order
        .iter()
        .filter_map(|id| runbook.step(id))
        .map(|step| {
            let action = actions::implementation(step.action.name).ok_or_else(|| {
                CompileError::NoImplementation {
                    step: step.id.clone(),
                    action: step.action.name.to_string(),
                }
            })?;
            Ok(ExecStep {
                id: step.id.clone(),
                action,
                region: runbook.region_of(step).map(str::to_owned),
                after: step.after.clone(),
                timeout: step
                    .timeout
                    .unwrap_or_else(|| default_timeout(step.action.estimate_secs)),
                retry: RetryPolicy::exponential(step.retry.attempts, step.retry.backoff),
                verify: step.verify,
                drill_skip: step.drill_skip,
                params: params(step)?,
            })
        })
        .collect::<Result<_, CompileError>>()?;
    Ok(ExecPlan {
        runbook_name: runbook.name.clone(),
        regions: runbook.regions.clone(),
        steps,
    })
}

fn params(step: &Step) -> Result<StepParams, CompileError> {
    let mut out = StepParams::default();
    for (name, value) in &step.with {
        let template = |text: &str| template(text, &step.id, name);
        let param = match value {
            Value::String(s) => Param::Text(template(s)?),
            Value::List(items) => Param::List(
                items
                    .iter()
                    .map(|s| template(s))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Integer(n) => Param::Value(Json::from(*n)),
            Value::Bool(b) => Param::Value(Json::Bool(*b)),
            Value::Duration(d) => Param::Value(Json::from(d.as_millis() as u64)),
            Value::CountMap(map) => Param::Value(Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Json::from(*v)))
                    .collect::<Map<_, _>>(),
            )),
        };
        out.insert(name.clone(), param);
    }
    Ok(out)
}

/// A loaded (canonical) template string of parameter `param` of `step` as engine parts.
fn template(text: &str, step: &str, param: &str) -> Result<Template, CompileError> {
    let error = |message| CompileError::Template {
        step: step.to_string(),
        param: param.to_string(),
        message,
    };
    let (pieces, errors) = parse_template(text);
    if let Some(e) = errors.into_iter().next() {
        return Err(error(e.message));
    }
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Literal(text) => Ok(Part::Literal(text)),
            Piece::Ref {
                reference: Reference::Step(r),
                ..
            } => Ok(Part::Output(OutputRef {
                step: r.step,
                output: r.output,
            })),
            Piece::Ref { range, .. } => Err(error(format!(
                "`{}` should have been substituted when the runbook was loaded",
                &text[range]
            ))),
        })
        .collect::<Result<_, _>>()
        .map(Template::new)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::runbook::load_runbook_str;

    const RUNBOOK: &str = r#"
name = "t"
[regions]
primary = "us-east-1"
[[steps]]
id = "a"
action = "http.probe"
[steps.with]
url = "http://127.0.0.1:1/"
[[steps]]
id = "b"
action = "exec"
after = ["a"]
[steps.with]
command = ["echo", "${steps.a.status}"]
[[steps]]
id = "c"
action = "exec"
after = ["a"]
[steps.with]
command = ["true"]
"#;

    #[test]
    fn exec_plan_is_topological_with_defaults() {
        let rb = load_runbook_str("t.toml", RUNBOOK, &BTreeMap::new()).unwrap();
        let plan = compile(&rb).unwrap();
        assert_eq!(plan.steps[0].id, "a");
        assert_eq!(plan.steps[0].params.unresolved()["expect_status"], 200);
        assert_eq!(plan.steps[0].params.unresolved()["interval"], 2000);
        assert_eq!(plan.steps[0].timeout, Duration::from_secs(600));
    }

    #[test]
    fn step_references_resolve_and_dollars_escape() {
        let mut outputs = BTreeMap::new();
        outputs.insert(
            "restore".to_string(),
            BTreeMap::from([("file_system_id".to_string(), "fs-1".to_string())]),
        );
        let mut params = StepParams::default();
        params.insert(
            "a",
            Param::Text(template("id=${steps.restore.file_system_id} cost $$5", "s", "a").unwrap()),
        );
        params.insert(
            "b",
            Param::List(vec![
                template("${steps.restore.file_system_id}", "s", "b").unwrap(),
            ]),
        );
        let r = params.resolve(&outputs).unwrap();
        assert_eq!(r["a"], "id=fs-1 cost $5");
        assert_eq!(r["b"][0], "fs-1");
        params.insert(
            "c",
            Param::Text(template("${steps.missing.x}", "s", "c").unwrap()),
        );
        assert!(
            params
                .resolve(&outputs)
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
        assert_eq!(
            params.unresolved()["a"],
            "id=${steps.restore.file_system_id} cost $$5"
        );
    }
}
