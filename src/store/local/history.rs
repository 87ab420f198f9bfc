//! The local drill history: `<state-dir>/history.jsonl`, one JSON line per finished drill,
//! appended and fsynced. Unreadable lines are skipped on read.

use std::io::Write;
use std::path::Path;

use crate::report::HistoryEntry;

/// Append a drill to the history (fsynced).
pub(crate) fn append(path: &Path, entry: &HistoryEntry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)?;
    file.sync_data()
}

/// Every readable history entry, oldest first (unreadable lines are skipped).
pub(crate) fn read(path: &Path) -> std::io::Result<Vec<HistoryEntry>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
