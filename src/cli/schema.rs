//! `drctl schema [runbook|drill]`: the JSON Schema of a file format, for editors.

use std::io::Write;

use crate::runbook::{drill_schema, runbook_schema};

use super::args::{OutputFormat, SchemaArgs, SchemaKind};
use super::exit::Exit;
use super::settings::Settings;

/// Runs `drctl schema`.
pub fn run(settings: &Settings, args: &SchemaArgs) -> anyhow::Result<Exit> {
    // A schema is JSON whatever the format; `human` is accepted as the default.
    settings.output("schema", &[OutputFormat::Json, OutputFormat::Human])?;
    let schema = match args.kind {
        SchemaKind::Runbook => runbook_schema(),
        SchemaKind::Drill => drill_schema(),
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &schema)?;
    writeln!(stdout)?;
    Ok(Exit::Success)
}
