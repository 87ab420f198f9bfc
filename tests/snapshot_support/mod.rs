//! Helpers for the CLI tests: run the built binary from the package root, and compare output
//! with snapshots in tests/snapshots/ (set DRCTL_BLESS=1 to rewrite them, then review).

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs drctl with `args` in the package root, without colour or AWS settings from the
/// environment.
pub fn drctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drctl"))
        .args(args)
        .current_dir(ROOT)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("DRCTL_STATE_DIR")
        .env_remove("DRCTL_LOG")
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        // Never reach for instance metadata (169.254.169.254) from a test.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run drctl")
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Replaces the parts that differ between machines and runs.
pub fn redact(text: &str) -> String {
    let mut text = text.replace(ROOT, "[ROOT]");
    let tmp = std::env::temp_dir().display().to_string();
    if !tmp.is_empty() {
        text = text.replace(tmp.trim_end_matches('/'), "[TMP]");
    }
    let version = env!("CARGO_PKG_VERSION");
    text.replace(&format!("drctl {version}"), "drctl [VERSION]")
}

/// Asserts that `actual` (redacted) equals tests/snapshots/`name`.
pub fn assert_snapshot(name: &str, actual: &str) {
    let actual = redact(actual);
    let path = Path::new(ROOT).join("tests/snapshots").join(name);
    if std::env::var_os("DRCTL_BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with DRCTL_BLESS=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "snapshot {name} differs (DRCTL_BLESS=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}
