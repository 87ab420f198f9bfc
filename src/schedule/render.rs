//! The plan as people read it: a summary line, then one line per schedule with its action,
//! and for updates one indented line per differing field with both values.

use std::fmt::Write;

use super::diff::{ChangeKind, SchedulePlan};

/// The human form of `plan` (ends with a newline).
pub fn render_plan(plan: &SchedulePlan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "schedules of group `{}` in {}: {} to create, {} to update, {} to delete, {} unchanged",
        plan.group,
        plan.region,
        plan.count(ChangeKind::Create),
        plan.count(ChangeKind::Update),
        plan.count(ChangeKind::Delete),
        plan.count(ChangeKind::Unchanged),
    );
    if !plan.group_exists {
        let _ = writeln!(
            out,
            "  the group does not exist yet: apply creates it first"
        );
    }
    let width = plan.changes.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for change in &plan.changes {
        let mark = match change.action {
            ChangeKind::Create => '+',
            ChangeKind::Update => '~',
            ChangeKind::Delete => '-',
            ChangeKind::Unchanged => ' ',
        };
        let expression = change
            .desired
            .as_ref()
            .map(|d| d.expression.as_str())
            .or(change.current.as_ref().map(|c| c.expression.as_str()))
            .unwrap_or("");
        let origin = match &change.desired {
            Some(d) => d
                .file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "drctl check".into()),
            None => "no longer wanted".into(),
        };
        let _ = writeln!(
            out,
            "{mark} {:<9}  {:<width$}  {expression}  ({origin})",
            change.action.as_str(),
            change.name,
        );
        for field in &change.fields {
            let _ = writeln!(
                out,
                "      {}: {} -> {}",
                field.field.as_str(),
                field.current.as_deref().unwrap_or("(none)"),
                field.desired
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{CurrentSchedule, DesiredSchedule, diff};

    #[test]
    fn lists_each_schedule_and_each_differing_field() {
        let want = |name: &str, expression: &str| DesiredSchedule {
            name: name.into(),
            expression: expression.into(),
            input: "{}".into(),
            target_arn: "fn".into(),
            role_arn: "role".into(),
            description: "d".into(),
            file: Some(format!("drills/{name}.toml").into()),
        };
        let have = |w: &DesiredSchedule, expression: &str| CurrentSchedule {
            name: w.name.clone(),
            expression: expression.into(),
            timezone: Some("UTC".into()),
            input: Some(w.input.clone()),
            target_arn: w.target_arn.clone(),
            role_arn: w.role_arn.clone(),
            description: Some(w.description.clone()),
            window: Some("OFF".into()),
            state: Some("ENABLED".into()),
        };
        let a = want("drctl-drill-a", "rate(2 days)");
        let b = want("drctl-drill-b", "rate(1 day)");
        let gone = want("drctl-drill-z", "rate(3 days)");
        let plan = SchedulePlan {
            region: "us-west-2".into(),
            group: "drctl".into(),
            group_exists: true,
            changes: diff(
                &[a.clone(), b.clone(), want("drctl-drill-c", "rate(4 days)")],
                &[
                    have(&a, "rate(1 day)"),
                    have(&b, "rate(1 day)"),
                    have(&gone, "rate(3 days)"),
                ],
            ),
        };
        assert_eq!(
            render_plan(&plan),
            "\
schedules of group `drctl` in us-west-2: 1 to create, 1 to update, 1 to delete, 1 unchanged
~ update     drctl-drill-a  rate(2 days)  (drills/drctl-drill-a.toml)
      expression: rate(1 day) -> rate(2 days)
  unchanged  drctl-drill-b  rate(1 day)  (drills/drctl-drill-b.toml)
+ create     drctl-drill-c  rate(4 days)  (drills/drctl-drill-c.toml)
- delete     drctl-drill-z  rate(3 days)  (no longer wanted)
"
        );
    }
}
