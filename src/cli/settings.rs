//! Global flags resolved once into the settings every command reads: AWS connection choices,
//! the output format (checked against what each command supports), the state directory,
//! verbosity, and whether stderr gets colour (`NO_COLOR`, terminal detection).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{GlobalArgs, OutputFormat};
use super::exit::UsageError;

/// What every command needs to know about how drctl was called.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// `--output` as given; commands resolve it with [`Settings::output`].
    pub output: Option<OutputFormat>,
    pub state_dir: PathBuf,
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
    pub fn from_args(global: &GlobalArgs) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Settings {
            profile: global.profile.clone(),
            region: global.region.clone(),
            endpoint_url: global.endpoint_url.clone().filter(|u| !u.is_empty()),
            output: global.output,
            state_dir: global.state_dir.clone(),
            verbosity: if global.quiet {
                -1
            } else {
                i8::try_from(global.verbose).unwrap_or(i8::MAX)
            },
            color: !no_color && std::io::stderr().is_terminal(),
            notify_topic: global.notify.clone().filter(|t| !t.is_empty()),
            emf: global.emf,
        }
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

    pub fn quiet(&self) -> bool {
        self.verbosity < 0
    }
}
