//! The least-privilege IAM policy of a runbook: per step, the IAM actions its action may call
//! (from the catalogue), scoped to resource ARNs where the runbook names them (vaults, ECS
//! services, secrets, topics), and `*` where AWS offers no resource scoping or the resource
//! is only known at run time.

use serde_json::{Value, json};

use super::spec::ActionSpec;

/// One step as the policy needs it.
pub struct PolicyStep<'a> {
    pub id: &'a str,
    pub action: &'static ActionSpec,
    /// AWS region code of the step.
    pub region: Option<&'a str>,
    /// Other regions the step reaches (e.g. a source region).
    pub other_regions: Vec<String>,
    /// Resolved parameter values (strings may still hold `${steps...}`).
    pub params: &'a serde_json::Map<String, Value>,
}

fn known(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.contains("${"))
}

fn list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .filter(|s| !s.contains("${"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// IAM actions that can be scoped for this step, with their resources.
fn scoped(step: &PolicyStep<'_>) -> Option<(Vec<&'static str>, Vec<String>)> {
    let region = step.region.unwrap_or("*");
    let p = step.params;
    let mut regions = vec![region.to_string()];
    regions.extend(step.other_regions.iter().cloned());
    match step.action.name {
        "backup.restore_efs" => {
            let vault = known(p.get("vault"))?;
            Some((
                vec![
                    "backup:ListRecoveryPointsByBackupVault",
                    "backup:DescribeRecoveryPoint",
                    "backup:GetRecoveryPointRestoreMetadata",
                ],
                vec![
                    format!("arn:aws:backup:{region}:*:backup-vault:{vault}"),
                    format!("arn:aws:backup:{region}:*:recovery-point:*"),
                ],
            ))
        }
        "ecs.scale" => {
            let cluster = known(p.get("cluster"))?;
            let services = p.get("services")?.as_object()?;
            Some((
                vec!["ecs:DescribeServices", "ecs:UpdateService"],
                services
                    .keys()
                    .map(|s| format!("arn:aws:ecs:{region}:*:service/{cluster}/{s}"))
                    .collect(),
            ))
        }
        "ecs.use_file_system" => {
            let cluster = known(p.get("cluster"))?;
            let service = known(p.get("service"))?;
            Some((
                vec!["ecs:DescribeServices", "ecs:UpdateService"],
                vec![format!(
                    "arn:aws:ecs:{region}:*:service/{cluster}/{service}"
                )],
            ))
        }
        "ecs.capacity" => {
            let group = known(p.get("auto_scaling_group"))?;
            // DescribeAutoScalingGroups takes no resource; the update is scoped to the group
            // (its ARN holds a UUID drctl does not know before the run).
            Some((
                vec!["autoscaling:UpdateAutoScalingGroup"],
                vec![format!(
                    "arn:aws:autoscaling:{region}:*:autoScalingGroup:*:autoScalingGroupName/{group}"
                )],
            ))
        }
        "secrets.replicate" | "secrets.promote" => {
            let names = list(p.get("secrets"));
            if names.is_empty() {
                return None;
            }
            let actions: Vec<&'static str> = step
                .action
                .iam
                .iter()
                .copied()
                .filter(|a| a.starts_with("secretsmanager:"))
                .collect();
            Some((
                actions,
                regions
                    .iter()
                    .flat_map(|r| {
                        names
                            .iter()
                            .map(move |n| format!("arn:aws:secretsmanager:{r}:*:secret:{n}-*"))
                    })
                    .collect(),
            ))
        }
        "notify" => {
            let topic = known(p.get("topic"))?;
            let arn = if topic.starts_with("arn:") {
                topic.to_string()
            } else {
                format!("arn:aws:sns:{region}:*:{topic}")
            };
            Some((vec!["sns:Publish"], vec![arn]))
        }
        _ => None,
    }
}

fn sid(step: &str, suffix: &str) -> String {
    let mut s: String = step
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    s.push_str(suffix);
    s
}

/// The policy document for these steps.
pub fn policy(steps: &[PolicyStep<'_>]) -> Value {
    let mut statements = Vec::new();
    for step in steps {
        if step.action.iam.is_empty() {
            continue;
        }
        let mut rest: Vec<&'static str> = step.action.iam.to_vec();
        if let Some((actions, resources)) = scoped(step) {
            rest.retain(|a| !actions.contains(a));
            statements.push(json!({
                "Sid": sid(step.id, "Scoped"),
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            }));
        }
        if !rest.is_empty() {
            statements.push(json!({
                "Sid": sid(step.id, ""),
                "Effect": "Allow",
                "Action": rest,
                "Resource": "*",
            }));
        }
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Every IAM action a policy allows (for coverage checks).
pub fn allowed_actions(policy: &Value) -> std::collections::BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect()
}
