//! `drctl history`: past drills with their achieved RTO/RPO and a trend sparkline.

use super::args::{HistoryArgs, OutputFormat};
use super::exit::Exit;
use super::settings::Settings;
use crate::report::{human_secs, sparkline};

/// Runs `drctl history`.
pub fn run(settings: &Settings, args: &HistoryArgs) -> anyhow::Result<Exit> {
    let format = settings.output("history", &[OutputFormat::Human, OutputFormat::Json])?;
    let store = settings.store()?;
    let mut entries = store.read_history()?;
    if let Some(drill) = &args.drill {
        entries.retain(|e| e.drill.as_deref() == Some(drill.as_str()));
    }
    let skip = entries.len().saturating_sub(args.limit);
    let entries: Vec<_> = entries.into_iter().skip(skip).collect();
    if format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(Exit::Success);
    }
    if entries.is_empty() {
        eprintln!("no drills in {} yet", store.location());
        return Ok(Exit::Success);
    }
    let fmt = |v: Option<f64>| v.map(human_secs).unwrap_or_else(|| "-".into());
    println!(
        "{:<28} {:<10} {:<8} {:>9} {:>9}",
        "run", "drill", "result", "RTO", "RPO"
    );
    for e in entries.iter().rev() {
        println!(
            "{:<28} {:<10} {:<8} {:>9} {:>9}",
            e.run_id,
            e.drill.as_deref().unwrap_or("-"),
            format!("{:?}", e.result).to_lowercase(),
            fmt(e.rto_seconds),
            fmt(e.rpo_seconds)
        );
    }
    let rto: Vec<Option<f64>> = entries.iter().map(|e| e.rto_seconds).collect();
    let rpo: Vec<Option<f64>> = entries.iter().map(|e| e.rpo_seconds).collect();
    println!("RTO trend (oldest to newest): {}", sparkline(&rto));
    println!("RPO trend (oldest to newest): {}", sparkline(&rpo));
    Ok(Exit::Success)
}
