//! Which AWS Backup rules put recovery points of a file system into a vault, and how often.
//!
//! A rule delivers into the vault when it backs up into it (same region) or copies into it
//! (a copy action naming the vault's ARN, usually cross-region). It counts for a file system
//! when one of its plan's selections covers the file system's ARN: by resource ARN (with `*`
//! wildcards) or, since tags are not read here, by tag conditions (which *may* cover it). The
//! schedule's longest gap between runs is the best RPO the rule can guarantee: AWS Backup
//! snapshots EFS at most hourly, so no backup schedule gives a tighter one.

use std::collections::BTreeMap;

use aws_sdk_backup::types::BackupSelection;

use crate::actions::{ActionError, on};
use crate::aws::{AwsClients, all_pages, aws_err};
use crate::runbook::{ScheduleGaps, schedule_gaps};

/// One backup rule that protects a file system.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    pub(crate) plan: String,
    pub(crate) plan_region: String,
    pub(crate) rule: String,
    pub(crate) schedule: String,
    /// `None` when the schedule could not be understood.
    pub(crate) gaps: Option<ScheduleGaps>,
    /// The vault it backs up into (in the plan's region).
    pub(crate) target_vault: String,
    /// The vaults it copies into, as ARNs.
    pub(crate) copies_to: Vec<String>,
    /// Whether a selection names the file system (`false`: only tag conditions may cover it).
    pub(crate) by_arn: bool,
}

impl Rule {
    /// Whether this rule's recovery points end up in `vault` of `region`.
    pub(crate) fn delivers_to(&self, vault: &str, region: &str) -> bool {
        (self.plan_region == region && self.target_vault == vault)
            || self
                .copies_to
                .iter()
                .any(|arn| vault_of_arn(arn) == Some((region, vault)))
    }

