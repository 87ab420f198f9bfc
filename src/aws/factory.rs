//! The one place AWS clients are built (STYLE.md: vector's client factory). Every client
//! shares one resolved configuration: profile, credentials, endpoint override, standard retry
//! mode and timeouts; only the region differs. The endpoint is configuration, never code: the
//! sandbox is reached exactly as a real AWS endpoint would be.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How to reach AWS, resolved once from flags and environment.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub profile: Option<String>,
    /// Region for calls that are not tied to a runbook region (e.g. STS).
    pub region: Option<String>,
    /// `--endpoint-url` / `AWS_ENDPOINT_URL`: the sandbox, a VPC endpoint, a proxy.
    pub endpoint_url: Option<String>,
    /// Total SDK attempts per call (standard retry mode). Default 4.
    pub max_attempts: Option<u32>,
    /// Whole-call timeout including retries. Default 60 s.
    pub operation_timeout: Option<Duration>,
    /// Per-attempt timeout. Default 20 s.
    pub attempt_timeout: Option<Duration>,
    /// Append every AWS operation made (as `service:Operation`) to this file. Used by the
    /// IAM-coverage test and handy for audits. Also set by `DRCTL_CALL_LOG`.
    pub call_log: Option<PathBuf>,
}

/// Failure to set up AWS access.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "no AWS credentials found (looked at AWS_ACCESS_KEY_ID, the profile {profile}, SSO, web identity, container and instance metadata): {cause}. Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
    )]
    NoCredentials { profile: String, cause: String },
    #[error(
        "no AWS credentials found within {0:?} (instance metadata did not answer); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    )]
    CredentialsTimeout(Duration),
}

/// Records the IAM action of every call a client makes.
#[derive(Debug, Clone)]
struct CallRecorder {
    iam_prefix: &'static str,
    sink: Arc<Mutex<Option<std::fs::File>>>,
}

impl Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "drctl-call-recorder"
    }

    // Not `read_before_execution`: client interceptors run that hook before the operation's
    // configuration (which holds its `Metadata`) is applied.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let line = format!("{}:{}\n", self.iam_prefix, meta.name());
            tracing::debug!(call = %line.trim_end(), "aws call");
            if let Ok(mut guard) = self.sink.lock()
                && let Some(file) = guard.as_mut()
            {
                // A failed audit line must not fail the recovery.
                let _ = file.write_all(line.as_bytes());
            }
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Built clients by (IAM prefix, region).
type ClientCache = HashMap<(&'static str, String), Box<dyn std::any::Any + Send + Sync>>;

/// Per-region SDK clients, built lazily from one configuration and cached.
#[derive(Clone)]
pub struct AwsClients {
    base: SdkConfig,
    sink: Arc<Mutex<Option<std::fs::File>>>,
    cache: Arc<Mutex<ClientCache>>,
    /// The caller's account, asked of STS once per process.
    account: Arc<tokio::sync::OnceCell<String>>,
}

impl std::fmt::Debug for AwsClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsClients")
            .field("region", &self.base.region())
            .finish_non_exhaustive()
    }
}

macro_rules! client_fn {
    ($fn_name:ident, $krate:ident, $prefix:literal) => {
        #[doc = concat!("The `", stringify!($krate), "` client for `region`.")]
        pub fn $fn_name(&self, region: &str) -> $krate::Client {
            let key = ($prefix, region.to_string());
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(client) = cache
                .get(&key)
                .and_then(|c| c.downcast_ref::<$krate::Client>())
            {
                return client.clone();
            }
            // The recorder logs every call at debug level and, with a call log, to the file.
            let builder = $krate::config::Builder::from(&self.base)
                .region(Region::new(region.to_string()))
                .interceptor(CallRecorder {
                    iam_prefix: $prefix,
                    sink: self.sink.clone(),
                });
            let client = $krate::Client::from_conf(builder.build());
            cache.insert(key, Box::new(client.clone()));
            client
        }
    };
}

impl AwsClients {
    /// Resolve the configuration (without touching the network).
    pub async fn new(settings: &AwsSettings) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(settings.max_attempts.unwrap_or(4))
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(5)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(3100))
                    .operation_attempt_timeout(
                        settings.attempt_timeout.unwrap_or(Duration::from_secs(20)),
                    )
                    .operation_timeout(
                        settings
                            .operation_timeout
                            .unwrap_or(Duration::from_secs(60)),
                    )
                    .build(),
            );
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        // Resolving the region from instance metadata costs ~3 s off EC2: never wait for
        // it. Steps name their own regions; this one is only the default.
        let region = settings
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".to_string());
        loader = loader.region(Region::new(region));
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let base = loader.load().await;
        let call_log = settings
            .call_log
            .clone()
            .or_else(|| std::env::var_os("DRCTL_CALL_LOG").map(PathBuf::from));
        let file = call_log.and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        });
        AwsClients {
            base,
            sink: Arc::new(Mutex::new(file)),
            cache: Arc::new(Mutex::new(HashMap::new())),
            account: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The default region of this configuration.
    pub fn default_region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into())
    }

    /// Fail fast, with a message a person can act on, when no credentials can be found.
    pub async fn check_credentials(&self, profile: Option<&str>) -> Result<(), SetupError> {
        let Some(provider) = self.base.credentials_provider() else {
            return Err(SetupError::NoCredentials {
                profile: profile.unwrap_or("default").into(),
                cause: "no credentials provider configured".into(),
            });
        };
        let limit = Duration::from_secs(5);
        match tokio::time::timeout(limit, provider.provide_credentials()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(SetupError::NoCredentials {
                profile: profile.unwrap_or("default").into(),
                // The first line of the chain is what a person needs; the rest is in -vv logs.
                cause: {
                    tracing::debug!(error = %aws_smithy_types::error::display::DisplayErrorContext(&err), "credentials");
                    let text = err.to_string();
                    text.chars().take(200).collect()
                },
            }),
            Err(_) => Err(SetupError::CredentialsTimeout(limit)),
        }
    }

    client_fn!(backup, aws_sdk_backup, "backup");
    client_fn!(efs, aws_sdk_efs, "elasticfilesystem");
    client_fn!(ecr, aws_sdk_ecr, "ecr");
    client_fn!(secrets, aws_sdk_secretsmanager, "secretsmanager");
    client_fn!(route53, aws_sdk_route53, "route53");
    client_fn!(ecs, aws_sdk_ecs, "ecs");
    client_fn!(sns, aws_sdk_sns, "sns");
    client_fn!(sts, aws_sdk_sts, "sts");
    client_fn!(dynamodb, aws_sdk_dynamodb, "dynamodb");
    client_fn!(scheduler, aws_sdk_scheduler, "scheduler");
    client_fn!(autoscaling, aws_sdk_autoscaling, "autoscaling");

    /// The account id of the caller (via STS in `region` the first time), for building
    /// ARNs. Asked once per process: every step of a run shares the answer.
    pub async fn account_id(&self, region: &str) -> Result<String, super::AwsError> {
        self.account
            .get_or_try_init(|| async {
                let out = self
                    .sts(region)
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(super::aws_err("sts:GetCallerIdentity"))?;
                Ok(out.account().unwrap_or_default().to_string())
            })
            .await
            .cloned()
    }
}
