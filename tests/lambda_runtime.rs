//! The Lambda handler through the Lambda Runtime API: this test serves the API itself (a
//! small HTTP/1.1 server on 127.0.0.1: `invocation/next`, `.../response`, `.../error`,
//! `init/error`), starts the real `drctl` binary bare with `AWS_LAMBDA_RUNTIME_API` pointing
//! at it, queues events and asserts on what drctl posts back: a check, a drill, a drill cut
//! by its deadline and continued by the next invocation (same run, same T0, one restore),
//! malformed events, and a function environment that is not Lambda's.

mod cli_support;
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};

use cli_support::{drctl, drill_file_systems, journal, run};

const FUNCTION_ARN: &str = "arn:aws:lambda:us-west-2:123456789012:function:drctl";
/// Generous bound for one invocation's answer (the drills take seconds on the sandbox).
const ANSWER_WITHIN: Duration = Duration::from_secs(300);

/// One queued invocation.
struct Invocation {
    id: String,
    deadline_ms: u64,
    body: String,
}

/// What drctl posted: `response`, `error` or `init_error`, the request id, and the body.
#[derive(Debug)]
struct Posted {
    kind: &'static str,
    id: String,
    body: Value,
}

/// The Runtime API: events go in through `queue`, posts come out through `posted`.
struct RuntimeApi {
    port: u16,
    queue: mpsc::UnboundedSender<Invocation>,
    posted: mpsc::UnboundedReceiver<Posted>,
    next_id: u32,
}

impl RuntimeApi {
    async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (queue, events) = mpsc::unbounded_channel();
        let (post, posted) = mpsc::unbounded_channel();
        let events = Arc::new(Mutex::new(events));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, events.clone(), post.clone()));
            }
        });
        RuntimeApi {
            port,
            queue,
            posted,
            next_id: 0,
        }
    }

    /// Queue `event` (raw text) with a deadline `deadline_in` from now; returns its id.
    fn queue_raw(&mut self, body: &str, deadline_in: Duration) -> String {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        let deadline = SystemTime::now() + deadline_in;
        self.queue
            .send(Invocation {
                id: id.clone(),
                deadline_ms: deadline.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64,
                body: body.to_string(),
            })
            .unwrap();
        id
    }

    /// The next post drctl makes.
    async fn next_post(&mut self, lambda: &mut Lambda) -> Posted {
        match tokio::time::timeout(ANSWER_WITHIN, self.posted.recv()).await {
            Ok(Some(p)) => p,
            _ => panic!("drctl posted nothing\n{}", lambda.logs()),
        }
    }

    /// Invoke and wait for drctl's post for that invocation.
    async fn invoke(
        &mut self,
        lambda: &mut Lambda,
        event: &Value,
        deadline_in: Duration,
    ) -> Posted {
        let id = self.queue_raw(&event.to_string(), deadline_in);
        let posted = self.next_post(lambda).await;
        assert_eq!(posted.id, id, "{posted:?}");
        posted
    }

    /// Invoke and expect a response (not an error).
    async fn respond(
        &mut self,
        lambda: &mut Lambda,
        event: &Value,
        deadline_in: Duration,
    ) -> Value {
        let posted = self.invoke(lambda, event, deadline_in).await;
        assert_eq!(
            posted.kind,
            "response",
            "{event} got {posted:?}\n{}",
            lambda.logs()
        );
        posted.body
    }
}

