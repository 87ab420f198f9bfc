//! The scheduler: starts a step as soon as every step it comes `after` has succeeded, runs
//! independent steps concurrently (bounded by `max_parallel`), retries per step policy,
//! stops new work on the first failure or the first Ctrl-C, and aborts on the second. It is
//! the only writer of run state: step tasks report back to it, and it journals each
//! transition before announcing it as an event.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::events::{EventSink, RunEvent};
use super::journal::{FailureRecord, Record, RunHeader, RunStatus, SharedJournal as JournalHandle};
use super::state::{RunState, StepStatus};
use super::template::{Outputs, StepParams};
use crate::actions::{
    Action, ActionError, Approvals, StepContext, StepEvent, StepJournal, StepOutcome,
};
use crate::aws::{AwsClients, ErrorClass};
use crate::measure::Clock;

/// One step, ready to execute.
#[derive(Clone)]
pub struct ExecStep {
    pub id: String,
    pub action: &'static dyn Action,
    /// AWS region code.
    pub region: Option<String>,
    pub after: Vec<String>,
    pub timeout: Duration,
    pub attempts: u32,
    pub backoff: Duration,
    pub verify: bool,
    pub drill_skip: bool,
    /// Parameters with defaults, compiled: strings may hold other steps' outputs.
    pub params: StepParams,
}

impl std::fmt::Debug for ExecStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecStep")
            .field("id", &self.id)
            .field("action", &self.action.spec().name)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// What the engine executes: the steps in a topological order.
#[derive(Debug, Clone)]
pub struct ExecPlan {
    pub runbook_name: String,
    pub regions: BTreeMap<String, String>,
    pub steps: Vec<ExecStep>,
}

impl ExecPlan {
    pub fn step(&self, id: &str) -> Option<&ExecStep> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// How to run. (The mode is the run's, from its journalled header.)
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub max_parallel: usize,
    pub approvals: Approvals,
    /// Steps to run; the others are skipped (and count as satisfied for their dependents).
    pub selected: Option<BTreeSet<String>>,
}

/// Ctrl-C presses, delivered by the CLI.
pub type Interrupts = mpsc::UnboundedReceiver<()>;

/// Whether a dependency no longer holds its dependents back: it succeeded, or it was
/// skipped and everything it waits for is satisfied in turn. (A skipped step keeps its
/// place in the order: `a -> skipped -> c` still runs `c` after `a`, whose outputs `c` may
/// use.)
fn satisfied(plan: &ExecPlan, status: &BTreeMap<String, StepStatus>, id: &str) -> bool {
    match status.get(id) {
        Some(StepStatus::Succeeded) | None => true,
        Some(StepStatus::Skipped) => plan
            .step(id)
            .is_none_or(|step| step.after.iter().all(|dep| satisfied(plan, status, dep))),
        Some(_) => false,
    }
}

/// The journal, shared by the scheduler and the notes steps write.
#[derive(Clone)]
struct SharedJournal {
    writer: JournalHandle,
    clock: Clock,
}

impl SharedJournal {
    fn append(&self, record: Record) -> std::io::Result<()> {
        let mut w = self
            .writer
            .lock()
            .map_err(|_| std::io::Error::other("journal lock poisoned"))?;
        w.append(self.clock.now(), record)
            .map(|_| ())
            .map_err(std::io::Error::other)
    }
}

impl StepJournal for SharedJournal {
    fn note(&self, step: &str, note: &Value) -> std::io::Result<()> {
        self.append(Record::StepNote {
            step: step.to_string(),
            note: note.clone(),
        })
    }
}

/// What every step context of one execution shares.
struct Scope<'a> {
    header: &'a RunHeader,
    plan: &'a ExecPlan,
    journal: Arc<dyn StepJournal>,
    interrupted: watch::Receiver<bool>,
    approvals: &'a Approvals,
}

/// Runs plans.
#[derive(Clone)]
pub struct Engine {
    pub aws: AwsClients,
    pub clock: Clock,
    pub sink: EventSink,
}

