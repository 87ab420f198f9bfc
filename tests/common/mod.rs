//! Test harness for the AWS sandbox (`sandbox/`, documented in `docs/sandbox.md`).
//!
//! One sandbox server per test binary, started on first use on a free port of 127.0.0.1.
//! Tests that touch it take a [`SandboxGuard`], which serialises them (one global async
//! mutex) and resets the sandbox, seeding it if asked. The server is started through
//! `sandbox/sandbox serve --watch-stdin` with a pipe as its standard input: when the test
//! binary exits, however it exits, the pipe closes and the server exits too. A `Drop` on a
//! static would not run, which is why the server watches its stdin instead.
//!
//! Set `DRCTL_SANDBOX_ENDPOINT=http://127.0.0.1:PORT` to use an already running sandbox
//! (e.g. one started with `sandbox/sandbox up`) instead of starting one.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde_json::{Value, json};

/// Account of the seed stack and of every request signed with the harness's credentials.
pub const ACCOUNT: &str = "123456789012";
pub const PRIMARY: &str = "us-east-1";
pub const RECOVERY: &str = "us-west-2";
/// Fake static credentials (moto accepts any signature).
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct Server {
    endpoint: String,
    port: u16,
    /// Kept so that the server's stdin stays open for the life of the test binary.
    _child: Mutex<Option<(Child, ChildStdin)>>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("DRCTL_SANDBOX_ENDPOINT") {
            let port = endpoint
                .rsplit(':')
                .next()
                .and_then(|p| p.trim_end_matches('/').parse().ok())
                .expect("DRCTL_SANDBOX_ENDPOINT must end with :PORT");
            return Server {
                endpoint,
                port,
                _child: Mutex::new(None),
            };
        }
        start_server()
    })
}

/// Removes the state directories of earlier test binaries that have exited.
fn remove_stale_state_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("drctl-sandbox-")
            && pid.parse::<u32>().is_ok()
            && !PathBuf::from(format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn start_server() -> Server {
    remove_stale_state_dirs();
    let state_dir = std::env::temp_dir().join(format!("drctl-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&state_dir).expect("create the sandbox state directory");
    let log_path = state_dir.join("server.log");
    let log = std::fs::File::create(&log_path).expect("create the sandbox log");
    let script = repo_root().join("sandbox").join("sandbox");
    let mut child = Command::new("python3")
        .arg(&script)
        .args(["serve", "--port", "0", "--watch-stdin"])
        .env("SANDBOX_STATE_DIR", &state_dir)
        // Every answer of an operation the extension adds or changes is checked against
        // botocore's output shape; a violation fails the calling test with a 500.
        .env("SANDBOX_CONTRACT", "strict")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "could not run {} (python3 is needed): {e}",
                script.display()
            )
        });
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    // The first run installs sandbox/.venv (about 30 s); later starts take about 2 s.
    let mut lines = BufReader::new(stdout).lines();
    let endpoint = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(endpoint) = line.strip_prefix("AWS_ENDPOINT_URL=") {
                    break endpoint.trim().to_string();
                }
            }
            _ => {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("the sandbox exited before it listened; its log:\n{log}");
            }
        }
    };
    // Nothing else is printed on stdout, but drain it so the server can never block on it.
    std::thread::spawn(move || for _ in lines {});
    let port = endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("endpoint ends with a port");
    Server {
        endpoint,
        port,
        _child: Mutex::new(Some((child, stdin))),
    }
}

/// `http://127.0.0.1:PORT` of this test binary's sandbox (started on first call).
pub fn endpoint() -> String {
    server().endpoint.clone()
}

/// Exclusive use of the sandbox for one test: held for the test's duration.
pub struct SandboxGuard {
    _serial: tokio::sync::MutexGuard<'static, ()>,
    /// The seed summary (`Value::Null` for an empty sandbox).
    pub seed: Value,
}

impl SandboxGuard {
    /// Waits for the sandbox, resets it and creates the seed stack.
    pub async fn seeded() -> Self {
        let serial = SERIAL.lock().await;
        let (status, body) = control("POST", "/reset", Some(&json!({"seed": true})));
        assert_eq!(status, 200, "reset+seed failed: {body}");
        Self {
            _serial: serial,
            seed: body["seed"].clone(),
        }
    }

    /// Waits for the sandbox and resets it to empty.
    pub async fn empty() -> Self {
        let serial = SERIAL.lock().await;
        reset();
        Self {
            _serial: serial,
            seed: Value::Null,
        }
    }
}

