//! The state stores: the local directory (the default) and the shared DynamoDB table
//! (`--state dynamodb://TABLE?region=REGION`, created by `drctl state init` in the sandbox).
//! The same tests run against both: the store's contract (journal, run index, lock, history,
//! reports, cleanup records), threads and processes racing for the lock (exactly one wins),
//! and runs written by one process and read by others (`runs`, `status`, `history`,
//! `report`). For DynamoDB, a holder killed mid-run keeps the lock until its lease expires
//! and loses it then: only a resume of that run takes it over.

mod cli_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::Utc;
use cli_support::*;
use drctl::aws::AwsSettings;
use drctl::engine::{Record, RunHeader, RunStatus};
use drctl::report::HistoryEntry;
use drctl::store::{DynamoStore, LocalStore, Store};
use serde_json::{Value, json};

const TABLE: &str = "drctl-state-test";

fn state_url() -> String {
    format!("dynamodb://{TABLE}?region={}", common::RECOVERY)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Local,
    Dynamo,
}

/// One store under test, and how to point `drctl` at it.
struct Backend {
    kind: Kind,
    _dir: tempfile::TempDir,
    dir: PathBuf,
    store: Arc<dyn Store>,
}

impl Backend {
    /// A fresh store. The DynamoDB table is created by `drctl state init` (the sandbox
    /// must have been reset by the caller's guard).
    fn new(kind: Kind) -> Self {
        let (dir_guard, dir) = state_dir();
        let store: Arc<dyn Store> = match kind {
            Kind::Local => Arc::new(LocalStore::new(&dir)),
            Kind::Dynamo => {
                let (code, _, err) =
                    run(drctl(&dir).args(["--state", &state_url(), "state", "init"]));
                assert_eq!(code, 0, "state init: {err}");
                assert!(err.contains("created"), "{err}");
                common::set_sandbox_credentials();
                Arc::new(
                    DynamoStore::connect(
                        AwsSettings {
                            endpoint_url: Some(common::endpoint()),
                            region: Some(common::RECOVERY.into()),
                            ..AwsSettings::default()
                        },
                        TABLE,
                        common::RECOVERY,
                    )
                    .expect("connect"),
                )
            }
        };
        Backend {
            kind,
            _dir: dir_guard,
            dir,
            store,
        }
    }

    /// `drctl` aimed at the sandbox and this store.
    fn drctl(&self) -> Command {
        let mut cmd = drctl(&self.dir);
        if self.kind == Kind::Dynamo {
            cmd.arg("--state").arg(state_url());
        }
        cmd
    }

    fn expect(&self, args: &[&str], code: i32) -> (String, String) {
        let (got, stdout, stderr) = run(self.drctl().args(args));
        assert_eq!(
            got, code,
            "{:?}: exit code of drctl {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            self.kind
        );
        (stdout, stderr)
    }
}

fn header(run_id: &str) -> RunHeader {
    RunHeader {
        run_id: run_id.into(),
        command: "drill".into(),
        runbook_name: "rb".into(),
        runbook_path: "/nowhere/rb.toml".into(),
        runbook_sha256: "0".repeat(64),
        drill_path: None,
        drill_name: Some("monthly".into()),
        mode: drctl::actions::Mode::DrillIsolated,
        t0: Utc::now(),
        rto_target_secs: Some(60),
        rpo_target_secs: None,
        var_overrides: Default::default(),
        only: vec![],
        skip: vec![],
        max_parallel: 4,
        host: "h".into(),
        pid: 1,
    }
}

