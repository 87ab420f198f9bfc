//! `drctl iam-policy RUNBOOK`: the least-privilege IAM policy (JSON) for running the runbook:
//! the actions its steps call, scoped to resource ARNs where the runbook names them.

use super::args::{IamPolicyArgs, OutputFormat};
use super::exit::Exit;
use super::settings::Settings;
use crate::actions::iam::{PolicyStep, policy};
use crate::runbook;
use crate::store::StateUrl;

/// Runs `drctl iam-policy`.
pub fn run(settings: &Settings, args: &IamPolicyArgs) -> anyhow::Result<Exit> {
    settings.output("iam-policy", &[OutputFormat::Json])?;
    let runbook = match runbook::load_file(&args.runbook, &Default::default()) {
        Ok(runbook::Loaded::Runbook(rb)) | Ok(runbook::Loaded::Drill(_, rb)) => rb,
        Err(d) => {
            eprint!("{}", d.render(settings.color));
            return Ok(Exit::Invalid);
        }
    };
    let plan = runbook::compile(&runbook)?;
    // Parameters as the runbook writes them: values that depend on other steps' outputs
    // cannot scope a statement.
    let params: Vec<_> = plan.steps.iter().map(|s| s.params.unresolved()).collect();
    let steps: Vec<PolicyStep<'_>> = plan
        .steps
        .iter()
        .zip(&params)
        .map(|(s, params)| PolicyStep {
            id: &s.id,
            action: s.action.spec(),
            region: s.region.as_deref(),
            other_regions: params
                .get("source_region")
                .and_then(|v| v.as_str())
                .map(|r| {
                    vec![
                        runbook
                            .regions
                            .get(r)
                            .cloned()
                            .unwrap_or_else(|| r.to_string()),
                    ]
                })
                .unwrap_or_default(),
            params,
        })
        .collect();
    let mut document = policy(&steps);
    if let Some(statements) = document["Statement"].as_array_mut() {
        statements.extend(global_statements(settings));
    }
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(Exit::Success)
}

/// What the global flags add to any run: the shared state store (`--state dynamodb://...`)
/// and run notifications (`--notify`). With them, the printed policy is the whole role of a
/// scheduled (Lambda) run.
fn global_statements(settings: &Settings) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    if let Some(StateUrl::Dynamo { table, region }) = &settings.state {
        let region = region
            .clone()
            .or_else(|| settings.region.clone())
            .unwrap_or_else(|| "*".into());
        out.push(serde_json::json!({
            "Sid": "DrctlStateStore",
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:Query"],
            "Resource": format!("arn:aws:dynamodb:{region}:*:table/{table}"),
        }));
    }
    if let Some(topic) = &settings.notify_topic {
        out.push(serde_json::json!({
            "Sid": "DrctlRunNotifications",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": topic,
        }));
    }
    out
}
