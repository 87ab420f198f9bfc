//! The plan of a validated runbook: a topological order, the waves of steps that can run
//! together, the critical path and the predicted duration, from the actions' planning
//! estimates (a step's timeout is its limit, not its expected duration).

use std::collections::HashMap;

use super::graph::Graph;
use super::model::Runbook;

/// How a runbook would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// A topological order: every step after all of its `after` steps (the waves, flattened).
    pub order: Vec<String>,
    /// Steps whose dependencies are all in earlier waves; each wave in file order.
    pub waves: Vec<Vec<String>>,
    /// The chain of dependent steps with the longest total estimate, first to last.
    pub critical_path: Vec<String>,
    /// Total estimate along the critical path, in seconds.
    pub predicted_secs: u64,
}

/// Plans a runbook. Never fails: `after` entries naming unknown steps are ignored and steps
/// on a cycle form a last wave (neither happens to a runbook from `load_runbook`).
pub fn plan(runbook: &Runbook) -> Plan {
    let steps = &runbook.steps;
    let index: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let deps: Vec<Vec<usize>> = steps
        .iter()
        .map(|s| {
            s.after
                .iter()
                .filter_map(|a| index.get(a.as_str()).copied())
                .collect()
        })
        .collect();
    let graph = Graph::new(deps);
    let waves = graph.waves();

    // Longest path by estimate, in wave order (a topological order).
    let n = steps.len();
    let mut finish = vec![0u64; n];
    let mut previous: Vec<Option<usize>> = vec![None; n];
    for &v in waves.iter().flatten() {
        let mut start = 0;
        for &d in &graph.deps[v] {
            if finish[d] > start || (finish[d] == start && previous[v].is_none()) {
                start = finish[d];
                previous[v] = Some(d);
            }
        }
        finish[v] = start.saturating_add(steps[v].action.estimate_secs);
    }
    let mut critical_path = Vec::new();
    let end = (0..n).max_by_key(|&v| (finish[v], std::cmp::Reverse(v)));
    let mut at = end;
    while let Some(v) = at {
        critical_path.push(steps[v].id.clone());
        at = previous[v];
        if critical_path.len() > n {
            break; // only a cyclic, unchecked graph could get here
        }
    }
    critical_path.reverse();
    let name = |v: &usize| steps[*v].id.clone();
    Plan {
        order: waves.iter().flatten().map(name).collect(),
        waves: waves.iter().map(|w| w.iter().map(name).collect()).collect(),
        critical_path,
        predicted_secs: end.map_or(0, |v| finish[v]),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::runbook::load_runbook_str;

    #[test]
    fn critical_path_follows_the_longest_estimates() {
        let text = r#"
name = "t"
[regions]
primary = "us-east-1"
[[steps]]
id = "restore"
action = "backup.restore_efs"
region = "primary"
with = { vault = "v", source_file_system = "fs-1" }
[[steps]]
id = "gate"
action = "approve"
[[steps]]
id = "scale"
action = "ecs.scale"
region = "primary"
after = ["restore", "gate"]
with = { cluster = "c", services = { a = 1 } }
[[steps]]
id = "probe"
action = "http.probe"
after = ["scale"]
with = { url = "http://x" }
"#;
        let runbook = load_runbook_str("t.toml", text, &BTreeMap::new()).unwrap();
        let plan = plan(&runbook);
        assert_eq!(
            plan.waves,
            vec![vec!["restore", "gate"], vec!["scale"], vec!["probe"]]
        );
        assert_eq!(plan.critical_path, vec!["restore", "scale", "probe"]);
        assert_eq!(plan.predicted_secs, 900 + 300 + 30);
        assert_eq!(plan.order, vec!["restore", "gate", "scale", "probe"]);
    }
}