/// What a step task reports back.
struct TaskResult {
    step: String,
    attempt: u32,
    result: Result<StepOutcome, ActionError>,
}

fn failure(err: &ActionError) -> FailureRecord {
    FailureRecord {
        message: err.to_string(),
        class: err.class(),
        code: err.aws_code().map(str::to_owned),
    }
}

impl Engine {
    fn context(
        &self,
        scope: &Scope<'_>,
        (step_id, region): (&str, Option<String>),
        params: Map<String, Value>,
        prior_notes: Vec<Value>,
        step_outputs: Outputs,
    ) -> StepContext {
        let (header, plan) = (scope.header, scope.plan);
        let sink = self.sink.clone();
        let clock = self.clock;
        StepContext {
            run_id: header.run_id.clone(),
            step_id: step_id.to_string(),
            region,
            regions: plan.regions.clone(),
            params,
            mode: header.mode,
            aws: self.aws.clone(),
            clock: self.clock,
            t0: header.t0,
            prior_notes,
            journal: scope.journal.clone(),
            progress: Arc::new(move |e: StepEvent| {
                sink(RunEvent::StepProgress {
                    step: e.step,
                    message: e.message,
                    at: clock.now(),
                })
            }),
            interrupted: scope.interrupted.clone(),
            approvals: scope.approvals.clone(),
            step_outputs,
        }
    }

    /// A context for work done for a run outside its steps (`drctl cleanup` removing what
    /// the run left by tag): no parameters, no notes, nothing journalled; its progress is
    /// reported as the progress of a step called `task`.
    pub fn task_context(&self, header: &RunHeader, plan: &ExecPlan, task: &str) -> StepContext {
        let (_stop, interrupted) = watch::channel(false);
        let approvals = Approvals {
            pre_approved: Default::default(),
            ask: None,
        };
        let scope = Scope {
            header,
            plan,
            journal: Arc::new(NoJournal),
            interrupted,
            approvals: &approvals,
        };
        self.context(
            &scope,
            (task, None),
            Map::new(),
            Vec::new(),
            BTreeMap::new(),
        )
    }

    /// The mutating calls each step would make, for `--dry-run`. Makes no AWS call.
    pub fn dry_run(
        &self,
        header: &RunHeader,
        plan: &ExecPlan,
        opts: &RunOptions,
    ) -> Vec<(String, Vec<String>)> {
        let (_tx, rx) = watch::channel(false);
        let scope = Scope {
            header,
            plan,
            journal: Arc::new(NoJournal),
            interrupted: rx,
            approvals: &opts.approvals,
        };
        plan.steps
            .iter()
            .filter(|s| opts.selected.as_ref().is_none_or(|sel| sel.contains(&s.id)))
            .filter(|s| !(header.mode.is_drill() && s.drill_skip))
            .map(|s| {
                let ctx = self.context(
                    &scope,
                    (&s.id, s.region.clone()),
                    s.params.unresolved(),
                    Vec::new(),
                    BTreeMap::new(),
                );
                (s.id.clone(), s.action.describe(&ctx))
            })
            .collect()
    }

