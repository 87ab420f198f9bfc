//! Reading a step's parameters and undo record into an action's own types. A mistake names
//! the step and, for a parameter of the wrong type, the parameter:
//! `step restore: parameter `subnets`: invalid type: string "subnet-1", expected a sequence`.

use std::time::Duration;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess};
use serde_json::{Map, Value};

use super::context::StepContext;
use super::error::ActionError;

/// Walks a parameter map, remembering the key being read so an error can name it.
struct Tracked<'a, 'k> {
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
    key: &'k mut Option<&'a str>,
}

impl<'a> MapAccess<'a> for Tracked<'a, '_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                *self.key = Some(key);
                self.value = Some(value);
                seed.deserialize(BorrowedStrDeserializer::new(key))
                    .map(Some)
            }
            None => {
                *self.key = None;
                Ok(None)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(serde::de::Error::custom(
                "a parameter value without its name",
            )),
        }
    }
}

/// Parameters that do not read as the action's `Params`.
#[derive(Debug, thiserror::Error)]
enum ParamsError {
    /// A parameter of the wrong type (or an invalid value).
    #[error("parameter `{key}`: {source}")]
    Param {
        key: String,
        source: serde_json::Error,
    },
    /// An unknown or missing parameter (the message names it).
    #[error("parameters: {0}")]
    Set(serde_json::Error),
}

/// `params` as `P`; the error names the parameter being read when it failed.
fn decode<P: DeserializeOwned>(params: &Map<String, Value>) -> Result<P, ParamsError> {
    let mut key = None;
    let result = P::deserialize(MapAccessDeserializer::new(Tracked {
        entries: params.iter(),
        value: None,
        key: &mut key,
    }));
    result.map_err(|source| match key {
        // Unknown fields name themselves.
        Some(key) if !source.to_string().starts_with("unknown field") => ParamsError::Param {
            key: key.to_string(),
            source,
        },
        _ => ParamsError::Set(source),
    })
}

/// The step's parameters as the action's `Params`.
pub(crate) fn decode_params<P: DeserializeOwned>(ctx: &StepContext) -> Result<P, ActionError> {
    decode(&ctx.params)
        .map_err(|e| ActionError::fatal(format!("step {}", ctx.step_id), e.to_string()))
}

/// A journalled undo record as the action's undo type.
pub(crate) fn decode_undo<U: DeserializeOwned>(
    ctx: &StepContext,
    undo: &Value,
) -> Result<U, ActionError> {
    U::deserialize(undo).map_err(|e| {
        ActionError::fatal(
            format!("undo of step {}", ctx.step_id),
            format!("unreadable undo record: {e}"),
        )
    })
}

/// Duration parameters, which reach the action as milliseconds.
pub(crate) mod millis {
    use super::Duration;
    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Params {
        name: String,
        #[serde(with = "millis")]
        every: Duration,
        tags: Option<Vec<String>>,
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn parameters_decode_and_mistakes_name_the_parameter() {
        let ok: Params = decode(&map(json!({"name": "a", "every": 1500, "tags": null}))).unwrap();
        assert_eq!(ok.every, Duration::from_millis(1500));
        assert_eq!(ok.tags, None);
        let wrong = decode::<Params>(&map(json!({"name": "a", "every": "soon"})))
            .unwrap_err()
            .to_string();
        assert!(
            wrong.starts_with("parameter `every`: invalid type"),
            "{wrong}"
        );
        let unknown = decode::<Params>(&map(json!({"name": "a", "every": 1, "x": 1})))
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("unknown field `x`"), "{unknown}");
        let missing = decode::<Params>(&map(json!({"name": "a"})))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("missing field `every`"), "{missing}");
    }
}
