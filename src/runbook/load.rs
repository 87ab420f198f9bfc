//! Loading: read a file, parse it, check its shape, deserialize the raw types, validate.
//! The public entry points of the runbook language.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::DeTable;

use super::code::Code;
use super::diagnostic::{Diagnostic, Diagnostics};
use super::drill::check_drill;
use super::model::{Drill, Runbook, Targets};
use super::overrides::VarOverride;
use super::raw::{RawDrill, RawRunbook};
use super::schema::{drill_shape, runbook_shape};
use super::shape;
use super::source::SourceFile;
use super::{syntax, validate};

/// Loads and validates a runbook file. `var_overrides` replace `[vars]` values; naming a
/// variable the runbook does not declare is an error.
pub fn load_runbook(
    path: &Path,
    var_overrides: &BTreeMap<String, String>,
) -> Result<Runbook, Diagnostics> {
    let overrides = VarOverride::from_command_line(var_overrides);
    let name = path.display().to_string();
    let text = read(path).map_err(Diagnostics)?;
    runbook_from_text(&name, path.to_path_buf(), &text, &overrides).map_err(Diagnostics)
}

/// Validates runbook text; `name_for_messages` is the file name diagnostics print (and the
/// runbook's `path`).
pub fn load_runbook_str(
    name_for_messages: &str,
    source: &str,
    var_overrides: &BTreeMap<String, String>,
) -> Result<Runbook, Diagnostics> {
    let overrides = VarOverride::from_command_line(var_overrides);
    runbook_from_text(
        name_for_messages,
        PathBuf::from(name_for_messages),
        source,
        &overrides,
    )
    .map_err(Diagnostics)
}

/// Loads a drill and its runbook. The drill's `[vars]` apply first, then `var_overrides`.
/// Problems in both files are reported together, each with its own file name.
pub fn load_drill(
    path: &Path,
    var_overrides: &BTreeMap<String, String>,
) -> Result<(Drill, Runbook), Diagnostics> {
    let text = read(path).map_err(Diagnostics)?;
    drill_from_text(path, &text, var_overrides).map_err(Diagnostics)
}

/// What a file turned out to be.
#[derive(Debug, Clone)]
pub enum Loaded {
    Runbook(Runbook),
    Drill(Drill, Runbook),
}

/// Which format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Runbook,
    Drill,
}

/// A drill has one of the drill-only top-level keys (`runbook`, `mode`, `schedule`) and no
/// `steps`; anything else (including text that is not TOML, which then gets its syntax errors)
/// is treated as a runbook.
pub fn detect_kind(source: &str) -> FileKind {
    match DeTable::parse(source) {
        Ok(doc) => {
            let doc = doc.get_ref();
            let drill_key = ["runbook", "mode", "schedule"]
                .iter()
                .any(|k| doc.get(*k).is_some());
            if drill_key && doc.get("steps").is_none() {
                FileKind::Drill
            } else {
                FileKind::Runbook
            }
        }
        Err(_) => FileKind::Runbook,
    }
}

/// Loads a runbook or a drill, whichever the file is (see [`detect_kind`]).
pub fn load_file(
    path: &Path,
    var_overrides: &BTreeMap<String, String>,
) -> Result<Loaded, Diagnostics> {
    let text = read(path).map_err(Diagnostics)?;
    match detect_kind(&text) {
        FileKind::Drill => drill_from_text(path, &text, var_overrides)
            .map(|(d, r)| Loaded::Drill(d, r))
            .map_err(Diagnostics),
        FileKind::Runbook => {
            let overrides = VarOverride::from_command_line(var_overrides);
            let name = path.display().to_string();
            runbook_from_text(&name, path.to_path_buf(), &text, &overrides)
                .map(Loaded::Runbook)
                .map_err(Diagnostics)
        }
    }
}

/// The file's text, or DR033 (cannot read) / DR032 (not UTF-8).
fn read(path: &Path) -> Result<String, Vec<Diagnostic>> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        let mut reason = e.to_string();
        if let Some(first) = reason.get(0..1) {
            let lower = first.to_lowercase();
            reason.replace_range(0..1, &lower);
        }
        vec![Diagnostic::without_position(
            name.clone(),
            Code::Unreadable,
            format!("cannot read `{name}`: {reason}"),
            "check the path; a relative path starts from the current directory",
        )]
    })?;
    syntax::decode(&name, &bytes)
}

fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.line, d.column));
}

/// A serde error after the shape check passed: the shape check and the raw types disagree, or
/// a value is out of a range the schema does not state. Reported at its span as a wrong type.
fn serde_error(file: &SourceFile<'_>, e: &toml::de::Error) -> Diagnostic {
    file.error(
        Code::WrongType,
        e.span().unwrap_or(0..0),
        format!("invalid value: {}", e.message().trim_end()),
        "see docs/runbook-reference.md for the keys and their types",
    )
}

pub(crate) fn runbook_from_text(
    name: &str,
    path: PathBuf,
    text: &str,
    overrides: &[VarOverride],
) -> Result<Runbook, Vec<Diagnostic>> {
    let file = SourceFile::new(name, text);
    let mut doc = syntax::parse(&file)?;
    let mut diagnostics = Vec::new();
    let had_steps = doc.get_ref().get("steps").is_some();
    shape::check(
        runbook_shape(),
        &mut doc,
        &file,
        "runbook",
        &mut diagnostics,
    );
    let steps_pruned = had_steps && doc.get_ref().get("steps").is_none();
    let raw = match RawRunbook::deserialize(toml::de::Deserializer::from(doc)) {
        Ok(raw) => raw,
        Err(e) => {
            diagnostics.push(serde_error(&file, &e));
            sort(&mut diagnostics);
            return Err(diagnostics);
        }
    };
    let runbook = validate::runbook(raw, &file, path, overrides, steps_pruned, &mut diagnostics);
    match runbook {
        Some(runbook) if diagnostics.is_empty() => Ok(runbook),
        _ => {
            sort(&mut diagnostics);
            Err(diagnostics)
        }
    }
}

fn drill_from_text(
    path: &Path,
    text: &str,
    var_overrides: &BTreeMap<String, String>,
) -> Result<(Drill, Runbook), Vec<Diagnostic>> {
    let name = path.display().to_string();
    let file = SourceFile::new(name, text);
    let mut doc = syntax::parse(&file)?;
    let mut diagnostics = Vec::new();
    shape::check(drill_shape(), &mut doc, &file, "drill", &mut diagnostics);
    let raw = match RawDrill::deserialize(toml::de::Deserializer::from(doc)) {
        Ok(raw) => raw,
        Err(e) => {
            diagnostics.push(serde_error(&file, &e));
            sort(&mut diagnostics);
            return Err(diagnostics);
        }
    };
    let checked = check_drill(raw, &file, path, &mut diagnostics);
    sort(&mut diagnostics);
    let Some(runbook_path) = checked.runbook_path.clone() else {
        return Err(diagnostics);
    };
    let mut overrides = checked.overrides.clone();
    overrides.extend(VarOverride::from_command_line(var_overrides));
    let runbook = read(&runbook_path).and_then(|text| {
        let name = runbook_path.display().to_string();
        runbook_from_text(&name, runbook_path.clone(), &text, &overrides)
    });
    let runbook = match runbook {
        Ok(runbook) if diagnostics.is_empty() => runbook,
        Ok(_) => return Err(diagnostics),
        Err(more) => {
            // The drill's own problems first, then its runbook's; an unknown drill var is
            // reported by the runbook check at its place in the drill file.
            let (drill_file, other): (Vec<_>, Vec<_>) =
                more.into_iter().partition(|d| d.file == file.name);
            diagnostics.extend(drill_file);
            sort(&mut diagnostics);
            diagnostics.extend(other);
            return Err(diagnostics);
        }
    };
    let targets = Targets {
        rto: checked.targets.rto.or(runbook.targets.rto),
        rpo: checked.targets.rpo.or(runbook.targets.rpo),
    };
    let drill = Drill {
        name: checked.name,
        description: checked.description,
        path: path.to_path_buf(),
        runbook_path,
        mode: checked.mode,
        targets,
        schedule: checked.schedule,
        vars: checked.vars,
    };
    Ok((drill, runbook))
}
