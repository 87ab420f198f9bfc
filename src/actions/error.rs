//! Why a step failed, with the failure class that decides whether the engine tries again.

use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, ErrorClass};

/// Why a step failed.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub enum ActionError {
    /// An AWS call failed.
    #[error("{resource}: {source}")]
    Aws {
        resource: String,
        source: Box<AwsError>,
    },
    /// The step found a state it cannot work with.
    #[error("{resource}: {message}")]
    Failed {
        resource: String,
        message: String,
        class: ErrorClass,
    },
    /// The operator interrupted the run at a safe point; the step can resume.
    #[error("interrupted at a safe point; resume to continue")]
    Interrupted,
}

impl ActionError {
    /// The failure class that decides whether the engine re-runs the step.
    pub fn class(&self) -> ErrorClass {
        match self {
            ActionError::Aws { source, .. } => source.class,
            ActionError::Failed { class, .. } => *class,
            ActionError::Interrupted => ErrorClass::InDoubt,
        }
    }

    /// The AWS error code, when there is one.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            ActionError::Aws { source, .. } => source.code.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn fatal(resource: impl Into<String>, message: impl Into<String>) -> Self {
        ActionError::Failed {
            resource: resource.into(),
            message: message.into(),
            class: ErrorClass::Fatal,
        }
    }
}

/// Attach the resource being worked on to an AWS error.
pub(crate) fn on(resource: impl Into<String>) -> impl FnOnce(AwsError) -> ActionError {
    let resource = resource.into();
    move |source| ActionError::Aws {
        resource,
        source: Box::new(source),
    }
}
