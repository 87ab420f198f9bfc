//! No input may panic the loader: empty files, garbage, invalid UTF-8, huge files, huge and
//! deeply nested documents, long dependency chains. The test harness runs these on its 2 MiB
//! test threads, smaller than a real main thread, so a recursion that would overflow in
//! production overflows here first.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use drctl::runbook::{Code, Diagnostics, load_file, load_runbook, load_runbook_str, plan};
use proptest::prelude::*;

fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn load_bytes(bytes: &[u8]) -> Result<(), Diagnostics> {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    load_file(file.path(), &none()).map(|_| ())
}

fn codes(text: &str) -> Vec<Code> {
    match load_runbook_str("t.toml", text, &none()) {
        Ok(_) => Vec::new(),
        Err(d) => d.codes(),
    }
}

/// A valid runbook of `n` approve steps; step i runs after `dep(i)`.
fn generated(n: usize, dep: impl Fn(usize) -> Option<usize>) -> String {
    let mut text = String::with_capacity(n * 64);
    text.push_str("name = \"big\"\n");
    for i in 0..n {
        text.push_str(&format!("[[steps]]\nid = \"s{i}\"\naction = \"approve\"\n"));
        if let Some(d) = dep(i) {
            text.push_str(&format!("after = [\"s{d}\"]\n"));
        }
    }
    text
}

#[test]
fn empty_file() {
    assert_eq!(codes(""), vec![Code::MissingKey, Code::EmptyRunbook]);
    assert!(load_bytes(b"").is_err());
}

#[test]
fn binary_garbage() {
    // A deterministic pseudo-random stream, some of it valid UTF-8 by chance.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..64 {
        let len = 1 + (round * 97) % 4096;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        assert!(load_bytes(&bytes).is_err());
        let _ = load_runbook_str("g.toml", &String::from_utf8_lossy(&bytes), &none());
    }
}

#[test]
fn invalid_utf8_is_located() {
    let diagnostics = load_bytes(b"name = \"x\"\n\n  \"\xe2\x28\xa1\" = 1\n").unwrap_err();
    assert_eq!(diagnostics.codes(), vec![Code::InvalidUtf8]);
    assert_eq!((diagnostics[0].line, diagnostics[0].column), (3, 4));
    let diagnostics = load_bytes(b"\xff").unwrap_err();
    assert_eq!((diagnostics[0].line, diagnostics[0].column), (1, 1));
}

