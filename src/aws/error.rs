//! AWS failures, kept with their code, message and request id, and classed by meaning so
//! that exactly one layer decides whether to retry (STYLE.md habit 5).
//!
//! Worst case, written down: the SDK's standard retry mode makes up to `max_attempts` calls
//! for a retryable failure; the engine then re-runs the step up to the step's
//! `retry.attempts`. A fatal error is never retried by either layer.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use serde::{Deserialize, Serialize};

/// What a failure means for whoever would repeat the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorClass {
    /// Throttling or a server error: the call did not take effect, repeating is safe.
    Retryable,
    /// A timeout or a dropped connection: the call may or may not have reached AWS. Look at
    /// the state before repeating a mutating call.
    InDoubt,
    /// Validation, access denied, missing resource: repeating changes nothing.
    Fatal,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Retryable => "retryable",
            ErrorClass::InDoubt => "in doubt",
            ErrorClass::Fatal => "fatal",
        })
    }
}

/// One failed AWS call.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub struct AwsError {
    /// IAM-style operation name, e.g. `backup:StartRestoreJob`.
    pub operation: String,
    /// The AWS error code (`AccessDeniedException`, `ThrottlingException`, ...), when AWS sent one.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    pub http_status: Option<u16>,
    pub class: ErrorClass,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.operation)?;
        match &self.code {
            Some(code) => write!(f, ": {code}")?,
            None => {
                if let Some(status) = self.http_status {
                    write!(f, ": HTTP {status}")?;
                }
            }
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        write!(f, " [{}]", self.class)
    }
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerErrorException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServerException",
];

/// Classify an AWS error code (and HTTP status) by meaning.
pub fn classify_code(code: Option<&str>, status: Option<u16>) -> ErrorClass {
    if let Some(code) = code
        && (THROTTLING_CODES.contains(&code) || TRANSIENT_CODES.contains(&code))
    {
        return ErrorClass::Retryable;
    }
    match status {
        Some(429) => ErrorClass::Retryable,
        Some(s) if s >= 500 => ErrorClass::Retryable,
        _ => ErrorClass::Fatal,
    }
}

impl AwsError {
    /// Convert an SDK error, keeping the code, message and request id.
    pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let request_id = err.request_id().map(str::to_owned);
        match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let inner = service.err();
                let code = inner.code().map(str::to_owned);
                let message = inner
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| match &code {
                        Some(_) => String::new(),
                        None => DisplayErrorContext(&err).to_string(),
                    });
                AwsError {
                    operation: operation.into(),
                    class: classify_code(code.as_deref(), Some(status)),
                    code,
                    message,
                    request_id,
                    http_status: Some(status),
                }
            }
            SdkError::TimeoutError(_) => AwsError {
                operation: operation.into(),
                code: None,
                message: "timed out waiting for AWS; the call may have taken effect".into(),
                request_id,
                http_status: None,
                class: ErrorClass::InDoubt,
            },
            SdkError::DispatchFailure(dispatch) => AwsError {
                operation: operation.into(),
                code: None,
                message: format!(
                    "connection failed; the call may have taken effect: {}",
                    DisplayErrorContext(&err)
                ),
                request_id,
                http_status: None,
                class: if dispatch.is_user() {
                    ErrorClass::Fatal
                } else {
                    ErrorClass::InDoubt
                },
            },
            SdkError::ResponseError(response) => {
                let status = response.raw().status().as_u16();
                AwsError {
                    operation: operation.into(),
                    code: None,
                    message: format!("unreadable response: {}", DisplayErrorContext(&err)),
                    request_id,
                    http_status: Some(status),
                    class: if status >= 500 {
                        ErrorClass::Retryable
                    } else {
                        ErrorClass::InDoubt
                    },
                }
            }
            _ => AwsError {
                operation: operation.into(),
                code: None,
                message: DisplayErrorContext(&err).to_string(),
                request_id,
                http_status: None,
                class: ErrorClass::Fatal,
            },
        }
    }

    /// Whether AWS said the resource does not exist (used by look-before-acting code).
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| {
            c.contains("NotFound") || c.starts_with("NoSuch") || c == "ResourceNotFoundException"
        })
    }
}

/// Shorthand for `map_err` on SDK calls: `.await.map_err(aws_err("backup:StartRestoreJob"))?`.
pub fn aws_err<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| AwsError::from_sdk(operation, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_5xx_are_retryable_access_denied_is_fatal() {
        assert_eq!(
            classify_code(Some("ThrottlingException"), Some(400)),
            ErrorClass::Retryable
        );
        assert_eq!(
            classify_code(Some("Throttling"), Some(400)),
            ErrorClass::Retryable
        );
        assert_eq!(classify_code(None, Some(503)), ErrorClass::Retryable);
        assert_eq!(classify_code(None, Some(500)), ErrorClass::Retryable);
        assert_eq!(
            classify_code(Some("AccessDeniedException"), Some(403)),
            ErrorClass::Fatal
        );
        assert_eq!(
            classify_code(Some("ValidationException"), Some(400)),
            ErrorClass::Fatal
        );
    }

    #[test]
    fn display_names_operation_code_and_request_id() {
        let err = AwsError {
            operation: "backup:StartRestoreJob".into(),
            code: Some("AccessDeniedException".into()),
            message: "not authorized".into(),
            request_id: Some("abc-123".into()),
            http_status: Some(403),
            class: ErrorClass::Fatal,
        };
        assert_eq!(
            err.to_string(),
            "backup:StartRestoreJob: AccessDeniedException: not authorized (request id abc-123) [fatal]"
        );
    }
}
