//! The scheduler: the dispatcher of a run and the only writer of its state. It starts a
//! step as soon as every step it comes `after` has succeeded, runs independent steps
//! concurrently (bounded by `max_parallel`), stops new work on the first failure or the
//! first interrupt, and aborts on the second. Step tasks (`executor`) and the undo
//! (`undo`) report every attempt, retry, note and progress message back to it; it journals
//! each transition (durable before the step goes on) and then announces it as an event.
//! The few records of a run's life outside its execution (its header, a resume, being left
//! for a later process) are written here too ([`lifecycle`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::events::{EventSink, RunEvent};
use super::executor::{Message, Reporter, TaskResult, failure, run_step};
use super::journal::{JournalError, Record, RunHeader, RunStatus, SharedJournal};
use super::plan::{ExecPlan, Interrupts, RunOptions};
use super::state::{RunState, StepStatus};
use super::template::Outputs;
use super::undo::undo_all;
use crate::actions::{
    ActionError, Approvals, BoxFuture, StepContext, StepEvent, StepJournal, StepOutcome,
};
use crate::aws::AwsClients;
use crate::measure::Clock;

/// Runs plans: the AWS clients, the clock and where events go.
#[derive(Clone)]
pub struct Engine {
    pub aws: AwsClients,
    pub clock: Clock,
    pub sink: EventSink,
}

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

/// The one writer of a run's journal: each record is durable when [`Recorder::append`]
/// returns, and its event goes out after it.
struct Recorder {
    journal: SharedJournal,
    clock: Clock,
    sink: EventSink,
}

impl Recorder {
    fn append(&self, record: Record) -> Result<(), JournalError> {
        let mut journal = self.journal.lock().map_err(|_| JournalError::Closed)?;
        journal.append(self.clock.now(), record).map(|_| ())
    }

    fn emit(&self, event: RunEvent) {
        (self.sink)(event)
    }

    /// Journal and announce what a step task or the undo reported.
    fn handle(&self, message: Message) {
        let at = self.clock.now();
        match message {
            Message::AttemptStarted {
                step,
                action,
                attempt,
                journalled,
            } => {
                let result = self.append(Record::StepStarted {
                    step: step.clone(),
                    attempt,
                });
                if result.is_ok() {
                    self.emit(RunEvent::StepStarted {
                        step,
                        action: action.to_string(),
                        attempt,
                        at,
                    });
                }
                let _ = journalled.send(result);
            }
            Message::Retrying {
                step,
                attempt,
                failure,
                delay,
            } => {
                let error = failure.message.clone();
                let _ = self.append(Record::StepFailed {
                    step: step.clone(),
                    attempt,
                    failure,
                    will_retry: true,
                });
                self.emit(RunEvent::StepRetrying {
                    step,
                    attempt,
                    error,
                    delay_ms: delay.as_millis() as u64,
                    at,
                });
            }
            Message::Note {
                step,
                note,
                journalled,
            } => {
                let _ = journalled.send(self.append(Record::StepNote { step, note }));
            }
            Message::Progress { step, message } => {
                self.emit(RunEvent::StepProgress { step, message, at })
            }
            Message::UndoStarted { step, journalled } => {
                let result = self.append(Record::UndoStarted { step: step.clone() });
                self.emit(RunEvent::UndoStarted { step, at });
                let _ = journalled.send(result);
            }
            Message::UndoFinished { step, failure } => {
                let error = failure.as_ref().map(|f| f.message.clone());
                let _ = self.append(match failure {
                    None => Record::UndoSucceeded { step: step.clone() },
                    Some(failure) => Record::UndoFailed {
                        step: step.clone(),
                        failure,
                    },
                });
                self.emit(RunEvent::UndoFinished { step, error, at });
            }
        }
    }

    /// Handle everything already reported (after the tasks stopped).
    fn drain(&self, messages: &mut mpsc::UnboundedReceiver<Message>) {
        while let Ok(message) = messages.try_recv() {
            self.handle(message);
        }
    }