    /// The rule in words, for evidence.
    pub(crate) fn describe(&self) -> String {
        let every = match self.gaps {
            Some(g) if g.shortest == g.longest => {
                format!("every {}", crate::runbook::format_duration(g.longest))
            }
            Some(g) => format!(
                "runs {} to {} apart",
                crate::runbook::format_duration(g.shortest),
                crate::runbook::format_duration(g.longest)
            ),
            None => "a schedule drctl cannot read".into(),
        };
        let copies = if self.copies_to.is_empty() {
            String::new()
        } else {
            format!(
                ", copies to {}",
                self.copies_to
                    .iter()
                    .map(|arn| match vault_of_arn(arn) {
                        Some((region, vault)) => format!("vault {vault} ({region})"),
                        None => arn.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "rule `{}` of backup plan `{}` ({}): {} ({every}), backs up to vault {}{copies}{}",
            self.rule,
            self.plan,
            self.plan_region,
            self.schedule,
            self.target_vault,
            if self.by_arn {
                ""
            } else {
                "; selected by tags, which may cover the file system"
            }
        )
    }
}

/// `arn:aws:backup:us-west-2:123456789012:backup-vault:prod-infra-dr` → (region, name).
fn vault_of_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts[..] {
        [_, _, "backup", region, _, "backup-vault", name] => Some((region, name)),
        _ => None,
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// Whether a selection covers `arn`: `Some(true)` by ARN, `Some(false)` maybe (tags), `None` not.
fn covers(selection: &BackupSelection, arn: &str) -> Option<bool> {
    if selection.not_resources().iter().any(|p| glob(p, arn)) {
        return None;
    }
    if selection.resources().iter().any(|p| glob(p, arn)) {
        return Some(true);
    }
    let conditions = selection.conditions().is_some_and(|c| {
        !(c.string_equals().is_empty()
            && c.string_not_equals().is_empty()
            && c.string_like().is_empty()
            && c.string_not_like().is_empty())
    });
    (!selection.list_of_tags().is_empty() || conditions).then_some(false)
}

/// A plan's rules and selections, as read once per region.
#[derive(Debug, Clone)]
struct Plan {
    name: String,
    region: String,
    rules: Vec<aws_sdk_backup::types::BackupRule>,
    selections: Vec<BackupSelection>,
}

/// Backup plans by region, read on first use and kept for the rest of the check.
#[derive(Debug, Default)]
pub(crate) struct PlanBook {
    by_region: BTreeMap<String, Vec<Plan>>,
}

impl PlanBook {
    async fn plans(&mut self, aws: &AwsClients, region: &str) -> Result<&[Plan], ActionError> {
        if !self.by_region.contains_key(region) {
            let plans = read_plans(aws, region).await?;
            self.by_region.insert(region.to_string(), plans);
        }
        Ok(&self.by_region[region])
    }

    /// Every rule in `regions` whose plan selects the file system `fs_arn`.
    pub(crate) async fn rules_for(
        &mut self,
        aws: &AwsClients,
        regions: &[&str],
        fs_arn: &str,
    ) -> Result<Vec<Rule>, ActionError> {
        let mut rules = Vec::new();
        for region in regions {
            for plan in self.plans(aws, region).await? {
                let Some(by_arn) = plan
                    .selections
                    .iter()
                    .filter_map(|s| covers(s, fs_arn))
                    .reduce(|a, b| a || b)
                else {
                    continue;
                };
                for rule in &plan.rules {
                    let schedule = rule.schedule_expression().unwrap_or_default().to_string();
                    rules.push(Rule {
                        plan: plan.name.clone(),
                        plan_region: plan.region.clone(),
                        rule: rule.rule_name().to_string(),
                        gaps: schedule_gaps(&schedule),
                        schedule,
                        target_vault: rule.target_backup_vault_name().to_string(),
                        copies_to: rule
                            .copy_actions()
                            .iter()
                            .map(|c| c.destination_backup_vault_arn().to_string())
                            .collect(),
                        by_arn,
                    });
                }
            }
        }
        Ok(rules)
    }
}

async fn read_plans(aws: &AwsClients, region: &str) -> Result<Vec<Plan>, ActionError> {
    let client = aws.backup(region);
    let where_ = format!("backup plans in {region}");
    let ids = all_pages(|token| {
        let req = client.list_backup_plans().set_next_token(token);
        async move {
            let out = req
                .send()
                .await
                .map_err(aws_err("backup:ListBackupPlans"))?;
            let ids = out
                .backup_plans_list()
                .iter()
                .filter_map(|p| p.backup_plan_id().map(str::to_owned))
                .collect();
            Ok((ids, out.next_token().map(str::to_owned)))
        }
    })
    .await
    .map_err(on(where_))?;
    let mut plans = Vec::new();
    for id in ids {
        let resource = format!("backup plan {id} ({region})");
        let out = client
            .get_backup_plan()
            .backup_plan_id(&id)
            .send()
            .await
            .map_err(aws_err("backup:GetBackupPlan"))
            .map_err(on(resource.clone()))?;
        let Some(plan) = out.backup_plan() else {
            continue;
        };
        let selection_ids = all_pages(|token| {
            let req = client
                .list_backup_selections()
                .backup_plan_id(&id)
                .set_next_token(token);
            async move {
                let out = req
                    .send()
                    .await
                    .map_err(aws_err("backup:ListBackupSelections"))?;
                let ids = out
                    .backup_selections_list()
                    .iter()
                    .filter_map(|s| s.selection_id().map(str::to_owned))
                    .collect();
                Ok((ids, out.next_token().map(str::to_owned)))
            }
        })
        .await
        .map_err(on(resource.clone()))?;
        let mut selections = Vec::new();
        for selection in selection_ids {
            let out = client
                .get_backup_selection()
                .backup_plan_id(&id)
                .selection_id(&selection)
                .send()
                .await
                .map_err(aws_err("backup:GetBackupSelection"))
                .map_err(on(format!("{resource}, selection {selection}")))?;
            selections.extend(out.backup_selection().cloned());
        }
        plans.push(Plan {
            name: plan.backup_plan_name().to_string(),
            region: region.to_string(),
            rules: plan.rules().to_vec(),
            selections,
        });
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_arns_and_globs() {
        assert_eq!(
            vault_of_arn("arn:aws:backup:us-west-2:123456789012:backup-vault:prod-infra-dr"),
            Some(("us-west-2", "prod-infra-dr"))
        );
        assert_eq!(vault_of_arn("arn:aws:s3:::bucket"), None);
        let fs = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1";
        assert!(glob(fs, fs));
        assert!(glob("*", fs));
        assert!(glob("arn:aws:elasticfilesystem:*:*:file-system/*", fs));
        assert!(!glob("arn:aws:elasticfilesystem:*:*:file-system/fs-2", fs));
    }

    #[test]
    fn selections_cover_by_arn_or_maybe_by_tags() {
        let fs = "arn:aws:elasticfilesystem:us-east-1:1:file-system/fs-1";
        let base = || {
            BackupSelection::builder()
                .selection_name("s")
                .iam_role_arn("r")
        };
        assert_eq!(
            covers(&base().resources(fs).build().unwrap(), fs),
            Some(true)
        );
        assert_eq!(
            covers(
                &base().resources("*").not_resources(fs).build().unwrap(),
                fs
            ),
            None
        );
        let tagged = base()
            .list_of_tags(
                aws_sdk_backup::types::Condition::builder()
                    .condition_type(aws_sdk_backup::types::ConditionType::Stringequals)
                    .condition_key("backup")
                    .condition_value("hourly")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(covers(&tagged, fs), Some(false));
        assert_eq!(covers(&base().build().unwrap(), fs), None);
    }

    #[test]
    fn a_rule_delivers_by_target_or_by_copy() {
        let rule = Rule {
            plan: "p".into(),
            plan_region: "us-east-1".into(),
            rule: "hourly".into(),
            schedule: "cron(0 * ? * * *)".into(),
            gaps: schedule_gaps("cron(0 * ? * * *)"),
            target_vault: "prod".into(),
            copies_to: vec!["arn:aws:backup:us-west-2:1:backup-vault:dr".into()],
            by_arn: true,
        };
        assert!(rule.delivers_to("prod", "us-east-1"));
        assert!(rule.delivers_to("dr", "us-west-2"));
        assert!(!rule.delivers_to("prod", "us-west-2"));
        assert_eq!(
            rule.describe(),
            "rule `hourly` of backup plan `p` (us-east-1): cron(0 * ? * * *) (every 1h), backs up to vault prod, copies to vault dr (us-west-2)"
        );
    }
}
