//! The action catalogue as plain data: every action's parameters, outputs, IAM actions and
//! planning estimate. The runbook validator reads it to reject unknown, missing or mistyped
//! parameters; `drctl iam-policy` reads it for the least-privilege policy; the planner reads
//! the estimates. This file declares the types; each action declares its own entry beside
//! its behaviour (its module's `SPEC`, reachable as `TypedAction::SPEC`), and `registry.rs`
//! lists them in [`CATALOGUE`]. A test checks that each action's `Params` reads exactly the
//! parameters its entry declares, so the two cannot drift apart.

/// The type a parameter value must have in a runbook's `[steps.with]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Any string (after `${...}` interpolation).
    String,
    /// A non-negative integer.
    Integer,
    /// `true` or `false`.
    Bool,
    /// A human duration string such as `90s`, `20m`, `1h30m`.
    Duration,
    /// An array of strings.
    StringList,
    /// A table of string keys to non-negative integers (e.g. ECS service -> desired count).
    CountMap,
    /// The name of a region declared in the runbook's `[regions]` table.
    Region,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
}

impl ParamType {
    /// How the type reads in diagnostics and docs.
    pub fn describe(&self) -> String {
        match self {
            ParamType::String => "a string".into(),
            ParamType::Integer => "a non-negative integer".into(),
            ParamType::Bool => "true or false".into(),
            ParamType::Duration => "a duration such as \"90s\" or \"20m\"".into(),
            ParamType::StringList => "an array of strings".into(),
            ParamType::CountMap => "a table of names to non-negative integers".into(),
            ParamType::Region => "the name of a region in [regions]".into(),
            ParamType::Enum(values) => format!("one of {}", values.join(", ")),
        }
    }
}

/// One parameter of an action.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
    pub required: bool,
    /// Default used when the parameter is absent (as the runbook would spell it).
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

/// One output of an action, referable as `${steps.<id>.<name>}` by descendant steps.
#[derive(Debug, Clone, Copy)]
pub struct OutputSpec {
    pub name: &'static str,
    pub doc: &'static str,
}

/// Whether a step of this action names a region (`region = "recovery"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionUse {
    /// The action talks to AWS in one region: the step must say which.
    Required,
    /// The action does not call a regional AWS API (probes, approvals, hooks).
    None,
}

/// Everything drctl knows about an action without running it.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    pub outputs: &'static [OutputSpec],
    /// IAM actions the action may call (including its done-check and drill undo).
    pub iam: &'static [&'static str],
    /// Planning estimate of a typical run, used for the predicted duration and critical path.
    pub estimate_secs: u64,
    /// Whether the action changes AWS state (and so needs the journal, confirmation, dry-run).
    pub mutating: bool,
    /// Whether a step of this action is, by default, a recovery check whose success marks
    /// T_recovered (DESIGN.md section 2). A step can override this with `verify = true|false`.
    pub verification: bool,
    /// Whether the action yields RPO evidence for a recovered data resource.
    pub rpo_evidence: bool,
    pub region: RegionUse,
}

impl ActionSpec {
    /// The parameter called `name`, if the action has one.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The output called `name`, if the action has one.
    pub fn output(&self, name: &str) -> Option<&'static OutputSpec> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

pub(crate) const fn req(name: &'static str, ty: ParamType, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: true,
        default: None,
        doc,
    }
}

pub(crate) const fn opt(name: &'static str, ty: ParamType, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: false,
        default: None,
        doc,
    }
}

pub(crate) const fn dflt(
    name: &'static str,
    ty: ParamType,
    default: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: false,
        default: Some(default),
        doc,
    }
}

pub(crate) const fn out(name: &'static str, doc: &'static str) -> OutputSpec {
    OutputSpec { name, doc }
}

/// Every action's entry, in the order of DESIGN.md section 5 (built from the registry).
pub use super::registry::CATALOGUE;

/// The action called `name`.
pub fn lookup(name: &str) -> Option<&'static ActionSpec> {
    CATALOGUE.iter().find(|a| a.name == name).copied()
}

/// Every action name, for "did you mean" hints and docs.
pub fn names() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().map(|a| a.name)
}
