//! The shape check: walks a parsed TOML tree against the JSON Schema generated from the raw
//! types and reports *every* unknown key, missing required key, wrongly typed value and bad
//! choice, each at its token. It also prunes what it reported (unknown keys, wrongly typed
//! values), so that serde can then deserialize the rest into the raw types and validation can
//! go on looking for further problems instead of stopping at the first.
//!
//! Only the JSON Schema features schemars emits for the raw types are understood: `$ref`,
//! `type`, `properties`, `required`, `additionalProperties`, `items`, `enum`/`oneOf` of
//! constants, `minimum`/`maximum` and integer `format`s. Anything else reads as "any value".

use serde_json::Value;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::code::Code;
use super::diagnostic::Diagnostic;
use super::source::SourceFile;
use super::suggest::{did_you_mean_prefix, list};

/// Checks `doc` against `schema`, pruning what is wrong. `kind` names the file's format in
/// messages ("runbook", "drill").
pub(crate) fn check(
    schema: &Value,
    doc: &mut Spanned<DeTable<'_>>,
    file: &SourceFile<'_>,
    kind: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut walker = Walker {
        root: schema,
        file,
        diagnostics,
    };
    let place = Place {
        kind,
        keys: Vec::new(),
        item: None,
    };
    // The root table's span covers the whole file; a missing top-level key points at 1:1.
    let span = 0..0;
    walker.table(schema, doc.get_mut(), span, &place);
}

struct Walker<'s, 'f, 'a, 'd> {
    root: &'s Value,
    file: &'f SourceFile<'a>,
    diagnostics: &'d mut Vec<Diagnostic>,
}

/// Where in the file a value is, for messages.
#[derive(Clone)]
struct Place<'k> {
    kind: &'k str,
    /// Table keys from the root, array positions left out.
    keys: Vec<String>,
    /// The array-of-tables item the value is in: its position and id.
    item: Option<(usize, Option<String>)>,
}

impl Place<'_> {
    /// "the runbook", "[targets]", "step `restore`", "[steps.retry] of step `restore`".
    fn describe(&self) -> String {
        let item = |n: &(usize, Option<String>)| match &n.1 {
            Some(id) => format!("step `{id}`"),
            None => format!(
                "[[{}]] #{}",
                self.keys.first().map_or("steps", String::as_str),
                n.0 + 1
            ),
        };
        match (&self.item, self.keys.len()) {
            (None, 0) => format!("the {}", self.kind),
            (None, _) => format!("[{}]", self.keys.join(".")),
            (Some(n), 1) => item(n),
            (Some(n), _) => format!("[{}] of {}", self.keys.join("."), item(n)),
        }
    }

    fn child(&self, key: &str) -> Self {
        let mut child = self.clone();
        child.keys.push(key.to_owned());
        child
    }
}

