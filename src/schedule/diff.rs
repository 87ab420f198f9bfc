//! The difference between the schedules drctl wants and the ones the group holds: what to
//! create, update (and which fields differ), delete, or leave alone. Pure, so that `plan`
//! and `apply` agree by construction and the rules are tested without AWS.

use std::collections::BTreeMap;

use serde::Serialize;

use super::desired::{DesiredSchedule, MANAGED_PREFIX};

/// A schedule as the group holds it (from GetSchedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentSchedule {
    pub name: String,
    pub expression: String,
    pub timezone: Option<String>,
    pub input: Option<String>,
    pub target_arn: String,
    pub role_arn: String,
    pub description: Option<String>,
    /// FlexibleTimeWindow mode (`OFF`, `FLEXIBLE`).
    pub window: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: Option<String>,
}

/// What happens to one schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
    Unchanged,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Create => "create",
            ChangeKind::Update => "update",
            ChangeKind::Delete => "delete",
            ChangeKind::Unchanged => "unchanged",
        }
    }
}

/// A field of a schedule that drctl sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The cron or rate expression.
    Expression,
    /// The JSON input of the target (compared as JSON, not as text).
    Input,
    /// The target ARN (the function).
    Target,
    /// The role EventBridge Scheduler assumes.
    Role,
    /// The expression's time zone (always UTC).
    Timezone,
    /// The flexible time window (always OFF).
    Window,
    Description,
    /// ENABLED or DISABLED (drctl's schedules are enabled).
    State,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Expression => "expression",
            Field::Input => "input",
            Field::Target => "target",
            Field::Role => "role",
            Field::Timezone => "timezone",
            Field::Window => "window",
            Field::Description => "description",
            Field::State => "state",
        }
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: Field,
    pub current: Option<String>,
    pub desired: String,
}

/// One schedule's fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub name: String,
    pub action: ChangeKind,
    /// For updates: the fields that differ, in a fixed order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// What the schedule should be (none for deletes).
    pub desired: Option<DesiredSchedule>,
    /// What the group holds (none for creates).
    pub current: Option<CurrentSchedule>,
}

/// Everything `apply` would do to one schedule group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchedulePlan {
    pub region: String,
    pub group: String,
    /// `false`: apply creates the group first.
    pub group_exists: bool,
    /// Sorted by schedule name.
    pub changes: Vec<Change>,
}

impl SchedulePlan {
    /// How many changes of `kind`.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.action == kind).count()
    }

    /// Whether `apply` would make no mutating call.
    pub fn is_noop(&self) -> bool {
        self.group_exists
            && self
                .changes
                .iter()
                .all(|c| c.action == ChangeKind::Unchanged)
    }
}

/// The changes that turn `current` into `desired`. Schedules whose names do not start with
/// `drctl-` are not drctl's and never appear.
pub fn diff(desired: &[DesiredSchedule], current: &[CurrentSchedule]) -> Vec<Change> {
    let mut current: BTreeMap<&str, &CurrentSchedule> = current
        .iter()
        .filter(|c| c.name.starts_with(MANAGED_PREFIX))
        .map(|c| (c.name.as_str(), c))
        .collect();
    let mut changes: Vec<Change> = desired
        .iter()
        .map(|want| match current.remove(want.name.as_str()) {
            None => Change {
                name: want.name.clone(),
                action: ChangeKind::Create,
                fields: vec![],
                desired: Some(want.clone()),
                current: None,
            },
            Some(have) => {
                let fields = differing_fields(want, have);
                Change {
                    name: want.name.clone(),
                    action: if fields.is_empty() {
                        ChangeKind::Unchanged
                    } else {
                        ChangeKind::Update
                    },
                    fields,
                    desired: Some(want.clone()),
                    current: Some(have.clone()),
                }
            }
        })
        .collect();
    changes.extend(current.into_values().map(|have| Change {
        name: have.name.clone(),
        action: ChangeKind::Delete,
        fields: vec![],
        desired: None,
        current: Some(have.clone()),
    }));
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    changes
}

fn differing_fields(want: &DesiredSchedule, have: &CurrentSchedule) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut check = |field: Field, current: Option<&str>, desired: &str, same: bool| {
        if !same {
            fields.push(FieldChange {
                field,
                current: current.map(str::to_owned),
                desired: desired.to_owned(),
            });
        }
    };
    check(
        Field::Expression,
        Some(&have.expression),
        &want.expression,
        have.expression == want.expression,
    );
    check(
        Field::Input,
        have.input.as_deref(),
        &want.input,
        have.input
            .as_deref()
            .is_some_and(|i| same_json(i, &want.input)),
    );
    check(
        Field::Target,
        Some(&have.target_arn),
        &want.target_arn,
        have.target_arn == want.target_arn,
    );
    check(
        Field::Role,
        Some(&have.role_arn),
        &want.role_arn,
        have.role_arn == want.role_arn,
    );
    // An absent time zone means UTC to EventBridge.
    check(
        Field::Timezone,
        have.timezone.as_deref(),
        "UTC",
        have.timezone.as_deref().is_none_or(|t| t == "UTC"),
    );
    check(
        Field::Window,
        have.window.as_deref(),
        "OFF",
        have.window.as_deref() == Some("OFF"),
    );
    check(
        Field::Description,
        have.description.as_deref(),
        &want.description,
        have.description.as_deref() == Some(want.description.as_str()),
    );
    check(
        Field::State,
        have.state.as_deref(),
        "ENABLED",
        have.state.as_deref().is_none_or(|s| s == "ENABLED"),
    );
    fields
}

