//! The command surface: help text, exit codes of usage errors and of the commands this build
//! does not implement yet, schema and completions.

mod common;

use common::{assert_snapshot, code, drctl, stderr, stdout};

const COMMANDS: [&str; 14] = [
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
fn commands_not_in_this_build_say_so_and_exit_6() {
    for args in [
        vec!["drill", "drills/monthly.toml"],
        vec![
            "failover",
            "runbooks/region-failover.toml",
            "--yes",
            "--incident-start",
            "2026-03-01T03:12:00Z",
        ],
        vec!["resume", "some-run"],
        vec!["status"],
        vec!["runs"],
        vec!["history"],
        vec!["report", "some-run", "--format", "html"],
        vec!["check"],
        vec!["cleanup", "--all-stale"],
        vec!["iam-policy", "runbooks/region-failover.toml"],
    ] {
        let out = drctl(&args);
        assert_eq!(code(&out), 6, "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
        let message = stderr(&out);
        assert!(
            message.contains(&format!(
                "`drctl {}` is not implemented in this build",
                args[0]
            )),
            "{message}"
        );
        assert!(message.contains("it waits for: "), "{message}");
    }
    assert_snapshot(
        "not_implemented_drill.txt",
        &stderr(&drctl(&["drill", "drills/monthly.toml"])),
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
