//! Reading runs back from the state store for `status`, `runs`, `report` and `cleanup`.

use anyhow::{Context, bail};

use crate::engine::RunState;
use crate::report::Report;
use crate::runbook::compile;
use crate::runner::runbook_of;
use crate::store::Store;

/// The replayed state of a run.
pub(crate) fn load_state(store: &dyn Store, run_id: &str) -> anyhow::Result<RunState> {
    let Some(entries) = store.read_journal(run_id)? else {
        bail!(
            "there is no run `{run_id}` in {} (see `drctl runs`)",
            store.location()
        );
    };
    RunState::replay(&entries).with_context(|| {
        format!(
            "the journal of run {run_id} in {} has no run header",
            store.location()
        )
    })
}

/// The newest run id, if any.
pub(crate) fn latest(store: &dyn Store) -> anyhow::Result<Option<String>> {
    Ok(store.run_ids()?.pop())
}

/// A run's report: the one kept when it finished, else rebuilt from its journal and runbook.
pub(crate) fn load_report(store: &dyn Store, run_id: &str) -> anyhow::Result<Report> {
    if let Ok(Some(report)) = store.load_report(run_id) {
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
    Ok(Report::build(&state, &compile(&runbook)?))
}
