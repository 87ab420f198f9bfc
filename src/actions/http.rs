//! `http.probe`: GET an endpoint until it answers healthy N times in a row. This is the
//! usual verification step: its success marks T_recovered for the RTO.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use serde::Deserialize;

use super::params::millis;
use super::spec::{ActionSpec, ParamType, RegionUse, dflt, opt, out, req};
use super::{ActionError, BoxFuture, NoUndo, Outcome, StepContext, TypedAction, nothing_to_undo};

/// `http.probe` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "http.probe",
    summary: "Probe an HTTP endpoint until it answers healthy N times in a row",
    params: &[
        req("url", ParamType::String, "URL to GET"),
        dflt(
            "expect_status",
            ParamType::Integer,
            "200",
            "HTTP status that counts as healthy",
        ),
        opt(
            "expect_body",
            ParamType::String,
            "substring the body must contain",
        ),
        dflt(
            "consecutive",
            ParamType::Integer,
            "3",
            "healthy answers in a row needed",
        ),
        dflt(
            "interval",
            ParamType::Duration,
            "2s",
            "pause between probes",
        ),
    ],
    outputs: &[
        out("status", "last HTTP status"),
        out("attempts", "number of probes made"),
    ],
    iam: &[],
    estimate_secs: 30,
    mutating: false,
    verification: true,
    rpo_evidence: false,
    region: RegionUse::None,
};

/// `http.probe`.
pub(crate) struct Probe;

/// The parameters of `http.probe`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    url: String,
    expect_status: u64,
    expect_body: Option<String>,
    consecutive: u64,
    #[serde(with = "millis")]
    interval: Duration,
}

/// Why a probe did not get its answer.
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    #[error("cannot load the system's CA certificates: {0}")]
    Certificates(std::io::Error),
    #[error("bad URL: {0}")]
    Url(#[from] http::uri::InvalidUri),
    #[error("{0}")]
    Request(#[from] http::Error),
    /// The connection or the request failed, with its causes.
    #[error("{0}")]
    Fetch(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// One probe's answer.
struct Answer {
    status: u16,
    body: String,
}

async fn get(url: &str, timeout: Duration) -> Result<Answer, ProbeError> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(ProbeError::Certificates)?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let uri: http::Uri = url.parse()?;
    let request = http::Request::get(uri)
        .header("user-agent", concat!("drctl/", env!("CARGO_PKG_VERSION")))
        .body(Empty::new())?;
    let fetch = async {
        let response = client.request(request).await.map_err(|e| {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                source = s.source();
            }
            ProbeError::Fetch(msg)
        })?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ProbeError::Fetch(e.to_string()))?
            .to_bytes();
        // Bodies are only matched, never stored whole.
        let body = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]).into_owned();
        Ok(Answer { status, body })
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| ProbeError::Timeout(timeout))?
}

impl TypedAction for Probe {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    /// A probe only reads.
    type Undo = NoUndo;

    fn describe(&self, _ctx: &StepContext, _p: &Params) -> Vec<String> {
        Vec::new()
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<NoUndo>, ActionError>> {
        Box::pin(async move {
            let url = p.url;
            let expect_status = p.expect_status;
            let expect_body = p.expect_body;
            let needed = p.consecutive.max(1);
            let pause = p.interval;
            let start = Instant::now();
            let mut healthy_in_a_row = 0u64;
            let mut attempts = 0u64;
            let mut last_status = 0u16;
            loop {
                attempts += 1;
                let verdict = match get(&url, Duration::from_secs(10)).await {
                    Ok(answer) => {
                        last_status = answer.status;
                        if u64::from(answer.status) != expect_status {
                            Err(format!("HTTP {} (want {expect_status})", answer.status))
                        } else if let Some(want) = &expect_body
                            && !answer.body.contains(want.as_str())
                        {
                            Err(format!("body lacks `{want}`"))
                        } else {
                            Ok(())
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                match verdict {
                    Ok(()) => {
                        healthy_in_a_row += 1;
                        if healthy_in_a_row >= needed {
                            break;
                        }
                        ctx.progress(format!("{url}: healthy {healthy_in_a_row}/{needed}"));
                    }
                    Err(why) => {
                        healthy_in_a_row = 0;
                        ctx.progress(format!(
                            "{url}: unhealthy ({why}), probing for {}s",
                            start.elapsed().as_secs()
                        ));
                    }
                }
                if ctx.is_interrupted() {
                    return Err(ActionError::Interrupted);
                }
                tokio::time::sleep(pause).await;
            }
            let mut outcome = Outcome::default();
            outcome
                .outputs
                .insert("status".into(), last_status.to_string());
            outcome
                .outputs
                .insert("attempts".into(), attempts.to_string());
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        _ctx: &'a StepContext,
        undo: NoUndo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        nothing_to_undo(undo)
    }
}
