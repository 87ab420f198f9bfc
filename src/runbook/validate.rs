//! Raw runbook → validated `Runbook`: names, regions, targets, variables, each step's action,
//! region, dependencies, timeout, retry and parameters, then the graph (cycles) and the step
//! references that need it. Every problem is collected; the runbook is returned only when
//! there are none.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use crate::actions::spec::{self, ActionSpec, RegionUse};

use super::code::Code;
use super::diagnostic::Diagnostic;
use super::duration::{format_duration, parse_duration};
use super::graph::{Ancestry, Graph};
use super::model::{Retry, Runbook, Step, Targets, Value};
use super::names::{KNOWN_REGIONS, is_ident, is_region_code, is_runbook_name, is_step_id};
use super::overrides::VarOverride;
use super::params::{ParamContext, PendingRef, check_params};
use super::raw::{RawRunbook, RawStep, RawTargets, Sp, SpMap};
use super::source::SourceFile;
use super::suggest::{did_you_mean, did_you_mean_prefix, list};

/// Validates a raw runbook. Returns `None` exactly when it pushed a diagnostic.
/// `steps_pruned` says the file had a `steps` key that the shape check reported and removed.
pub(crate) fn runbook(
    raw: RawRunbook,
    file: &SourceFile<'_>,
    path: PathBuf,
    overrides: &[VarOverride],
    steps_pruned: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Runbook> {
    let before = diagnostics.len();
    let mut v = Validator { file, diagnostics };
    if let Some(name) = &raw.name {
        v.name(name, "runbook");
    }
    let regions = v.regions(raw.regions.as_ref());
    let targets = v.targets(raw.targets.as_ref());
    let vars = v.vars(raw.vars.as_ref(), overrides, "runbook");
    let raw_steps: &[Sp<RawStep>] = raw.steps.as_ref().map_or(&[], |s| &s.value);
    // When the shape check removed a malformed `steps`, it has said so already.
    if raw_steps.is_empty() && !steps_pruned {
        let span = raw.steps.as_ref().map_or(0..0, |s| s.span.clone());
        v.push(
            Code::EmptyRunbook,
            span,
            "the runbook has no steps".into(),
            "add at least one [[steps]] table with an `id` and an `action`".into(),
        );
    }
    let steps = v.steps(raw_steps, &regions, &vars);
    if v.diagnostics.len() > before {
        return None;
    }
    Some(Runbook {
        name: raw.name.map(|n| n.value).unwrap_or_default(),
        description: raw.description.map(|d| d.value),
        path,
        regions,
        targets,
        vars,
        steps: steps?,
    })
}

pub(crate) struct Validator<'f, 'a, 'd> {
    pub(crate) file: &'f SourceFile<'a>,
    pub(crate) diagnostics: &'d mut Vec<Diagnostic>,
}

/// A step while it is being checked: what the graph and reference checks need.
struct Partial<'r> {
    raw: &'r Sp<RawStep>,
    id: Option<&'r str>,
    spec: Option<&'static ActionSpec>,
    /// `after` entries that name other existing steps: (step index, span of the entry).
    deps: Vec<(usize, Range<usize>)>,
    with: BTreeMap<String, Value>,
    refs: Vec<PendingRef>,
    region: Option<String>,
    timeout: Option<Duration>,
    retry: Retry,
}

