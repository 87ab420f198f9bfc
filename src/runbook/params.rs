//! A step's `[steps.with]` table checked against its action's parameter list: unknown, missing
//! and mistyped parameters, bad choices, region names, durations, and `${...}` references
//! (vars and regions substituted here; step references collected for the graph check).

use std::collections::BTreeMap;
use std::ops::Range;

use crate::actions::spec::{ActionSpec, ParamSpec, ParamType};

use super::code::Code;
use super::diagnostic::Diagnostic;
use super::duration::parse_duration;
use super::interpolate::{Piece, Reference, StepRef, escape, interpolate, parse_template};
use super::model::Value;
use super::raw::{ParamValue, Sp, SpMap};
use super::source::SourceFile;
use super::suggest::{did_you_mean_prefix, list};

/// A `${steps.ID.OUTPUT}` found in a parameter, checked once the graph is known.
pub(crate) struct PendingRef {
    pub(crate) step_ref: StepRef,
    pub(crate) span: Range<usize>,
}

/// Everything a parameter check needs to know about the runbook around the step.
pub(crate) struct ParamContext<'c, 'a> {
    pub(crate) file: &'c SourceFile<'a>,
    pub(crate) regions: &'c BTreeMap<String, String>,
    pub(crate) vars: &'c BTreeMap<String, String>,
    pub(crate) step_id: &'c str,
    pub(crate) spec: &'static ActionSpec,
    /// Where to point when a parameter is missing: the `[steps.with]` header or the step's.
    pub(crate) anchor: Range<usize>,
}

/// The validated parameters (given and defaulted) and the step references they contain.
pub(crate) fn check_params(
    cx: &ParamContext<'_, '_>,
    with: Option<&SpMap<ParamValue>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (BTreeMap<String, Value>, Vec<PendingRef>) {
    let mut checker = Checker {
        cx,
        diagnostics,
        refs: Vec::new(),
    };
    let mut values = BTreeMap::new();
    let spec = cx.spec;
    for (key, value) in with.into_iter().flat_map(SpMap::iter) {
        let Some(param) = spec.param(&key.value) else {
            let names = spec.params.iter().map(|p| p.name);
            let takes = if spec.params.is_empty() {
                format!("`{}` takes no parameters", spec.name)
            } else {
                format!("`{}` takes: {}", spec.name, list(names.clone()))
            };
            checker.diagnostics.push(cx.file.error(
                Code::UnknownParam,
                key.span.clone(),
                format!(
                    "unknown parameter `{}` for action `{}` in step `{}`",
                    key.value, spec.name, cx.step_id
                ),
                format!("{}{takes}", did_you_mean_prefix(&key.value, names)),
            ));
            continue;
        };
        if let Some(v) = checker.value(param, value) {
            values.insert(param.name.to_owned(), v);
        }
    }
    for param in spec.params {
        if with.is_some_and(|w| w.iter().any(|(k, _)| k.value == param.name)) {
            continue;
        }
        if param.required {
            checker.diagnostics.push(cx.file.error(
                Code::MissingParam,
                cx.anchor.clone(),
                format!(
                    "step `{}` is missing parameter `{}` of action `{}`",
                    cx.step_id, param.name, spec.name
                ),
                format!(
                    "add `{} = {}` under [steps.with]: {}",
                    param.name,
                    example(param.ty),
                    param.doc
                ),
            ));
        } else if let Some(default) = param.default
            && let Some(v) = checker.default(param, default)
        {
            values.insert(param.name.to_owned(), v);
        }
    }
    let refs = checker.refs;
    (values, refs)
}

/// How a value of the type is written, for hints.
fn example(ty: ParamType) -> String {
    match ty {
        ParamType::String => "\"...\"".into(),
        ParamType::Integer => "3".into(),
        ParamType::Bool => "true".into(),
        ParamType::Duration => "\"30s\"".into(),
        ParamType::StringList => "[\"...\", \"...\"]".into(),
        ParamType::CountMap => "{ web = 2, worker = 1 }".into(),
        ParamType::Region => "\"recovery\"".into(),
        ParamType::Enum(values) => format!("\"{}\"", values.first().copied().unwrap_or("")),
    }
}

struct Checker<'x, 'c, 'a> {
    cx: &'x ParamContext<'c, 'a>,
    diagnostics: &'x mut Vec<Diagnostic>,
    refs: Vec<PendingRef>,
}