/// One connection from drctl's runtime client (HTTP/1.1 keep-alive: requests in turn).
async fn serve(
    stream: TcpStream,
    events: Arc<Mutex<mpsc::UnboundedReceiver<Invocation>>>,
    post: mpsc::UnboundedSender<Posted>,
) {
    let mut stream = BufReader::new(stream);
    loop {
        let Some((method, path, body)) = read_request(&mut stream).await else {
            return;
        };
        let reply = if method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
            let next = events.lock().await.recv().await;
            let Some(inv) = next else { return };
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {}\r\nLambda-Runtime-Deadline-Ms: {}\r\nLambda-Runtime-Invoked-Function-Arn: {FUNCTION_ARN}\r\nLambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\nContent-Length: {}\r\n\r\n{}",
                inv.id,
                inv.deadline_ms,
                inv.body.len(),
                inv.body
            )
        } else if method == "POST" {
            let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let posted = match parts.as_slice() {
                ["2018-06-01", "runtime", "invocation", id, "response"] => Some(("response", *id)),
                ["2018-06-01", "runtime", "invocation", id, "error"] => Some(("error", *id)),
                ["2018-06-01", "runtime", "init", "error"] => Some(("init_error", "")),
                _ => None,
            };
            match posted {
                Some((kind, id)) => {
                    let body = serde_json::from_slice(&body).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(&body).into_owned())
                    });
                    let _ = post.send(Posted {
                        kind,
                        id: id.to_string(),
                        body,
                    });
                    accepted()
                }
                None => not_found(),
            }
        } else {
            not_found()
        };
        if stream.get_mut().write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn accepted() -> String {
    let body = r#"{"status":"OK"}"#;
    format!(
        "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn not_found() -> String {
    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
}

/// One request: method, path and body (Content-Length or chunked).
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        if stream.read_line(&mut header).await.ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        stream.read_exact(&mut body).await.ok()?;
    }
    Some((method, path, body))
}

