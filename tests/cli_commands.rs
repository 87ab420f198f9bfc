//! The command surface: help text, exit codes of usage errors and of the commands this build
//! does not implement yet, schema and completions.

mod snapshot_support;

use snapshot_support::{assert_snapshot, code, drctl, stderr, stdout};

const COMMANDS: [&str; 15] = [
    "validate",
    "plan",
    "drill",
    "failover",
    "resume",
    "status",
    "runs",
    "history",
    "report",
    "check",
    "schedule",
    "cleanup",
    "iam-policy",
    "schema",
    "completions",
];

#[test]
fn help_mentions_every_command() {
    let out = drctl(&["--help"]);
    assert_eq!(code(&out), 0);
    let help = stdout(&out);
    for command in COMMANDS {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "--help does not list {command}:\n{help}"
        );
    }
    assert!(help.contains("Exit codes"));
    assert_snapshot("help.txt", &help);
}

#[test]
fn every_command_has_help_with_examples() {
    for command in COMMANDS {
        let out = drctl(&[command, "--help"]);
        assert_eq!(code(&out), 0, "{command}");
        let help = stdout(&out);
        assert!(
            help.contains("Examples:"),
            "`{command} --help` has no examples:\n{help}"
        );
    }
}

#[test]
fn no_arguments_prints_help_and_exits_2() {
    let out = drctl(&[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("Usage: drctl"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["validate"],
        vec!["frobnicate"],
        vec!["plan", "x.toml", "--output", "yaml"],
        vec![
            "failover",
            "runbooks/region-failover.toml",
            "--incident-start",
            "yesterday",
        ],
        vec![
            "failover",
            "runbooks/region-failover.toml",
            "--max-parallel",
            "0",
        ],
        vec!["cleanup"],
        vec!["completions", "tcsh"],
        vec!["validate", "-v", "-q", "runbooks/efs-restore.toml"],
    ] {
        let out = drctl(&args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn version_exits_0() {
    let out = drctl(&["--version"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("drctl "));
}

#[test]
fn commands_over_an_empty_state_dir_say_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    let out = drctl(&["--state-dir", state, "runs"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), format!("no runs in {state}\n"));
    let out = drctl(&["--state-dir", state, "status"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), format!("no runs in {state}\n"));
    let out = drctl(&["--state-dir", state, "history", "--output", "json"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "[]\n");
    let out = drctl(&["--state-dir", state, "report", "some-run"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        format!("error: there is no run `some-run` in {state} (see `drctl runs`)\n")
    );
    let out = drctl(&["--state-dir", state, "resume", "some-run", "--yes"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("there is no run `some-run`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unsupported_output_is_checked_before_not_implemented() {
    let out = drctl(&["runs", "--output", "dot"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr(&out),
        "error: `drctl runs` cannot write --output dot; it supports: human, json\n"
    );
}

#[test]
fn schema_prints_json_schemas() {
    let out = drctl(&["schema"]);
    assert_eq!(code(&out), 0);
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(schema["title"], "drctl runbook");
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["$defs"]["RawStep"]["properties"]["after"].is_object());

    let out = drctl(&["schema", "drill", "--output", "json"]);
    assert_eq!(code(&out), 0);
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(schema["title"], "drctl drill");
    assert_eq!(schema["required"], serde_json::json!(["name", "runbook"]));
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = drctl(&["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        let script = stdout(&out);
        assert!(script.contains("drctl"), "{shell}");
        assert!(script.contains("failover"), "{shell}");
    }
}
