//! The engine's scheduling logic with test actions (no AWS): independent steps overlap,
//! dependent ones wait, a failure stops new work, retries follow the error class, Ctrl-C
//! leaves a resumable run. Order is read from the journal, never from wall-clock timing;
//! tokio's time is paused so sleeps are instant and deterministic.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drctl::actions::spec::{ActionSpec, CATALOGUE};
use drctl::actions::{
    Action, ActionError, Approvals, BoxFuture, Mode, Poll, StepContext, StepOutcome, poll_until,
};
use drctl::aws::{AwsClients, AwsSettings, ErrorClass};
use drctl::engine::{
    Engine, ExecPlan, ExecStep, Record, RetryPolicy, RunHeader, RunOptions, RunState, RunStatus,
    StepParams, StepStatus, null_sink,
};
use drctl::measure::Clock;
use drctl::store::{JournalWriter, read_entries};
use serde_json::{Map, Value, json};

fn spec() -> &'static ActionSpec {
    // The engine only reads the name and IAM list of a spec; any entry will do.
    CATALOGUE[0]
}

/// Waits `ms` of (paused) time, polling so that an interrupt is noticed; notes a token first.
struct Wait;
impl Action for Wait {
    fn undo<'a>(
        &'a self,
        _ctx: &'a StepContext,
        _undo: &'a Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async { Ok(()) })
    }
    fn spec(&self) -> &'static ActionSpec {
        spec()
    }
    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec!["wait".into()]
    }
    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let ms: u64 = ctx.param("ms")?;
            if ctx.prior("token").is_none() {
                ctx.note(json!({ "token": ctx.token("wait") })).await?;
            }
            let start = tokio::time::Instant::now();
            poll_until(ctx, || async {
                if start.elapsed() >= Duration::from_millis(ms) {
                    Ok(Poll::Ready(()))
                } else {
                    Ok(Poll::Pending("waiting".into()))
                }
            })
            .await?;
            let mut out = StepOutcome::default();
            out.outputs
                .insert("resumed".into(), ctx.prior("token").is_some().to_string());
            Ok(out)
        })
    }
}

/// Fails with the class given in `class`.
struct Fail;
impl Action for Fail {
    fn undo<'a>(
        &'a self,
        _ctx: &'a StepContext,
        _undo: &'a Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async { Ok(()) })
    }
    fn spec(&self) -> &'static ActionSpec {
        spec()
    }
    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec![]
    }
    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let class = match ctx.param::<String>("class")?.as_str() {
                "retryable" => ErrorClass::Retryable,
                "in-doubt" => ErrorClass::InDoubt,
                _ => ErrorClass::Fatal,
            };
            Err(ActionError::Failed {
                resource: "test resource".into(),
                message: "boom".into(),
                class,
            })
        })
    }
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails (retryable) until called `succeed_on` times.
struct Flaky;
impl Action for Flaky {
    fn undo<'a>(
        &'a self,
        _ctx: &'a StepContext,
        _undo: &'a Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async { Ok(()) })
    }
    fn spec(&self) -> &'static ActionSpec {
        spec()
    }
    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec![]
    }
    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let n = FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
            if u64::from(n) < ctx.param::<u64>("succeed_on")? {
                return Err(ActionError::Failed {
                    resource: "flaky".into(),
                    message: "throttled".into(),
                    class: ErrorClass::Retryable,
                });
            }
            Ok(StepOutcome::default())
        })
    }
}

static WAIT: Wait = Wait;
static FAIL: Fail = Fail;
static FLAKY: Flaky = Flaky;

fn step(id: &str, action: &'static dyn Action, after: &[&str], params: Value) -> ExecStep {
    ExecStep {
        id: id.into(),
        action,
        region: None,
        after: after.iter().map(|s| s.to_string()).collect(),
        timeout: Duration::from_secs(3600),
        retry: RetryPolicy::exponential(1, Duration::from_secs(1)),
        verify: false,
        drill_skip: false,
        params: StepParams::literal(params.as_object().cloned().unwrap_or_else(Map::new)),
    }
}