    /// Execute (or continue) a run. `state` is the replayed journal (for a fresh run, just
    /// the header). Returns the final replayed state.
    pub async fn execute(
        &self,
        plan: &ExecPlan,
        writer: JournalHandle,
        state: RunState,
        opts: &RunOptions,
        mut interrupts: Interrupts,
    ) -> RunStatus {
        let journal = SharedJournal {
            writer,
            clock: self.clock,
        };
        let header = state.header.clone();
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut status: BTreeMap<String, StepStatus> = BTreeMap::new();
        let mut outputs: Outputs = BTreeMap::new();
        for step in &plan.steps {
            let s = state.step(&step.id);
            let st = match s.status {
                StepStatus::Succeeded => {
                    if let Some(o) = &s.outcome {
                        outputs.insert(step.id.clone(), o.outputs.clone());
                    }
                    StepStatus::Succeeded
                }
                StepStatus::Skipped => StepStatus::Skipped,
                // Failed, running (in doubt) and pending steps run (again).
                _ => StepStatus::Pending,
            };
            status.insert(step.id.clone(), st);
        }
        // Skips decided by selection or drill settings are journalled once.
        for step in &plan.steps {
            if status[&step.id] != StepStatus::Pending {
                continue;
            }
            let reason = if header.mode.is_drill() && step.drill_skip {
                Some("drill.skip is set for this step")
            } else if opts
                .selected
                .as_ref()
                .is_some_and(|sel| !sel.contains(&step.id))
            {
                Some("not selected (--only/--skip)")
            } else {
                None
            };
            if let Some(reason) = reason {
                status.insert(step.id.clone(), StepStatus::Skipped);
                let _ = journal.append(Record::StepSkipped {
                    step: step.id.clone(),
                    reason: reason.into(),
                });
                (self.sink)(RunEvent::StepSkipped {
                    step: step.id.clone(),
                    reason: reason.into(),
                    at: self.clock.now(),
                });
            }
        }

        let scope = Scope {
            header: &header,
            plan,
            journal: Arc::new(journal.clone()),
            interrupted: stop_rx.clone(),
            approvals: &opts.approvals,
        };
        let mut tasks: JoinSet<TaskResult> = JoinSet::new();
        let mut stopping: Option<String> = None;
        let mut failed = false;
        let mut aborted = false;
        let mut interrupts_open = true;
        let max_parallel = opts.max_parallel.max(1);
        loop {
            if stopping.is_none() {
                // Start every ready step, in plan order, up to the concurrency bound.
                for step in &plan.steps {
                    if tasks.len() >= max_parallel {
                        break;
                    }
                    if status[&step.id] != StepStatus::Pending {
                        continue;
                    }
                    let ready = step.after.iter().all(|dep| satisfied(plan, &status, dep));
                    if !ready {
                        continue;
                    }
                    status.insert(step.id.clone(), StepStatus::Running);
                    let params = match step.params.resolve(&outputs) {
                        Ok(p) => p,
                        Err(missing) => {
                            let err = ActionError::fatal(
                                format!("step {}", step.id),
                                missing.to_string(),
                            );
                            self.finish_step(
                                &journal,
                                &step.id,
                                1,
                                Err(err),
                                &mut status,
                                &mut outputs,
                            );
                            failed = true;
                            stopping = Some(format!("step `{}` failed", step.id));
                            break;
                        }
                    };
                    let prior = state.step(&step.id).notes;
                    let ctx = self.context(
                        &scope,
                        (&step.id, step.region.clone()),
                        params,
                        prior,
                        outputs.clone(),
                    );
                    let first_attempt = state.step(&step.id).attempts + 1;
                    tasks.spawn(run_step(
                        step.clone(),
                        ctx,
                        journal.clone(),
                        self.sink.clone(),
                        self.clock,
                        first_attempt,
                    ));
                }
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                joined = tasks.join_next() => {
                    let Some(joined) = joined else { continue };
                    let TaskResult { step, attempt, result } = match joined {
                        Ok(r) => r,
                        Err(e) if e.is_cancelled() => continue,
                        Err(e) => {
                            // A panic in a step must not take the journal with it.
                            failed = true;
                            stopping.get_or_insert_with(|| format!("a step task crashed: {e}"));
                            continue;
                        }
                    };
                    let ok = result.is_ok();
                    let interrupted = matches!(result, Err(ActionError::Interrupted));
                    if interrupted {
                        // In doubt: the step is left running in the journal; resume continues it.
                        status.insert(step.clone(), StepStatus::Running);
                        continue;
                    }
                    self.finish_step(&journal, &step, attempt, result, &mut status, &mut outputs);
                    if !ok {
                        failed = true;
                        if stopping.is_none() {
                            let reason = format!("step `{step}` failed; letting running steps finish");
                            (self.sink)(RunEvent::Stopping { reason: reason.clone(), at: self.clock.now() });
                            stopping = Some(reason);
                        }
                    }
                }
                pressed = interrupts.recv(), if interrupts_open => {
                    if pressed.is_none() {
                        interrupts_open = false;
                        continue;
                    }
                    if stopping.as_deref() == Some("interrupted") || *stop_rx.borrow() {
                        // Second Ctrl-C: abort now. The journal already holds every
                        // started step; resume reconciles them with AWS.
                        tasks.abort_all();
                        aborted = true;
                        let _ = journal.append(Record::RunInterrupted { reason: "aborted by a second interrupt".into() });
                        (self.sink)(RunEvent::Stopping { reason: "aborting now (second interrupt)".into(), at: self.clock.now() });
                        while tasks.join_next().await.is_some() {}
                        break;
                    }
                    let _ = stop_tx.send(true);
                    let _ = journal.append(Record::RunInterrupted { reason: "interrupted; running steps stop at their next safe point".into() });
                    (self.sink)(RunEvent::Stopping {
                        reason: "interrupted: no new steps; running steps stop at their next safe point (interrupt again to abort)".into(),
                        at: self.clock.now(),
                    });
                    stopping = Some("interrupted".into());
                }
            }
        }
        let all_done = status
            .values()
            .all(|s| matches!(s, StepStatus::Succeeded | StepStatus::Skipped));
        let final_status = if failed {
            RunStatus::Failed
        } else if aborted || stopping.is_some() || !all_done {
            RunStatus::Interrupted
        } else {
            RunStatus::Succeeded
        };
        let _ = journal.append(Record::RunFinished {
            status: final_status,
        });
        (self.sink)(RunEvent::RunFinished {
            run_id: header.run_id.clone(),
            status: final_status,
            at: self.clock.now(),
        });
        final_status
    }

