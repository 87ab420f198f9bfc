//! The shared state store: one DynamoDB table (`--state dynamodb://TABLE?region=REGION`),
//! which should live in the recovery region so that losing the primary region loses no
//! journal. `drctl state init` creates it. One item per record:
//!
//! | pk                 | sk                | what                                         |
//! |--------------------|-------------------|----------------------------------------------|
//! | `runs`             | run id            | the index of runs (written with the journal) |
//! | `run#<run id>`     | `j#<seq, 10 digits>` | one journal record (`body`: the JSON line) |
//! | `run#<run id>`     | `report`          | the report kept when the run finished        |
//! | `run#<run id>`     | `cleanup`         | the last `drctl cleanup` of the run          |
//! | `lock#<runbook>`   | `lock`            | the lock: holder JSON and an owner token     |
//! | `history`          | run id            | one finished drill                           |
//!
//! Every write that must not be lost or doubled is conditional: a journal record is put only
//! if its sequence number is new (two writers of one run cannot interleave silently), the
//! lock is put only if absent, renewed and released only while its token is ours, and taken
//! over only by the token that was read. A crashed holder's lock expires with its lease
//! (renewed by the heartbeat every quarter lease); process ids are not consulted, because
//! they are not unique across Lambda containers.
//!
//! The [`Store`](crate::store::Store) interface is synchronous; the calls run on a one-thread runtime owned by
//! this module and the caller waits for them, so the store works from the engine's loop and
//! from commands without a runtime alike.

mod journal;
mod lock;
mod table;

pub use table::{DynamoStore, RuntimeError};
