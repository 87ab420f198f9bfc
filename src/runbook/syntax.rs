//! From bytes to a TOML tree with spans: UTF-8 first (an invalid byte is reported at its line
//! and column), then the toml parser. toml bounds nesting itself (arrays, inline tables and
//! dotted keys alike stop at a fixed depth with an error), so deep input cannot overflow the
//! stack here; `tests/no_panic.rs` keeps that promise checked.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::DeTable;

use super::code::Code;
use super::diagnostic::{Diagnostic, Snippet};
use super::source::SourceFile;

/// At most this many syntax errors are shown: after the first, later ones are often echoes.
const MAX_SYNTAX_ERRORS: usize = 5;

/// The text of `bytes`, or a diagnostic at the first byte that is not UTF-8.
pub(crate) fn decode(name: &str, bytes: &[u8]) -> Result<String, Vec<Diagnostic>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
            let line = valid.matches('\n').count() + 1;
            let before = &valid[line_start..];
            let column = before.chars().count() + 1;
            let bad = bytes[e.valid_up_to()];
            Err(vec![Diagnostic {
                file: name.to_owned(),
                line,
                column,
                code: Code::InvalidUtf8,
                message: format!(
                    "the file is not valid UTF-8: byte 0x{bad:02x} at offset {}",
                    e.valid_up_to()
                ),
                hint: "runbooks are UTF-8 text; is this the right file? re-save it as UTF-8".into(),
                snippet: Some(Snippet::window(before, column - 1, 1)),
            }])
        }
    }
}

/// The TOML tree, or the syntax errors.
pub(crate) fn parse<'a>(file: &SourceFile<'a>) -> Result<Spanned<DeTable<'a>>, Vec<Diagnostic>> {
    let (table, errors) = DeTable::parse_recoverable(file.text);
    if errors.is_empty() {
        return Ok(table);
    }
    let mut located: Vec<(Range<usize>, String)> = errors
        .iter()
        .map(|e| (e.span().unwrap_or(0..0), e.message().to_owned()))
        .collect();
    located.sort_by_key(|(span, _)| span.start);
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for (span, message) in located {
        let diagnostic = syntax_error(file, span, &message);
        if diagnostics.iter().any(|d| d.line == diagnostic.line) {
            continue;
        }
        diagnostics.push(diagnostic);
        if diagnostics.len() == MAX_SYNTAX_ERRORS {
            break;
        }
    }
    Err(diagnostics)
}

fn syntax_error(file: &SourceFile<'_>, span: Range<usize>, message: &str) -> Diagnostic {
    let hint = if message.contains("duplicate key") {
        "each key may appear only once in a table (and each [table] header once)"
    } else if message.contains("recurs") {
        "the file nests arrays or tables too deeply; runbooks need only a few levels"
    } else {
        "see https://toml.io for the syntax: strings need quotes (key = \"value\"), tables are [name], steps are [[steps]]"
    };
    let mut message = message.trim_end_matches('.').to_owned();
    if let Some(first) = message.get(0..1) {
        let lower = first.to_lowercase();
        message.replace_range(0..1, &lower);
    }
    file.error(
        Code::TomlSyntax,
        span,
        format!("invalid TOML: {message}"),
        hint,
    )
}
