//! Changing records: one change batch, waiting until it is INSYNC on every Route 53 server,
//! journalling what a change overwrites before making it, and undoing record changes
//! (put back what was there, delete what was added).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ChangeStatus};

use super::records::{RecordJson, bare_change_id};
use super::zone::{Zone, find_one};
use crate::actions::{ActionError, Poll, StepContext, on, poll_until};
use crate::aws::aws_err;

/// Submit one change batch; returns the bare change id.
pub(super) async fn submit(
    ctx: &StepContext,
    zone: &Zone,
    changes: &[(ChangeAction, RecordJson)],
    comment: &str,
    resource: &str,
) -> Result<String, ActionError> {
    let mut batch = ChangeBatch::builder().comment(comment);
    for (action, record) in changes {
        let rrs = record
            .to_sdk()
            .map_err(|e| ActionError::fatal(resource, e.to_string()))?;
        batch = batch.changes(
            Change::builder()
                .action(action.clone())
                .resource_record_set(rrs)
                .build()
                .map_err(|e| ActionError::fatal(resource, e.to_string()))?,
        );
    }
    let batch = batch
        .build()
        .map_err(|e| ActionError::fatal(resource, e.to_string()))?;
    let out = ctx
        .aws
        .route53(&zone.region)
        .change_resource_record_sets()
        .hosted_zone_id(&zone.id)
        .change_batch(batch)
        .send()
        .await
        .map_err(aws_err("route53:ChangeResourceRecordSets"))
        .map_err(on(resource))?;
    Ok(out
        .change_info()
        .map(|c| bare_change_id(c.id()))
        .unwrap_or_default())
}

/// Wait until a change has propagated to every Route 53 DNS server.
pub(super) async fn wait_insync(
    ctx: &StepContext,
    region: &str,
    change_id: &str,
    resource: &str,
) -> Result<(), ActionError> {
    if change_id.is_empty() {
        return Ok(());
    }
    let r53 = ctx.aws.route53(region);
    poll_until(ctx, || async {
        let out = r53
            .get_change()
            .id(change_id)
            .send()
            .await
            .map_err(aws_err("route53:GetChange"))
            .map_err(on(format!("change {change_id} of {resource}")))?;
        match out.change_info().map(|c| c.status()) {
            Some(ChangeStatus::Insync) => Ok(Poll::Ready(())),
            other => Ok(Poll::Pending(format!(
                "change {change_id}: {}",
                other.map(|s| s.as_str()).unwrap_or("PENDING")
            ))),
        }
    })
    .await
}

/// How to undo record changes: put back `restore` exactly, delete `remove`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RecordsUndo {
    pub(super) zone_id: String,
    pub(super) zone_name: String,
    pub(super) region: String,
    pub(super) restore: Vec<RecordJson>,
    pub(super) remove: Vec<RecordJson>,
}

/// Journal what `changes` will overwrite or create, then submit them (unless empty) and
/// wait until INSYNC. Returns the change id (the earlier attempt's when nothing was left to
/// change) and the undo record of whichever attempt made the change, if one did.
pub(super) async fn change_and_wait(
    ctx: &StepContext,
    zone: &Zone,
    changes: Vec<(ChangeAction, RecordJson)>,
    undo: RecordsUndo,
    comment: &str,
    resource: &str,
) -> Result<(String, Option<RecordsUndo>), ActionError> {
    let (change_id, undo) = if changes.is_empty() {
        let id = ctx
            .prior("change_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let undo = ctx
            .prior("route53_undo")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        (id, undo)
    } else {
        ctx.note(json!({ "route53_undo": undo })).await?;
        ctx.progress(format!("{comment} ({} change(s))", changes.len()));
        let id = submit(ctx, zone, &changes, comment, resource).await?;
        ctx.note(json!({ "change_id": id })).await?;
        (id, Some(undo))
    };
    wait_insync(ctx, &zone.region, &change_id, resource).await?;
    Ok((change_id, undo))
}

/// Whether AWS said the thing is gone (a zone deleted since: nothing left to undo).
fn not_found(e: &ActionError) -> bool {
    e.aws_code()
        .is_some_and(|c| c.contains("NotFound") || c.starts_with("NoSuch"))
}

pub(super) async fn undo_records(ctx: &StepContext, undo: &RecordsUndo) -> Result<(), ActionError> {
    match undo_records_in_zone(ctx, undo).await {
        Err(e) if not_found(&e) => Ok(()),
        other => other,
    }
}

async fn undo_records_in_zone(ctx: &StepContext, undo: &RecordsUndo) -> Result<(), ActionError> {
    let zone = Zone {
        id: undo.zone_id.clone(),
        name: undo.zone_name.clone(),
        region: undo.region.clone(),
    };
    let mut changes = Vec::new();
    for record in &undo.restore {
        match find_one(ctx, &zone, record).await? {
            Some(now) if now == *record => {}
            _ => changes.push((ChangeAction::Upsert, record.clone())),
        }
    }
    for record in &undo.remove {
        // Delete what is there now, so the DELETE matches whatever values it has.
        if let Some(now) = find_one(ctx, &zone, record).await? {
            changes.push((ChangeAction::Delete, now));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let resource = undo
        .restore
        .first()
        .or(undo.remove.first())
        .map(|r| zone.on_record(&r.name, &r.rtype))
        .unwrap_or_else(|| format!("hosted zone {}", zone.id));
    let comment = format!("drctl run {}: undo of step {}", ctx.run_id, ctx.step_id);
    let id = submit(ctx, &zone, &changes, &comment, &resource).await?;
    wait_insync(ctx, &zone.region, &id, &resource).await
}
