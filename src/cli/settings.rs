//! Global flags resolved once into the settings every command reads: AWS connection choices,
//! the output format (checked against what each command supports), the state directory,
//! verbosity, and whether stderr gets colour (`NO_COLOR`, terminal detection).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{GlobalArgs, OutputFormat};
use super::exit::UsageError;
use crate::aws::AwsSettings;
use crate::runner::Announcements;
use crate::store::{DynamoStore, LocalStore, SharedStore, StateUrl};

/// What every command needs to know about how drctl was called.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// `--output` as given; commands resolve it with [`Settings::output`].
    pub output: Option<OutputFormat>,
    pub state_dir: PathBuf,
    /// `--state`: the state store (default: the local `state_dir`).
    pub state: Option<StateUrl>,
    /// -1 quiet, 0 default, 1.. more.
    pub verbosity: i8,
    /// ANSI colour on stderr.
    pub color: bool,
    /// `--notify`: the SNS topic ARN that run notifications go to.
    pub notify_topic: Option<String>,
    /// `--emf`: print an Embedded Metric Format line on stderr after a run.
    pub emf: bool,
}

impl Settings {
    /// The global flags, with the configuration file's values where a flag (or its
    /// variable) is not given.
    pub fn from_args(global: &GlobalArgs) -> Result<Self, UsageError> {
        let config = super::config::load(global.config.as_deref())?;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ok(Settings {
            profile: global.profile.clone().or(config.profile),
            region: global.region.clone().or(config.region),
            endpoint_url: global.endpoint_url.clone().filter(|u| !u.is_empty()),
            output: global.output,
            state_dir: global.state_dir.clone(),
            state: global.state.clone().or(config.state),
            verbosity: if global.quiet {
                -1
            } else {
                i8::try_from(global.verbose).unwrap_or(i8::MAX)
            },
            color: !no_color && std::io::stderr().is_terminal(),
            // An empty --notify (or DRCTL_NOTIFY_TOPIC="") turns the file's topic off too.
            notify_topic: match &global.notify {
                Some(topic) => Some(topic.clone()).filter(|t| !t.is_empty()),
                None => config.notify,
            },
            emf: global.emf || config.emf,
        })
    }

    /// The output format for `command`, which accepts `allowed` (the first is its default).
    pub fn output(
        &self,
        command: &str,
        allowed: &[OutputFormat],
    ) -> Result<OutputFormat, UsageError> {
        match self.output {
            None => Ok(allowed[0]),
            Some(format) if allowed.contains(&format) => Ok(format),
            Some(format) => Err(UsageError(format!(
                "`drctl {command}` cannot write --output {}; it supports: {}",
                format.as_str(),
                allowed
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The AWS connection choices of the global flags.
    pub fn aws(&self) -> AwsSettings {
        AwsSettings {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            ..AwsSettings::default()
        }
    }

    /// The state store: `--state`, else the local `--state-dir`.
    pub fn store(&self) -> anyhow::Result<SharedStore> {
        if let Some(dynamo) = self.dynamo_store()? {
            return Ok(std::sync::Arc::new(dynamo));
        }
        Ok(match &self.state {
            Some(StateUrl::Local(dir)) => std::sync::Arc::new(LocalStore::new(dir)),
            _ => std::sync::Arc::new(LocalStore::new(&self.state_dir)),
        })
    }

    /// The DynamoDB store `--state` names, if it names one.
    pub fn dynamo_store(&self) -> anyhow::Result<Option<DynamoStore>> {
        Ok(match &self.state {
            Some(StateUrl::Dynamo { table, region }) => {
                let region = region
                    .clone()
                    .or_else(|| self.region.clone())
                    .or_else(|| std::env::var("AWS_REGION").ok())
                    .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
                    .ok_or_else(|| {
                        UsageError(format!(
                            "--state names table {table} but no region: add ?region=REGION (the recovery region), e.g. dynamodb://{table}?region=us-west-2"
                        ))
                    })?;
                Some(DynamoStore::connect(self.aws(), table, &region)?)
            }
            _ => None,
        })
    }

    /// How runs are announced: `--notify` and `--emf`.
    pub fn announcements(&self) -> Announcements {
        Announcements {
            notify_topic: self.notify_topic.clone(),
            emf: self.emf,
        }
    }

    pub fn quiet(&self) -> bool {
        self.verbosity < 0
    }
}
