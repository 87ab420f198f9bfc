//! AWS access: one client factory and one error type with failure classes.

mod error;
mod factory;
mod pages;
mod time;

pub use error::{AwsError, ErrorClass, aws_err, classify_code};
pub use factory::{AwsClients, AwsSettings, SetupError};
pub use pages::all_pages;
pub use time::to_chrono;