/// Inputs are JSON: `{"a": 1}` and `{"a":1}` are the same input, so a schedule edited by
/// hand (or re-serialised by a console) is not rewritten for its whitespace.
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FN: &str = "arn:aws:lambda:us-west-2:123456789012:function:drctl";
    const ROLE: &str = "arn:aws:iam::123456789012:role/drctl-scheduler";

    fn want(name: &str, expression: &str) -> DesiredSchedule {
        DesiredSchedule {
            name: name.into(),
            expression: expression.into(),
            input: format!(r#"{{"command":"drill","drill":"{name}"}}"#),
            target_arn: FN.into(),
            role_arn: ROLE.into(),
            description: format!("drctl drill {name}"),
            file: Some(format!("drills/{name}.toml").into()),
        }
    }

    fn have(w: &DesiredSchedule) -> CurrentSchedule {
        CurrentSchedule {
            name: w.name.clone(),
            expression: w.expression.clone(),
            timezone: Some("UTC".into()),
            input: Some(w.input.clone()),
            target_arn: w.target_arn.clone(),
            role_arn: w.role_arn.clone(),
            description: Some(w.description.clone()),
            window: Some("OFF".into()),
            state: Some("ENABLED".into()),
        }
    }

    fn kinds(changes: &[Change]) -> Vec<(&str, ChangeKind)> {
        changes
            .iter()
            .map(|c| (c.name.as_str(), c.action))
            .collect()
    }

    #[test]
    fn empty_group_creates_everything() {
        let desired = [
            want("drctl-drill-b", "rate(1 day)"),
            want("drctl-check", "rate(5 minutes)"),
        ];
        let changes = diff(&desired, &[]);
        assert_eq!(
            kinds(&changes),
            [
                ("drctl-check", ChangeKind::Create),
                ("drctl-drill-b", ChangeKind::Create)
            ]
        );
    }

    #[test]
    fn identical_schedules_are_unchanged() {
        let desired = [want("drctl-drill-a", "rate(1 day)")];
        let current = [have(&desired[0])];
        let changes = diff(&desired, &current);
        assert_eq!(kinds(&changes), [("drctl-drill-a", ChangeKind::Unchanged)]);
        assert!(changes[0].fields.is_empty());
    }

    #[test]
    fn input_is_compared_as_json_and_a_missing_time_zone_is_utc() {
        let desired = [want("drctl-drill-a", "rate(1 day)")];
        let mut current = have(&desired[0]);
        current.input = Some(r#"{ "drill": "drctl-drill-a", "command": "drill" }"#.into());
        current.timezone = None;
        assert_eq!(diff(&desired, &[current])[0].action, ChangeKind::Unchanged);
    }

    #[test]
    fn updates_name_every_differing_field_with_both_values() {
        let desired = [want("drctl-drill-a", "cron(0 6 1 * ? *)")];
        let mut current = have(&desired[0]);
        current.expression = "cron(0 7 1 * ? *)".into();
        current.role_arn = "arn:aws:iam::123456789012:role/old".into();
        current.input = Some(r#"{"command":"drill","drill":"other"}"#.into());
        current.target_arn = "arn:aws:lambda:us-west-2:123456789012:function:old".into();
        current.state = Some("DISABLED".into());
        current.window = Some("FLEXIBLE".into());
        let changes = diff(&desired, &[current]);
        assert_eq!(changes[0].action, ChangeKind::Update);
        let fields: Vec<Field> = changes[0].fields.iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            [
                Field::Expression,
                Field::Input,
                Field::Target,
                Field::Role,
                Field::Window,
                Field::State
            ]
        );
        assert_eq!(
            changes[0].fields[0],
            FieldChange {
                field: Field::Expression,
                current: Some("cron(0 7 1 * ? *)".into()),
                desired: "cron(0 6 1 * ? *)".into(),
            }
        );
    }

    #[test]
    fn managed_schedules_no_longer_wanted_are_deleted_and_others_ignored() {
        let desired = [want("drctl-drill-a", "rate(1 day)")];
        let mut gone = have(&want("drctl-drill-old", "rate(7 days)"));
        gone.name = "drctl-drill-old".into();
        let foreign = have(&want("nightly-report", "rate(1 day)"));
        let changes = diff(&desired, &[gone, foreign, have(&desired[0])]);
        assert_eq!(
            kinds(&changes),
            [
                ("drctl-drill-a", ChangeKind::Unchanged),
                ("drctl-drill-old", ChangeKind::Delete)
            ]
        );
        assert!(changes[1].desired.is_none());
    }

    #[test]
    fn a_plan_without_changes_in_an_existing_group_is_a_noop() {
        let desired = [want("drctl-drill-a", "rate(1 day)")];
        let mut plan = SchedulePlan {
            region: "us-west-2".into(),
            group: "drctl".into(),
            group_exists: true,
            changes: diff(&desired, &[have(&desired[0])]),
        };
        assert!(plan.is_noop());
        plan.group_exists = false;
        assert!(!plan.is_noop());
        assert_eq!(plan.count(ChangeKind::Unchanged), 1);
    }
}
