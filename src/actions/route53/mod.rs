//! `route53.failover`, split by concept: send a failover record's traffic to its SECONDARY (or back to its
//! PRIMARY), either by rewriting the PRIMARY record's values (`method = "records"`) or by
//! inverting the PRIMARY's health check (`method = "health-check"`), then wait until the
//! change is INSYNC and the side now serving is healthy.
//!
//! Failback needs the PRIMARY record's original values after a failover replaced them. They
//! must survive the run that made the failover (a failback is often a later, separate run),
//! so the failover writes them, in the same atomic change batch, into a TXT memo record
//! `_drctl-failover-<type>.<record>` in the zone; `to = "primary"` restores them from there and
//! deletes the memo in one batch again. The full record sets as they were before a change are
//! also journalled and returned as the drill undo, which puts them back exactly.
//!
//! Look before acting: a record that already answers with the target's values is not changed
//! (a resumed step only waits for the change its earlier attempt made). Isolated drills never
//! touch production records: they create a separate drill record
//! `drctl-drill-<run id>.<record>` that answers with the target's values.
//!
//! `records` (record sets and the memo), `zone` (finding zones and records), `change`
//! (change batches, INSYNC, record undo), `health` (health checks and that method),
//! `drill` (drill records) and `failover` (the action).

mod change;
mod drill;
mod failover;
mod health;
mod records;
mod zone;

pub(crate) use drill::{delete_drill_record, drill_records};
pub(crate) use failover::Failover;