/// The drctl process serving as the function; killed on drop.
struct Lambda {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Lambda {
    /// What drctl printed so far (shown when an assertion fails).
    fn logs(&self) -> String {
        format!(
            "--- drctl stdout ---\n{}\n--- drctl stderr ---\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A function's files: a copy of the repository's runbooks and drills whose sandbox URLs
/// point at this test binary's sandbox, and a state directory.
struct Function {
    dir: tempfile::TempDir,
}

impl Function {
    fn new() -> Function {
        let dir = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for sub in ["runbooks", "drills"] {
            std::fs::create_dir_all(dir.path().join("task").join(sub)).unwrap();
            for entry in std::fs::read_dir(repo.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path)
                    .unwrap()
                    .replace("http://127.0.0.1:4566", &common::endpoint());
                std::fs::write(
                    dir.path()
                        .join("task")
                        .join(sub)
                        .join(path.file_name().unwrap()),
                    text,
                )
                .unwrap();
            }
        }
        Function { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("task")
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Start drctl as the Lambda runtime would: bare, with the function's environment.
    fn start(&self, api: &RuntimeApi, margin_secs: u64, without: &[&str]) -> Lambda {
        self.start_with(api, margin_secs, without, &[])
    }

    /// [`Function::start`] with more environment (e.g. `DRCTL_STATE`).
    fn start_with(
        &self,
        api: &RuntimeApi,
        margin_secs: u64,
        without: &[&str],
        extra: &[(&str, &str)],
    ) -> Lambda {
        let stdout = self.dir.path().join("stdout.log");
        let stderr = self.dir.path().join("stderr.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_drctl"));
        cmd.current_dir(self.home())
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", "drctl")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("LAMBDA_TASK_ROOT", self.home())
            .env("DRCTL_STATE_DIR", self.state())
            .env("DRCTL_LAMBDA_MARGIN_SECS", margin_secs.to_string())
            .env("AWS_ENDPOINT_URL", common::endpoint())
            .env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", common::SECRET_ACCESS_KEY)
            .env("AWS_REGION", common::RECOVERY)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("DRCTL_HOME")
            .env_remove("DRCTL_NOTIFY_TOPIC")
            .env_remove("DRCTL_EMF")
            .env_remove("DRCTL_LOG")
            .env_remove("DRCTL_STATE")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for name in without {
            cmd.env_remove(name);
        }
        for (name, value) in extra {
            cmd.env(name, value);
        }
        Lambda {
            child: cmd.spawn().expect("drctl starts"),
            stdout,
            stderr,
        }
    }
}

fn far() -> Duration {
    Duration::from_secs(900)
}

fn report_json(html: &Value) -> Value {
    let html = PathBuf::from(html.as_str().expect("a report path"));
    let text = std::fs::read_to_string(html.with_file_name("report.json")).expect("report.json");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_check_event_answers_what_drctl_check_prints() {
    let _guard = common::SandboxGuard::seeded().await;
    let function = Function::new();
    let mut api = RuntimeApi::start().await;
    let mut lambda = function.start(&api, 60, &[]);

    let summary = api
        .respond(&mut lambda, &json!({"command": "check"}), far())
        .await;

    let (code, stdout, stderr) = run(drctl(&function.state())
        .current_dir(function.home())
        .args(["check", "--output", "json"]));
    let cli: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(summary["command"], "check");
    assert_eq!(summary["status"], cli["status"], "{summary:#}");
    assert_eq!(
        summary["status"], "exceeded",
        "hourly backups miss 5 minutes"
    );
    assert_eq!(summary["exit_code"], code);
    let rows = |doc: &Value| -> BTreeSet<String> {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r["drill"], r["step"], r["resource"], r["met"]
                )
            })
            .collect()
    };
    assert_eq!(rows(&summary["check"]), rows(&cli));
    assert!(
        lambda.stderr().contains("\"RPOExposure\""),
        "EMF lines are always printed in Lambda mode\n{}",
        lambda.logs()
    );
}

#[tokio::test]
async fn a_drill_event_runs_the_drill_and_answers_its_verdict_and_report() {
    let _guard = common::SandboxGuard::seeded().await;
    let function = Function::new();
    let mut api = RuntimeApi::start().await;
    let mut lambda = function.start(&api, 60, &[]);

    let summary = api
        .respond(
            &mut lambda,
            &json!({"command": "drill", "drill": "monthly"}),
            far(),
        )
        .await;
    assert_eq!(summary["command"], "drill");
    assert_eq!(summary["status"], "met", "{summary:#}\n{}", lambda.logs());
    assert_eq!(summary["exit_code"], 0);
    assert!(summary["achieved_rto_secs"].as_f64().is_some());
    assert!(summary["achieved_rpo_secs"].as_f64().is_some());
    let report = report_json(&summary["report"]);
    assert_eq!(report["run_id"], summary["run_id"]);
    assert_eq!(report["result"], "met");
    assert_eq!(report["cleanup"]["status"], "clean");
    assert!(drill_file_systems(common::PRIMARY).await.is_empty());
    let emf = lambda.stderr();
    assert!(emf.contains("\"AchievedRTO\""), "{}", lambda.logs());
    assert!(
        !emf.contains(common::SECRET_ACCESS_KEY)
            && !std::fs::read_to_string(&lambda.stdout)
                .unwrap()
                .contains(common::SECRET_ACCESS_KEY),
        "no credential in the logs"
    );
}

#[tokio::test]
async fn a_drill_cut_by_its_deadline_is_continued_by_the_next_invocation_with_the_same_run_and_t0()
{
    let _guard = common::SandboxGuard::seeded().await;
    // The restore takes several seconds; the first invocation's deadline comes before it
    // ends (its interrupt comes a 2 s margin before that deadline).
    common::set_durations(&json!({ "restore_base": 8.0, "restore_per_gib": 0.0 }));
    common::clear_requests();
    let function = Function::new();
    let state = function.state();
    let mut api = RuntimeApi::start().await;
    let mut lambda = function.start(&api, 2, &[]);
    let event = json!({"command": "drill", "drill": "monthly"});

    let first = api
        .respond(&mut lambda, &event, Duration::from_secs(5))
        .await;
    assert_eq!(
        first["status"],
        "continuing",
        "{first:#}\n{}",
        lambda.logs()
    );
    assert_eq!(first["exit_code"], 5);
    let run_id = first["run_id"].as_str().unwrap().to_string();
    let entries = journal(&state, &run_id);
    let t0 = entries[0]["record"]["header"]["t0"].clone();
    assert_eq!(first["t0"], t0);
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("locks/efs-restore.lock")).expect("the lock is kept"),
    )
    .unwrap();
    assert_eq!(
        lock["run_id"],
        run_id.as_str(),
        "the lock is held by the run"
    );
    assert!(
        !state
            .join("runs")
            .join(&run_id)
            .join("report.json")
            .exists(),
        "no report yet"
    );
    assert!(!state.join("history.jsonl").exists(), "no history yet");