/// Credentials, region and endpoint for the sandbox; retries disabled, 30 s operation timeout.
/// Customise further with [`config_loader`].
pub async fn sdk_config(region: &str) -> SdkConfig {
    config_loader(region).load().await
}

/// The loader behind [`sdk_config`], for tests that need other retry or timeout settings.
pub fn config_loader(region: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "drctl-sandbox",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `within`.
/// Tests wait for state this way and never assert on wall-clock time.
pub async fn poll<T>(what: &str, within: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// --- control API (/_sandbox/...) -----------------------------------------------------------

/// One control-API call with a hand-written HTTP/1.1 request (the server closes each
/// connection after answering). Returns the status and the JSON body.
pub fn control(method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let port = server().port;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the sandbox");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("set a read timeout");
    let request = format!(
        "{method} /_sandbox{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream
        .write_all(request.as_bytes())
        .expect("send a control request");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("read the control response");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("an HTTP response with a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line");
    let json = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("control API returned non-JSON ({e}): {body}"));
    (status, json)
}

fn ok(method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, reply) = control(method, path, body);
    assert_eq!(status, 200, "{method} /_sandbox{path} failed: {reply}");
    reply
}

/// Empties the sandbox: moto state, jobs, faults, the request log; durations to defaults.
pub fn reset() {
    ok("POST", "/reset", None);
}

/// Creates the seed stack and returns its summary (see docs/sandbox.md).
pub fn seed() -> Value {
    ok("POST", "/seed", None)
}

/// Current durations: `{"profile", "scale", "durations": {name: seconds}}`.
pub fn durations() -> Value {
    ok("GET", "/durations", None)
}

/// Changes durations, e.g. `json!({"restore_base": 0.2})` or `json!({"profile": "realistic", "scale": 0.01})`.
pub fn set_durations(changes: &Value) -> Value {
    ok("POST", "/durations", Some(changes))
}

/// Adds a fault rule, e.g. `json!({"service": "backup", "operation": "StartRestoreJob", "kind": "throttle", "count": 1})`.
pub fn inject_fault(rule: &Value) -> Value {
    ok("POST", "/faults", Some(rule))
}

pub fn clear_faults() {
    ok("DELETE", "/faults", None);
}

/// Every logged AWS request, oldest first.
pub fn requests() -> Vec<Value> {
    ok("GET", "/requests", None)["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Logged requests of one operation (e.g. `("backup", "StartRestoreJob")`).
pub fn requests_for(service: &str, operation: &str) -> Vec<Value> {
    ok(
        "GET",
        &format!("/requests?service={service}&operation={operation}"),
        None,
    )["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub fn clear_requests() {
    ok("DELETE", "/requests", None);
}

/// Creates a COMPLETED recovery point, e.g. `json!({"vault": "prod-infra-dr", "region": "us-west-2", "age_seconds": 600})`.
pub fn create_recovery_point(spec: &Value) -> Value {
    ok("POST", "/recovery-points", Some(spec))
}

/// Makes the endpoint behind a Route 53 health check healthy or not.
pub fn set_endpoint_health(health_check_id: &str, healthy: bool) {
    ok(
        "POST",
        &format!("/route53/health-checks/{health_check_id}/endpoint"),
        Some(&json!({"healthy": healthy})),
    );
}

/// Freezes the replica of `secret_id` in `region`; with `new_secret_string`, also puts a new
/// version on the primary so the replica is one version behind.
pub fn lag_secret(secret_id: &str, region: &str, new_secret_string: Option<&str>) -> Value {
    ok(
        "POST",
        "/secrets/lag",
        Some(
            &json!({"secret_id": secret_id, "region": region, "new_secret_string": new_secret_string}),
        ),
    )
}

/// Pushes an image in the primary region that replication will not copy.
pub fn push_unreplicated_image(repository: &str, tag: &str) -> Value {
    ok(
        "POST",
        "/ecr/unreplicated",
        Some(&json!({"repository": repository, "tag": tag})),
    )
}

/// What a file system holds (`GET /_sandbox/efs/<id>/contents`): `holds_data`, `live_data`,
/// `directories`, `restores` and `restore_marker` (the newest restore written into it).
pub fn efs_contents(region: &str, file_system_id: &str) -> Value {
    ok(
        "GET",
        &format!("/efs/{file_system_id}/contents?region={region}"),
        None,
    )
}

/// Makes the next backup, copy or restore job end `state` ("PARTIAL" or "FAILED").
pub fn next_job_outcome(job: &str, state: &str) -> Value {
    ok(
        "POST",
        "/backup/next-job-outcome",
        Some(&json!({"job": job, "state": state})),
    )
}

/// A plain HTTP GET of a URL on the sandbox's port (what GetDownloadUrlForLayer answers):
/// the status and the body's bytes.
pub fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{url} is not a URL on 127.0.0.1"));
    let (port, path) = rest.split_once('/').expect("a path after the port");
    let port: u16 = port.parse().expect("a port");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the sandbox");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("set a read timeout");
    let request =
        format!("GET /{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("send a request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line");
    (status, raw[split + 4..].to_vec())
}

/// `sha256:<hex>` of some bytes, as ECR names blobs and images.
pub fn sha256_digest(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// Uploads `data` as one blob of `repository` through the layer API (InitiateLayerUpload,
/// one UploadLayerPart, CompleteLayerUpload) and returns its digest.
pub async fn upload_blob(ecr: &aws_sdk_ecr::Client, repository: &str, data: &[u8]) -> String {
    let digest = sha256_digest(data);
    let upload = ecr
        .initiate_layer_upload()
        .repository_name(repository)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    ecr.upload_layer_part()
        .repository_name(repository)
        .upload_id(id)
        .part_first_byte(0)
        .part_last_byte(data.len() as i64 - 1)
        .layer_part_blob(aws_smithy_types::Blob::new(data.to_vec()))
        .send()
        .await
        .unwrap();
    let done = ecr
        .complete_layer_upload()
        .repository_name(repository)
        .upload_id(id)
        .layer_digests(&digest)
        .send()
        .await
        .unwrap();
    assert_eq!(done.layer_digest(), Some(digest.as_str()));
    digest
}

/// A schema-2 manifest naming a config blob and layers by digest (and their sizes).
pub fn manifest_of(config: &[u8], layers: &[&[u8]]) -> String {
    let blob = |data: &[u8], media_type: &str| json!({"mediaType": media_type, "size": data.len(), "digest": sha256_digest(data)});
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": blob(config, "application/vnd.docker.container.image.v1+json"),
        "layers": layers
            .iter()
            .map(|l| blob(l, "application/vnd.docker.image.rootfs.diff.tar.gzip"))
            .collect::<Vec<_>>(),
    })
    .to_string()
}

/// Pushes an image as a client does: its config and layers through the layer API, then the
/// manifest. Returns the image's digest (SHA-256 of the manifest bytes).
pub async fn push_image(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    config: &[u8],
    layers: &[&[u8]],
) -> String {
    let check = ecr
        .batch_check_layer_availability()
        .repository_name(repository)
        .set_layer_digests(Some(
            std::iter::once(config)
                .chain(layers.iter().copied())
                .map(sha256_digest)
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let present: Vec<&str> = check
        .layers()
        .iter()
        .filter_map(|l| l.layer_digest())
        .collect();
    for data in std::iter::once(config).chain(layers.iter().copied()) {
        if !present.contains(&sha256_digest(data).as_str()) {
            upload_blob(ecr, repository, data).await;
        }
    }
    let manifest = manifest_of(config, layers);
    let out = ecr
        .put_image()
        .repository_name(repository)
        .image_manifest(&manifest)
        .image_tag(tag)
        .send()
        .await
        .unwrap();
    let digest = out
        .image()
        .and_then(|i| i.image_id())
        .and_then(|i| i.image_digest())
        .unwrap()
        .to_string();
    assert_eq!(digest, sha256_digest(manifest.as_bytes()));
    digest
}

/// The application endpoint of a region: (200 or 503, detail).
pub fn app_health(region: &str) -> (u16, Value) {
    control("GET", &format!("/app/{region}/health"), None)
}

/// Make the process's default credential chain (used by drctl's own client factory when a
/// test calls the library directly) sign with the sandbox's credentials, once.
pub fn set_sandbox_credentials() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // SAFETY: called while the sandbox guard is held, so no other test thread of this
        // binary is inside the SDK (the only reader of these variables) at this moment.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID);
            std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
            std::env::remove_var("AWS_SESSION_TOKEN");
            std::env::remove_var("AWS_PROFILE");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        }
    });
}
