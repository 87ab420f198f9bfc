//! Variable overrides: a drill's `[vars]` and `--var NAME=VALUE` on the command line replace
//! a runbook's `[vars]` before `${vars.*}` is substituted. An override of a variable the runbook
//! does not declare is an error at the override, so a typo cannot silently leave the default.

use super::code::Code;
use super::diagnostic::Diagnostic;

/// One override, with where it was written for a diagnostic.
#[derive(Debug, Clone)]
pub(crate) struct VarOverride {
    pub(crate) name: String,
    pub(crate) value: String,
    /// How the override was given, for messages: "--var" or "the drill's [vars]".
    pub(crate) source: &'static str,
    /// A diagnostic located at the override; code, message and hint are filled in on use.
    pub(crate) origin: Diagnostic,
}

impl VarOverride {
    /// Overrides given as `--var` on the command line, applied in order.
    pub(crate) fn from_command_line<'a>(
        vars: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Vec<VarOverride> {
        vars.into_iter()
            .map(|(name, value)| VarOverride {
                name: name.clone(),
                value: value.clone(),
                source: "--var",
                origin: Diagnostic::without_position(
                    "command line",
                    Code::UnknownVarOverride,
                    "",
                    "",
                ),
            })
            .collect()
    }

    /// The diagnostic for an override of an undeclared variable.
    pub(crate) fn unknown(&self, message: String, hint: String) -> Diagnostic {
        Diagnostic {
            code: Code::UnknownVarOverride,
            message,
            hint,
            ..self.origin.clone()
        }
    }
}
