//! SDK timestamps as the rest of drctl reads them.

/// Convert an SDK timestamp to chrono.
pub fn to_chrono(t: &aws_smithy_types::DateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or_default()
}
