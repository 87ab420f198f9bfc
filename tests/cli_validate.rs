//! `drctl validate`: exit codes, the exact rendered diagnostics, and JSON output.

mod snapshot_support;

use snapshot_support::{assert_snapshot, code, drctl, stderr, stdout};

#[test]
fn the_seed_runbooks_and_drills_are_valid() {
    let out = drctl(&[
        "validate",
        "runbooks/region-failover.toml",
        "runbooks/efs-restore.toml",
        "runbooks/service-recovery.toml",
        "drills/monthly.toml",
        "drills/quarterly.toml",
        "drills/annual.toml",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_snapshot("validate_seed_files.txt", &stderr(&out));
}

#[test]
fn every_runbook_and_drill_in_the_repository_is_valid() {
    let mut args = vec!["validate".to_string()];
    for dir in ["runbooks", "drills"] {
        for entry in
            std::fs::read_dir(std::path::Path::new(snapshot_support::ROOT).join(dir)).unwrap()
        {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                args.push(format!(
                    "{dir}/{}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = drctl(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_broken_runbook_prints_every_error_like_a_compiler() {
    let out = drctl(&["validate", "tests/fixtures/cli/broken-failover.toml"]);
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "");
    assert_snapshot("validate_broken_failover.txt", &stderr(&out));
}

#[test]
fn the_unknown_dependency_example_renders_exactly() {
    let out = drctl(&[
        "validate",
        "tests/fixtures/bad/DR012-unknown-dependency.toml",
    ]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr(&out),
        "\
error[DR012]: step `shift-traffic` depends on unknown step `scale-backnd`
  --> tests/fixtures/bad/DR012-unknown-dependency.toml:13:10
   |
13 | after = [\"scale-backnd\"]
   |          ^^^^^^^^^^^^^^
   = hint: did you mean `scale-backend`? steps are: scale-backend, shift-traffic

1 file checked: 0 valid, 1 invalid (1 error)
"
    );
}

#[test]
fn valid_and_invalid_files_together_exit_2_and_report_each() {
    let out = drctl(&[
        "validate",
        "runbooks/efs-restore.toml",
        "tests/fixtures/bad/DR013-self-dependency.toml",
        "tests/fixtures/bad/DR030-drill-unknown-var.toml",
        "no/such/file.toml",
    ]);
    assert_eq!(code(&out), 2);
    assert_snapshot("validate_mixed.txt", &stderr(&out));
}

#[test]
fn json_output_is_an_array_of_diagnostics_on_stdout() {
    let out = drctl(&[
        "validate",
        "--output",
        "json",
        "tests/fixtures/cli/broken-failover.toml",
        "runbooks/efs-restore.toml",
    ]);
    assert_eq!(code(&out), 2);
    assert_eq!(stderr(&out), "");
    let diagnostics: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let items = diagnostics.as_array().unwrap();
    assert!(!items.is_empty());
    for d in items {
        let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{d}");
        for key in ["file", "line", "column", "code", "message", "hint"] {
            assert!(keys.contains(&key), "{key} missing in {d}");
        }
    }
    assert_eq!(items[0]["file"], "tests/fixtures/cli/broken-failover.toml");
    assert_eq!(items[0]["code"], "DR026");
    assert_eq!(items[0]["line"], 9);
    assert_eq!(items[0]["column"], 7);

    let ok = drctl(&["validate", "--output", "json", "runbooks/efs-restore.toml"]);
    assert_eq!(code(&ok), 0);
    assert_eq!(stdout(&ok), "[]\n");
}

#[test]
fn jsonl_output_is_one_diagnostic_per_line() {
    let out = drctl(&[
        "validate",
        "--output",
        "jsonl",
        "tests/fixtures/cli/broken-failover.toml",
    ]);
    assert_eq!(code(&out), 2);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 1);
    for line in lines {
        let d: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(d["code"].as_str().unwrap().starts_with("DR"));
    }
}

#[test]
fn var_overrides_must_name_declared_variables() {
    let out = drctl(&[
        "validate",
        "--var",
        "recovery_point=latest",
        "runbooks/efs-restore.toml",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = drctl(&[
        "validate",
        "--var",
        "recovery_pont=latest",
        "runbooks/efs-restore.toml",
    ]);
    assert_eq!(code(&out), 2);
    assert_snapshot("validate_unknown_var_override.txt", &stderr(&out));
    let out = drctl(&[
        "validate",
        "--var",
        "no-equals-sign",
        "runbooks/efs-restore.toml",
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("expected NAME=VALUE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn quiet_prints_only_problems() {
    let out = drctl(&["validate", "-q", "runbooks/efs-restore.toml"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "");
}

#[test]
fn an_unsupported_output_format_is_a_usage_error() {
    let out = drctl(&["validate", "--output", "dot", "runbooks/efs-restore.toml"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr(&out),
        "error: `drctl validate` cannot write --output dot; it supports: human, json, jsonl\n"
    );
}