#[test]
fn ten_megabyte_files() {
    // A valid runbook with a 10 MB comment and a 10 MB description.
    let mut text = generated(3, |i| i.checked_sub(1));
    text.push_str(&format!("# {}\n", "x".repeat(10 << 20)));
    assert_eq!(codes(&text), vec![]);
    let text = format!(
        "name = \"big\"\ndescription = \"{}\"\n{}",
        "d".repeat(10 << 20),
        generated(1, |_| None).replace("name = \"big\"\n", "")
    );
    assert_eq!(codes(&text), vec![]);
    // 10 MB on one line with an error at its end: the snippet is a window, not the line.
    let text = format!("name = \"{}\" x", "n".repeat(10 << 20));
    let diagnostics = load_runbook_str("t.toml", &text, &none()).unwrap_err();
    assert_eq!(diagnostics.codes(), vec![Code::TomlSyntax]);
    assert!(diagnostics.render(false).len() < 2_000);
    // 10 MB of garbage.
    let garbage: Vec<u8> = (0..10u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(load_bytes(&garbage).is_err());
}

#[test]
fn ten_thousand_steps() {
    let text = generated(10_000, |i| if i == 0 { None } else { Some(i / 2) });
    let runbook = load_runbook_str("big.toml", &text, &none()).unwrap();
    let plan = plan(&runbook);
    assert_eq!(plan.order.len(), 10_000);
    // s1 runs after s0, and below s1 a binary tree of 9,999 steps, 14 levels deep.
    assert_eq!(plan.waves.len(), 15);
    // Every step broken the same way: all reported, hints stay cheap.
    let broken = generated(10_000, |i| Some(i + 20_000));
    let diagnostics = load_runbook_str("big.toml", &broken, &none()).unwrap_err();
    assert_eq!(diagnostics.len(), 10_000);
    assert!(
        diagnostics
            .iter()
            .all(|d| d.code == Code::UnknownDependency)
    );
}

#[test]
fn ten_thousand_long_dependency_chain() {
    let n = 10_000;
    let text = generated(n, |i| i.checked_sub(1));
    let runbook = load_runbook_str("chain.toml", &text, &none()).unwrap();
    let plan = plan(&runbook);
    assert_eq!(plan.waves.len(), n);
    assert_eq!(plan.critical_path.len(), n);
    assert_eq!(plan.predicted_secs, 60 * n as u64);

    // Close the chain into one 10,000-step cycle: reported once, with its whole path.
    let text = text.replacen(
        "id = \"s0\"\naction = \"approve\"\n",
        &format!(
            "id = \"s0\"\naction = \"approve\"\nafter = [\"s{}\"]\n",
            n - 1
        ),
        1,
    );
    let diagnostics = load_runbook_str("chain.toml", &text, &none()).unwrap_err();
    assert_eq!(diagnostics.codes(), vec![Code::DependencyCycle]);
    assert_eq!(diagnostics[0].message.matches(" -> ").count(), n);

    // A chain whose every step references its predecessor's output (ancestry checks).
    let mut text = String::from("name = \"refs\"\n");
    for i in 0..2_000 {
        text.push_str(&format!(
            "[[steps]]\nid = \"s{i}\"\naction = \"http.probe\"\n"
        ));
        if i > 0 {
            text.push_str(&format!(
                "after = [\"s{}\"]\n[steps.with]\nurl = \"http://x/${{steps.s0.status}}\"\n",
                i - 1
            ));
        } else {
            text.push_str("[steps.with]\nurl = \"http://x\"\n");
        }
    }
    assert_eq!(codes(&text), vec![]);
}

#[test]
fn deep_nesting() {
    let n = 100_000;
    for text in [
        format!("a = {}1{}", "[".repeat(n), "]".repeat(n)),
        format!("a = {}", "[".repeat(n)),
        format!("a = {}1{}", "{b=".repeat(n), "}".repeat(n)),
        format!("{} = 1", vec!["a"; n].join(".")),
        format!("[{}]\nx = 1", vec!["a"; n].join(".")),
        format!("[[{}]]\nx = 1", vec!["a"; n].join(".")),
        format!(
            "name = \"x\"\n[[steps]]\nid = \"a\"\naction = \"exec\"\n[steps.with]\ncommand = {}\"x\"{}",
            "[".repeat(n),
            "]".repeat(n)
        ),
    ] {
        assert_eq!(
            codes(&text).first(),
            Some(&Code::TomlSyntax),
            "{}",
            &text[..40]
        );
    }
    // Nesting within toml's limit reaches the validator, which reports a type error.
    let depth = 60;
    let text = format!(
        "name = \"x\"\n[[steps]]\nid = \"a\"\naction = \"exec\"\n[steps.with]\ncommand = {}\"x\"{}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert_eq!(codes(&text), vec![Code::WrongParamType]);
}

#[test]
fn the_seed_runbooks_load_from_disk() {
    for path in [
        "runbooks/region-failover.toml",
        "runbooks/efs-restore.toml",
        "runbooks/service-recovery.toml",
    ] {
        load_runbook(Path::new(path), &none()).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary sequences of TOML-ish tokens never panic the loader.
    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(prop::sample::select(vec![
        "name", "id", "action", "after", "region", "with", "steps", "retry", "drill", "timeout",
        "[[steps]]", "[steps.with]", "[steps.retry]", "[regions]", "[vars]", "[targets]",
        " = ", "\"a\"", "\"approve\"", "\"${steps.a.b}\"", "\"${vars.x}\"", "\"$$\"", "\"${\"",
        "[", "]", "{", "}", ",", ".", "1", "-1", "0", "true", "\"20m\"", "1979-05-27T07:32:00Z",
        "\n", "\n", "\n", " ", "#", "'", "\"\"\"", "\\", "\u{0}", "é",
    ]), 0..120)) {
        let text: String = tokens.concat();
        let _ = load_runbook_str("soup.toml", &text, &none());
    }

    /// Random edits of a valid runbook never panic, and errors always have a position.
    #[test]
    fn mutations_of_a_valid_runbook_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
        let mut bytes = std::fs::read("runbooks/region-failover.toml").unwrap();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len());
            match kind {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, byte),
                _ => bytes[i] = byte,
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Err(diagnostics) = load_runbook_str("m.toml", &text, &none()) {
            prop_assert!(!diagnostics.is_empty());
            for d in diagnostics.iter() {
                prop_assert!(d.line >= 1 && d.column >= 1, "{}", d);
                prop_assert!(!d.hint.is_empty(), "{}", d);
            }
        }
    }
}