    fn finish_step(
        &self,
        journal: &SharedJournal,
        step: &str,
        attempt: u32,
        result: Result<StepOutcome, ActionError>,
        status: &mut BTreeMap<String, StepStatus>,
        outputs: &mut Outputs,
    ) {
        let now = self.clock.now();
        match result {
            Ok(outcome) => {
                outputs.insert(step.to_string(), outcome.outputs.clone());
                status.insert(step.to_string(), StepStatus::Succeeded);
                let simulated = outcome.simulated.clone();
                let _ = journal.append(Record::StepSucceeded {
                    step: step.to_string(),
                    outcome: Box::new(outcome),
                });
                (self.sink)(RunEvent::StepSucceeded {
                    step: step.to_string(),
                    simulated,
                    at: now,
                });
            }
            Err(err) => {
                status.insert(step.to_string(), StepStatus::Failed);
                let f = failure(&err);
                let _ = journal.append(Record::StepFailed {
                    step: step.to_string(),
                    attempt,
                    failure: f.clone(),
                    will_retry: false,
                });
                (self.sink)(RunEvent::StepFailed {
                    step: step.to_string(),
                    error: format!("step `{step}`: {}", f.message),
                    code: f.code,
                    class: f.class,
                    at: now,
                });
            }
        }
    }

