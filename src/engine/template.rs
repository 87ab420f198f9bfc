//! Step parameters as the engine gets them: compiled once, when the runbook is planned
//! (`runbook::compile`), into literal values and [`Template`]s of literal text and step
//! outputs. When a step starts, the scheduler resolves its templates against the outputs
//! of the steps that already succeeded; nothing is parsed while a run is going.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Every succeeded step's outputs: step id -> output name -> value.
pub type Outputs = BTreeMap<String, BTreeMap<String, String>>;

/// A reference to another step's output, `${steps.<step>.<output>}` in a runbook.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutputRef {
    pub step: String,
    pub output: String,
}

impl std::fmt::Display for OutputRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${{steps.{}.{}}}", self.step, self.output)
    }
}

/// One part of a string parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text as it is (no escapes left).
    Literal(String),
    /// Another step's output, filled in when this step starts.
    Output(OutputRef),
}

/// A string parameter: its parts, concatenated when the step starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A step output a template needs is not there (its step has not produced it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not available: step `{step}` has not produced output `{output}`", step = .0.step, output = .0.output)]
pub struct MissingOutput(pub OutputRef);

impl Template {
    /// A template of these parts.
    pub fn new(parts: Vec<Part>) -> Template {
        Template { parts }
    }

    /// A template that is only `text`.
    pub fn literal(text: impl Into<String>) -> Template {
        Template::new(vec![Part::Literal(text.into())])
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The text with every step output filled in from `outputs`.
    pub fn resolve(&self, outputs: &Outputs) -> Result<String, MissingOutput> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Output(r) => match outputs.get(&r.step).and_then(|o| o.get(&r.output)) {
                    Some(value) => out.push_str(value),
                    None => return Err(MissingOutput(r.clone())),
                },
            }
        }
        Ok(out)
    }

    /// The template as a runbook writes it (`$$` for a literal `$`, `${steps.ID.OUTPUT}`
    /// for an output), for what is shown before the outputs exist (dry runs).
    pub fn canonical(&self) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => text.replace('$', "$$"),
                Part::Output(r) => r.to_string(),
            })
            .collect()
    }
}

/// One compiled parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A string that may hold step outputs.
    Text(Template),
    /// A list of such strings.
    List(Vec<Template>),
    /// Anything else (numbers, booleans, durations in milliseconds, count tables), as the
    /// action reads it.
    Value(Value),
}

impl Param {
    fn resolve(&self, outputs: &Outputs) -> Result<Value, MissingOutput> {
        Ok(match self {
            Param::Text(t) => Value::String(t.resolve(outputs)?),
            Param::List(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.resolve(outputs).map(Value::String))
                    .collect::<Result<_, _>>()?,
            ),
            Param::Value(v) => v.clone(),
        })
    }

    fn canonical(&self) -> Value {
        match self {
            Param::Text(t) => Value::String(t.canonical()),
            Param::List(items) => {
                Value::Array(items.iter().map(|t| Value::String(t.canonical())).collect())
            }
            Param::Value(v) => v.clone(),
        }
    }
}

/// A step's parameters, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepParams {
    params: BTreeMap<String, Param>,
}

impl StepParams {
    /// Parameters that hold no step outputs: each value is passed to the action as it is.
    pub fn literal(values: Map<String, Value>) -> StepParams {
        StepParams {
            params: values
                .into_iter()
                .map(|(name, value)| (name, Param::Value(value)))
                .collect(),
        }
    }

    pub fn insert(&mut self, name: impl Into<String>, param: Param) {
        self.params.insert(name.into(), param);
    }

    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.get(name)
    }

    /// The values the action gets, with every step output filled in from `outputs`.
    pub fn resolve(&self, outputs: &Outputs) -> Result<Map<String, Value>, MissingOutput> {
        self.params
            .iter()
            .map(|(name, p)| Ok((name.clone(), p.resolve(outputs)?)))
            .collect()
    }

    /// The values with step outputs left as the runbook writes them (dry runs, and the
    /// context of an undo, which works from its undo record instead).
    pub fn unresolved(&self) -> Map<String, Value> {
        self.params
            .iter()
            .map(|(name, p)| (name.clone(), p.canonical()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(step: &str, output: &str) -> Part {
        Part::Output(OutputRef {
            step: step.into(),
            output: output.into(),
        })
    }

    #[test]
    fn templates_resolve_outputs_and_name_a_missing_one() {
        let t = Template::new(vec![
            Part::Literal("id=".into()),
            output("restore", "file_system_id"),
            Part::Literal(" cost $5".into()),
        ]);
        let outputs = Outputs::from([(
            "restore".to_string(),
            BTreeMap::from([("file_system_id".to_string(), "fs-1".to_string())]),
        )]);
        assert_eq!(t.resolve(&outputs).unwrap(), "id=fs-1 cost $5");
        assert_eq!(t.canonical(), "id=${steps.restore.file_system_id} cost $$5");
        let err = Template::new(vec![output("missing", "x")])
            .resolve(&outputs)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`${steps.missing.x}` is not available: step `missing` has not produced output `x`"
        );
    }
}
