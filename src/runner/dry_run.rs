//! `--dry-run` as a library call: the mutating calls every step would make, in plan order,
//! without any AWS call and without a journal.

use std::collections::BTreeSet;

use chrono::Utc;

use crate::actions::{Approvals, Mode};
use crate::aws::AwsClients;
use crate::engine::{Engine, RunHeader, RunOptions, null_sink};
use crate::measure::Clock;
use crate::runbook::{CompileError, Runbook, compile};
use crate::store::hostname;

/// A header for dry runs (nothing is journalled).
pub fn dry_header(runbook: &Runbook, mode: Mode) -> RunHeader {
    RunHeader {
        run_id: "dry-run".into(),
        command: "dry-run".into(),
        runbook_name: runbook.name.clone(),
        runbook_path: runbook.path.clone(),
        runbook_sha256: String::new(),
        drill_path: None,
        drill_name: None,
        mode,
        t0: Utc::now(),
        rto_target_secs: None,
        rpo_target_secs: None,
        var_overrides: Default::default(),
        only: vec![],
        skip: vec![],
        max_parallel: 1,
        host: hostname(),
        pid: std::process::id(),
    }
}

/// Each selected step with the mutating calls it would make, in plan order. `aws` is only
/// needed to build step contexts: no request is sent.
pub fn dry_run(
    aws: AwsClients,
    runbook: &Runbook,
    mode: Mode,
    selected: Option<BTreeSet<String>>,
) -> Result<Vec<(String, Vec<String>)>, CompileError> {
    let engine = Engine {
        aws,
        clock: Clock::system(),
        sink: null_sink(),
    };
    let plan = compile(runbook)?;
    let opts = RunOptions {
        max_parallel: 1,
        approvals: Approvals {
            pre_approved: Default::default(),
            ask: None,
        },
        selected,
    };
    Ok(engine.dry_run(&dry_header(runbook, mode), &plan, &opts))
}