fn header(run_id: &str) -> RunHeader {
    RunHeader {
        run_id: run_id.into(),
        command: "failover".into(),
        runbook_name: "test".into(),
        runbook_path: "test.toml".into(),
        runbook_sha256: String::new(),
        drill_path: None,
        drill_name: None,
        mode: Mode::Failover,
        t0: chrono::Utc::now(),
        rto_target_secs: None,
        rpo_target_secs: None,
        var_overrides: BTreeMap::new(),
        only: vec![],
        skip: vec![],
        max_parallel: 4,
        host: "test".into(),
        pid: 1,
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    engine: Engine,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let aws = AwsClients::new(&AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    })
    .await;
    Harness {
        _dir: dir,
        path,
        engine: Engine {
            aws,
            clock: Clock::system(),
            sink: null_sink(),
        },
    }
}

fn opts(max_parallel: usize) -> RunOptions {
    RunOptions {
        max_parallel,
        approvals: Approvals {
            pre_approved: Default::default(),
            ask: None,
        },
        selected: None,
    }
}

/// Start a run and execute it; returns the final status and the journal's records.
async fn run(
    h: &Harness,
    plan: &ExecPlan,
    max_parallel: usize,
    interrupt_after: Option<Duration>,
) -> (RunStatus, Vec<Record>) {
    run_with(h, plan, &opts(max_parallel), interrupt_after).await
}

async fn run_with(
    h: &Harness,
    plan: &ExecPlan,
    options: &RunOptions,
    interrupt_after: Option<Duration>,
) -> (RunStatus, Vec<Record>) {
    let writer = if h.path.exists() {
        JournalWriter::reopen(&h.path).unwrap().0
    } else {
        let mut w = JournalWriter::create(&h.path).unwrap();
        w.append(
            chrono::Utc::now(),
            Record::RunStarted {
                header: Box::new(header("r1")),
            },
        )
        .unwrap();
        w
    };
    let state = RunState::replay(&read_entries(&h.path).unwrap().0).unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    if let Some(after) = interrupt_after {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = tx.send(());
        });
    } else {
        std::mem::forget(tx);
    }
    let status = h
        .engine
        .execute(
            plan,
            Arc::new(Mutex::new(
                Box::new(writer) as Box<dyn drctl::engine::JournalSink>
            )),
            state,
            options,
            rx,
        )
        .await;
    let records = read_entries(&h.path)
        .unwrap()
        .0
        .into_iter()
        .map(|e| e.record)
        .collect();
    (status, records)
}

fn position(records: &[Record], want: impl Fn(&Record) -> bool) -> usize {
    records.iter().position(want).expect("record present")
}

fn started(step: &'static str) -> impl Fn(&Record) -> bool {
    move |r| matches!(r, Record::StepStarted { step: s, .. } if s == step)
}

fn succeeded(step: &'static str) -> impl Fn(&Record) -> bool {
    move |r| matches!(r, Record::StepSucceeded { step: s, .. } if s == step)
}

fn plan(steps: Vec<ExecStep>) -> ExecPlan {
    ExecPlan {
        runbook_name: "test".into(),
        regions: BTreeMap::new(),
        steps,
    }
}

#[tokio::test(start_paused = true)]
async fn independent_steps_overlap_and_dependents_wait_for_all_their_dependencies() {
    let h = harness().await;
    let p = plan(vec![
        step("a", &WAIT, &[], json!({"ms": 1000})),
        step("b", &WAIT, &[], json!({"ms": 3000})),
        step("c", &WAIT, &["a", "b"], json!({"ms": 10})),
    ]);
    let (status, records) = run(&h, &p, 4, None).await;
    assert_eq!(status, RunStatus::Succeeded);
    // b started before a finished: they ran at the same time.
    assert!(position(&records, started("b")) < position(&records, succeeded("a")));
    // c started only after both of its dependencies succeeded.
    let c = position(&records, started("c"));
    assert!(c > position(&records, succeeded("a")));
    assert!(c > position(&records, succeeded("b")));
}

