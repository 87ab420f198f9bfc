//! `${...}` references in parameter strings.
//!
//! Three kinds: `${vars.NAME}` and `${regions.NAME}` are substituted when the runbook loads;
//! `${steps.ID.OUTPUT}` stays in the string and is resolved at run time by [`interpolate`], once
//! step ID has produced OUTPUT. `$$` is a literal `$`; a `$` followed by anything other than `{`
//! or `$` is literal too. After loading, every string parameter is a *template* in canonical
//! form: literal dollars are written `$$` and only step references remain, so the engine calls
//! [`interpolate`] on every string it passes to an action.

use std::ops::Range;

use super::names::is_ident;

/// A reference to another step's output: `${steps.ID.OUTPUT}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StepRef {
    pub step: String,
    pub output: String,
}

impl std::fmt::Display for StepRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${{steps.{}.{}}}", self.step, self.output)
    }
}

/// What a `${...}` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference {
    Var(String),
    Region(String),
    Step(StepRef),
}

/// A parsed template: literal text and references, with their byte ranges in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(String),
    Ref {
        reference: Reference,
        range: Range<usize>,
    },
}

/// A malformed `${...}`, with its byte range in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) range: Range<usize>,
    pub(crate) message: String,
    pub(crate) hint: String,
}

const SYNTAX_HINT: &str =
    "references are ${vars.NAME}, ${regions.NAME} and ${steps.ID.OUTPUT}; write $$ for a literal $";

/// Splits a template into pieces, collecting every malformed reference.
pub(crate) fn parse_template(text: &str) -> (Vec<Piece>, Vec<TemplateError>) {
    let mut pieces = Vec::new();
    let mut errors = Vec::new();
    let mut literal = String::new();
    let mut rest_start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => {
                literal.push_str(&text[rest_start..i]);
                literal.push('$');
                i += 2;
                rest_start = i;
            }
            Some(b'{') => {
                literal.push_str(&text[rest_start..i]);
                let Some(close) = text[i + 2..].find('}').map(|j| i + 2 + j) else {
                    errors.push(TemplateError {
                        range: i..text.len(),
                        message: format!("unterminated `${{` in `{}`", truncate(&text[i..])),
                        hint: format!("close the reference with `}}`; {SYNTAX_HINT}"),
                    });
                    literal.push_str(&text[i..]);
                    rest_start = text.len();
                    break;
                };
                let range = i..close + 1;
                match parse_reference(&text[i + 2..close]) {
                    Ok(reference) => {
                        if !literal.is_empty() {
                            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                        }
                        pieces.push(Piece::Ref { reference, range });
                    }
                    Err(RefError { message, hint }) => {
                        errors.push(TemplateError {
                            range: range.clone(),
                            message,
                            hint,
                        });
                        literal.push_str(&text[range]);
                    }
                }
                i = close + 1;
                rest_start = i;
            }
            _ => i += 1,
        }
    }
    literal.push_str(&text[rest_start..]);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    (pieces, errors)
}

fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}...", s.chars().take(MAX).collect::<String>())
    }
}

/// A malformed reference: what is wrong and how to write it.
struct RefError {
    message: String,
    hint: String,
}

fn ref_error(message: impl Into<String>, hint: impl Into<String>) -> RefError {
    RefError {
        message: message.into(),
        hint: hint.into(),
    }
}

fn parse_reference(inner: &str) -> Result<Reference, RefError> {
    let shown = format!("${{{}}}", truncate(inner));
    if inner.is_empty() {
        return Err(ref_error("empty reference `${}`", SYNTAX_HINT));
    }
    let parts: Vec<&str> = inner.split('.').collect();
    if let Some(bad) = parts.iter().find(|p| !is_ident(p)) {
        let message = if bad.is_empty() {
            format!("reference `{shown}` has an empty name")
        } else {
            format!(
                "reference `{shown}` contains `{}`, which is not a valid name",
                truncate(bad)
            )
        };
        return Err(ref_error(
            message,
            format!("names are letters, digits, `_` and `-`; {SYNTAX_HINT}"),
        ));
    }
    match (parts[0], parts.len()) {
        ("vars", 2) => Ok(Reference::Var(parts[1].to_owned())),
        ("regions", 2) => Ok(Reference::Region(parts[1].to_owned())),
        ("steps", 3) => Ok(Reference::Step(StepRef {
            step: parts[1].to_owned(),
            output: parts[2].to_owned(),
        })),
        ("vars" | "regions", _) => Err(ref_error(
            format!("reference `{shown}` should be `${{{}.NAME}}`", parts[0]),
            SYNTAX_HINT,
        )),
        ("steps", _) => Err(ref_error(
            format!("reference `{shown}` should be `${{steps.ID.OUTPUT}}`"),
            SYNTAX_HINT,
        )),
        (other, _) => Err(ref_error(
            format!(
                "reference `{shown}` starts with `{other}`, which is not vars, regions or steps"
            ),
            SYNTAX_HINT,
        )),
    }
}

