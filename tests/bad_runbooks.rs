//! Every malformed runbook and drill in tests/fixtures/bad/ must produce exactly the
//! diagnostics listed at its end: `# expect: DR012 5:10` (code, line, column), with a file name
//! after them when the diagnostic is in another file (a drill's runbook). The expectations sit
//! at the end so that they do not move the lines they talk about.
//!
//! Set DRCTL_BLESS=1 to rewrite the expectations from what drctl reports now, then review the
//! diff.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use drctl::runbook::{Code, Diagnostics, load_file};

const HEADER: &str = "# expect: ";

fn fixtures() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir("tests/fixtures/bad")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

/// The expectation lines of a fixture and its body (every other line).
fn split(bytes: &[u8]) -> (Vec<String>, Vec<u8>) {
    let mut expected = Vec::new();
    let mut body = Vec::new();
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        match line.strip_prefix(HEADER.as_bytes()) {
            Some(rest) => expected.push(String::from_utf8_lossy(rest).trim().to_string()),
            None => body.extend_from_slice(line),
        }
    }
    (expected, body)
}

fn actual(path: &Path, diagnostics: &Diagnostics) -> Vec<String> {
    let own = path.display().to_string();
    diagnostics
        .iter()
        .map(|d| {
            let mut line = format!("{} {}:{}", d.code, d.line, d.column);
            if d.file != own {
                let name = Path::new(&d.file)
                    .file_name()
                    .map_or(d.file.clone(), |n| n.to_string_lossy().into());
                line.push_str(&format!(" {name}"));
            }
            line
        })
        .collect()
}

#[test]
fn each_fixture_reports_exactly_its_expected_diagnostics() {
    let bless = std::env::var_os("DRCTL_BLESS").is_some();
    let mut failures = Vec::new();
    for path in fixtures() {
        let bytes = fs::read(&path).unwrap();
        let (expected, body) = split(&bytes);
        let diagnostics = match load_file(&path, &BTreeMap::new()) {
            Ok(_) => Diagnostics::default(),
            Err(d) => d,
        };
        let got = actual(&path, &diagnostics);
        if bless {
            let mut text = body.clone();
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            text.extend(
                got.iter()
                    .flat_map(|l| format!("{HEADER}{l}\n").into_bytes()),
            );
            fs::write(&path, text).unwrap();
            continue;
        }
        if got != expected || got.is_empty() {
            failures.push(format!(
                "{}:\n  expected {expected:?}\n  got      {got:?}\n{}",
                path.display(),
                diagnostics.render(false)
            ));
        }
        // The fixture is named after the code it is about.
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let code = &name[..5];
        if !got.iter().any(|g| g.starts_with(code)) {
            failures.push(format!("{}: no {code} among {got:?}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_fixtures_cover_every_code_and_are_many() {
    let paths = fixtures();
    assert!(paths.len() >= 40, "only {} fixtures", paths.len());
    let covered: BTreeSet<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy()[..5].to_string())
        .collect();
    for code in Code::ALL {
        // DR033 (cannot read) has no file to hold an expectation: see `unreadable_files`.
        if *code == Code::Unreadable {
            continue;
        }
        assert!(covered.contains(code.as_str()), "no fixture for {code}");
    }
}

#[test]
fn unreadable_files_are_a_diagnostic_without_position() {
    let missing = Path::new("tests/fixtures/bad/does-not-exist.toml");
    let diagnostics = load_file(missing, &BTreeMap::new()).unwrap_err();
    assert_eq!(diagnostics.codes(), vec![Code::Unreadable]);
    assert_eq!((diagnostics[0].line, diagnostics[0].column), (0, 0));
    let directory = load_file(Path::new("tests/fixtures/bad"), &BTreeMap::new()).unwrap_err();
    assert_eq!(directory.codes(), vec![Code::Unreadable]);
}

#[test]
fn command_line_overrides_of_undeclared_vars_are_errors() {
    let vars = BTreeMap::from([("clustr".to_string(), "x".to_string())]);
    let diagnostics = load_file(Path::new("tests/fixtures/good/minimal.toml"), &vars).unwrap_err();
    assert_eq!(diagnostics.codes(), vec![Code::UnknownVarOverride]);
    assert_eq!(diagnostics[0].file, "command line");
    assert!(
        diagnostics[0].hint.contains("did you mean `cluster`?"),
        "{}",
        diagnostics[0].hint
    );
}
