//! The two faces of an action. The engine sees [`Action`]: object safe, parameters and
//! undo records as JSON (the journal's format). Every action module implements
//! [`TypedAction`] instead, with its own types: a `Params` struct deserialised from the
//! step's resolved parameters, an undo record struct, and its catalogue entry as
//! [`TypedAction::SPEC`]. The blanket implementation below turns one into the other, so a
//! wrong parameter type or an unreadable undo record is a clear error naming the step,
//! never an empty string.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::context::StepContext;
use super::error::ActionError;
use super::params::{decode_params, decode_undo};
use super::spec::ActionSpec;
use crate::measure::Evidence;

/// A boxed future, so actions can sit behind `dyn Action`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a successful step leaves behind, as the engine journals it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// Values descendant steps may reference as `${steps.<id>.<name>}`.
    pub outputs: BTreeMap<String, String>,
    /// What a drill needs to undo the step (ids, previous values), the action's undo record
    /// as JSON. Never secret values.
    pub undo: Option<serde_json::Value>,
    /// RPO evidence for recovered data resources.
    pub evidence: Vec<Evidence>,
    /// Set when the step only checked and did not change anything (isolated drills).
    pub simulated: Option<String>,
    /// Resources the step created, as ARNs or ids, for cleanup and reports.
    pub created: Vec<String>,
}

/// What a successful step of a [`TypedAction`] leaves behind, with its typed undo record.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<U> {
    /// Values descendant steps may reference as `${steps.<id>.<name>}`.
    pub outputs: BTreeMap<String, String>,
    /// What a drill needs to undo the step. Never secret values.
    pub undo: Option<U>,
    /// RPO evidence for recovered data resources.
    pub evidence: Vec<Evidence>,
    /// Set when the step only checked and did not change anything (isolated drills).
    pub simulated: Option<String>,
    /// Resources the step created, as ARNs or ids, for cleanup and reports.
    pub created: Vec<String>,
}

impl<U> Default for Outcome<U> {
    fn default() -> Self {
        Outcome {
            outputs: BTreeMap::new(),
            undo: None,
            evidence: Vec::new(),
            simulated: None,
            created: Vec::new(),
        }
    }
}

impl<U: Serialize> Outcome<U> {
    /// The outcome as the engine journals it.
    fn into_step_outcome(self, ctx: &StepContext) -> Result<StepOutcome, ActionError> {
        let undo = match &self.undo {
            Some(record) => Some(serde_json::to_value(record).map_err(|e| {
                ActionError::fatal(
                    format!("step {}", ctx.step_id),
                    format!("cannot encode the undo record: {e}"),
                )
            })?),
            None => None,
        };
        Ok(StepOutcome {
            outputs: self.outputs,
            undo,
            evidence: self.evidence,
            simulated: self.simulated,
            created: self.created,
        })
    }
}

/// The undo record of an action that changes nothing a drill must undo: it cannot be
/// built, so such an action's `undo` has nothing to do and says so by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoUndo {}

/// One kind of step, as the engine sees it. Every [`TypedAction`] is one; a test may
/// implement it directly.
pub trait Action: Send + Sync {
    /// The interface declared in the catalogue.
    fn spec(&self) -> &'static ActionSpec;

    /// Do the work and wait until it is done. Must be safe to call again after a crash.
    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>>;

    /// Undo what `run` did in a drill, from the `undo` value it returned.
    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), ActionError>>;

    /// The mutating calls `run` would make, in words, for `--dry-run`.
    fn describe(&self, ctx: &StepContext) -> Vec<String>;
}

/// The shape of every action module: its catalogue entry, its parameters and undo record
/// as types, and what it does with them. Copy a neighbour to add one (and register it in
/// `registry.rs`).
pub trait TypedAction: Send + Sync + 'static {
    /// The action's entry in the catalogue (its name, parameters, outputs, IAM actions).
    const SPEC: &'static ActionSpec;

    /// The step's parameters, deserialised from its resolved `[steps.with]` (defaults
    /// filled in). Deny unknown fields: the catalogue and the struct must agree.
    type Params: DeserializeOwned + Send + Sync + 'static;

    /// What a drill needs to undo a step ([`NoUndo`] when there is never anything).
    type Undo: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// The mutating calls `run` would make, in words, for `--dry-run` (step outputs are
    /// still `${steps...}` there).
    fn describe(&self, ctx: &StepContext, params: &Self::Params) -> Vec<String>;

    /// Do the work and wait until it is done. Must be safe to call again after a crash:
    /// look for this step's earlier work (by token, tag or journalled note) before acting.
    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        params: Self::Params,
    ) -> BoxFuture<'a, Result<Outcome<Self::Undo>, ActionError>>;

    /// Undo what `run` did in a drill. Already undone (or gone) counts as done.
    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Self::Undo,
    ) -> BoxFuture<'a, Result<(), ActionError>>;
}

impl<T: TypedAction> Action for T {
    fn spec(&self) -> &'static ActionSpec {
        T::SPEC
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let params = decode_params::<T::Params>(ctx)?;
            TypedAction::run(self, ctx, params)
                .await?
                .into_step_outcome(ctx)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let record = decode_undo::<T::Undo>(ctx, undo)?;
            TypedAction::undo(self, ctx, record).await
        })
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        match decode_params::<T::Params>(ctx) {
            Ok(params) => TypedAction::describe(self, ctx, &params),
            Err(e) => vec![format!("(cannot describe the step: {e})")],
        }
    }
}

/// [`TypedAction::undo`] of an action whose undo record cannot exist.
pub fn nothing_to_undo(undo: NoUndo) -> BoxFuture<'static, Result<(), ActionError>> {
    match undo {}
}
