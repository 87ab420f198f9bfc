//! Why a state store call failed. (Journal and lock failures have their own types, in
//! `engine::JournalError` and `store::LockError`, because callers tell their cases apart.)

use std::path::PathBuf;

use crate::aws::AwsError;

/// A state store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory of the local store could not be used.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "append to the drill history".
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// Something the store keeps does not read back (a report, a cleanup record).
    #[error("{what} is unreadable: {source}")]
    Unreadable {
        what: String,
        source: serde_json::Error,
    },
    /// Something could not be encoded to be kept.
    #[error("cannot encode {what}: {source}")]
    Encode {
        what: &'static str,
        source: serde_json::Error,
    },
    /// A call to the DynamoDB table failed.
    #[error("cannot {action} in {location}: {source}")]
    Remote {
        action: String,
        location: String,
        source: Box<AwsError>,
    },
    /// Setting up the DynamoDB table failed (`drctl state init`).
    #[error("cannot {action} {location}: {source}")]
    Table {
        action: &'static str,
        location: String,
        source: Box<AwsError>,
    },
    /// The table exists but is not drctl's.
    #[error(
        "table {location} exists with another key schema ({found}); drctl needs pk (HASH) and sk (RANGE), both strings: choose another table name"
    )]
    WrongSchema { location: String, found: String },
    /// The table did not become usable in time.
    #[error("table {location} is not ACTIVE after 5 minutes")]
    NotActive { location: String },
    /// `--state` names a table without a region, and no default region is set.
    #[error(
        "--state names table {table} but no region: add ?region=REGION (the recovery region), e.g. dynamodb://{table}?region=us-west-2"
    )]
    NoRegion { table: String },
    /// The DynamoDB table definition could not be built.
    #[error("cannot define the table: {0}")]
    Definition(#[from] aws_sdk_dynamodb::error::BuildError),
    /// The DynamoDB store's own async runtime failed.
    #[error(transparent)]
    Runtime(#[from] super::dynamodb::RuntimeError),
}
