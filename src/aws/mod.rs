//! AWS access: one client factory and one error type with failure classes.

mod error;
mod factory;

pub use error::{AwsError, ErrorClass, aws_err, classify_code};
pub use factory::{AwsClients, AwsSettings, SetupError};
