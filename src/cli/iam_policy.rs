//! `drctl iam-policy RUNBOOK`: the least-privilege IAM policy (JSON) for running the runbook:
//! the actions its steps call, scoped to resource ARNs where the runbook names them.

use super::args::{IamPolicyArgs, OutputFormat};
use super::exit::Exit;
use super::settings::Settings;
use crate::actions::iam::{PolicyStep, policy};
use crate::runbook;
use crate::runner::exec_plan;

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
    let plan = exec_plan(&runbook);
    let steps: Vec<PolicyStep<'_>> = plan
        .steps
        .iter()
        .map(|s| PolicyStep {
            id: &s.id,
            action: s.action.spec(),
            region: s.region.as_deref(),
            other_regions: s
                .params
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
            params: &s.params,
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&policy(&steps))?);
    Ok(Exit::Success)
}
