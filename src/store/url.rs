//! What `--state` (or `DRCTL_STATE`, or `state` in drctl.toml) names: a local directory or a
//! DynamoDB table.

/// A `--state` value that names no store; the message says the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StateUrlError(pub String);

/// What `--state` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateUrl {
    /// A local directory.
    Local(std::path::PathBuf),
    /// A DynamoDB table; the region defaults to the global `--region`.
    Dynamo {
        table: String,
        region: Option<String>,
    },
}

impl StateUrl {
    /// Parse `dynamodb://TABLE[?region=REGION]`, `file://DIR` or a directory path.
    pub fn parse(text: &str) -> Result<Self, StateUrlError> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("dynamodb://") {
            let (table, query) = rest.split_once('?').unwrap_or((rest, ""));
            let table = table.trim_end_matches('/');
            let valid = (3..=255).contains(&table.len())
                && table
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid {
                return Err(StateUrlError(format!(
                    "`{text}`: a DynamoDB table name has 3 to 255 letters, digits, `_`, `-` or `.`; e.g. dynamodb://drctl-state?region=us-west-2"
                )));
            }
            let mut region = None;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("region", r)) if !r.is_empty() => region = Some(r.to_string()),
                    _ => {
                        return Err(StateUrlError(format!(
                            "`{text}`: unknown setting `{pair}`; the only one is region=REGION, e.g. dynamodb://{table}?region=us-west-2"
                        )));
                    }
                }
            }
            return Ok(StateUrl::Dynamo {
                table: table.to_string(),
                region,
            });
        }
        if let Some(dir) = text.strip_prefix("file://") {
            return Ok(StateUrl::Local(dir.into()));
        }
        if text.contains("://") {
            return Err(StateUrlError(format!(
                "`{text}`: a state store is a directory or dynamodb://TABLE?region=REGION"
            )));
        }
        if text.is_empty() {
            return Err(StateUrlError(
                "an empty --state; give a directory or dynamodb://TABLE?region=REGION".into(),
            ));
        }
        Ok(StateUrl::Local(text.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_urls_parse_and_bad_ones_say_the_fix() {
        assert_eq!(
            StateUrl::parse("dynamodb://drctl-state?region=us-west-2").unwrap(),
            StateUrl::Dynamo {
                table: "drctl-state".into(),
                region: Some("us-west-2".into())
            }
        );
        assert_eq!(
            StateUrl::parse("dynamodb://t_1.x").unwrap(),
            StateUrl::Dynamo {
                table: "t_1.x".into(),
                region: None
            }
        );
        assert_eq!(
            StateUrl::parse("/var/lib/drctl").unwrap(),
            StateUrl::Local("/var/lib/drctl".into())
        );
        assert_eq!(
            StateUrl::parse("file://.drctl").unwrap(),
            StateUrl::Local(".drctl".into())
        );
        let bad = StateUrl::parse("dynamodb://x?region=us-west-2").unwrap_err();
        assert!(bad.to_string().contains("3 to 255"), "{bad}");
        let bad = StateUrl::parse("dynamodb://drctl?regoin=us-west-2").unwrap_err();
        assert!(
            bad.to_string()
                .contains("unknown setting `regoin=us-west-2`"),
            "{bad}"
        );
        let bad = StateUrl::parse("s3://bucket").unwrap_err();
        assert!(bad.to_string().contains("dynamodb://TABLE"), "{bad}");
    }
}