    /// A step's final result: journal it, announce it, and keep the state.
    fn finish_step(
        &self,
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
                let _ = self.append(Record::StepSucceeded {
                    step: step.to_string(),
                    outcome: Box::new(outcome),
                });
                self.emit(RunEvent::StepSucceeded {
                    step: step.to_string(),
                    simulated,
                    at: now,
                });
            }
            Err(err) => {
                status.insert(step.to_string(), StepStatus::Failed);
                let f = failure(&err);
                let _ = self.append(Record::StepFailed {
                    step: step.to_string(),
                    attempt,
                    failure: f.clone(),
                    will_retry: false,
                });
                self.emit(RunEvent::StepFailed {
                    step: step.to_string(),
                    error: format!("step `{step}`: {}", f.message),
                    code: f.code,
                    class: f.class,
                    at: now,
                });
            }
        }
    }
}

/// The records of a run's life outside its execution: the same hand writes them, so every
/// journal record comes from this module.
pub mod lifecycle {
    use chrono::{DateTime, Utc};

    use crate::engine::journal::{Entry, JournalError, JournalSink, Record, RunHeader};

    /// A new run's first record, its header. Returns the entry (to replay from).
    pub fn started(
        journal: &mut dyn JournalSink,
        at: DateTime<Utc>,
        header: &RunHeader,
    ) -> Result<Entry, JournalError> {
        journal.append(
            at,
            Record::RunStarted {
                header: Box::new(header.clone()),
            },
        )
    }

    /// A run is continued by process `pid` on `host` (`drctl resume`, a Lambda invocation).
    pub fn resumed(
        journal: &mut dyn JournalSink,
        at: DateTime<Utc>,
        pid: u32,
        host: String,
    ) -> Result<(), JournalError> {
        journal
            .append(at, Record::RunResumed { pid, host })
            .map(|_| ())
    }

    /// A run stopped by an interrupt is left, for `reason`, to be continued by another
    /// process (the next Lambda invocation).
    pub fn left(
        journal: &mut dyn JournalSink,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), JournalError> {
        journal
            .append(
                at,
                Record::RunInterrupted {
                    reason: reason.into(),
                },
            )
            .map(|_| ())
    }
}

/// A journal for contexts whose notes nobody keeps (dry runs, cleanup's own work).
struct NoJournal;

impl StepJournal for NoJournal {
    fn note<'a>(&'a self, _step: &'a str, _note: &'a Value) -> BoxFuture<'a, std::io::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// What every step context of one execution shares.
