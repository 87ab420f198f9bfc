//! The process side of Lambda mode: check that the Lambda runtime started us, resolve the
//! settings, build the handler once per container, then serve invocations until the runtime
//! stops the process. An init failure is reported to the runtime (`/runtime/init/error`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use super::handler::Handler;
use crate::cli::{Exit, LambdaArgs, Settings};

/// The variables `lambda_runtime::Config::from_env` would `expect()`, checked first so that
/// a missing one is a plain message instead of a panic.
const FUNCTION_ENV: [&str; 3] = [
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Whether the Lambda runtime started this process: `AWS_LAMBDA_RUNTIME_API` is set and no
/// argument was given (a Lambda custom runtime runs `bootstrap` bare).
pub fn started_by_lambda_runtime() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some_and(|v| !v.is_empty())
        && std::env::args_os().len() == 1
}

/// A multi-threaded tokio runtime for the process.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs `drctl lambda`: check the function's environment, build the AWS clients once, then
/// serve invocations until the runtime stops the process.
pub fn run(settings: &Settings, args: &LambdaArgs) -> anyhow::Result<Exit> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    let rt = runtime()?;
    rt.block_on(async {
        let handler = match init(settings, args) {
            Ok(pre) => match Handler::new(pre).await {
                Ok(h) => h,
                Err(e) => return init_failed(&api, e).await,
            },
            Err(e) => return init_failed(&api, e).await,
        };
        let handler = Arc::new(handler);
        tracing::info!(
            home = %handler.home.display(),
            state_dir = %handler.settings.state_dir.display(),
            margin_secs = handler.margin.as_secs(),
            "drctl ready for invocations"
        );
        let service = service_fn(move |event: LambdaEvent<Value>| {
            let handler = handler.clone();
            async move { handler.handle(event).await }
        });
        lambda_runtime::Runtime::new(service)
            .run()
            .await
            .map_err(|e| anyhow::anyhow!("the Lambda runtime loop stopped: {e}"))?;
        Ok(Exit::Success)
    })
}

/// What init resolves before reaching for AWS.
pub(super) struct Init {
    pub(super) settings: Settings,
    pub(super) home: PathBuf,
    pub(super) margin: Duration,
}

fn init(settings: &Settings, args: &LambdaArgs) -> anyhow::Result<Init> {
    let missing: Vec<&str> = std::iter::once("AWS_LAMBDA_RUNTIME_API")
        .chain(FUNCTION_ENV)
        .filter(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "not started by the Lambda runtime: {} not set (`drctl lambda` only runs as a Lambda function; see docs/lambda.md)",
            missing.join(", ")
        );
    }
    let memory = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        anyhow::bail!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is `{memory}`, not a number of megabytes");
    }
    let home = args
        .home
        .clone()
        .filter(|h| !h.as_os_str().is_empty())
        .or_else(|| std::env::var_os("LAMBDA_TASK_ROOT").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    // Lambda mode always prints the EMF lines: CloudWatch turns them into metrics.
    let settings = Settings {
        emf: true,
        ..settings.clone()
    };
    Ok(Init {
        settings,
        home,
        margin: Duration::from_secs(args.margin_secs),
    })
}

/// Report an init failure to the runtime (`/runtime/init/error`) and end the process.
async fn init_failed(api: &str, e: anyhow::Error) -> anyhow::Result<Exit> {
    let message = format!("{e:#}");
    tracing::error!(error = %message, "init failed");
    if !api.is_empty() {
        post_init_error(api, &message).await;
    }
    Err(e)
}

/// A failure before the handler exists (e.g. an invalid configuration file): report it to
/// the runtime as an init error, as [`run`] does for its own failures.
pub fn report_init_error(message: &str) {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    if api.is_empty() {
        return;
    }
    if let Ok(rt) = runtime() {
        rt.block_on(post_init_error(&api, message));
    }
}

/// POST the init error with a plain HTTP/1.1 client (lambda_runtime only reports init
/// errors of its own).
async fn post_init_error(api: &str, message: &str) {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let body = serde_json::json!({ "errorMessage": message, "errorType": "Runtime.InitError" });
    let request = http::Request::post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(body.to_string())));
    let Ok(request) = request else { return };
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), client.request(request)).await
    {
        tracing::error!(error = %e, "could not report the init error to the runtime");
    }
}
