//! The optional configuration file: defaults for the global flags a team shares, so that
//! every person and every scheduled run uses the same state store and topic without
//! repeating them. `--config FILE` (or `DRCTL_CONFIG`) names it; otherwise `drctl.toml` in the
//! current directory is read when it exists (in Lambda, the current directory is the
//! unpacked package). A flag or its environment variable always wins over the file.
//!
//! ```toml
//! state = "dynamodb://drctl-state?region=us-west-2"
//! notify = "arn:aws:sns:us-west-2:123456789012:dr-alerts"
//! region = "us-west-2"
//! profile = "dr"
//! emf = true
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::exit::UsageError;
use crate::store::StateUrl;

/// The file read when no `--config` is given.
pub const DEFAULT_CONFIG: &str = "drctl.toml";

/// What a configuration file may set.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub state: Option<String>,
    pub notify: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub emf: Option<bool>,
}

/// Checked values of a configuration file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub state: Option<StateUrl>,
    pub notify: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub emf: bool,
}

/// Read the configuration: `explicit` must exist; the default file is optional.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, UsageError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded::default());
        }
        Err(e) => {
            return Err(UsageError(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )));
        }
    };
    parse(&path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Loaded, UsageError> {
    let at = |span: Option<std::ops::Range<usize>>| {
        span.map(|s| {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{}:{line}:{col}", path.display())
        })
        .unwrap_or_else(|| path.display().to_string())
    };
    let raw: toml::Spanned<Config> = toml::from_str(text).map_err(|e| {
        UsageError(format!(
            "{}: {}; the keys are state, notify, region, profile and emf (see docs/operations.md)",
            at(e.span()),
            e.message()
        ))
    })?;
    let config = raw.into_inner();
    let bad = |key: &str, why: String| {
        let offset = text.find(&format!("{key} ")).or_else(|| text.find(key));
        UsageError(format!("{}: `{key}`: {why}", at(offset.map(|o| o..o))))
    };
    let state = config
        .state
        .as_deref()
        .map(StateUrl::parse)
        .transpose()
        .map_err(|e| bad("state", e.to_string()))?;
    if let Some(topic) = &config.notify
        && crate::runner::topic_region(topic).is_none()
    {
        return Err(bad(
            "notify",
            format!("`{topic}` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"),
        ));
    }
    Ok(Loaded {
        path: Some(path.to_path_buf()),
        state,
        notify: config.notify,
        region: config.region,
        profile: config.profile,
        emf: config.emf.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_sets_the_shared_defaults() {
        let loaded = parse(
            Path::new("drctl.toml"),
            "state = \"dynamodb://drctl-state?region=us-west-2\"\nnotify = \"arn:aws:sns:us-west-2:123456789012:dr\"\nemf = true\n",
        )
        .unwrap();
        assert_eq!(
            loaded.state,
            Some(StateUrl::Dynamo {
                table: "drctl-state".into(),
                region: Some("us-west-2".into())
            })
        );
        assert!(loaded.emf);
        assert_eq!(
            loaded.notify.as_deref(),
            Some("arn:aws:sns:us-west-2:123456789012:dr")
        );
    }

    #[test]
    fn mistakes_name_the_file_line_column_and_the_fix() {
        let err = parse(
            Path::new("drctl.toml"),
            "region = \"us-west-2\"\nstat = \"x\"\n",
        )
        .unwrap_err()
        .0;
        assert!(err.starts_with("drctl.toml:2:1: "), "{err}");
        assert!(err.contains("unknown field `stat`"), "{err}");
        assert!(err.contains("the keys are state, notify"), "{err}");
        let err = parse(Path::new("c.toml"), "region = \"x\"\nstate = \"s3://b\"\n")
            .unwrap_err()
            .0;
        assert!(err.starts_with("c.toml:2:1: `state`"), "{err}");
        assert!(err.contains("dynamodb://TABLE"), "{err}");
        let err = parse(Path::new("c.toml"), "notify = \"topic\"\n")
            .unwrap_err()
            .0;
        assert!(err.contains("not an SNS topic ARN"), "{err}");
        assert!(load(Some(Path::new("/nonexistent/drctl.toml"))).is_err());
    }
}
