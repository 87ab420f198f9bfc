//! The runbook and drill file formats exactly as written: serde types with byte spans, before
//! any meaning is checked. These types are the single definition of the formats: the JSON Schema
//! (`drctl schema`) is generated from them, and the shape check (`shape.rs`) walks that schema,
//! so a key added here is known everywhere at once.
//!
//! Every key is optional at the serde level (even the required ones, which the schema marks
//! `required`): the shape check reports a missing key with its position and a hint, and the
//! validator can still look at the rest of the file, so one missing `id` does not hide every
//! other mistake.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A value with the byte range it came from in the source file.
#[derive(Debug, Clone)]
pub struct Sp<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_spanned::Spanned::<T>::deserialize(d)?;
        let span = spanned.span();
        Ok(Sp {
            value: spanned.into_inner(),
            span,
        })
    }
}

// The schema of a spanned value is the schema of the value: positions are not part of the format.
impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<T: PartialEq> PartialEq for Sp<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Borrow<str> for Sp<String> {
    fn borrow(&self) -> &str {
        &self.value
    }
}

/// A TOML table of string keys to `V`, in key order, keeping every key's and value's span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpMap<V>(pub Vec<(Sp<String>, Sp<V>)>);

impl<V> SpMap<V> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Sp<String>, Sp<V>)> {
        self.0.iter()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SpMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = SpMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Sp<String>>()? {
                    let value = map.next_value::<Sp<V>>()?;
                    entries.push((key, value));
                }
                Ok(SpMap(entries))
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for SpMap<V> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let values = generator.subschema_for::<V>();
        json_schema!({ "type": "object", "additionalProperties": values })
    }
}

/// A runbook file (`runbooks/*.toml`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "drctl runbook",
    description = "A disaster-recovery runbook: named steps, each an action with parameters, linked by `after` into a graph. See docs/runbook-reference.md."
)]
pub struct RawRunbook {
    /// Runbook name: lowercase letters, digits and `-`, e.g. "region-failover".
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    /// One line saying what the runbook recovers from.
    pub description: Option<Sp<String>>,
    /// Named regions used by steps: name = AWS region code, e.g. recovery = "us-west-2".
    pub regions: Option<Sp<SpMap<String>>>,
    /// Recovery objectives the runbook is meant to meet.
    pub targets: Option<Sp<RawTargets>>,
    /// Variables for `${vars.NAME}` in step parameters (string values only).
    pub vars: Option<Sp<SpMap<String>>>,
    /// The steps, as `[[steps]]` tables; they run in dependency (`after`) order, not file order.
    pub steps: Option<Sp<Vec<Sp<RawStep>>>>,
}

/// Recovery time and recovery point objectives.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    /// Recovery time objective: longest acceptable time from the incident to recovery, e.g. "30m".
    pub rto: Option<Sp<String>>,
    /// Recovery point objective: most data (as time) you accept to lose, e.g. "5m".
    pub rpo: Option<Sp<String>>,
}

/// One `[[steps]]` table.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Step id, unique in the runbook: lowercase letters, digits, `_` and `-`, starting with a letter or digit.
    #[schemars(required)]
    pub id: Option<Sp<String>>,
    /// What the step is for, shown in plans and reports.
    pub description: Option<Sp<String>>,
    /// The action to run, e.g. "backup.restore_efs" (see docs/runbook-reference.md for the catalogue).
    #[schemars(required)]
    pub action: Option<Sp<String>>,
    /// Name of a region in [regions] the action runs in; required by every action that calls AWS.
    pub region: Option<Sp<String>>,
    /// Ids of the steps that must succeed before this one starts.
    pub after: Option<Sp<Vec<Sp<String>>>>,
    /// Longest time the step may take (each attempt), e.g. "20m".
    pub timeout: Option<Sp<String>>,
    /// Whether the step's success is a recovery check that marks the service recovered (default: the action's).
    pub verify: Option<Sp<bool>>,
    /// How often to try the step before giving up.
    pub retry: Option<Sp<RawRetry>>,
    /// How the step behaves in drills.
    pub drill: Option<Sp<RawStepDrill>>,
    /// The action's parameters; strings may use ${vars.NAME}, ${regions.NAME} and ${steps.ID.OUTPUT}.
    pub with: Option<Sp<SpMap<ParamValue>>>,
}

/// A step's retry policy.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Total attempts, at least 1 (default 1: no retry).
    pub attempts: Option<Sp<u32>>,
    /// Pause between attempts, e.g. "10s" (default "5s").
    pub backoff: Option<Sp<String>>,
}

/// A step's behaviour in drills.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStepDrill {
    /// Do not run this step in drills (default false).
    pub skip: Option<Sp<bool>>,
}

/// A drill file (`drills/*.toml`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "drctl drill",
    description = "A drill: which runbook to rehearse, in which isolation mode, against which targets, on which schedule. See docs/runbook-reference.md."
)]
pub struct RawDrill {
    /// Drill name: lowercase letters, digits and `-`, e.g. "monthly".
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    /// What the drill simulates.
    pub description: Option<Sp<String>>,
    /// Path of the runbook to rehearse, relative to this drill file.
    #[schemars(required)]
    pub runbook: Option<Sp<String>>,
    /// isolated (default): recover into drill copies, leave production alone; live: really fail over.
    pub mode: Option<Sp<RawMode>>,
    /// When the drill runs, as an EventBridge expression: "rate(30 days)" or "cron(0 6 1 * ? *)".
    pub schedule: Option<Sp<String>>,
    /// Targets for this drill; each one given overrides the runbook's.
    pub targets: Option<Sp<RawTargets>>,
    /// Overrides of the runbook's [vars] for this drill.
    pub vars: Option<Sp<SpMap<String>>>,
}

/// How a drill touches production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawMode {
    /// Recover into drill copies (new file systems, drill records); production keeps serving.
    Isolated,
    /// Really fail over, as in a disaster; use for the yearly game day.
    Live,
}

/// A value in a step's `[steps.with]` table, any TOML type: the action's parameter list says
/// which type is right, and the validator checks it with a message naming the parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    String(String),
    Integer(i128),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Sp<ParamValue>>),
    /// Keys of nested tables carry no span: only whole values are pointed at.
    Table(Vec<(String, Sp<ParamValue>)>),
}

impl ParamValue {
    /// How the value's type reads in diagnostics.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            ParamValue::String(_) => "a string",
            ParamValue::Integer(_) => "an integer",
            ParamValue::Float(_) => "a float",
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Datetime(_) => "a date-time",
            ParamValue::Array(_) => "an array",
            ParamValue::Table(_) => "a table",
        }
    }
}

// toml hands a date-time to a visitor as a one-entry map under this key.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a TOML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue::Integer(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue::Integer(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<ParamValue, E> {
                Ok(ParamValue::Integer(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<ParamValue, E> {
                Ok(ParamValue::Integer(i128::try_from(v).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Sp<ParamValue>>()? {
                    items.push(item);
                }
                Ok(ParamValue::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamValue, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == TOML_DATETIME_KEY && entries.is_empty() {
                        let text = map.next_value::<String>()?;
                        return Ok(ParamValue::Datetime(text));
                    }
                    let value = map.next_value::<Sp<ParamValue>>()?;
                    entries.push((key, value));
                }
                Ok(ParamValue::Table(entries))
            }
        }
        d.deserialize_any(ValueVisitor)
    }
}

impl JsonSchema for ParamValue {
    fn schema_name() -> Cow<'static, str> {
        "ParamValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A parameter value; its type depends on the action (see docs/runbook-reference.md)."
        })
    }
}