/// What a schema node accepts.
enum Expect<'s> {
    Any,
    /// A table, with its (resolved) schema node.
    Table(&'s Value),
    Array(Option<&'s Value>),
    String,
    Integer {
        min: Option<i128>,
        max: Option<i128>,
    },
    Boolean,
    Choice(Vec<&'s str>),
}

impl Expect<'_> {
    fn describe(&self) -> String {
        match self {
            Expect::Any => "any value".into(),
            Expect::Table(_) => "a table".into(),
            Expect::Array(_) => "an array".into(),
            Expect::String | Expect::Choice(_) => "a string".into(),
            Expect::Integer { min: Some(0), .. } => "a non-negative integer".into(),
            Expect::Integer { .. } => "an integer".into(),
            Expect::Boolean => "true or false".into(),
        }
    }
}

fn found(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl<'s> Walker<'s, '_, '_, '_> {
    /// Follows `$ref`s to the schema node they name.
    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..16 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(path) => match path.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                    Some(target) => schema = target,
                    None => break,
                },
                None => break,
            }
        }
        schema
    }

    fn expect(&self, schema: &'s Value) -> Expect<'s> {
        let schema = self.resolve(schema);
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return Expect::Choice(values.iter().filter_map(Value::as_str).collect());
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let consts: Vec<&str> = options
                    .iter()
                    .filter_map(|o| o.get("const").and_then(Value::as_str))
                    .collect();
                if !consts.is_empty() && consts.len() == options.len() {
                    return Expect::Choice(consts);
                }
                if options.len() == 1 {
                    return self.expect(&options[0]);
                }
            }
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => Expect::Table(schema),
            Some("array") => Expect::Array(schema.get("items")),
            Some("string") => Expect::String,
            Some("integer") => {
                let by_format = match schema.get("format").and_then(Value::as_str) {
                    Some("uint8") => Some(i128::from(u8::MAX)),
                    Some("uint16") => Some(i128::from(u16::MAX)),
                    Some("uint32") => Some(i128::from(u32::MAX)),
                    Some("uint64") => Some(i128::from(u64::MAX)),
                    Some("int32") => Some(i128::from(i32::MAX)),
                    _ => None,
                };
                let min = schema
                    .get("minimum")
                    .and_then(Value::as_i64)
                    .map(i128::from);
                let max = schema
                    .get("maximum")
                    .and_then(Value::as_i64)
                    .map(i128::from)
                    .or(by_format);
                Expect::Integer { min, max }
            }
            Some("boolean") => Expect::Boolean,
            _ => Expect::Any,
        }
    }

    fn description(&self, schema: &'s Value) -> Option<String> {
        let direct = schema.get("description").and_then(Value::as_str);
        let resolved = self
            .resolve(schema)
            .get("description")
            .and_then(Value::as_str);
        direct
            .or(resolved)
            .map(|d| lower_first(d.trim_end_matches('.')))
    }

    /// Checks the value of `key` (or an item of array `key` when `in_array`); `false` means it
    /// was reported and should be removed.
    fn value(
        &mut self,
        schema: &'s Value,
        key: &str,
        in_array: bool,
        value: &mut Spanned<DeValue<'_>>,
        place: &Place<'_>,
    ) -> bool {
        let span = value.span();
        let expect = self.expect(schema);
        let what = if in_array {
            format!("items of `{key}`")
        } else {
            format!("`{key}`")
        };
        let verb = if in_array { "must each be" } else { "must be" };
        match (&expect, value.get_mut()) {
            (Expect::Any, _) => true,
            (Expect::Table(schema), DeValue::Table(table)) => {
                let child = if in_array {
                    place.clone()
                } else {
                    place.child(key)
                };
                self.table(schema, table, span, &child);
                true
            }
            (Expect::Array(items), DeValue::Array(array)) => {
                let Some(items) = items else { return true };
                let child = place.child(key);
                let tables = matches!(self.expect(items), Expect::Table(_));
                let mut keep = Vec::with_capacity(array.len());
                for (index, item) in array.iter_mut().enumerate() {
                    let ok = if tables {
                        // An array of tables: each item is a table in its own place (a step).
                        let id = item
                            .get_ref()
                            .as_table()
                            .and_then(|t| t.get("id"))
                            .and_then(|v| v.get_ref().as_str())
                            .map(str::to_owned);
                        let mut item_place = child.clone();
                        item_place.item = Some((index, id));
                        self.value(items, key, true, item, &item_place)
                    } else {
                        self.value(items, key, true, item, place)
                    };
                    keep.push(ok);
                }
                if keep.iter().any(|k| !k) {
                    let taken = std::mem::replace(array, toml::de::DeArray::new());
                    *array = taken
                        .into_iter()
                        .zip(keep)
                        .filter(|(_, k)| *k)
                        .map(|(v, _)| v)
                        .collect();
                }
                true
            }
            (Expect::String, DeValue::String(_)) | (Expect::Boolean, DeValue::Boolean(_)) => true,
            (Expect::Integer { min, max }, DeValue::Integer(n)) => {
                let parsed = i128::from_str_radix(n.as_str(), n.radix()).ok();
                let in_range = parsed
                    .is_some_and(|v| min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m));
                if in_range {
                    return true;
                }
                let range = match (min, max) {
                    (Some(a), Some(b)) => format!("from {a} to {b}"),
                    (Some(a), None) => format!("at least {a}"),
                    (None, Some(b)) => format!("at most {b}"),
                    (None, None) => "an integer".into(),
                };
                let hint = self
                    .description(schema)
                    .unwrap_or_else(|| "use a smaller number".into());
                self.diagnostics.push(self.file.error(
                    Code::WrongType,
                    span,
                    format!("{what} in {} {verb} {range}, not {n}", place.describe()),
                    hint,
                ));
                false
            }
            (Expect::Choice(choices), DeValue::String(s)) => {
                if choices.contains(&s.as_ref()) {
                    return true;
                }
                let hint = format!(
                    "{}expected one of: {}",
                    did_you_mean_prefix(s, choices.iter().copied()),
                    list(choices.iter().copied())
                );
                self.diagnostics.push(self.file.error(
                    Code::BadEnumValue,
                    span,
                    format!("bad value `{s}` for {what} in {}", place.describe()),
                    hint,
                ));
                false
            }
            (_, other) => {
                let dotted = place.child(key).keys.join(".");
                let hint = match (&expect, &*other) {
                    (Expect::Table(_), DeValue::Array(_)) if in_array => {
                        format!("write each entry as a [[{dotted}]] table followed by its keys")
                    }
                    (Expect::Array(_), DeValue::Table(_)) => {
                        format!("write each entry as [[{dotted}]] (double brackets)")
                    }
                    (Expect::Table(_), DeValue::Array(_)) => {
                        format!("write the table as [{dotted}] (single brackets)")
                    }
                    (
                        Expect::String,
                        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_),
                    ) => match self.description(schema) {
                        Some(doc) => format!("put the value in quotes; {doc}"),
                        None => format!("put the value in quotes: \"{}\"", self.file.slice(&span)),
                    },
                    _ => self
                        .description(schema)
                        .unwrap_or_else(|| format!("use {}", expect.describe())),
                };
                self.diagnostics.push(self.file.error(
                    Code::WrongType,
                    span,
                    format!(
                        "{what} in {} {verb} {}, not {}",
                        place.describe(),
                        expect.describe(),
                        found(other)
                    ),
                    hint,
                ));
                false
            }
        }
    }

    fn table(
        &mut self,
        schema: &'s Value,
        table: &mut DeTable<'_>,
        span: std::ops::Range<usize>,
        place: &Place<'_>,
    ) {
        let schema = self.resolve(schema);
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties").filter(|a| a.is_object());
        let mut remove: Vec<String> = Vec::new();
        for (key, value) in table.iter_mut() {
            let name: &str = key.get_ref().as_ref();
            let keep = match (properties.and_then(|p| p.get(name)), additional) {
                (Some(property), _) => self.value(property, name, false, value, place),
                (None, Some(additional)) => self.value(additional, name, false, value, place),
                (None, None) => {
                    let known: Vec<&str> = properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    self.diagnostics.push(self.file.error(
                        Code::UnknownKey,
                        key.span(),
                        format!("unknown key `{name}` in {}", place.describe()),
                        format!(
                            "{}keys here are: {}",
                            did_you_mean_prefix(name, known.iter().copied()),
                            list(known.iter().copied())
                        ),
                    ));
                    false
                }
            };
            if !keep {
                remove.push(name.to_owned());
            }
        }
        for key in &remove {
            table.remove(key.as_str());
        }
        let required = schema.get("required").and_then(Value::as_array);
        for name in required.into_iter().flatten().filter_map(Value::as_str) {
            if table.get(name).is_some() || remove.iter().any(|r| r == name) {
                continue;
            }
            let doc = properties
                .and_then(|p| p.get(name))
                .and_then(|p| self.description(p));
            self.diagnostics.push(self.file.error(
                Code::MissingKey,
                span.clone(),
                format!("missing required key `{name}` in {}", place.describe()),
                match doc {
                    Some(doc) => format!("add `{name} = ...`: {doc}"),
                    None => format!("add `{name} = ...`"),
                },
            ));
        }
    }
}
