//! Raw drill → checked drill: name, runbook path (relative to the drill file), mode, schedule,
//! targets and variable overrides. Loading the runbook itself is `load.rs`'s job.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::code::Code;
use super::diagnostic::Diagnostic;
use super::model::{Isolation, Targets};
use super::overrides::VarOverride;
use super::raw::{RawDrill, RawMode};
use super::schedule::check_schedule;
use super::source::SourceFile;
use super::validate::Validator;

/// A drill whose own fields are checked.
pub(crate) struct CheckedDrill {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// The runbook file, when it exists.
    pub(crate) runbook_path: Option<PathBuf>,
    pub(crate) mode: Isolation,
    /// Only the targets the drill itself gives.
    pub(crate) targets: Targets,
    pub(crate) schedule: Option<String>,
    pub(crate) vars: BTreeMap<String, String>,
    /// The drill's `[vars]`, located in the drill file, to apply to the runbook.
    pub(crate) overrides: Vec<VarOverride>,
}

pub(crate) fn check_drill(
    raw: RawDrill,
    file: &SourceFile<'_>,
    drill_path: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> CheckedDrill {
    let mut v = Validator { file, diagnostics };
    if let Some(name) = &raw.name {
        v.name(name, "drill");
    }
    let targets = v.targets(raw.targets.as_ref());
    let mut runbook_path = None;
    if let Some(runbook) = &raw.runbook {
        let base = drill_path.parent().unwrap_or(Path::new(""));
        let path = normalize(&base.join(&runbook.value));
        if path.is_file() {
            runbook_path = Some(path);
        } else {
            v.push(
                Code::MissingRunbook,
                runbook.span.clone(),
                format!("runbook `{}` not found (looked for `{}`)", runbook.value, path.display()),
                "the path is relative to the drill file's directory, e.g. runbook = \"../runbooks/region-failover.toml\"".into(),
            );
        }
    }
    let schedule = raw.schedule.as_ref().map(|s| {
        if let Err(e) = check_schedule(&s.value) {
            v.push(Code::BadSchedule, s.span.clone(), e.message, e.hint);
        }
        s.value.clone()
    });
    let mut vars = BTreeMap::new();
    let mut overrides = Vec::new();
    for (key, value) in raw.vars.iter().flat_map(|m| m.value.iter()) {
        vars.insert(key.value.clone(), value.value.clone());
        overrides.push(VarOverride {
            name: key.value.clone(),
            value: value.value.clone(),
            source: "the drill's [vars]",
            origin: file.error(Code::UnknownVarOverride, key.span.clone(), "", ""),
        });
    }
    CheckedDrill {
        name: raw.name.map(|n| n.value).unwrap_or_default(),
        description: raw.description.map(|d| d.value),
        runbook_path,
        mode: match raw.mode.map(|m| m.value) {
            Some(RawMode::Live) => Isolation::Live,
            Some(RawMode::Isolated) | None => Isolation::Isolated,
        },
        targets,
        schedule,
        vars,
        overrides,
    }
}

/// `drills/../runbooks/x.toml` → `runbooks/x.toml`, without touching the file system, so that
/// messages name the runbook the way a person would.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("drills/../runbooks/a.toml")),
            PathBuf::from("runbooks/a.toml")
        );
        assert_eq!(
            normalize(Path::new("../x/./y.toml")),
            PathBuf::from("../x/y.toml")
        );
        assert_eq!(normalize(Path::new("/a/../../b")), PathBuf::from("/b"));
    }
}
