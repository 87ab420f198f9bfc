//! Reading runs back from the state store for `status`, `runs`, `report` and `cleanup`.

use anyhow::{Context, bail};

use crate::engine::{RunState, read_entries};
use crate::report::Report;
use crate::runner::{exec_plan, runbook_of};
use crate::store::LocalStore;

/// The replayed state of a run.
pub(crate) fn load_state(store: &LocalStore, run_id: &str) -> anyhow::Result<RunState> {
    let path = store.journal_path(run_id);
    if !path.is_file() {
        bail!(
            "there is no run `{run_id}` in {} (see `drctl runs`)",
            store.root().display()
        );
    }
    let (entries, _) = read_entries(&path)?;
    RunState::replay(&entries)
        .with_context(|| format!("journal {} has no run header", path.display()))
}

/// The newest run id, if any.
pub(crate) fn latest(store: &LocalStore) -> anyhow::Result<Option<String>> {
    Ok(store.run_ids()?.pop())
}

/// A run's report: the one kept when it finished, else rebuilt from its journal and runbook.
pub(crate) fn load_report(store: &LocalStore, run_id: &str) -> anyhow::Result<Report> {
    let kept = store.run_dir(run_id).join("report.json");
    if let Ok(text) = std::fs::read_to_string(&kept)
        && let Ok(report) = serde_json::from_str::<Report>(&text)
    {
        return Ok(report);
    }
    let state = load_state(store, run_id)?;
    let header = &state.header;
    let runbook = runbook_of(header).map_err(|d| {
        anyhow::anyhow!(
            "cannot load the runbook of run {run_id}:\n{}",
            d.render(false)
        )
    })?;
    Ok(Report::build(&state, &exec_plan(&runbook)))
}