    // The next invocation of the same event continues the run.
    let second = api.respond(&mut lambda, &event, far()).await;
    assert_eq!(second["run_id"], run_id.as_str(), "{second:#}");
    assert_eq!(second["t0"], t0);
    assert_eq!(
        journal(&state, &run_id)[0]["record"]["header"]["t0"],
        t0,
        "T0 unchanged"
    );
    // As an uninterrupted monthly drill ends (see the drill test above).
    assert_eq!(second["status"], "met", "{second:#}\n{}", lambda.logs());
    assert_eq!(second["exit_code"], 0);
    let report = report_json(&second["report"]);
    assert_eq!(report["run_status"], "succeeded");
    for step in report["steps"].as_array().unwrap() {
        assert!(
            step["status"] == "succeeded" || step["status"] == "skipped",
            "{step}"
        );
    }
    assert_eq!(
        report["cleanup"]["status"], "clean",
        "{}",
        report["cleanup"]
    );
    assert!(drill_file_systems(common::PRIMARY).await.is_empty());
    assert!(
        !state.join("locks/efs-restore.lock").exists(),
        "lock released"
    );
    let restores = common::requests_for("backup", "StartRestoreJob");
    assert_eq!(restores.len(), 1, "one restore for the run: {restores:#?}");
    let runs = cli_support::run_ids(&state);
    assert_eq!(runs, vec![run_id], "no second run was started");
}

#[tokio::test]
async fn malformed_events_get_an_error_naming_the_problem_and_the_function_keeps_serving() {
    let _guard = common::SandboxGuard::seeded().await;
    let function = Function::new();
    let mut api = RuntimeApi::start().await;
    let mut lambda = function.start(&api, 60, &[]);

    for (event, says) in [
        (json!({"command": "explode"}), "unknown variant `explode`"),
        (json!({"command": "drill"}), "missing field `drill`"),
        (
            json!({"command": "drill", "drill": "monthly", "drilll": 1}),
            "unknown field `drilll`",
        ),
        (
            json!({"command": "drill", "drill": "../x"}),
            "invalid drill name",
        ),
        (
            json!({"command": "drill", "drill": "weekly"}),
            "weekly.toml",
        ),
        (
            json!({"command": "resume", "run_id": "no-such-run"}),
            "no run `no-such-run`",
        ),
    ] {
        let posted = api.invoke(&mut lambda, &event, far()).await;
        assert_eq!(posted.kind, "error", "{event}: {posted:?}");
        let message = posted.body["errorMessage"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{event}: {message}");
    }
    // Not JSON at all: the runtime client itself answers with an error.
    let id = api.queue_raw("not json", far());
    let posted = api.next_post(&mut lambda).await;
    assert_eq!((posted.kind, posted.id.as_str()), ("error", id.as_str()));

    let summary = api
        .respond(&mut lambda, &json!({"command": "check"}), far())
        .await;
    assert_eq!(summary["status"], "exceeded");
    assert!(lambda.child.try_wait().unwrap().is_none(), "still serving");
}

#[tokio::test]
async fn without_the_function_environment_drctl_reports_an_init_error_instead_of_panicking() {
    let function = Function::new();
    let mut api = RuntimeApi::start().await;
    let mut lambda = function.start(&api, 60, &["AWS_LAMBDA_FUNCTION_VERSION"]);
    let posted = api.next_post(&mut lambda).await;
    assert_eq!(posted.kind, "init_error");
    let message = posted.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("AWS_LAMBDA_FUNCTION_VERSION"), "{message}");
    let status = lambda.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(!lambda.logs().contains("panicked"), "{}", lambda.logs());
}

