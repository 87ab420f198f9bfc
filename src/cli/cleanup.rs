//! `drctl cleanup RUN_ID` / `drctl cleanup --all-stale`: remove what drill runs left behind
//! (src/runner/cleanup.rs does the work). It deletes only resources carrying the run's id, so
//! it asks no confirmation, except before a live drill's pending failback, which moves
//! production (`--yes`, or a yes at the terminal). It prints what it removed (a list, or one
//! JSON document, on stdout) and the undo progress on stderr. Exit 0 when nothing is left
//! behind, 1 when something could not be removed, 2 for a run that is not a drill run to
//! clean, 4 when the run is still running or its failback was not confirmed.

use std::fmt::Write as _;
use std::io::Write;

use super::args::{CleanupArgs, OutputFormat};
use super::exit::Exit;
use super::frontend::{interactive, prompt, runner_for, runtime};
use super::settings::Settings;
use crate::measure::Clock;
use crate::runner::{CLEANUP_SCHEMA_VERSION, Cleanup, CleanupError, stale_runs};

/// One run's line in the output: what was done, or why nothing could be.
enum Outcome {
    Done(Cleanup),
    Failed { run_id: String, error: CleanupError },
}

impl Outcome {
    fn exit(&self) -> Exit {
        match self {
            Outcome::Done(c) if c.complete => Exit::Success,
            Outcome::Done(_) => Exit::Failure,
            Outcome::Failed { error, .. } => error.class(),
        }
    }
}

/// A cleanup as it is, or `{"run_id", "error"}`.
impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Outcome::Done(c) => c.serialize(s),
            Outcome::Failed { run_id, error } => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("run_id", run_id)?;
                map.serialize_entry("error", &error.to_string())?;
                map.end()
            }
        }
    }
}

/// The JSON document: every run cleaned up (or not), in order.
#[derive(serde::Serialize)]
struct Document<'a> {
    schema_version: u32,
    dry_run: bool,
    runs: &'a [Outcome],
}

/// Runs `drctl cleanup`.
pub fn run(settings: &Settings, args: &CleanupArgs) -> anyhow::Result<Exit> {
    let format = settings.output("cleanup", &[OutputFormat::Human, OutputFormat::Json])?;
    let store = settings.store()?;
    let (runs, stale) = match &args.run_id {
        // A mistyped id is answered before any AWS set-up.
        Some(id) if store.read_journal(id)?.is_none() => {
            let error = CleanupError::NoSuchRun(id.clone(), store.location());
            eprintln!("error: {error}");
            return Ok(Exit::Invalid);
        }
        Some(id) => (vec![id.clone()], None),
        None => {
            let stale = stale_runs(&*store, Clock::system().now())?;
            (
                stale.iter().map(|s| s.run_id.clone()).collect(),
                Some(stale),
            )
        }
    };
    let outcomes = runtime()?.block_on(async {
        if runs.is_empty() {
            return anyhow::Ok(Vec::new());
        }
        let (runner, progress) = runner_for(settings, format, store.clone()).await?;
        let mut outcomes = Vec::new();
        for run_id in runs {
            if let Some(why) = stale
                .iter()
                .flatten()
                .find(|s| s.run_id == run_id)
                .filter(|_| format == OutputFormat::Human && !settings.quiet())
            {
                progress.println(&format!("run {run_id}: {}", why.reason));
            }
            let mut result = runner.cleanup(&run_id, args.dry_run, args.yes).await;
            // A failback moves production: ask a person when there is one.
            if matches!(result, Err(CleanupError::FailbackUnconfirmed(_)))
                && interactive()
                && progress.suspend(|| {
                    prompt(&format!(
                        "run {run_id} is a live drill whose failback is pending. Fail production back now? [y/N] "
                    ))
                    .is_some_and(|a| matches!(a.to_ascii_lowercase().as_str(), "y" | "yes"))
                })
            {
                result = runner.cleanup(&run_id, args.dry_run, true).await;
            }
            outcomes.push(match result {
                Ok(done) => Outcome::Done(done),
                Err(error) => Outcome::Failed { run_id, error },
            });
        }
        progress.finish();
        anyhow::Ok(outcomes)
    })?;

    let mut stdout = std::io::stdout().lock();
    if format == OutputFormat::Json {
        let doc = Document {
            schema_version: CLEANUP_SCHEMA_VERSION,
            dry_run: args.dry_run,
            runs: &outcomes,
        };
        serde_json::to_writer_pretty(&mut stdout, &doc)?;
        writeln!(stdout)?;
    } else if outcomes.is_empty() {
        writeln!(
            stdout,
            "no drill run in {} has anything left to clean up",
            store.location()
        )?;
    } else {
        for outcome in &outcomes {
            write!(stdout, "{}", render(outcome))?;
        }
    }
    for outcome in &outcomes {
        if let Outcome::Failed { error, .. } = outcome {
            eprintln!("error: {error}");
        }
    }
    // The worst outcome decides: failure, then invalid, then refused.
    let exits: Vec<Exit> = outcomes.iter().map(Outcome::exit).collect();
    Ok([Exit::Failure, Exit::Invalid, Exit::Refused]
        .into_iter()
        .find(|e| exits.contains(e))
        .unwrap_or(Exit::Success))
}

fn render(outcome: &Outcome) -> String {
    let mut out = String::new();
    let c = match outcome {
        Outcome::Done(c) => c,
        Outcome::Failed { run_id, error } => {
            let _ = writeln!(out, "run {run_id}: not cleaned up: {error}");
            return out;
        }
    };
    let what = match &c.drill {
        Some(d) => format!("drill `{d}`, runbook `{}`", c.runbook),
        None => format!("runbook `{}`", c.runbook),
    };
    let _ = writeln!(out, "run {} ({what})", c.run_id);
    let (undo, remove) = if c.dry_run {
        ("would undo", "would remove")
    } else {
        ("undone", "removed")
    };
    for u in &c.undone {
        let _ = writeln!(
            out,
            "  {undo:<12} step `{}` ({}){}",
            u.step,
            u.action,
            if u.created.is_empty() {
                String::new()
            } else {
                format!(": {}", u.created.join(", "))
            }
        );
    }
    for r in &c.removed {
        let _ = writeln!(
            out,
            "  {remove:<12} {} {} ({}), {}",
            r.kind, r.id, r.region, r.detail
        );
    }
    for k in &c.kept {
        let _ = writeln!(out, "  {:<12} {} {}: {}", "kept", k.kind, k.id, k.detail);
    }
    for f in &c.failures {
        let _ = writeln!(out, "  {:<12} {f}", "FAILED");
    }
    let count = c.undone.len() + c.removed.len();
    let _ = writeln!(
        out,
        "  {}",
        match (c.dry_run, c.complete, count) {
            (true, _, 0) => "nothing to clean up".to_string(),
            (true, _, n) => format!("dry run: {n} thing(s) would be removed; nothing was changed"),
            (false, true, 0) => "nothing left to clean up".to_string(),
            (false, true, n) => format!("clean: {n} thing(s) removed"),
            (false, false, _) => format!(
                "INCOMPLETE: {} failure(s); run `drctl cleanup {}` again once fixed",
                c.failures.len(),
                c.run_id
            ),
        }
    );
    out
}
