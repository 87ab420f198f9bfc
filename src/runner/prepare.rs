//! What a run needs beyond its compiled plan (`runbook::compile`): the `--only`/`--skip`
//! selection (checked against dependencies), the runbook again from a journal header, run
//! ids and the runbook's checksum.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::engine::RunHeader;
use crate::runbook::{self, Runbook};

/// An `--only`/`--skip` selection that cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("there is no step `{step}` in runbook `{runbook}`; steps are: {}", known.join(", "))]
    NoSuchStep {
        step: String,
        runbook: String,
        known: Vec<String>,
    },
    #[error(
        "step `{step}` uses `${{steps.{needed}.{output}}}`, but `{needed}` would not run; select it too"
    )]
    OutputNeeded {
        step: String,
        needed: String,
        output: String,
    },
}

/// The steps to run under `--only`/`--skip`, or `None` for all. A step left out may only
/// be depended on when nothing selected uses its outputs; otherwise the selection is
/// refused with the reason.
pub fn selection(
    runbook: &Runbook,
    only: &[String],
    skip: &[String],
) -> Result<Option<BTreeSet<String>>, SelectionError> {
    if only.is_empty() && skip.is_empty() {
        return Ok(None);
    }
    for id in only.iter().chain(skip) {
        if runbook.step(id).is_none() {
            return Err(SelectionError::NoSuchStep {
                step: id.clone(),
                runbook: runbook.name.clone(),
                known: runbook.steps.iter().map(|s| s.id.clone()).collect(),
            });
        }
    }
    let mut selected: BTreeSet<String> = if only.is_empty() {
        runbook.steps.iter().map(|s| s.id.clone()).collect()
    } else {
        only.iter().cloned().collect()
    };
    for id in skip {
        selected.remove(id);
    }
    for step in runbook.steps.iter().filter(|s| selected.contains(&s.id)) {
        for reference in step.references() {
            if !selected.contains(&reference.step) {
                return Err(SelectionError::OutputNeeded {
                    step: step.id.clone(),
                    needed: reference.step,
                    output: reference.output,
                });
            }
        }
    }
    Ok(Some(selected))
}

/// The runbook a run was started with, loaded again from the paths its journal header names
/// (through the drill when there was one) with the same `--var` overrides.
pub fn runbook_of(header: &RunHeader) -> Result<Runbook, runbook::Diagnostics> {
    match &header.drill_path {
        Some(drill) => runbook::load_drill(drill, &header.var_overrides).map(|(_, rb)| rb),
        None => runbook::load_runbook(&header.runbook_path, &header.var_overrides),
    }
}

/// A new run id: sortable by start time, unique enough to never collide on one state dir.
pub fn new_run_id(now: DateTime<Utc>) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &random[..6])
}

/// The SHA-256 of a file, to notice a runbook edited between a crash and its resume.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(path)?)))
}

/// `--var` pairs as a map.
pub fn vars_map(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: &str = r#"
name = "t"
[regions]
primary = "us-east-1"
[[steps]]
id = "a"
action = "http.probe"
[steps.with]
url = "http://127.0.0.1:1/"
[[steps]]
id = "b"
action = "exec"
after = ["a"]
[steps.with]
command = ["echo", "${steps.a.status}"]
[[steps]]
id = "c"
action = "exec"
after = ["a"]
[steps.with]
command = ["true"]
"#;

    #[test]
    fn selection_refuses_to_drop_a_step_whose_outputs_are_used() {
        let rb = runbook::load_runbook_str("t.toml", RUNBOOK, &BTreeMap::new()).unwrap();
        assert_eq!(selection(&rb, &[], &[]).unwrap(), None);
        let err = selection(&rb, &[], &["a".into()]).unwrap_err().to_string();
        assert!(err.contains("`b` uses `${steps.a.status}`"), "{err}");
        let sel = selection(&rb, &["c".into()], &[]).unwrap().unwrap();
        assert_eq!(sel.into_iter().collect::<Vec<_>>(), vec!["c"]);
        assert!(
            selection(&rb, &["zz".into()], &[])
                .unwrap_err()
                .to_string()
                .contains("no step `zz`")
        );
    }
}