/// Escapes text so that it reads literally inside a template.
pub(crate) fn escape(text: &str) -> String {
    text.replace('$', "$$")
}

/// Why a loaded template cannot be resolved (lowercase messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    /// A malformed `${...}`.
    #[error("{0}")]
    Malformed(String),
    /// A step output that `lookup` does not have.
    #[error("`{0}` is not available: step `{step}` has not produced output `{output}`", step = .0.step, output = .0.output)]
    Unavailable(StepRef),
    /// A `${vars.*}` or `${regions.*}` left in a loaded template.
    #[error("`{0}` should have been substituted when the runbook was loaded")]
    NotSubstituted(String),
}

/// Resolves the `${steps.ID.OUTPUT}` references of a loaded template and turns `$$` into `$`.
///
/// `lookup` returns a step output's value, or `None` when it is not available; that, a
/// malformed reference or a leftover `${vars.*}`/`${regions.*}` is an error. (The engine
/// resolves compiled templates instead: `runbook::compile`.)
pub fn interpolate(
    template: &str,
    lookup: &dyn Fn(&StepRef) -> Option<String>,
) -> Result<String, InterpolateError> {
    let (pieces, errors) = parse_template(template);
    if let Some(e) = errors.into_iter().next() {
        return Err(InterpolateError::Malformed(e.message));
    }
    let mut out = String::with_capacity(template.len());
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(&text),
            Piece::Ref {
                reference: Reference::Step(r),
                ..
            } => match lookup(&r) {
                Some(value) => out.push_str(&value),
                None => return Err(InterpolateError::Unavailable(r)),
            },
            Piece::Ref { range, .. } => {
                return Err(InterpolateError::NotSubstituted(
                    template[range].to_string(),
                ));
            }
        }
    }
    Ok(out)
}

/// The step outputs a template needs, in order of appearance (malformed references skipped).
pub fn references(template: &str) -> Vec<StepRef> {
    parse_template(template)
        .0
        .into_iter()
        .filter_map(|p| match p {
            Piece::Ref {
                reference: Reference::Step(r),
                ..
            } => Some(r),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(s: &str, o: &str) -> StepRef {
        StepRef {
            step: s.into(),
            output: o.into(),
        }
    }

    #[test]
    fn resolves_step_outputs_and_dollars() {
        let lookup =
            |r: &StepRef| (r == &step("restore", "file_system_id")).then(|| "fs-1".to_string());
        assert_eq!(
            interpolate("id=${steps.restore.file_system_id} $$5 a$b", &lookup),
            Ok("id=fs-1 $5 a$b".into())
        );
        assert!(
            interpolate("${steps.other.x}", &lookup)
                .unwrap_err()
                .to_string()
                .contains("not available")
        );
        assert!(
            interpolate("${vars.x}", &lookup)
                .unwrap_err()
                .to_string()
                .contains("substituted")
        );
        assert!(
            interpolate("${steps.x", &lookup)
                .unwrap_err()
                .to_string()
                .contains("unterminated")
        );
    }

    #[test]
    fn lists_references() {
        assert_eq!(
            references("${steps.a.b}-${vars.c}-${steps.d.e}-$${steps.f.g}"),
            vec![step("a", "b"), step("d", "e")]
        );
    }

    #[test]
    fn reports_each_malformed_reference() {
        let (_, errors) = parse_template("${} ${vars} ${foo.bar} ${steps.a} ${vars.a b} ${x");
        assert_eq!(errors.len(), 6);
        assert_eq!(errors[0].range, 0..3);
        assert_eq!(errors[5].range, 46..49);
    }

    #[test]
    fn escaping_round_trips() {
        let text = "cost $5 and $$ and ${not}";
        let template = escape(text);
        assert_eq!(interpolate(&template, &|_| None), Ok(text.to_string()));
    }
}