impl Checker<'_, '_, '_> {
    fn wrong_type(&mut self, param: &ParamSpec, span: Range<usize>, found: &str, extra_hint: &str) {
        let cx = self.cx;
        self.diagnostics.push(cx.file.error(
            Code::WrongParamType,
            span,
            format!(
                "parameter `{}` of `{}` in step `{}` must be {}, not {found}",
                param.name,
                cx.spec.name,
                cx.step_id,
                param.ty.describe()
            ),
            format!(
                "{extra_hint}write it like `{} = {}`: {}",
                param.name,
                example(param.ty),
                param.doc
            ),
        ));
    }

    fn value(&mut self, param: &ParamSpec, value: &Sp<ParamValue>) -> Option<Value> {
        let span = value.span.clone();
        match (param.ty, &value.value) {
            (ParamType::String, ParamValue::String(s)) => {
                self.template(param, s, span, true).map(Value::String)
            }
            (ParamType::Integer, ParamValue::Integer(n)) => match u64::try_from(*n) {
                Ok(n) => Some(Value::Integer(n)),
                Err(_) => {
                    self.wrong_type(param, span, &format!("{n}"), "");
                    None
                }
            },
            (ParamType::Bool, ParamValue::Bool(b)) => Some(Value::Bool(*b)),
            (ParamType::Duration, ParamValue::String(s)) => {
                let text = self.template(param, s, span.clone(), false)?;
                let text = plain(&text);
                match parse_duration(&text) {
                    Ok(d) => Some(Value::Duration(d)),
                    Err(e) => {
                        self.diagnostics.push(self.cx.file.error(
                            Code::BadDuration,
                            span,
                            format!(
                                "parameter `{}` in step `{}`: {}",
                                param.name, self.cx.step_id, e.message
                            ),
                            e.hint,
                        ));
                        None
                    }
                }
            }
            (ParamType::StringList, ParamValue::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match &item.value {
                        ParamValue::String(s) => {
                            match self.template(param, s, item.span.clone(), true) {
                                Some(t) => out.push(t),
                                None => ok = false,
                            }
                        }
                        other => {
                            let found = format!("an array holding {}", other.type_name());
                            self.wrong_type(param, item.span.clone(), &found, "");
                            ok = false;
                        }
                    }
                }
                ok.then_some(Value::List(out))
            }
            (ParamType::StringList, ParamValue::String(_)) => {
                self.wrong_type(param, span, "a single string", "put it in brackets; ");
                None
            }
            (ParamType::CountMap, ParamValue::Table(entries)) => {
                let mut out = BTreeMap::new();
                let mut ok = true;
                for (name, count) in entries {
                    match &count.value {
                        ParamValue::Integer(n) if *n >= 0 && u64::try_from(*n).is_ok() => {
                            out.insert(name.clone(), u64::try_from(*n).unwrap_or_default());
                        }
                        other => {
                            let found = match other {
                                ParamValue::Integer(n) => format!("{n} for `{name}`"),
                                other => format!("{} for `{name}`", other.type_name()),
                            };
                            self.wrong_type(param, count.span.clone(), &found, "");
                            ok = false;
                        }
                    }
                }
                ok.then_some(Value::CountMap(out))
            }
            (ParamType::Region, ParamValue::String(s)) => {
                let name = plain(&self.template(param, s, span.clone(), false)?);
                self.region(param, &name, span)
            }
            (ParamType::Enum(choices), ParamValue::String(s)) => {
                let text = plain(&self.template(param, s, span.clone(), false)?);
                if choices.contains(&text.as_str()) {
                    return Some(Value::String(text));
                }
                self.diagnostics.push(self.cx.file.error(
                    Code::BadEnumValue,
                    span,
                    format!(
                        "bad value `{text}` for parameter `{}` of `{}` in step `{}`",
                        param.name, self.cx.spec.name, self.cx.step_id
                    ),
                    format!(
                        "{}expected one of: {}",
                        did_you_mean_prefix(&text, choices.iter().copied()),
                        list(choices.iter().copied())
                    ),
                ));
                None
            }
            (ty, other) => {
                let hint = match (ty, other) {
                    (
                        ParamType::String
                        | ParamType::Duration
                        | ParamType::Region
                        | ParamType::Enum(_),
                        ParamValue::Integer(_)
                        | ParamValue::Float(_)
                        | ParamValue::Bool(_)
                        | ParamValue::Datetime(_),
                    ) => "put the value in quotes; ",
                    (ParamType::Integer | ParamType::Bool, ParamValue::String(_)) => {
                        "remove the quotes; "
                    }
                    _ => "",
                };
                self.wrong_type(param, span, other.type_name(), hint);
                None
            }
        }
    }

    fn region(&mut self, param: &ParamSpec, name: &str, span: Range<usize>) -> Option<Value> {
        if let Some(code) = self.cx.regions.get(name) {
            return Some(Value::String(code.clone()));
        }
        let names = self.cx.regions.keys().map(String::as_str);
        let mut hint = format!(
            "{}regions are: {}",
            did_you_mean_prefix(name, names.clone()),
            list(names)
        );
        if super::names::is_region_code(name) {
            hint = format!("name a region of [regions], not an AWS region code; {hint}");
        }
        self.diagnostics.push(self.cx.file.error(
            Code::UnknownRegion,
            span,
            format!(
                "parameter `{}` in step `{}` names region `{name}`, which is not in [regions]",
                param.name, self.cx.step_id
            ),
            hint,
        ));
        None
    }

    /// A parameter's default, as the runbook would spell it.
    fn default(&mut self, param: &ParamSpec, default: &str) -> Option<Value> {
        match param.ty {
            ParamType::String => Some(Value::String(escape(default))),
            ParamType::Integer => default.parse().ok().map(Value::Integer),
            ParamType::Bool => default.parse().ok().map(Value::Bool),
            ParamType::Duration => parse_duration(default).ok().map(Value::Duration),
            ParamType::Enum(_) => Some(Value::String(default.to_owned())),
            ParamType::StringList | ParamType::CountMap => None,
            ParamType::Region => {
                if let Some(code) = self.cx.regions.get(default) {
                    return Some(Value::String(code.clone()));
                }
                let cx = self.cx;
                self.diagnostics.push(cx.file.error(
                    Code::UnknownRegion,
                    cx.anchor.clone(),
                    format!(
                        "parameter `{}` of step `{}` defaults to region `{default}`, which is not in [regions]",
                        param.name, cx.step_id
                    ),
                    format!(
                        "add `{default} = \"<aws region>\"` to [regions], or set `{} = \"<region name>\"` under [steps.with]; regions are: {}",
                        param.name,
                        list(cx.regions.keys().map(String::as_str))
                    ),
                ));
                None
            }
        }
    }

    /// Substitutes `${vars.*}` and `${regions.*}` in a string, reporting every bad reference,
    /// and returns the canonical template. `${steps.*}` is kept (and recorded) when
    /// `allow_steps`, and is an error otherwise (the value must be known before the run).
    fn template(
        &mut self,
        param: &ParamSpec,
        text: &str,
        span: Range<usize>,
        allow_steps: bool,
    ) -> Option<String> {
        let cx = self.cx;
        let (pieces, errors) = parse_template(text);
        let mut ok = errors.is_empty();
        for e in errors {
            let at = sub_span(cx.file, &span, text, &e.range);
            self.diagnostics.push(cx.file.error(
                Code::MalformedInterpolation,
                at,
                e.message,
                e.hint,
            ));
        }
        let mut out = String::with_capacity(text.len());
        for piece in pieces {
            match piece {
                Piece::Literal(s) => out.push_str(&escape(&s)),
                Piece::Ref {
                    reference: Reference::Var(name),
                    range,
                } => {
                    match cx.vars.get(&name) {
                        Some(value) => out.push_str(&escape(value)),
                        None => {
                            ok = false;
                            let names = cx.vars.keys().map(String::as_str);
                            self.diagnostics.push(cx.file.error(
                            Code::UndefinedVar,
                            sub_span(cx.file, &span, text, &range),
                            format!("`${{vars.{name}}}` in step `{}` names an undefined variable", cx.step_id),
                            format!(
                                "{}define it under [vars] (or pass --var {name}=...); vars are: {}",
                                did_you_mean_prefix(&name, names.clone()),
                                list(names)
                            ),
                        ));
                        }
                    }
                }
                Piece::Ref {
                    reference: Reference::Region(name),
                    range,
                } => match cx.regions.get(&name) {
                    Some(code) => out.push_str(&escape(code)),
                    None => {
                        ok = false;
                        let names = cx.regions.keys().map(String::as_str);
                        self.diagnostics.push(cx.file.error(
                            Code::UndefinedRegionRef,
                            sub_span(cx.file, &span, text, &range),
                            format!("`${{regions.{name}}}` in step `{}` names a region not in [regions]", cx.step_id),
                            format!(
                                "{}regions are: {}",
                                did_you_mean_prefix(&name, names.clone()),
                                list(names)
                            ),
                        ));
                    }
                },
                Piece::Ref {
                    reference: Reference::Step(step_ref),
                    range,
                } => {
                    let at = sub_span(cx.file, &span, text, &range);
                    if allow_steps {
                        out.push_str(&step_ref.to_string());
                        self.refs.push(PendingRef { step_ref, span: at });
                    } else {
                        ok = false;
                        self.diagnostics.push(cx.file.error(
                            Code::WrongParamType,
                            at,
                            format!(
                                "parameter `{}` in step `{}` cannot use a step output: it must be known before the run",
                                param.name, cx.step_id
                            ),
                            format!("use a literal value or ${{vars.NAME}}; {} is {}", param.name, param.ty.describe()),
                        ));
                    }
                }
            }
        }
        ok.then_some(out)
    }
}

