//! A source file being checked: its display name, its text, and the mapping from byte offsets
//! to the 1-based line and column (in characters) that diagnostics print.

use std::ops::Range;

use super::code::Code;
use super::diagnostic::{Diagnostic, Snippet};

/// Lines longer than this are shown as a window around the column, so that an error in a
/// 10 MB one-line file prints a readable snippet instead of 10 MB.
const MAX_SNIPPET_CHARS: usize = 160;
const SNIPPET_CONTEXT_BEFORE: usize = 60;

pub(crate) struct SourceFile<'a> {
    pub(crate) name: String,
    pub(crate) text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceFile<'a> {
    pub(crate) fn new(name: impl Into<String>, text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The text of a span, or "" when the span is not in the file.
    pub(crate) fn slice(&self, span: &Range<usize>) -> &'a str {
        self.text.get(span.clone()).unwrap_or("")
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// A diagnostic pointing at `span`.
    pub(crate) fn error(
        &self,
        code: Code,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        let (line, column, snippet) = self.locate(span);
        Diagnostic {
            file: self.name.clone(),
            line,
            column,
            code,
            message: message.into(),
            hint: hint.into(),
            snippet: Some(snippet),
        }
    }

    fn floor_boundary(&self, mut offset: usize) -> usize {
        offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// Line, column and the snippet to show for a span starting in this file.
    fn locate(&self, span: Range<usize>) -> (usize, usize, Snippet) {
        let start = self.floor_boundary(span.start);
        let end = self.floor_boundary(span.end.max(span.start));
        let line_index = self.line_starts.partition_point(|&s| s <= start) - 1;
        let line_start = self.line_starts[line_index];
        let line_end = self
            .line_starts
            .get(line_index + 1)
            .map_or(self.text.len(), |next| next - 1);
        let line_text = self.text[line_start..line_end].trim_end_matches('\r');
        let column0 = self.text[line_start..start].chars().count();
        let caret_end = end.min(line_start + line_text.len()).max(start);
        let caret_len = self.text[start..caret_end].chars().count().max(1);
        let snippet = Snippet::window(line_text, column0, caret_len);
        (line_index + 1, column0 + 1, snippet)
    }
}

impl Snippet {
    /// The snippet for a line, cut to a window around the caret when the line is long.
    pub(crate) fn window(line_text: &str, caret_start: usize, caret_len: usize) -> Snippet {
        let total = line_text.chars().count();
        if total <= MAX_SNIPPET_CHARS {
            return Snippet {
                text: line_text.to_owned(),
                caret_start,
                caret_len,
            };
        }
        let from = caret_start.saturating_sub(SNIPPET_CONTEXT_BEFORE);
        let to = (from + MAX_SNIPPET_CHARS).min(total);
        let mut text = String::new();
        let mut shift = 0;
        if from > 0 {
            text.push_str("...");
            shift = 3;
        }
        text.extend(line_text.chars().skip(from).take(to - from));
        if to < total {
            text.push_str("...");
        }
        let caret_len = caret_len.min(to.saturating_sub(caret_start)).max(1);
        Snippet {
            text,
            caret_start: caret_start - from + shift,
            caret_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let file = SourceFile::new("f.toml", "a = 1\nb = \"é\" x\n");
        let d = file.error(Code::WrongType, 15..16, "m", "h");
        assert_eq!((d.line, d.column), (2, 9));
        let s = d.snippet.unwrap();
        assert_eq!(s.text, "b = \"é\" x");
        assert_eq!((s.caret_start, s.caret_len), (8, 1));
    }

    #[test]
    fn spans_past_the_end_point_at_the_end() {
        let file = SourceFile::new("f.toml", "");
        let d = file.error(Code::EmptyRunbook, 5..9, "m", "h");
        assert_eq!((d.line, d.column), (1, 1));
    }

    #[test]
    fn long_lines_show_a_window() {
        let line = format!("{}X{}", "a".repeat(1000), "b".repeat(1000));
        let file = SourceFile::new("f.toml", &line);
        let d = file.error(Code::WrongType, 1000..1001, "m", "h");
        let s = d.snippet.unwrap();
        assert!(s.text.len() < 200);
        assert_eq!(s.text.chars().nth(s.caret_start), Some('X'));
    }
}
