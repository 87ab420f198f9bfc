//! Property tests over random dependency graphs: acyclic graphs validate and plan in an order
//! that respects every edge, with waves and a critical path that agree with the graph; one
//! back edge makes a cycle error whose printed path is a real cycle of the graph.

use std::collections::{BTreeMap, HashMap};

use drctl::runbook::{Code, load_runbook_str, plan};
use proptest::prelude::*;

/// A random DAG: `deps[i]` ⊆ 0..i, an action per step, and a file order (a permutation).
#[derive(Debug, Clone)]
struct Dag {
    deps: Vec<Vec<usize>>,
    actions: Vec<usize>,
    file_order: Vec<usize>,
}

const ACTIONS: [(&str, &str, u64); 3] = [
    ("approve", "", 60),
    (
        "http.probe",
        "[steps.with]\nurl = \"http://127.0.0.1/health\"\n",
        30,
    ),
    (
        "ecs.scale",
        "region = \"primary\"\n[steps.with]\ncluster = \"c\"\nservices = { web = 1 }\n",
        300,
    ),
];

fn dag() -> impl Strategy<Value = Dag> {
    (1usize..40).prop_flat_map(|n| {
        let deps = (0..n)
            .map(|i| {
                proptest::collection::vec(0..i.max(1), 0..=i.min(4)).prop_map(move |d| {
                    let mut d: Vec<usize> = d.into_iter().filter(|&x| x < i).collect();
                    d.sort_unstable();
                    d.dedup();
                    d
                })
            })
            .collect::<Vec<_>>();
        let actions = proptest::collection::vec(0..ACTIONS.len(), n);
        let order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        (deps, actions, order).prop_map(|(deps, actions, file_order)| Dag {
            deps,
            actions,
            file_order,
        })
    })
}

fn id(i: usize) -> String {
    format!("s{i}")
}

fn render(dag: &Dag, extra_edge: Option<(usize, usize)>) -> String {
    let mut text = String::from("name = \"prop\"\n[regions]\nprimary = \"us-east-1\"\n");
    for &i in &dag.file_order {
        let mut deps: Vec<String> = dag.deps[i]
            .iter()
            .map(|&d| format!("\"{}\"", id(d)))
            .collect();
        if let Some((from, to)) = extra_edge
            && from == i
        {
            deps.push(format!("\"{}\"", id(to)));
        }
        let (action, with, _) = ACTIONS[dag.actions[i]];
        text.push_str(&format!(
            "\n[[steps]]\nid = \"{}\"\naction = \"{action}\"\nafter = [{}]\n{with}",
            id(i),
            deps.join(", ")
        ));
    }
    text
}

fn ancestors(deps: &[Vec<usize>], of: usize) -> Vec<usize> {
    let mut seen = vec![false; deps.len()];
    let mut stack = vec![of];
    while let Some(v) = stack.pop() {
        for &d in &deps[v] {
            if !seen[d] {
                seen[d] = true;
                stack.push(d);
            }
        }
    }
    (0..deps.len()).filter(|&v| seen[v]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn acyclic_graphs_validate_and_plan_in_dependency_order(dag in dag()) {
        let text = render(&dag, None);
        let runbook = load_runbook_str("prop.toml", &text, &BTreeMap::new())
            .map_err(|d| TestCaseError::fail(d.render(false)))?;
        let plan = plan(&runbook);
        let n = dag.deps.len();

        // The order names every step once and puts each after all its dependencies.
        prop_assert_eq!(plan.order.len(), n);
        let position: HashMap<&str, usize> = plan.order.iter().enumerate().map(|(p, s)| (s.as_str(), p)).collect();
        prop_assert_eq!(position.len(), n);
        for (i, deps) in dag.deps.iter().enumerate() {
            for &d in deps {
                prop_assert!(position[id(d).as_str()] < position[id(i).as_str()], "{} before {}", id(d), id(i));
            }
        }

        // Waves: every dependency in an earlier wave, and a step in wave k > 1 has one in wave k-1.
        let wave: HashMap<&str, usize> = plan.waves.iter().enumerate()
            .flat_map(|(w, steps)| steps.iter().map(move |s| (s.as_str(), w))).collect();
        prop_assert_eq!(wave.len(), n);
        for (i, deps) in dag.deps.iter().enumerate() {
            let w = wave[id(i).as_str()];
            for &d in deps {
                prop_assert!(wave[id(d).as_str()] < w);
            }
            if w > 0 {
                prop_assert!(deps.iter().any(|&d| wave[id(d).as_str()] == w - 1));
            }
        }

        // Critical path: a chain of real edges whose estimates sum to the prediction, which is
        // the longest such sum in the graph.
        let estimate = |s: &str| ACTIONS[dag.actions[s[1..].parse::<usize>().unwrap()]].2;
        for pair in plan.critical_path.windows(2) {
            let (a, b) = (pair[0][1..].parse::<usize>().unwrap(), pair[1][1..].parse::<usize>().unwrap());
            prop_assert!(dag.deps[b].contains(&a), "{} -> {} is not an edge", pair[0], pair[1]);
        }
        let along: u64 = plan.critical_path.iter().map(|s| estimate(s)).sum();
        prop_assert_eq!(along, plan.predicted_secs);
        let mut finish = vec![0u64; n];
        for i in 0..n {
            let start = dag.deps[i].iter().map(|&d| finish[d]).max().unwrap_or(0);
            finish[i] = start + ACTIONS[dag.actions[i]].2;
        }
        prop_assert_eq!(plan.predicted_secs, finish.iter().copied().max().unwrap_or(0));
    }

    #[test]
    fn a_back_edge_is_reported_as_a_real_cycle(dag in dag(), pick in any::<proptest::sample::Index>(), pick2 in any::<proptest::sample::Index>()) {
        // A step with at least one ancestor; make one of its ancestors run after it.
        let candidates: Vec<usize> = (0..dag.deps.len()).filter(|&i| !dag.deps[i].is_empty()).collect();
        prop_assume!(!candidates.is_empty());
        let late = candidates[pick.index(candidates.len())];
        let ancestors = ancestors(&dag.deps, late);
        let early = ancestors[pick2.index(ancestors.len())];
        let text = render(&dag, Some((early, late)));
        let diagnostics = load_runbook_str("prop.toml", &text, &BTreeMap::new()).unwrap_err();
        prop_assert!(!diagnostics.is_empty());
        prop_assert!(diagnostics.iter().all(|d| d.code == Code::DependencyCycle), "{}", diagnostics.render(false));

        let mut deps = dag.deps.clone();
        deps[early].push(late);
        for d in diagnostics.iter() {
            let path = d.message.strip_prefix("dependency cycle: ").unwrap();
            let names: Vec<usize> = path.split(" -> ").map(|s| s[1..].parse().unwrap()).collect();
            prop_assert!(names.len() >= 3);
            prop_assert_eq!(names.first(), names.last());
            for pair in names.windows(2) {
                prop_assert!(deps[pair[0]].contains(&pair[1]), "{} does not run after {} in {}", pair[0], pair[1], path);
            }
            // Each step appears once on the cycle (apart from the closing repeat).
            let mut inner = names[..names.len() - 1].to_vec();
            inner.sort_unstable();
            inner.dedup();
            prop_assert_eq!(inner.len(), names.len() - 1);
        }
    }
}
