//! `http.probe`: GET an endpoint until it answers healthy N times in a row. This is the
//! usual verification step: its success marks T_recovered for the RTO.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `http.probe`.
pub(crate) struct Probe;

/// One probe's answer.
struct Answer {
    status: u16,
    body: String,
}

async fn get(url: &str, timeout: Duration) -> Result<Answer, String> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("cannot load the system's CA certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let request = http::Request::get(uri)
        .header("user-agent", concat!("drctl/", env!("CARGO_PKG_VERSION")))
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let fetch = async {
        let response = client.request(request).await.map_err(|e| {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                source = s.source();
            }
            msg
        })?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        // Bodies are only matched, never stored whole.
        let body = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]).into_owned();
        Ok(Answer { status, body })
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
}

impl Action for Probe {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("http.probe").expect("catalogue entry")
    }

    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        Vec::new()
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let url = ctx.str("url")?.to_string();
            let expect_status = ctx.u64("expect_status")? as u16;
            let expect_body = ctx.opt_str("expect_body").map(str::to_owned);
            let needed = ctx.u64("consecutive")?.max(1);
            let pause = ctx.duration("interval")?;
            let start = Instant::now();
            let mut healthy_in_a_row = 0u64;
            let mut attempts = 0u64;
            let mut last_status = 0u16;
            loop {
                attempts += 1;
                let verdict = match get(&url, Duration::from_secs(10)).await {
                    Ok(answer) => {
                        last_status = answer.status;
                        if answer.status != expect_status {
                            Err(format!("HTTP {} (want {expect_status})", answer.status))
                        } else if let Some(want) = &expect_body
                            && !answer.body.contains(want.as_str())
                        {
                            Err(format!("body lacks `{want}`"))
                        } else {
                            Ok(())
                        }
                    }
                    Err(e) => Err(e),
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
            let mut outcome = StepOutcome::default();
            outcome
                .outputs
                .insert("status".into(), last_status.to_string());
            outcome
                .outputs
                .insert("attempts".into(), attempts.to_string());
            Ok(outcome)
        })
    }
}