#[tokio::test(start_paused = true)]
async fn a_skipped_step_keeps_its_place_in_the_order() {
    // c waits for b, which is skipped; b waits for a. c must still wait for a (it may use
    // a's outputs), even though the skip of b is known at once.
    let h = harness().await;
    let p = plan(vec![
        step("a", &WAIT, &[], json!({"ms": 3000})),
        step("b", &WAIT, &["a"], json!({"ms": 10})),
        step("c", &WAIT, &["b"], json!({"ms": 10})),
        step("d", &WAIT, &[], json!({"ms": 10})),
    ]);
    let mut options = opts(4);
    options.selected = Some(["a", "c", "d"].iter().map(|s| s.to_string()).collect());
    let (status, records) = run_with(&h, &p, &options, None).await;
    assert_eq!(status, RunStatus::Succeeded);
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::StepSkipped { step, .. } if step == "b"))
    );
    assert!(
        position(&records, started("c")) > position(&records, succeeded("a")),
        "c started before a finished: {records:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn max_parallel_one_runs_steps_one_after_another() {
    let h = harness().await;
    let p = plan(vec![
        step("a", &WAIT, &[], json!({"ms": 1000})),
        step("b", &WAIT, &[], json!({"ms": 1000})),
    ]);
    let (status, records) = run(&h, &p, 1, None).await;
    assert_eq!(status, RunStatus::Succeeded);
    assert!(position(&records, started("b")) > position(&records, succeeded("a")));
}

#[tokio::test(start_paused = true)]
async fn a_failure_stops_new_work_but_lets_running_steps_finish() {
    let h = harness().await;
    let p = plan(vec![
        step("slow", &WAIT, &[], json!({"ms": 5000})),
        step("bad", &FAIL, &[], json!({"class": "fatal"})),
        step("after-bad", &WAIT, &["bad"], json!({"ms": 1})),
        step("after-slow", &WAIT, &["slow"], json!({"ms": 1})),
    ]);
    let (status, records) = run(&h, &p, 4, None).await;
    assert_eq!(status, RunStatus::Failed);
    assert!(
        records.iter().any(succeeded("slow")),
        "the running step was allowed to finish"
    );
    assert!(!records.iter().any(started("after-bad")));
    assert!(
        !records.iter().any(started("after-slow")),
        "no new work after the failure"
    );
    let failed: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::StepFailed {
                step,
                failure,
                will_retry: false,
                ..
            } => Some((step.clone(), failure.message.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        vec![("bad".to_string(), "test resource: boom".to_string())]
    );
}

#[tokio::test(start_paused = true)]
async fn retryable_failures_are_retried_within_the_policy_and_fatal_ones_never() {
    let h = harness().await;
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    let mut flaky = step("flaky", &FLAKY, &[], json!({"succeed_on": 3}));
    flaky.retry.attempts = 3;
    let mut fatal = step("fatal", &FAIL, &["flaky"], json!({"class": "fatal"}));
    fatal.retry.attempts = 5;
    let (status, records) = run(&h, &plan(vec![flaky, fatal]), 4, None).await;
    assert_eq!(status, RunStatus::Failed);
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 3);
    let retries = records
        .iter()
        .filter(
            |r| matches!(r, Record::StepFailed { step, will_retry: true, .. } if step == "flaky"),
        )
        .count();
    assert_eq!(retries, 2);
    assert!(records.iter().any(succeeded("flaky")));
    let fatal_attempts = records.iter().filter(|r| started("fatal")(r)).count();
    assert_eq!(fatal_attempts, 1, "a fatal error is not retried");
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_leaves_a_resumable_run_and_resume_finishes_it_with_the_notes() {
    let h = harness().await;
    let p = plan(vec![
        step("first", &WAIT, &[], json!({"ms": 100})),
        step("long", &WAIT, &["first"], json!({"ms": 60_000})),
        step("last", &WAIT, &["long"], json!({"ms": 100})),
    ]);
    let (status, records) = run(&h, &p, 4, Some(Duration::from_secs(10))).await;
    assert_eq!(status, RunStatus::Interrupted);
    assert!(records.iter().any(succeeded("first")));
    assert!(!records.iter().any(succeeded("long")));
    assert!(!records.iter().any(started("last")));
    let state = RunState::replay(&read_entries(&h.path).unwrap().0).unwrap();
    assert_eq!(
        state.step("long").status,
        StepStatus::Running,
        "in doubt, not failed"
    );

    let (status, records) = run(&h, &p, 4, None).await;
    assert_eq!(status, RunStatus::Succeeded);
    assert_eq!(
        records.iter().filter(|r| started("first")(r)).count(),
        1,
        "succeeded steps are not run again"
    );
    let outcome = records
        .iter()
        .find_map(|r| match r {
            Record::StepSucceeded { step, outcome } if step == "long" => Some(outcome.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        outcome.outputs["resumed"], "true",
        "the resumed step saw its journalled token"
    );
}
