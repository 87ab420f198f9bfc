//! The stable diagnostic codes (`DR001`…). A code names one kind of mistake forever: tooling and
//! people search for it, so codes are never renumbered or reused; a retired code stays reserved.

use std::fmt;

macro_rules! codes {
    ($( $variant:ident = $num:literal, $text:literal, $title:literal; )*) => {
        /// One kind of problem in a runbook or drill file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( #[doc = $title] $variant, )*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[$( Code::$variant, )*];

            /// The code as printed: `DR012`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $text, )* }
            }

            /// The code's number.
            pub fn number(self) -> u16 {
                match self { $( Code::$variant => $num, )* }
            }

            /// One line saying what kind of problem the code names (for docs).
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }

            /// The code printed as `text` (`"DR012"`), if there is one.
            pub fn parse(text: &str) -> Option<Code> {
                match text { $( $text => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

codes! {
    TomlSyntax = 1, "DR001", "the file is not valid TOML";
    UnknownKey = 2, "DR002", "a key the format does not have";
    MissingKey = 3, "DR003", "a required key is missing";
    WrongType = 4, "DR004", "a key's value has the wrong type";
    InvalidName = 5, "DR005", "a runbook, drill, step, region or variable name has characters it may not have";
    UnknownAction = 6, "DR006", "`action` names no action in the catalogue";
    UnknownParam = 7, "DR007", "a `[steps.with]` parameter the action does not take";
    MissingParam = 8, "DR008", "a required parameter of the action is missing";
    WrongParamType = 9, "DR009", "a parameter value has the wrong type for the action";
    BadEnumValue = 10, "DR010", "a value that is not one of the allowed choices";
    DuplicateStep = 11, "DR011", "two steps have the same id";
    UnknownDependency = 12, "DR012", "`after` names a step that does not exist";
    SelfDependency = 13, "DR013", "a step lists itself in `after`";
    DependencyCycle = 14, "DR014", "steps depend on each other in a cycle";
    UndefinedVar = 15, "DR015", "`${vars.NAME}` names a variable not in [vars]";
    UndefinedRegionRef = 16, "DR016", "`${regions.NAME}` names a region not in [regions]";
    UnknownStepRef = 17, "DR017", "`${steps.ID.OUTPUT}` names a step that does not exist";
    UnknownOutputRef = 18, "DR018", "`${steps.ID.OUTPUT}` names an output the step's action does not have";
    NotAncestorRef = 19, "DR019", "`${steps.ID.OUTPUT}` names a step that does not run before this one";
    MalformedInterpolation = 20, "DR020", "a `${...}` reference is malformed";
    BadDuration = 21, "DR021", "a duration that cannot be read";
    UnknownRegion = 22, "DR022", "a region name that is not in [regions]";
    UnexpectedRegion = 23, "DR023", "`region` given for an action that does not call a regional AWS API";
    MissingRegion = 24, "DR024", "`region` missing for an action that calls AWS";
    BadRegionCode = 25, "DR025", "a value in [regions] is not shaped like an AWS region code";
    BadTarget = 26, "DR026", "an RTO or RPO target that is not a positive duration";
    ZeroAttempts = 27, "DR027", "`retry.attempts` is 0";
    MissingRunbook = 28, "DR028", "a drill's `runbook` file does not exist";
    BadSchedule = 29, "DR029", "a drill's `schedule` is not a valid rate() or cron() expression";
    UnknownVarOverride = 30, "DR030", "a variable override (drill [vars] or --var) names a variable the runbook does not declare";
    EmptyRunbook = 31, "DR031", "the runbook has no steps";
    InvalidUtf8 = 32, "DR032", "the file is not valid UTF-8";
    Unreadable = 33, "DR033", "the file cannot be read";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_numbered_in_order_without_gaps() {
        for (i, code) in Code::ALL.iter().enumerate() {
            assert_eq!(usize::from(code.number()), i + 1);
            assert_eq!(code.as_str(), format!("DR{:03}", i + 1));
            assert_eq!(Code::parse(code.as_str()), Some(*code));
        }
    }
}
