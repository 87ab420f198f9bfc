//! Health checks: what Route 53's checkers say, waiting for the side that should serve to
//! be healthy, and the `method = "health-check"` failover (invert the PRIMARY's check) with
//! its undo.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::failover::{Switch, Undo, outcome};
use super::zone::{Pair, Zone};
use crate::actions::{ActionError, Outcome, Poll, StepContext, on, poll_until};
use crate::aws::aws_err;

/// Route 53 treats an endpoint as healthy when more than 18% of its checkers say so.
const HEALTHY_FRACTION: f64 = 0.18;

/// What Route 53's checkers say about a health check: healthy when more than 18% agree.
async fn health(
    ctx: &StepContext,
    region: &str,
    health_check_id: &str,
) -> Result<Option<bool>, ActionError> {
    let out = ctx
        .aws
        .route53(region)
        .get_health_check_status()
        .health_check_id(health_check_id)
        .send()
        .await
        .map_err(aws_err("route53:GetHealthCheckStatus"))
        .map_err(on(format!("health check {health_check_id} (via {region})")))?;
    let statuses: Vec<&str> = out
        .health_check_observations()
        .iter()
        .filter_map(|o| o.status_report().and_then(|s| s.status()))
        .collect();
    if statuses.is_empty() {
        return Ok(None);
    }
    let healthy = statuses.iter().filter(|s| s.starts_with("Success")).count();
    Ok(Some(
        healthy as f64 / statuses.len() as f64 > HEALTHY_FRACTION,
    ))
}

pub(super) async fn wait_health(
    ctx: &StepContext,
    region: &str,
    health_check_id: &str,
    want_healthy: bool,
    side: &str,
) -> Result<(), ActionError> {
    let want = if want_healthy { "healthy" } else { "unhealthy" };
    poll_until(ctx, || async {
        match health(ctx, region, health_check_id).await? {
            Some(h) if h == want_healthy => Ok(Poll::Ready(())),
            seen => Ok(Poll::Pending(format!(
                "waiting for the {side} health check {health_check_id} to report {want} (now {})",
                match seen {
                    Some(true) => "healthy",
                    Some(false) => "unhealthy",
                    None => "no observations",
                }
            ))),
        }
    })
    .await
}

pub(super) async fn run_health_check(
    ctx: &StepContext,
    p: &Switch,
    zone: &Zone,
    pair: &Pair,
) -> Result<Outcome<Undo>, ActionError> {
    let resource = zone.on_record(&p.record, &p.rtype);
    let Some(check_id) = pair.primary.health_check_id.clone() else {
        return Err(ActionError::fatal(
            resource,
            "the PRIMARY record has no health check to invert; use method = \"records\"",
        ));
    };
    let r53 = ctx.aws.route53(&zone.region);
    let check_resource = format!(
        "health check {check_id} of the PRIMARY {} (via {})",
        p.record, zone.region
    );
    let out = r53
        .get_health_check()
        .health_check_id(&check_id)
        .send()
        .await
        .map_err(aws_err("route53:GetHealthCheck"))
        .map_err(on(check_resource.clone()))?;
    let check = out.health_check();
    let inverted = check
        .and_then(|c| c.health_check_config())
        .and_then(|c| c.inverted())
        .unwrap_or(false);
    let version = check.map(|c| c.health_check_version());
    let want_inverted = p.to_secondary;
    let mut undo: Option<HealthCheckUndo> = ctx
        .prior("health_check_undo")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    if inverted != want_inverted {
        let record = HealthCheckUndo {
            region: zone.region.clone(),
            id: check_id.clone(),
            inverted,
        };
        ctx.note(json!({ "health_check_undo": record })).await?;
        undo = Some(record);
        ctx.progress(format!(
            "setting Inverted = {want_inverted} on health check {check_id}"
        ));
        r53.update_health_check()
            .health_check_id(&check_id)
            .inverted(want_inverted)
            .set_health_check_version(version)
            .send()
            .await
            .map_err(aws_err("route53:UpdateHealthCheck"))
            .map_err(on(check_resource))?;
    }
    // Inverted, the PRIMARY's check reports unhealthy and Route 53 answers with the SECONDARY.
    wait_health(ctx, &zone.region, &check_id, !want_inverted, "primary").await?;
    let target = if p.to_secondary {
        if let Some(id) = &pair.secondary.health_check_id {
            wait_health(ctx, &zone.region, id, true, "secondary").await?;
        }
        pair.secondary.values()
    } else {
        pair.primary.values()
    };
    let mut out = outcome("", &p.record, &target);
    if ctx.mode.is_drill() {
        out.undo = undo.map(Undo::HealthCheck);
    }
    Ok(out)
}

/// How to undo `method = "health-check"`: set the check's `Inverted` back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HealthCheckUndo {
    /// The region the Route 53 calls are made from.
    region: String,
    id: String,
    /// `Inverted` before the step changed it.
    inverted: bool,
}

/// Put a health check's `Inverted` back; a check deleted since counts as done.
pub(super) async fn undo_health_check(
    ctx: &StepContext,
    hc: &HealthCheckUndo,
) -> Result<(), ActionError> {
    let (region, id, inverted) = (hc.region.as_str(), hc.id.as_str(), hc.inverted);
    let resource = format!("health check {id} (via {region})");
    let r53 = ctx.aws.route53(region);
    let current = match r53.get_health_check().health_check_id(id).send().await {
        Ok(out) => out,
        Err(e) => {
            let e = crate::aws::AwsError::from_sdk("route53:GetHealthCheck", e);
            return if e.is_not_found() {
                Ok(())
            } else {
                Err(on(resource)(e))
            };
        }
    };
    let check = current.health_check();
    let now = check
        .and_then(|c| c.health_check_config())
        .and_then(|c| c.inverted())
        .unwrap_or(false);
    if now != inverted {
        match r53
            .update_health_check()
            .health_check_id(id)
            .inverted(inverted)
            .set_health_check_version(check.map(|c| c.health_check_version()))
            .send()
            .await
            .map_err(aws_err("route53:UpdateHealthCheck"))
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(on(resource)(e)),
        }
    }
    Ok(())
}
