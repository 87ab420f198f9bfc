//! The generated parts of docs/runbook-reference.md — the action catalogue and the diagnostic
//! codes with an example each (taken from tests/fixtures/bad/) — must match the code.
//! Set DRCTL_BLESS=1 to regenerate them, then review the diff.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use drctl::runbook::{Code, actions_markdown, codes_markdown, load_file};

const DOC: &str = "docs/runbook-reference.md";

fn begin(name: &str) -> String {
    format!(
        "<!-- BEGIN GENERATED: {name} (tests/docs.rs; DRCTL_BLESS=1 cargo test --test docs to update) -->\n"
    )
}

fn end(name: &str) -> String {
    format!("<!-- END GENERATED: {name} -->")
}

/// Replaces (or checks) the text between the markers of section `name`.
fn section(doc: &mut String, name: &str, body: &str, failures: &mut Vec<String>) {
    let (begin, end) = (begin(name), end(name));
    let Some(start) = doc.find(&begin).map(|i| i + begin.len()) else {
        failures.push(format!("{DOC} has no `{}` marker", begin.trim()));
        return;
    };
    let Some(stop) = doc[start..].find(&end).map(|i| start + i) else {
        failures.push(format!("{DOC} has no `{end}` marker"));
        return;
    };
    if doc[start..stop] != *body {
        failures.push(format!("section `{name}` of {DOC} is out of date"));
        doc.replace_range(start..stop, body);
    }
}

fn fixture_body(path: &Path) -> Vec<u8> {
    fs::read(path)
        .unwrap()
        .split_inclusive(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b"# expect: "))
        .flatten()
        .copied()
        .collect()
}

/// One example per code: the first fixture named after it with a non-empty body.
fn examples() -> String {
    let mut fixtures: Vec<PathBuf> = fs::read_dir("tests/fixtures/bad")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    let mut out = String::new();
    for code in Code::ALL {
        out.push_str(&format!(
            "### {}\n\n{}.\n\n",
            code.as_str(),
            capitalize(code.title())
        ));
        if *code == Code::Unreadable {
            let d = load_file(Path::new("runbooks/no-such-runbook.toml"), &BTreeMap::new())
                .unwrap_err();
            out.push_str(&format!(
                "```text\n$ drctl validate runbooks/no-such-runbook.toml\n{}```\n\n",
                d.render(false)
            ));
            continue;
        }
        let Some(path) = fixtures.iter().find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(code.as_str())
                && !fixture_body(p).iter().all(u8::is_ascii_whitespace)
        }) else {
            panic!("no fixture for {code}");
        };
        let body = fixture_body(path);
        let diagnostics = load_file(path, &BTreeMap::new()).unwrap_err();
        let own = path.display().to_string();
        let is_drill = String::from_utf8_lossy(&body).contains("runbook = ");
        let shown = if is_drill {
            "drills/example.toml"
        } else {
            "runbooks/example.toml"
        };
        match std::str::from_utf8(&body) {
            Ok(text) => out.push_str(&format!("`{shown}`:\n\n```toml\n{text}```\n\n")),
            Err(e) => out.push_str(&format!(
                "`{shown}` holds the bytes `{}` where a string should be (not UTF-8).\n\n",
                body[e.valid_up_to()..e.valid_up_to() + 2]
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        }
        let rendered: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.code == *code && d.file == own)
            .map(|d| d.render(false).replace(&own, shown))
            .collect();
        out.push_str(&format!("```text\n{}```\n\n", rendered.join("\n")));
    }
    out
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[test]
fn the_reference_documents_the_catalogue_and_every_code() {
    let mut doc = fs::read_to_string(DOC).unwrap();
    let mut failures = Vec::new();
    section(
        &mut doc,
        "actions",
        &format!("\n{}", actions_markdown()),
        &mut failures,
    );
    section(
        &mut doc,
        "codes",
        &format!("\n{}\n", codes_markdown()),
        &mut failures,
    );
    section(
        &mut doc,
        "examples",
        &format!("\n{}", examples()),
        &mut failures,
    );
    if std::env::var_os("DRCTL_BLESS").is_some() {
        fs::write(DOC, doc).unwrap();
        return;
    }
    assert!(
        failures.is_empty(),
        "{}\n(run DRCTL_BLESS=1 cargo test --test docs)",
        failures.join("\n")
    );
}

#[test]
fn the_exit_codes_page_lists_every_code() {
    let page = fs::read_to_string("docs/exit-codes.md").unwrap();
    for code in 0..=5 {
        assert!(
            page.contains(&format!("| {code} |")),
            "docs/exit-codes.md lacks exit code {code}"
        );
    }
}
