//! JSON Schemas of the runbook and drill formats, generated from the raw types.
//!
//! Two flavours: the *shape* schema (exactly the raw types) drives `shape.rs`; the published
//! schema (`drctl schema`) adds, for editors, the action names and each action's parameters,
//! which the validator checks itself to give better messages.

use std::sync::OnceLock;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::actions::spec::{CATALOGUE, ParamType};

use super::raw::{RawDrill, RawRunbook};

/// The published JSON Schema of runbook files.
pub fn runbook_schema() -> Value {
    let mut schema = generate::<RawRunbook>();
    add_action_catalogue(&mut schema);
    schema
}

/// The published JSON Schema of drill files.
pub fn drill_schema() -> Value {
    generate::<RawDrill>()
}

/// The schema the shape check walks for runbooks.
pub(crate) fn runbook_shape() -> &'static Value {
    static SHAPE: OnceLock<Value> = OnceLock::new();
    SHAPE.get_or_init(generate::<RawRunbook>)
}

/// The schema the shape check walks for drills.
pub(crate) fn drill_shape() -> &'static Value {
    static SHAPE: OnceLock<Value> = OnceLock::new();
    SHAPE.get_or_init(generate::<RawDrill>)
}

fn generate<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut value = generator.into_root_schema_for::<T>().to_value();
    strip_null(&mut value);
    value
}

/// TOML has no null: the raw types' `Option`s mean "may be absent", which `required` already
/// says, so `null` alternatives are removed to keep the schema honest for TOML editors.
fn strip_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = map.get_mut("anyOf") {
                options.retain(|o| o.get("type").and_then(Value::as_str) != Some("null"));
                if options.len() == 1 {
                    let Some(Value::Object(only)) = map
                        .remove("anyOf")
                        .and_then(|mut a| a.as_array_mut().map(|v| v.remove(0)))
                    else {
                        return;
                    };
                    for (k, v) in only {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// The JSON Schema of one parameter type.
fn param_schema(ty: ParamType, doc: &str) -> Value {
    let mut schema = match ty {
        ParamType::String => json!({"type": "string"}),
        ParamType::Integer => json!({"type": "integer", "minimum": 0}),
        ParamType::Bool => json!({"type": "boolean"}),
        ParamType::Duration => json!({"type": "string", "pattern": DURATION_PATTERN}),
        ParamType::StringList => json!({"type": "array", "items": {"type": "string"}}),
        ParamType::CountMap => {
            json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}})
        }
        ParamType::Region => json!({"type": "string"}),
        ParamType::Enum(values) => json!({"type": "string", "enum": values}),
    };
    schema["description"] = Value::String(doc.to_owned());
    schema
}

const DURATION_PATTERN: &str = "^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$";

/// Adds `enum` to `action` and an `if action == X then with: {X's parameters}` per action.
fn add_action_catalogue(schema: &mut Value) {
    let Some(step) = schema.pointer_mut("/$defs/RawStep") else {
        return;
    };
    let names: Vec<&str> = CATALOGUE.iter().map(|a| a.name).collect();
    if let Some(action) = step.pointer_mut("/properties/action") {
        action["enum"] = json!(names);
    }
    for key in ["timeout"] {
        if let Some(p) = step.pointer_mut(&format!("/properties/{key}")) {
            p["pattern"] = json!(DURATION_PATTERN);
        }
    }
    let rules: Vec<Value> = CATALOGUE
        .iter()
        .map(|spec| {
            let properties: Map<String, Value> = spec
                .params
                .iter()
                .map(|p| (p.name.to_owned(), param_schema(p.ty, p.doc)))
                .collect();
            let required: Vec<&str> = spec
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name)
                .collect();
            let with = json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            });
            let mut then = json!({"properties": {"with": with}});
            if !required.is_empty() {
                then["required"] = json!(["with"]);
            }
            json!({
                "if": {"properties": {"action": {"const": spec.name}}, "required": ["action"]},
                "then": then,
            })
        })
        .collect();
    step["allOf"] = Value::Array(rules);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_schemas_have_no_nulls() {
        let text = runbook_shape().to_string() + &drill_shape().to_string();
        assert!(!text.contains("null"), "{text}");
    }

    #[test]
    fn published_schema_lists_actions() {
        let schema = runbook_schema();
        let actions = schema
            .pointer("/$defs/RawStep/properties/action/enum")
            .unwrap();
        assert_eq!(actions.as_array().unwrap().len(), CATALOGUE.len());
    }
}
