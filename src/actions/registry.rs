//! Every action drctl has, in the order of DESIGN.md section 5: its implementation (for the
//! engine) and its catalogue entry (for validation, the planner, docs and IAM policies), both
//! from one list. Adding an action is one line here.

use super::action::{Action, TypedAction};
use super::spec::ActionSpec;
use super::{approve, backup, ecr, ecs, efs, exec, http, notify, route53, secrets};

/// One list, two statics: the implementations and their catalogue entries, in order.
macro_rules! register {
    ($($action:path),* $(,)?) => {
        static ACTIONS: &[&dyn Action] = &[$(&$action),*];

        /// Every action's catalogue entry, in the order of DESIGN.md section 5.
        pub static CATALOGUE: &[&ActionSpec] = &[$(<$action as TypedAction>::SPEC),*];
    };
}

register! {
    backup::RestoreEfs,
    backup::Copy,
    backup::Start,
    efs::ReplicationFailover,
    ecr::Replicate,
    secrets::Replicate,
    secrets::Promote,
    ecs::Capacity,
    ecs::Scale,
    ecs::UseFileSystem,
    route53::Failover,
    http::Probe,
    approve::Approve,
    exec::Exec,
    notify::Notify,
}

/// The implementation of the action called `name`.
pub fn implementation(name: &str) -> Option<&'static dyn Action> {
    ACTIONS.iter().copied().find(|a| a.spec().name == name)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use serde_json::{Map, Value, json};

    use super::*;
    use crate::actions::spec::ParamType;
    use crate::actions::{Approvals, Mode, StepContext, StepJournal};
    use crate::aws::{AwsClients, AwsSettings};
    use crate::measure::Clock;

    struct NoJournal;
    impl StepJournal for NoJournal {
        fn note<'a>(
            &'a self,
            _: &'a str,
            _: &'a Value,
        ) -> crate::actions::BoxFuture<'a, std::io::Result<()>> {
            Box::pin(async { Ok(()) })
        }
    }

    fn sample(ty: ParamType) -> Value {
        match ty {
            ParamType::String => json!("x"),
            ParamType::Integer => json!(1),
            ParamType::Bool => json!(true),
            ParamType::Duration => json!(1000),
            ParamType::StringList => json!(["x"]),
            ParamType::CountMap => json!({"x": 1}),
            ParamType::Region => json!("primary"),
            ParamType::Enum(values) => json!(values[0]),
        }
    }

    /// Whether `action`'s `Params` reads `params` (describing a step decodes them).
    fn reads(action: &dyn Action, aws: &AwsClients, params: Map<String, Value>) -> bool {
        let (_stop, interrupted) = tokio::sync::watch::channel(false);
        let ctx = StepContext {
            run_id: "r".into(),
            step_id: "s".into(),
            region: Some("us-east-1".into()),
            regions: BTreeMap::from([("primary".to_string(), "us-east-1".to_string())]),
            params,
            mode: Mode::Failover,
            aws: aws.clone(),
            clock: Clock::system(),
            t0: chrono::Utc::now(),
            prior_notes: Vec::new(),
            journal: Arc::new(NoJournal),
            progress: Arc::new(|_| {}),
            interrupted,
            approvals: Approvals {
                pre_approved: Default::default(),
                ask: None,
            },
            step_outputs: BTreeMap::new(),
        };
        !action
            .describe(&ctx)
            .first()
            .is_some_and(|d| d.starts_with("(cannot describe the step"))
    }

    #[tokio::test]
    async fn every_params_struct_reads_exactly_the_parameters_its_entry_declares() {
        let aws = AwsClients::new(&AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        })
        .await;
        for action in ACTIONS {
            let spec = action.spec();
            let all: Map<String, Value> = spec
                .params
                .iter()
                .map(|p| (p.name.to_string(), sample(p.ty)))
                .collect();
            assert!(
                reads(*action, &aws, all.clone()),
                "{}: every parameter",
                spec.name
            );
            let mut extra = all.clone();
            extra.insert("not_a_parameter".into(), json!("x"));
            assert!(
                !reads(*action, &aws, extra),
                "{}: an unknown parameter",
                spec.name
            );
            for p in spec.params {
                let mut without = all.clone();
                without.remove(p.name);
                // Defaults are filled in before a step runs: only required parameters and
                // optional ones without a default can be absent.
                if p.required {
                    assert!(
                        !reads(*action, &aws, without),
                        "{}: without {}",
                        spec.name,
                        p.name
                    );
                } else if p.default.is_none() {
                    assert!(
                        reads(*action, &aws, without),
                        "{}: without {}",
                        spec.name,
                        p.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_catalogue_entry_has_exactly_one_implementation() {
        for spec in CATALOGUE {
            let n = ACTIONS
                .iter()
                .filter(|a| a.spec().name == spec.name)
                .count();
            assert_eq!(n, 1, "{}", spec.name);
        }
        assert_eq!(ACTIONS.len(), CATALOGUE.len());
        let names: BTreeSet<&str> = CATALOGUE.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), CATALOGUE.len(), "names are unique");
    }
}