/// What every store must do, checked through the `Store` interface alone.
fn contract(store: &dyn Store) {
    assert_eq!(store.run_ids().unwrap(), Vec::<String>::new());
    assert!(
        store
            .read_journal("20260101T000000Z-none")
            .unwrap()
            .is_none()
    );

    // Journal: create, append, read back in order; a second create of the same run fails.
    let run_a = "20260101T000000Z-aaaa";
    let run_b = "20260101T000001Z-bbbb";
    let mut journal = store.create_journal(run_a).unwrap();
    let now = Utc::now();
    journal
        .append(
            now,
            Record::RunStarted {
                header: Box::new(header(run_a)),
            },
        )
        .unwrap();
    journal
        .append(
            now,
            Record::StepStarted {
                step: "s1".into(),
                attempt: 1,
            },
        )
        .unwrap();
    assert!(store.create_journal(run_a).is_err(), "run ids are unique");
    drop(journal);
    let (mut reopened, entries) = store.reopen_journal(run_a).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    let entry = reopened
        .append(
            now,
            Record::RunFinished {
                status: RunStatus::Succeeded,
            },
        )
        .unwrap();
    assert_eq!(entry.seq, 3, "a reopened journal continues the sequence");
    assert_eq!(reopened.entries().unwrap().len(), 3);
    let read = store.read_journal(run_a).unwrap().unwrap();
    assert_eq!(read.len(), 3);
    assert!(matches!(read[2].record, Record::RunFinished { .. }));
    store.create_journal(run_b).unwrap();
    assert_eq!(store.run_ids().unwrap(), [run_a, run_b], "oldest first");

    // Lock: one holder; the holder is named; released on drop; a stale lock is taken over
    // only by its own run, and any lock by force.
    let (lock, displaced) = store.acquire_lock("rb", run_a, now, false).unwrap();
    assert!(displaced.is_none());
    assert_eq!(store.lock_holder("rb").unwrap().run_id, run_a);
    let err = store.acquire_lock("rb", run_b, now, false).unwrap_err();
    assert!(
        err.to_string().contains(&format!("locked by run {run_a}")),
        "{err}"
    );
    drop(lock);
    assert!(store.lock_holder("rb").is_none(), "released on drop");
    let (lock, _) = store.acquire_lock("rb", run_b, now, false).unwrap();
    std::mem::forget(lock); // as if its process had died
    let later = now + chrono::Duration::seconds(3600);
    let holder = store.lock_holder("rb").unwrap();
    assert!(
        store.stale_reason(&holder, later).is_some(),
        "the lease expired"
    );
    let err = store.acquire_lock("rb", run_a, later, false).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("stale lock from run {run_b}")),
        "{err}"
    );
    let (lock, displaced) = store.acquire_lock("rb", run_b, later, false).unwrap();
    assert_eq!(
        displaced.unwrap().run_id,
        run_b,
        "its own run takes it over"
    );
    drop(lock);
    let (lock, _) = store.acquire_lock("rb", run_a, now, false).unwrap();
    let (forced, displaced) = store.acquire_lock("rb", run_b, now, true).unwrap();
    assert_eq!(displaced.unwrap().run_id, run_a);
    drop(lock); // the displaced lock's release must not remove the new holder's lock
    assert_eq!(store.lock_holder("rb").unwrap().run_id, run_b);
    drop(forced);

    // History, oldest first.
    for (i, id) in [run_a, run_b].iter().enumerate() {
        store
            .append_history(&HistoryEntry {
                run_id: id.to_string(),
                drill: Some("monthly".into()),
                runbook: "rb".into(),
                finished_at: now + chrono::Duration::seconds(i as i64),
                result: drctl::report::Verdict::Met,
                rto_seconds: Some(10.0 + i as f64),
                rto_target_seconds: Some(60.0),
                rpo_seconds: None,
                rpo_target_seconds: None,
            })
            .unwrap();
    }
    let history = store.read_history().unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| h.run_id.as_str())
            .collect::<Vec<_>>(),
        [run_a, run_b]
    );
    assert_eq!(history[1].rto_seconds, Some(11.0));

    // Cleanup records.
    assert!(store.load_cleanup(run_a).is_none());
    store
        .save_cleanup(run_a, &json!({ "complete": true }))
        .unwrap();
    assert_eq!(store.load_cleanup(run_a).unwrap()["complete"], true);
    assert!(store.load_report(run_a).unwrap().is_none());
}

#[tokio::test]
async fn both_stores_keep_the_same_contract() {
    let _guard = common::SandboxGuard::empty().await;
    for kind in [Kind::Local, Kind::Dynamo] {
        let backend = Backend::new(kind);
        let store = backend.store.clone();
        tokio::task::spawn_blocking(move || contract(&*store))
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
}

#[tokio::test]
async fn threads_racing_for_the_lock_exactly_one_wins() {
    let _guard = common::SandboxGuard::empty().await;
    for kind in [Kind::Local, Kind::Dynamo] {
        let backend = Backend::new(kind);
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = backend.store.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let run = format!("20260101T00000{i}Z-race");
                    // Winners keep the lock until every thread has tried.
                    store.acquire_lock("race", &run, Utc::now(), false).ok()
                })
            })
            .collect();
        let won: Vec<_> = handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect();
        assert_eq!(
            won.len(),
            1,
            "{kind:?}: exactly one of 8 threads holds the lock"
        );
        assert_eq!(
            backend.store.lock_holder("race").unwrap().run_id,
            won[0].0.holder().run_id
        );
    }
}

/// A monthly drill whose restore takes `secs` seconds of sandbox time.
fn monthly(backend: &Backend) -> Command {
    let mut cmd = backend.drctl();
    cmd.args(["drill", "drills/monthly.toml", "--var"])
        .arg(health_var(common::PRIMARY));
    cmd
}