struct Scope<'a> {
    header: &'a RunHeader,
    plan: &'a ExecPlan,
    journal: Arc<dyn StepJournal>,
    progress: Arc<dyn Fn(StepEvent) + Send + Sync>,
    interrupted: watch::Receiver<bool>,
    approvals: &'a Approvals,
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
            progress: scope.progress.clone(),
            interrupted: scope.interrupted.clone(),
            approvals: scope.approvals.clone(),
            step_outputs,
        }
    }

    /// Progress straight to the sink, for contexts outside a run's execution.
    fn direct_progress(&self) -> Arc<dyn Fn(StepEvent) + Send + Sync> {
        let (sink, clock) = (self.sink.clone(), self.clock);
        Arc::new(move |e: StepEvent| {
            sink(RunEvent::StepProgress {
                step: e.step,
                message: e.message,
                at: clock.now(),
            })
        })
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
            progress: self.direct_progress(),
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
            progress: self.direct_progress(),
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

    fn recorder(&self, journal: SharedJournal) -> Recorder {
        Recorder {
            journal,
            clock: self.clock,
            sink: self.sink.clone(),
        }
    }

    /// Execute (or continue) a run. `state` is the replayed journal (for a fresh run, just
    /// the header). Returns how the run ended.
    pub async fn execute(
        &self,
        plan: &ExecPlan,
        journal: SharedJournal,
        state: RunState,
        opts: &RunOptions,
        mut interrupts: Interrupts,
    ) -> RunStatus {
        let recorder = self.recorder(journal);
        let (reporter, mut messages) = Reporter::new();
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
                let _ = recorder.append(Record::StepSkipped {
                    step: step.id.clone(),
                    reason: reason.into(),
                });
                recorder.emit(RunEvent::StepSkipped {
                    step: step.id.clone(),
                    reason: reason.into(),
                    at: self.clock.now(),
                });
            }
        }

        let scope = Scope {
            header: &header,
            plan,
            journal: Arc::new(reporter.clone()),
            progress: reporter.progress(),
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
                            recorder.finish_step(&step.id, 1, Err(err), &mut status, &mut outputs);
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
                    tasks.spawn(run_step(step.clone(), ctx, reporter.clone(), first_attempt));
                }
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                // What tasks report comes first: a task's messages are all sent before it
                // ends, so they are journalled before its result is.
                biased;
                Some(message) = messages.recv() => recorder.handle(message),
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
                    recorder.finish_step(&step, attempt, result, &mut status, &mut outputs);
                    if !ok {
                        failed = true;
                        if stopping.is_none() {
                            let reason = format!("step `{step}` failed; letting running steps finish");
                            recorder.emit(RunEvent::Stopping { reason: reason.clone(), at: self.clock.now() });
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
                        // Second interrupt: abort now. The journal already holds every
                        // started step; resume reconciles them with AWS.
                        tasks.abort_all();
                        aborted = true;
                        let _ = recorder.append(Record::RunInterrupted { reason: "aborted by a second interrupt".into() });
                        recorder.emit(RunEvent::Stopping { reason: "aborting now (second interrupt)".into(), at: self.clock.now() });
                        while tasks.join_next().await.is_some() {}
                        break;
                    }
                    let _ = stop_tx.send(true);
                    let _ = recorder.append(Record::RunInterrupted { reason: "interrupted; running steps stop at their next safe point".into() });
                    recorder.emit(RunEvent::Stopping {
                        reason: "interrupted: no new steps; running steps stop at their next safe point (interrupt again to abort)".into(),
                        at: self.clock.now(),
                    });
                    stopping = Some("interrupted".into());
                }
            }
        }
        // Whatever the tasks reported last (before an abort) is journalled too.
        recorder.drain(&mut messages);
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
        let _ = recorder.append(Record::RunFinished {
            status: final_status,
        });
        recorder.emit(RunEvent::RunFinished {
            run_id: header.run_id.clone(),
            status: final_status,
            at: self.clock.now(),
        });
        final_status
    }

    /// Undo, in reverse order of success, every step of a drill that left undo data and is
    /// not undone yet (`undo::undo_all` drives it; this journals what it reports). Best
    /// effort: a failed undo is journalled and the rest still run. Returns the steps whose
    /// undo failed.
    pub async fn undo(
        &self,
        plan: &ExecPlan,
        journal: SharedJournal,
        state: &RunState,
        opts: &RunOptions,
    ) -> Vec<(String, String)> {
        let recorder = self.recorder(journal);
        let (reporter, mut messages) = Reporter::new();
        let (_tx, rx) = watch::channel(false);
        let scope = Scope {
            header: &state.header,
            plan,
            journal: Arc::new(reporter.clone()),
            progress: reporter.progress(),
            interrupted: rx,
            approvals: &opts.approvals,
        };
        // An undo's context has the step's parameters as the runbook wrote them: the undo
        // works from its undo record, not from outputs.
        let undo = undo_all(plan, state, &reporter, |step, notes| {
            self.context(
                &scope,
                (&step.id, step.region.clone()),
                step.params.unresolved(),
                notes,
                BTreeMap::new(),
            )
        });
        tokio::pin!(undo);
        let failures = loop {
            tokio::select! {
                biased;
                Some(message) = messages.recv() => recorder.handle(message),
                failures = &mut undo => break failures,
            }
        };
        recorder.drain(&mut messages);
        failures
    }
}
