//! AWS access: one client factory and one error type with failure classes.

mod error;
mod factory;
mod pages;

pub use error::{AwsError, ErrorClass, aws_err, classify_code};
pub use factory::{AwsClients, AwsSettings, SetupError};
pub use pages::all_pages;

/// Convert an SDK timestamp to chrono.
pub fn to_chrono(t: &aws_smithy_types::DateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or_default()
}
