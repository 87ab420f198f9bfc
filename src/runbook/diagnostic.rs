//! Diagnostics: one problem in a runbook or drill file, with its position, stable code, message
//! and hint, and the compiler-style rendering that `drctl validate` prints.

use std::fmt;

use serde::Serialize;

use super::code::Code;

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file as the user named it (or `command line` for `--var` problems).
    pub file: String,
    /// 1-based line; 0 when the problem is not in a file.
    pub line: usize,
    /// 1-based column in characters; 0 when the problem is not in a file.
    pub column: usize,
    pub code: Code,
    /// What is wrong, a lowercase sentence fragment.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The source line and the caret under the offending token.
    #[serde(skip)]
    pub snippet: Option<Snippet>,
}

/// The source line shown under a diagnostic, with the caret's place in it (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub caret_start: usize,
    pub caret_len: usize,
}

impl Diagnostic {
    /// A diagnostic that is not about a position in a file (e.g. a `--var` override).
    pub fn without_position(
        file: impl Into<String>,
        code: Code,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line: 0,
            column: 0,
            code,
            message: message.into(),
            hint: hint.into(),
            snippet: None,
        }
    }

    /// The diagnostic as a compiler prints it; ANSI colours when `color`.
    pub fn render(&self, color: bool) -> String {
        let style = Style::new(color);
        let width = if self.line == 0 {
            1
        } else {
            self.line.to_string().len()
        };
        let pad = " ".repeat(width);
        let mut out = String::new();
        out.push_str(&format!(
            "{}: {}\n",
            style.error(&format!("error[{}]", self.code)),
            style.bold(&self.message)
        ));
        if self.line == 0 {
            out.push_str(&format!("{pad}{} {}\n", style.gutter("-->"), self.file));
        } else {
            out.push_str(&format!(
                "{pad}{} {}:{}:{}\n",
                style.gutter("-->"),
                self.file,
                self.line,
                self.column
            ));
        }
        if let Some(snippet) = &self.snippet {
            let bar = style.gutter("|");
            out.push_str(&format!("{pad} {bar}\n"));
            let number = style.gutter(&self.line.to_string());
            if snippet.text.is_empty() {
                out.push_str(&format!("{number} {bar}\n"));
            } else {
                out.push_str(&format!("{number} {bar} {}\n", snippet.text));
            }
            // Reuse the line's own tabs so the caret lines up however the terminal draws them.
            let lead: String = snippet
                .text
                .chars()
                .chain(std::iter::repeat(' '))
                .take(snippet.caret_start)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let carets = style.error(&"^".repeat(snippet.caret_len));
            out.push_str(&format!("{pad} {bar} {lead}{carets}\n"));
        }
        out.push_str(&format!("{pad} {} {}\n", style.bold("= hint:"), self.hint));
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

/// Every problem found in one load (a runbook, or a drill and its runbook), in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// All diagnostics rendered one after another, separated by blank lines.
    pub fn render(&self, color: bool) -> String {
        self.0
            .iter()
            .map(|d| d.render(color))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The codes, in order (handy in tests).
    pub fn codes(&self) -> Vec<Code> {
        self.0.iter().map(|d| d.code).collect()
    }
}

impl std::ops::Deref for Diagnostics {
    type Target = Vec<Diagnostic>;
    fn deref(&self) -> &Vec<Diagnostic> {
        &self.0
    }
}

impl std::ops::DerefMut for Diagnostics {
    fn deref_mut(&mut self) -> &mut Vec<Diagnostic> {
        &mut self.0
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(items: Vec<Diagnostic>) -> Self {
        Diagnostics(items)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

impl std::error::Error for Diagnostics {}

/// ANSI styling, or none.
struct Style {
    color: bool,
}

impl Style {
    fn new(color: bool) -> Self {
        Style { color }
    }
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }
    fn gutter(&self, text: &str) -> String {
        self.paint("1;34", text)
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_compiler() {
        let d = Diagnostic {
            file: "runbooks/region-failover.toml".into(),
            line: 41,
            column: 10,
            code: Code::UnknownDependency,
            message: "step `shift-traffic` depends on unknown step `scale-backnd`".into(),
            hint: "did you mean `scale-backend`?".into(),
            snippet: Some(Snippet {
                text: "after = [\"scale-backnd\"]".into(),
                caret_start: 9,
                caret_len: 14,
            }),
        };
        let expected = "\
error[DR012]: step `shift-traffic` depends on unknown step `scale-backnd`
  --> runbooks/region-failover.toml:41:10
   |
41 | after = [\"scale-backnd\"]
   |          ^^^^^^^^^^^^^^
   = hint: did you mean `scale-backend`?
";
        assert_eq!(d.render(false), expected);
        assert!(d.render(true).contains("\x1b[1;31merror[DR012]\x1b[0m"));
    }
}