#[tokio::test]
async fn two_processes_racing_for_the_lock_exactly_one_wins() {
    for kind in [Kind::Local, Kind::Dynamo] {
        let _guard = common::SandboxGuard::seeded().await;
        common::set_durations(&json!({ "restore_base": 4.0 }));
        let backend = Backend::new(kind);
        let mut first = monthly(&backend);
        let mut second = monthly(&backend);
        let a = std::thread::spawn(move || run(&mut first));
        let b = std::thread::spawn(move || run(&mut second));
        let results = [a.join().unwrap(), b.join().unwrap()];
        let codes: Vec<i32> = results.iter().map(|r| r.0).collect();
        let winners = codes.iter().filter(|c| **c == 0).count();
        let refused: Vec<_> = results.iter().filter(|r| r.0 == 4).collect();
        assert_eq!(
            (winners, refused.len()),
            (1, 1),
            "{kind:?}: exit codes {codes:?}\n{results:#?}"
        );
        let ids = backend.store.run_ids().unwrap();
        assert_eq!(ids.len(), 1, "{kind:?}: the refused process started no run");
        assert!(
            refused[0].2.contains(&format!("locked by run {}", ids[0])),
            "{kind:?}: {}",
            refused[0].2
        );
        assert_eq!(cli_support::calls("backup", "StartRestoreJob"), 1);
    }
}

#[tokio::test]
async fn a_run_written_by_one_process_is_read_by_others() {
    for kind in [Kind::Local, Kind::Dynamo] {
        let _guard = common::SandboxGuard::seeded().await;
        let backend = Backend::new(kind);
        let (code, _, err) = run(&mut monthly(&backend));
        assert_eq!(code, 0, "{kind:?}: {err}");
        let ids = backend.store.run_ids().unwrap();
        assert_eq!(ids.len(), 1, "{kind:?}");
        let run_id = ids[0].clone();
        let (out, _) = backend.expect(&["report", &run_id, "--output", "json"], 0);
        let report = json_doc(&out);
        assert_eq!(report["result"], "met", "{kind:?}");
        if kind == Kind::Dynamo {
            assert!(
                err.contains(&format!(
                    "report: drctl --state '{}' report {run_id}",
                    state_url()
                )),
                "the report location is the command that renders it: {err}"
            );
            assert!(
                !backend.dir.join("runs").exists(),
                "nothing was written to the local directory"
            );
        } else {
            assert!(err.contains("report.html"), "{err}");
        }

        let (out, _) = backend.expect(&["runs", "--output", "json"], 0);
        let runs = json_doc(&out);
        assert_eq!(runs[0]["run_id"], run_id.as_str(), "{kind:?}");
        assert_eq!(runs[0]["status"], "succeeded");
        if kind == Kind::Dynamo {
            // The same store chosen by a configuration file instead of --state.
            let config = write_file(
                &backend.dir,
                "team.toml",
                &format!("# shared by the team\nstate = \"{}\"\n", state_url()),
            );
            let (code, out, err) = run(drctl(&backend.dir)
                .arg("--config")
                .arg(&config)
                .args(["runs", "--output", "json"]));
            assert_eq!(code, 0, "{err}");
            assert_eq!(
                json_doc(&out),
                runs,
                "the configured store is the same table"
            );
            let bad = write_file(
                &backend.dir,
                "bad.toml",
                "region = \"us-west-2\"\nstate = \"s3://x\"\n",
            );
            let (code, _, err) = run(drctl(&backend.dir).arg("--config").arg(&bad).arg("runs"));
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("bad.toml:2:1: `state`"), "{err}");
        }

        let (out, _) = backend.expect(&["status", &run_id, "--output", "json"], 0);
        let status = json_doc(&out);
        assert_eq!(status["run"]["header"]["t0"], report["t0"], "{kind:?}");
        assert_eq!(status["lock"], Value::Null, "the lock was released");

        let (out, _) = backend.expect(&["history", "--output", "json"], 0);
        let history = json_doc(&out);
        assert_eq!(history.as_array().unwrap().len(), 1, "{kind:?}");
        assert_eq!(history[0]["run_id"], run_id.as_str());
        assert_eq!(history[0]["rto_seconds"], report["rto"]["achieved_seconds"]);

        let (out, _) = backend.expect(&["report", &run_id, "--output", "json"], 0);
        assert_eq!(
            json_doc(&out),
            report,
            "{kind:?}: the kept report reads back whole"
        );
        let (html, _) = backend.expect(&["report", &run_id, "--format", "html", "--history"], 0);
        assert!(html.contains(&run_id), "{kind:?}");
    }
}