/// The plain text of a template that holds no step reference.
fn plain(template: &str) -> String {
    interpolate(template, &|_| None).unwrap_or_else(|_| template.to_owned())
}

/// The source span of `range` (a byte range in the decoded string `text`) inside the string
/// token at `token`. Exact for strings without escapes; otherwise the first occurrence of the
/// same text in the token, or the whole token.
pub(crate) fn sub_span(
    file: &SourceFile<'_>,
    token: &Range<usize>,
    text: &str,
    range: &Range<usize>,
) -> Range<usize> {
    let source = file.slice(token);
    let Some(piece) = text.get(range.clone()) else {
        return token.clone();
    };
    for quote in ['"', '\''] {
        let single = source.len() >= 2 && source.starts_with(quote) && source.ends_with(quote);
        let triple = source.starts_with(&format!("{quote}{quote}{quote}"));
        if single && !triple && &source[1..source.len() - 1] == text {
            return token.start + 1 + range.start..token.start + 1 + range.end;
        }
    }
    match source.find(piece) {
        Some(at) => token.start + at..token.start + at + piece.len(),
        None => token.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::actions::spec::{CATALOGUE, ParamType};
    use crate::runbook::duration::parse_duration;

    /// A default the validator cannot read would silently drop the parameter: catch it here.
    #[test]
    fn every_catalogue_default_reads_as_its_type() {
        for spec in CATALOGUE {
            for p in spec.params.iter() {
                let Some(default) = p.default else { continue };
                let ok = match p.ty {
                    ParamType::String | ParamType::Region => true,
                    ParamType::Integer => default.parse::<u64>().is_ok(),
                    ParamType::Bool => default.parse::<bool>().is_ok(),
                    ParamType::Duration => parse_duration(default).is_ok(),
                    ParamType::Enum(values) => values.contains(&default),
                    ParamType::StringList | ParamType::CountMap => false,
                };
                assert!(
                    ok,
                    "{}.{} has default {default:?}, not {}",
                    spec.name,
                    p.name,
                    p.ty.describe()
                );
            }
        }
    }
}
