//! The schedules drctl wants: `drctl-drill-<name>` for every drill with a `schedule`, and
//! `drctl-check` for the frequent RPO check, each invoking the drctl Lambda function with a
//! small JSON input that names the command. Pure: no AWS, no files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::runbook::Drill;

/// Schedules whose names start with this are drctl's; `apply` and `remove` touch no others.
pub const MANAGED_PREFIX: &str = "drctl-";
/// Drill schedules are `drctl-drill-<drill name>`.
pub const DRILL_PREFIX: &str = "drctl-drill-";
/// The schedule that runs `drctl check`.
pub const CHECK_SCHEDULE: &str = "drctl-check";
/// EventBridge Scheduler's longest schedule name.
const MAX_NAME_LEN: usize = 64;

/// What every schedule invokes, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTarget {
    /// The drctl Lambda function.
    pub function_arn: String,
    /// The role EventBridge Scheduler assumes to invoke it.
    pub role_arn: String,
}

/// One schedule as drctl wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredSchedule {
    pub name: String,
    /// `cron(...)` or `rate(...)`, always evaluated in UTC.
    pub expression: String,
    /// The JSON the function receives.
    pub input: String,
    pub target_arn: String,
    pub role_arn: String,
    pub description: String,
    /// The drill file the schedule comes from (none for `drctl-check`).
    pub file: Option<PathBuf>,
}

/// The schedule name of a drill.
pub fn drill_schedule_name(drill: &str) -> String {
    format!("{DRILL_PREFIX}{drill}")
}

/// The function's input for a scheduled drill.
pub fn drill_input(drill: &str) -> String {
    serde_json::json!({"command": "drill", "drill": drill}).to_string()
}

/// The function's input for the scheduled check.
pub fn check_input() -> String {
    serde_json::json!({"command": "check"}).to_string()
}

/// Why the drills cannot be scheduled as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleProblem {
    #[error(
        "{}: drill name `{drill}` is too long for a schedule name ({schedule} has {} characters, EventBridge allows {MAX_NAME_LEN})",
        file.display(),
        schedule.len()
    )]
    NameTooLong {
        file: PathBuf,
        drill: String,
        schedule: String,
    },
    #[error(
        "{} and {} both name drill `{drill}`; each scheduled drill needs its own name",
        first.display(),
        second.display()
    )]
    SameName {
        first: PathBuf,
        second: PathBuf,
        drill: String,
    },
}

/// The desired schedules, sorted by name: one per drill that has a `schedule`, and
/// `drctl-check` unless `check_every` is `None`. Every problem is reported (two drill files
/// with one name, a name too long for EventBridge), not only the first.
pub fn desired_schedules(
    target: &ScheduleTarget,
    check_every: Option<&str>,
    drills: &[Drill],
) -> Result<Vec<DesiredSchedule>, Vec<ScheduleProblem>> {
    let mut problems = Vec::new();
    let mut by_name: BTreeMap<String, DesiredSchedule> = BTreeMap::new();
    for drill in drills {
        let Some(expression) = &drill.schedule else {
            continue;
        };
        let name = drill_schedule_name(&drill.name);
        if name.len() > MAX_NAME_LEN {
            problems.push(ScheduleProblem::NameTooLong {
                file: drill.path.clone(),
                drill: drill.name.clone(),
                schedule: name,
            });
            continue;
        }
        if let Some(other) = by_name.get(&name) {
            problems.push(ScheduleProblem::SameName {
                first: other.file.clone().unwrap_or_else(|| "?".into()),
                second: drill.path.clone(),
                drill: drill.name.clone(),
            });
            continue;
        }
        by_name.insert(
            name.clone(),
            DesiredSchedule {
                name,
                expression: expression.clone(),
                input: drill_input(&drill.name),
                target_arn: target.function_arn.clone(),
                role_arn: target.role_arn.clone(),
                description: format!(
                    "drctl drill `{}` from {} (managed by `drctl schedule apply`)",
                    drill.name,
                    drill.path.display()
                ),
                file: Some(drill.path.clone()),
            },
        );
    }
    if let Some(expression) = check_every {
        by_name.insert(
            CHECK_SCHEDULE.to_string(),
            DesiredSchedule {
                name: CHECK_SCHEDULE.to_string(),
                expression: expression.to_string(),
                input: check_input(),
                target_arn: target.function_arn.clone(),
                role_arn: target.role_arn.clone(),
                description: "drctl check: RPO exposure of the scheduled drills (managed by `drctl schedule apply`)".into(),
                file: None,
            },
        );
    }
    if problems.is_empty() {
        Ok(by_name.into_values().collect())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::runbook::{Isolation, Targets};

    pub(crate) fn drill(name: &str, file: &str, schedule: Option<&str>) -> Drill {
        Drill {
            name: name.into(),
            description: None,
            path: file.into(),
            runbook_path: "runbooks/x.toml".into(),
            mode: Isolation::Isolated,
            targets: Targets::default(),
            schedule: schedule.map(str::to_owned),
            vars: Default::default(),
        }
    }

    fn target() -> ScheduleTarget {
        ScheduleTarget {
            function_arn: "arn:aws:lambda:us-west-2:123456789012:function:drctl".into(),
            role_arn: "arn:aws:iam::123456789012:role/drctl-scheduler".into(),
        }
    }

    #[test]
    fn one_schedule_per_scheduled_drill_plus_check() {
        let drills = [
            drill("monthly", "drills/monthly.toml", Some("cron(0 6 1 * ? *)")),
            drill("adhoc", "drills/adhoc.toml", None),
        ];
        let got = desired_schedules(&target(), Some("rate(5 minutes)"), &drills).unwrap();
        let names: Vec<&str> = got.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["drctl-check", "drctl-drill-monthly"]);
        let monthly = &got[1];
        assert_eq!(monthly.expression, "cron(0 6 1 * ? *)");
        assert_eq!(monthly.input, r#"{"command":"drill","drill":"monthly"}"#);
        assert_eq!(
            monthly.file.as_deref(),
            Some(Path::new("drills/monthly.toml"))
        );
        assert!(monthly.description.contains("drills/monthly.toml"));
        assert_eq!(got[0].input, r#"{"command":"check"}"#);
        assert_eq!(got[0].expression, "rate(5 minutes)");
    }

    #[test]
    fn check_every_off_means_no_check_schedule() {
        let got = desired_schedules(&target(), None, &[]).unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn every_problem_is_reported() {
        let long = "x".repeat(60);
        let drills = [
            drill("monthly", "a.toml", Some("rate(1 day)")),
            drill("monthly", "b.toml", Some("rate(2 days)")),
            drill(&long, "c.toml", Some("rate(1 day)")),
        ];
        let problems = desired_schedules(&target(), None, &drills).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0]
                .to_string()
                .contains("a.toml and b.toml both name drill `monthly`")
        );
        assert!(problems[1].to_string().contains("too long"));
    }
}