#[tokio::test]
async fn an_invalid_configuration_file_in_the_package_is_an_init_error_naming_it() {
    let function = Function::new();
    std::fs::write(
        function.home().join("drctl.toml"),
        "notify = \"arn:aws:sns:us-west-2:123456789012:dr\"\nstat = \"x\"\n",
    )
    .unwrap();
    let mut api = RuntimeApi::start().await;
    let mut lambda = function.start(&api, 60, &[]);
    let posted = api.next_post(&mut lambda).await;
    assert_eq!(posted.kind, "init_error", "{posted:?}");
    let message = posted.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("drctl.toml:2:1"), "{message}");
    assert!(message.contains("unknown field `stat`"), "{message}");
    assert_eq!(lambda.child.wait().unwrap().code(), Some(2));
}

#[tokio::test]
async fn with_the_dynamodb_store_another_container_continues_the_cut_drill() {
    // Lambda may run the next invocation in a new container with an empty /tmp: only the
    // shared store carries the run over. Container A is cut by its deadline and killed;
    // container B (a new process with its own Runtime API connection) continues the run.
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(&json!({ "restore_base": 8.0, "restore_per_gib": 0.0 }));
    common::clear_requests();
    let function = Function::new();
    let url = format!("dynamodb://drctl-state?region={}", common::RECOVERY);
    let (code, _, err) = run(drctl(&function.state()).args(["--state", &url, "state", "init"]));
    assert_eq!(code, 0, "{err}");
    let shared = [("DRCTL_STATE", url.as_str())];
    let event = json!({"command": "drill", "drill": "monthly"});

    let mut api_a = RuntimeApi::start().await;
    let mut container_a = function.start_with(&api_a, 2, &[], &shared);
    let first = api_a
        .respond(&mut container_a, &event, Duration::from_secs(5))
        .await;
    assert_eq!(
        first["status"],
        "continuing",
        "{first:#}\n{}",
        container_a.logs()
    );
    let run_id = first["run_id"].as_str().unwrap().to_string();
    drop(container_a);
    drop(api_a);
    // What a person sees meanwhile, from the shared store.
    let (code, out, err) = run(
        drctl(&function.state()).args(["--state", &url, "status", &run_id, "--output", "json"])
    );
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        status["lock"]["run_id"],
        run_id.as_str(),
        "the lock is kept for the run"
    );
    assert_eq!(status["run"]["header"]["t0"], first["t0"]);

    let mut api_b = RuntimeApi::start().await;
    let mut container_b = function.start_with(&api_b, 2, &[], &shared);
    let second = api_b.respond(&mut container_b, &event, far()).await;
    assert_eq!(
        second["run_id"],
        run_id.as_str(),
        "{second:#}\n{}",
        container_b.logs()
    );
    assert_eq!(second["t0"], first["t0"], "same T0");
    assert_eq!(
        second["status"],
        "met",
        "{second:#}\n{}",
        container_b.logs()
    );
    assert!(
        second["report"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("report {run_id} --format html")),
        "{second:#}"
    );
    assert_eq!(common::requests_for("backup", "StartRestoreJob").len(), 1);
    assert!(drill_file_systems(common::PRIMARY).await.is_empty());
    assert!(
        !function.state().join("runs").exists(),
        "nothing kept locally"
    );

    let (code, out, err) =
        run(drctl(&function.state()).args(["--state", &url, "history", "--output", "json"]));
    assert_eq!(code, 0, "{err}");
    let history: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["run_id"], run_id.as_str());
    assert_eq!(history[0]["result"], "met");
}