/// Wait (bounded, polling) until `cond` holds.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[tokio::test]
async fn a_killed_holder_loses_the_dynamodb_lock_after_its_lease() {
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(&json!({ "restore_base": 20.0 }));
    let backend = Backend::new(Kind::Dynamo);
    let lease = |cmd: &mut Command| {
        cmd.env("DRCTL_LOCK_LEASE_SECS", "8");
    };
    let mut cmd = monthly(&backend);
    lease(&mut cmd);
    let (mut child, events) = spawn_jsonl(&mut cmd);
    wait_event(&events, "restore in flight", |e| {
        e["event"] == "step_started" && e["step"] == "restore-qdrant"
    });
    let run_id = backend.store.run_ids().unwrap().pop().expect("a run");
    child.kill().unwrap();
    let _ = child.wait();
    let store = backend.store.clone();
    let holder = store
        .lock_holder("efs-restore")
        .expect("the dead run still holds the lock");
    assert_eq!(holder.run_id, run_id);

    // Until the lease runs out, the lock is held: a resume elsewhere is refused (process
    // ids say nothing across machines) ...
    if store
        .stale_reason(&holder, Utc::now() + chrono::Duration::seconds(2))
        .is_none()
    {
        let mut resume = backend.drctl();
        lease(&mut resume);
        let (code, _, err) = run(resume.args(["resume", &run_id, "--yes"]));
        if store.stale_reason(&holder, Utc::now()).is_none() {
            assert_eq!(code, 4, "{err}");
            assert!(err.contains(&format!("locked by run {run_id}")), "{err}");
        }
    }
    // ... and once it has, the lock is the dead run's no more: a new run is told to resume
    // it, and the resume takes the lock over and finishes the drill.
    wait_until("the lease to expire", || {
        store.stale_reason(&holder, Utc::now()).is_some()
    });
    let mut fresh = monthly(&backend);
    lease(&mut fresh);
    let (code, _, err) = run(&mut fresh);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!("stale lock from run {run_id}")),
        "{err}"
    );
    assert!(err.contains(&format!("drctl resume {run_id}")), "{err}");

    let mut resume = backend.drctl();
    lease(&mut resume);
    let (code, _, err) = run(resume.args(["resume", &run_id, "--yes", "--output", "json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        cli_support::calls("backup", "StartRestoreJob"),
        1,
        "no second restore"
    );
    assert!(
        store.lock_holder("efs-restore").is_none(),
        "released at the end"
    );
    let history = store.read_history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].run_id, run_id);
    let journal = store.read_journal(&run_id).unwrap().unwrap();
    assert!(
        journal
            .iter()
            .any(|e| matches!(e.record, Record::RunResumed { .. }))
    );
}

#[tokio::test]
async fn state_init_is_idempotent_and_bad_state_urls_are_usage_errors() {
    let _guard = common::SandboxGuard::empty().await;
    let backend = Backend::new(Kind::Dynamo);
    let (_, err) = backend.expect(&["state", "init"], 0);
    assert!(err.contains("already exists"), "{err}");
    let dir: &Path = &backend.dir;
    let (code, _, err) = run(drctl(dir).args(["--state", "dynamodb://x", "runs"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("3 to 255"), "{err}");
    let (code, _, err) = run(drctl(dir).args(["state", "init"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--state dynamodb://"), "{err}");
}

#[tokio::test]
async fn a_deadline_cut_run_is_found_for_continuation_in_both_stores_only_while_recent() {
    let _guard = common::SandboxGuard::empty().await;
    for kind in [Kind::Local, Kind::Dynamo] {
        let backend = Backend::new(kind);
        let store = backend.store.clone();
        tokio::task::spawn_blocking(move || {
            let cut = |run_id: &str| {
                let mut journal = store.create_journal(run_id).unwrap();
                let now = Utc::now();
                journal
                    .append(
                        now,
                        Record::RunStarted {
                            header: Box::new(header(run_id)),
                        },
                    )
                    .unwrap();
                journal
                    .append(
                        now,
                        Record::RunFinished {
                            status: RunStatus::Interrupted,
                        },
                    )
                    .unwrap();
                journal
                    .append(
                        now,
                        Record::RunInterrupted {
                            reason: drctl::runner::CONTINUATION_REASON.into(),
                        },
                    )
                    .unwrap();
            };
            cut("20200101T000000Z-0ld000");
            assert_eq!(
                drctl::runner::continuation_of(&*store, "monthly").unwrap(),
                None,
                "{kind:?}: a run cut years ago is not continued by a schedule"
            );
            let recent = drctl::runner::new_run_id(Utc::now());
            cut(&recent);
            assert_eq!(
                drctl::runner::continuation_of(&*store, "monthly").unwrap(),
                Some(recent),
                "{kind:?}"
            );
            assert_eq!(
                drctl::runner::continuation_of(&*store, "quarterly").unwrap(),
                None
            );
        })
        .await
        .unwrap();
    }
}