impl Validator<'_, '_, '_> {
    pub(crate) fn push(&mut self, code: Code, span: Range<usize>, message: String, hint: String) {
        self.diagnostics
            .push(self.file.error(code, span, message, hint));
    }

    /// Checks a runbook or drill name.
    pub(crate) fn name(&mut self, name: &Sp<String>, kind: &str) {
        if is_runbook_name(&name.value) {
            return;
        }
        let fixed: String = name
            .value
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_lowercase() || c.is_ascii_digit() {
                    c
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let suggestion = if fixed.is_empty() {
            "region-failover".to_owned()
        } else {
            fixed
        };
        self.push(
            Code::InvalidName,
            name.span.clone(),
            format!(
                "{kind} name `{}` may only contain lowercase letters, digits and `-`",
                name.value
            ),
            format!("e.g. name = \"{suggestion}\""),
        );
    }

    fn regions(&mut self, raw: Option<&Sp<SpMap<String>>>) -> BTreeMap<String, String> {
        let mut regions = BTreeMap::new();
        for (key, code) in raw.into_iter().flat_map(|r| r.value.iter()) {
            if !is_ident(&key.value) {
                self.push(
                    Code::InvalidName,
                    key.span.clone(),
                    format!("region name `{}` may only contain letters, digits, `_` and `-`", key.value),
                    "name regions by their role, e.g. primary = \"us-east-1\", recovery = \"us-west-2\"".into(),
                );
            }
            if !is_region_code(&code.value) {
                let hint = match did_you_mean(&code.value, KNOWN_REGIONS.iter().copied()) {
                    Some(known) => {
                        format!("did you mean `{known}`? AWS region codes look like us-west-2")
                    }
                    None => {
                        "AWS region codes look like us-east-1, eu-west-2, ap-southeast-1".into()
                    }
                };
                self.push(
                    Code::BadRegionCode,
                    code.span.clone(),
                    format!(
                        "region `{}` = `{}` is not shaped like an AWS region code",
                        key.value, code.value
                    ),
                    hint,
                );
            }
            // Keep even a bad code: steps naming this region should not get a second error.
            regions.insert(key.value.clone(), code.value.clone());
        }
        regions
    }

    pub(crate) fn targets(&mut self, raw: Option<&Sp<RawTargets>>) -> Targets {
        let Some(raw) = raw else {
            return Targets::default();
        };
        let mut target = |value: &Option<Sp<String>>, which: &str| {
            let value = value.as_ref()?;
            match parse_duration(&value.value) {
                Ok(d) if d.is_zero() => {
                    self.push(
                        Code::BadTarget,
                        value.span.clone(),
                        format!("{which} target must be longer than zero"),
                        format!(
                            "give the {which} you must meet, e.g. {} = \"30m\"",
                            which.to_lowercase()
                        ),
                    );
                    None
                }
                Ok(d) => Some(d),
                Err(e) => {
                    self.push(
                        Code::BadTarget,
                        value.span.clone(),
                        format!("{which} target: {}", e.message),
                        e.hint,
                    );
                    None
                }
            }
        };
        let rto = target(&raw.value.rto, "RTO");
        let rpo = target(&raw.value.rpo, "RPO");
        Targets { rto, rpo }
    }

    pub(crate) fn vars(
        &mut self,
        raw: Option<&Sp<SpMap<String>>>,
        overrides: &[VarOverride],
        kind: &str,
    ) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        for (key, value) in raw.into_iter().flat_map(|r| r.value.iter()) {
            if !is_ident(&key.value) {
                self.push(
                    Code::InvalidName,
                    key.span.clone(),
                    format!(
                        "variable name `{}` may only contain letters, digits, `_` and `-`",
                        key.value
                    ),
                    "rename it so that ${vars.NAME} can refer to it, e.g. qdrant_fs".into(),
                );
            }
            vars.insert(key.value.clone(), value.value.clone());
        }
        for o in overrides {
            match vars.get_mut(&o.name) {
                Some(slot) => *slot = o.value.clone(),
                None => {
                    let names = vars.keys().map(String::as_str);
                    let hint = format!(
                        "{}overrides can only replace variables the {kind} declares in [vars]; they are: {}",
                        did_you_mean_prefix(&o.name, names.clone()),
                        list(names)
                    );
                    let message = format!(
                        "{} overrides variable `{}`, which the {kind} does not declare",
                        o.source, o.name
                    );
                    self.diagnostics.push(o.unknown(message, hint));
                }
            }
        }
        vars
    }

    fn steps(
        &mut self,
        raw_steps: &[Sp<RawStep>],
        regions: &BTreeMap<String, String>,
        vars: &BTreeMap<String, String>,
    ) -> Option<Vec<Step>> {
        // Pass 1: ids, so that `after` and references can be checked in any order.
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(raw_steps.len());
        let mut ids: Vec<Option<&str>> = Vec::with_capacity(raw_steps.len());
        for (i, step) in raw_steps.iter().enumerate() {
            let id = step.value.id.as_ref();
            ids.push(id.map(|s| s.value.as_str()));
            let Some(id) = id else { continue };
            if !is_step_id(&id.value) {
                self.push(
                    Code::InvalidName,
                    id.span.clone(),
                    format!("step id `{}` may only contain lowercase letters, digits, `_` and `-`, and must start with a letter or digit", id.value),
                    "e.g. id = \"restore-qdrant\"".into(),
                );
            }
            if let Some(&first) = index.get(id.value.as_str()) {
                let first_line = self.file.line_of(raw_steps[first].span.start);
                self.push(
                    Code::DuplicateStep,
                    id.span.clone(),
                    format!("duplicate step id `{}`", id.value),
                    format!(
                        "the first step `{}` is at line {first_line}; give each step its own id",
                        id.value
                    ),
                );
            } else {
                index.insert(id.value.as_str(), i);
            }
        }
        // Each id once, in file order, for hints.
        let all_ids: Vec<&str> = ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| id.filter(|id| index.get(id) == Some(&i)))
            .collect();

        // Pass 2: each step on its own.
        let mut partials: Vec<Partial<'_>> = raw_steps
            .iter()
            .enumerate()
            .map(|(i, raw)| self.step(raw, ids[i], &index, &all_ids, regions, vars))
            .collect();

        // Pass 3: the graph.
        let graph = Graph::new(
            partials
                .iter()
                .map(|p| p.deps.iter().map(|(d, _)| *d).collect())
                .collect(),
        );
        for cycle in graph.cycles() {
            let name = |i: usize| ids[i].unwrap_or("?");
            let mut path: Vec<&str> = cycle.iter().map(|&i| name(i)).collect();
            path.push(name(cycle[0]));
            let start = &partials[cycle[0]];
            let span = start
                .deps
                .iter()
                .find(|(d, _)| *d == cycle[1])
                .map_or(start.raw.span.clone(), |(_, s)| s.clone());
            let explained: Vec<String> = path
                .windows(2)
                .map(|w| format!("`{}` runs after `{}`", w[0], w[1]))
                .collect();
            self.push(
                Code::DependencyCycle,
                span,
                format!("dependency cycle: {}", path.join(" -> ")),
                format!(
                    "{}; remove one of these `after` entries",
                    explained.join(", ")
                ),
            );
        }

        // Pass 4: step references, which must name ancestors.
        let mut ancestry = Ancestry::new(&graph);
        for (i, partial) in partials.iter().enumerate() {
            for r in &partial.refs {
                self.reference(
                    i,
                    r,
                    partial.id.unwrap_or("?"),
                    &index,
                    &all_ids,
                    &partials,
                    &mut ancestry,
                );
            }
        }

        // Assemble, when every step is whole.
        let mut steps = Vec::with_capacity(raw_steps.len());
        for (i, partial) in partials.iter_mut().enumerate() {
            let (Some(id), Some(spec)) = (partial.id, partial.spec) else {
                return None;
            };
            let raw = &partial.raw.value;
            let mut after: Vec<String> = Vec::new();
            for (d, _) in &partial.deps {
                let dep = ids[*d].unwrap_or_default().to_owned();
                if !after.contains(&dep) {
                    after.push(dep);
                }
            }
            steps.push(Step {
                id: id.to_owned(),
                description: raw.description.as_ref().map(|d| d.value.clone()),
                action: spec,
                region: partial.region.take(),
                after,
                timeout: partial.timeout,
                retry: partial.retry,
                verify: raw.verify.as_ref().map_or(spec.verification, |v| v.value),
                drill_skip: raw
                    .drill
                    .as_ref()
                    .and_then(|d| d.value.skip.as_ref())
                    .is_some_and(|s| s.value),
                with: std::mem::take(&mut partial.with),
                line: self.file.line_of(raw_steps[i].span.start),
            });
        }
        Some(steps)
    }

    fn step<'r>(
        &mut self,
        raw: &'r Sp<RawStep>,
        id: Option<&'r str>,
        index: &HashMap<&str, usize>,
        all_ids: &[&str],
        regions: &BTreeMap<String, String>,
        vars: &BTreeMap<String, String>,
    ) -> Partial<'r> {
        let step = &raw.value;
        let shown_id = id.unwrap_or("?");
        let spec = step.action.as_ref().and_then(|action| {
            let found = spec::lookup(&action.value);
            if found.is_none() {
                self.push(
                    Code::UnknownAction,
                    action.span.clone(),
                    format!("unknown action `{}` in step `{shown_id}`", action.value),
                    format!(
                        "{}actions are: {}",
                        did_you_mean_prefix(&action.value, spec::names()),
                        spec::names().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            found
        });

        // Region.
        let region_names = regions.keys().map(String::as_str);
        let mut region = None;
        match (&step.region, spec.map(|s| s.region)) {
            (Some(r), Some(RegionUse::None)) => self.push(
                Code::UnexpectedRegion,
                r.span.clone(),
                format!("step `{shown_id}` has `region`, but action `{}` does not call a regional AWS API", spec.map_or("", |s| s.name)),
                "remove `region` from this step".into(),
            ),
            (Some(r), _) if !regions.contains_key(&r.value) => {
                let mut hint = format!("{}regions are: {}", did_you_mean_prefix(&r.value, region_names.clone()), list(region_names.clone()));
                if is_region_code(&r.value) {
                    hint = format!("name a region of [regions] (e.g. recovery), not an AWS region code; {hint}");
                }
                self.push(
                    Code::UnknownRegion,
                    r.span.clone(),
                    format!("step `{shown_id}` runs in region `{}`, which is not in [regions]", r.value),
                    hint,
                );
            }
            (Some(r), _) => region = Some(r.value.clone()),
            (None, Some(RegionUse::Required)) => {
                let name = spec.map_or("", |s| s.name);
                self.push(
                    Code::MissingRegion,
                    raw.span.clone(),
                    format!("step `{shown_id}` needs `region`: action `{name}` calls AWS in one region"),
                    format!("add `region = \"...\"` naming one of: {}", list(region_names)),
                );
            }
            (None, _) => {}
        }

        // Dependencies.
        let mut deps = Vec::new();
        for entry in step.after.iter().flat_map(|a| a.value.iter()) {
            if Some(entry.value.as_str()) == id {
                self.push(
                    Code::SelfDependency,
                    entry.span.clone(),
                    format!("step `{shown_id}` depends on itself"),
                    "remove it from its own `after` list".into(),
                );
            } else if let Some(&d) = index.get(entry.value.as_str()) {
                deps.push((d, entry.span.clone()));
            } else {
                self.push(
                    Code::UnknownDependency,
                    entry.span.clone(),
                    format!(
                        "step `{shown_id}` depends on unknown step `{}`",
                        entry.value
                    ),
                    format!(
                        "{}steps are: {}",
                        did_you_mean_prefix(&entry.value, all_ids.iter().copied()),
                        list(all_ids.iter().copied())
                    ),
                );
            }
        }

        // Timeout and retry.
        let timeout = step
            .timeout
            .as_ref()
            .and_then(|t| self.duration(t, "timeout", shown_id, false));
        let mut retry = Retry::default();
        if let Some(r) = &step.retry {
            if let Some(attempts) = &r.value.attempts {
                if attempts.value == 0 {
                    self.push(
                        Code::ZeroAttempts,
                        attempts.span.clone(),
                        format!("step `{shown_id}` has retry attempts = 0, so it would never run"),
                        "attempts counts every try, the first included: use 1 for no retry, 3 for two retries".into(),
                    );
                } else {
                    retry.attempts = attempts.value;
                }
            }
            if let Some(backoff) = &r.value.backoff
                && let Some(d) = self.duration(backoff, "retry backoff", shown_id, true)
            {
                retry.backoff = d;
            }
        }

        // Parameters.
        let (with, refs) = match spec {
            Some(spec) => {
                let anchor = step
                    .with
                    .as_ref()
                    .map_or(raw.span.clone(), |w| w.span.clone());
                let cx = ParamContext {
                    file: self.file,
                    regions,
                    vars,
                    step_id: shown_id,
                    spec,
                    anchor,
                };
                check_params(&cx, step.with.as_ref().map(|w| &w.value), self.diagnostics)
            }
            None => (BTreeMap::new(), Vec::new()),
        };
        Partial {
            raw,
            id,
            spec,
            deps,
            with,
            refs,
            region,
            timeout,
            retry,
        }
    }

    fn duration(
        &mut self,
        value: &Sp<String>,
        what: &str,
        step: &str,
        zero_ok: bool,
    ) -> Option<Duration> {
        match parse_duration(&value.value) {
            Ok(d) if d.is_zero() && !zero_ok => {
                self.push(
                    Code::BadDuration,
                    value.span.clone(),
                    format!("{what} of step `{step}` must be longer than {}", format_duration(d)),
                    "remove it for no limit, or give the longest time the step may take, e.g. \"20m\"".into(),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.push(
                    Code::BadDuration,
                    value.span.clone(),
                    format!("{what} of step `{step}`: {}", e.message),
                    e.hint,
                );
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reference(
        &mut self,
        i: usize,
        r: &PendingRef,
        id: &str,
        index: &HashMap<&str, usize>,
        all_ids: &[&str],
        partials: &[Partial<'_>],
        ancestry: &mut Ancestry<'_>,
    ) {
        let target = &r.step_ref.step;
        let output = &r.step_ref.output;
        let Some(&j) = index.get(target.as_str()) else {
            self.push(
                Code::UnknownStepRef,
                r.span.clone(),
                format!(
                    "`{}` in step `{id}` names unknown step `{target}`",
                    r.step_ref
                ),
                format!(
                    "{}steps are: {}",
                    did_you_mean_prefix(target, all_ids.iter().copied()),
                    list(all_ids.iter().copied())
                ),
            );
            return;
        };
        if let Some(spec) = partials[j].spec
            && spec.output(output).is_none()
        {
            let outputs = spec.outputs.iter().map(|o| o.name);
            self.push(
                Code::UnknownOutputRef,
                r.span.clone(),
                format!(
                    "`{}` in step `{id}`: action `{}` of step `{target}` has no output `{output}`",
                    r.step_ref, spec.name
                ),
                format!(
                    "{}its outputs are: {}",
                    did_you_mean_prefix(output, outputs.clone()),
                    list(outputs)
                ),
            );
            return;
        }
        if j == i {
            self.push(
                Code::NotAncestorRef,
                r.span.clone(),
                format!("step `{id}` uses its own output `{output}`"),
                "a step's outputs exist only after it finishes; use them in a later step".into(),
            );
        } else if !ancestry.is_ancestor(i, j) {
            self.push(
                Code::NotAncestorRef,
                r.span.clone(),
                format!("step `{id}` uses `{}`, but does not run after step `{target}`", r.step_ref),
                format!("add \"{target}\" to this step's `after` (directly or through a step that runs after it)"),
            );
        }
    }
}
