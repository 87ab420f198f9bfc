//! The clock, injected everywhere time is read (STYLE.md habit 8). Wall-clock timestamps
//! are derived from tokio's monotonic `Instant`, so tests that pause tokio's time get
//! consistent, deterministic timestamps, and a wall-clock jump mid-run cannot make a step
//! appear to take negative time.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// A monotonic clock anchored to a wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    anchor_wall: DateTime<Utc>,
    anchor_mono: Instant,
}

impl Clock {
    /// A clock anchored at the current wall-clock time.
    pub fn system() -> Self {
        Clock {
            anchor_wall: Utc::now(),
            anchor_mono: Instant::now(),
        }
    }

    /// A clock anchored at a chosen time (tests).
    pub fn starting_at(anchor_wall: DateTime<Utc>) -> Self {
        Clock {
            anchor_wall,
            anchor_mono: Instant::now(),
        }
    }

    /// Now, in UTC.
    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.anchor_mono);
        self.anchor_wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_time_exactly() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = Clock::starting_at(t0);
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        assert_eq!(clock.now(), t0 + chrono::Duration::seconds(90));
    }
}
