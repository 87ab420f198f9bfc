//! `drctl state init`: create the shared state store's DynamoDB table.

use super::args::StateCommand;
use super::exit::{Exit, UsageError};
use super::settings::Settings;
use crate::store::Store;

/// Runs `drctl state ...`.
pub fn run(settings: &Settings, command: &StateCommand) -> anyhow::Result<Exit> {
    match command {
        StateCommand::Init => init(settings),
    }
}

fn init(settings: &Settings) -> anyhow::Result<Exit> {
    let Some(store) = settings.dynamo_store()? else {
        return Err(UsageError(
            "`drctl state init` creates a DynamoDB table: name it with --state dynamodb://TABLE?region=REGION (or DRCTL_STATE); the local directory needs no set-up".into(),
        )
        .into());
    };
    let location = store.location();
    let created = store.init()?;
    if !settings.quiet() {
        if created {
            eprintln!(
                "created {location} (on-demand capacity, point-in-time recovery); use it with --state '{location}' or DRCTL_STATE"
            );
        } else {
            eprintln!("{location} already exists with drctl's keys; point-in-time recovery is on");
        }
    }
    Ok(Exit::Success)
}