    /// Undo, in reverse order of success, every step of a drill that left undo data and is
    /// not undone yet. Best effort: a failed undo is journalled and the rest still run.
    /// Returns the steps whose undo failed.
    pub async fn undo(
        &self,
        plan: &ExecPlan,
        writer: JournalHandle,
        state: &RunState,
        opts: &RunOptions,
    ) -> Vec<(String, String)> {
        let journal = SharedJournal {
            writer,
            clock: self.clock,
        };
        let (_tx, rx) = watch::channel(false);
        let scope = Scope {
            header: &state.header,
            plan,
            journal: Arc::new(journal.clone()),
            interrupted: rx,
            approvals: &opts.approvals,
        };
        let mut failures = Vec::new();
        // Steps that started but never finished may have created something too: their
        // notes are all we have, so they are undone only through their action's undo data
        // once resumed (or found by tag by `drctl cleanup`). Here: succeeded steps, newest
        // first.
        for id in state.undo_pending() {
            let id = id.to_string();
            let s = state.step(&id);
            let Some(undo) = s.outcome.as_ref().and_then(|o| o.undo.clone()) else {
                continue;
            };
            let Some(step) = plan.step(&id) else { continue };
            let _ = journal.append(Record::UndoStarted { step: id.clone() });
            (self.sink)(RunEvent::UndoStarted {
                step: id.clone(),
                at: self.clock.now(),
            });
            let ctx = self.context(
                &scope,
                (&step.id, step.region.clone()),
                step.params.unresolved(),
                s.notes.clone(),
                BTreeMap::new(),
            );
            let result = tokio::time::timeout(step.timeout, step.action.undo(&ctx, &undo))
                .await
                .unwrap_or_else(|_| {
                    Err(ActionError::Failed {
                        resource: format!("undo of step {id}"),
                        message: format!("timed out after {:?}", step.timeout),
                        class: ErrorClass::InDoubt,
                    })
                });
            match result {
                Ok(()) => {
                    let _ = journal.append(Record::UndoSucceeded { step: id.clone() });
                    (self.sink)(RunEvent::UndoFinished {
                        step: id.clone(),
                        error: None,
                        at: self.clock.now(),
                    });
                }
                Err(err) => {
                    let f = failure(&err);
                    let _ = journal.append(Record::UndoFailed {
                        step: id.clone(),
                        failure: f.clone(),
                    });
                    (self.sink)(RunEvent::UndoFinished {
                        step: id.clone(),
                        error: Some(f.message.clone()),
                        at: self.clock.now(),
                    });
                    failures.push((id.clone(), f.message));
                }
            }
        }
        failures
    }
}

struct NoJournal;

impl StepJournal for NoJournal {
    fn note(&self, _step: &str, _note: &Value) -> std::io::Result<()> {
        Ok(())
    }
}

/// One step, with its retries and timeout. Journals each attempt's start and each retried
/// failure; the final result goes back to the scheduler.
async fn run_step(
    step: ExecStep,
    ctx: StepContext,
    journal: SharedJournal,
    sink: EventSink,
    clock: Clock,
    first_attempt: u32,
) -> TaskResult {
    let attempts = step.attempts.max(1);
    let mut attempt = first_attempt.max(1);
    let mut tries = 0;
    loop {
        tries += 1;
        if let Err(e) = journal.append(Record::StepStarted {
            step: step.id.clone(),
            attempt,
        }) {
            return TaskResult {
                step: step.id.clone(),
                attempt,
                result: Err(ActionError::fatal(
                    format!("journal of run {}", ctx.run_id),
                    format!("cannot write the journal: {e}"),
                )),
            };
        }
        sink(RunEvent::StepStarted {
            step: step.id.clone(),
            action: step.action.spec().name.to_string(),
            attempt,
            at: clock.now(),
        });
        let result = match tokio::time::timeout(step.timeout, step.action.run(&ctx)).await {
            Ok(r) => r,
            Err(_) => Err(ActionError::Failed {
                resource: format!("step {}", step.id),
                message: format!(
                    "timed out after {}s (raise `timeout` in the runbook if this is expected)",
                    step.timeout.as_secs()
                ),
                class: ErrorClass::InDoubt,
            }),
        };
        match result {
            Ok(outcome) => {
                return TaskResult {
                    step: step.id.clone(),
                    attempt,
                    result: Ok(outcome),
                };
            }
            Err(err)
                if tries < attempts
                    && err.class() != ErrorClass::Fatal
                    && !matches!(err, ActionError::Interrupted)
                    && !ctx.is_interrupted() =>
            {
                let delay = step.backoff * 2u32.saturating_pow(tries - 1);
                let _ = journal.append(Record::StepFailed {
                    step: step.id.clone(),
                    attempt,
                    failure: failure(&err),
                    will_retry: true,
                });
                sink(RunEvent::StepRetrying {
                    step: step.id.clone(),
                    attempt,
                    error: err.to_string(),
                    delay_ms: delay.as_millis() as u64,
                    at: clock.now(),
                });
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(err) => {
                return TaskResult {
                    step: step.id.clone(),
                    attempt,
                    result: Err(err),
                };
            }
        }
    }
}
