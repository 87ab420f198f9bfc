//! Adaptive polling for done-checks. The interval is 5% of the time already waited, between
//! 100 ms and 15 s: quick first polls notice fast operations promptly, and a long restore is
//! polled rarely, while the delay in noticing completion stays under ~5% of the wait (which
//! is what keeps drctl's wall time within 1.05x of the critical path).

use std::time::Duration;

use tokio::time::Instant;

use super::{ActionError, StepContext};

/// What one poll saw.
pub enum Poll<T> {
    /// Done, with a result.
    Ready(T),
    /// Not yet; the message says what we are waiting for.
    Pending(String),
}

const MIN_INTERVAL: Duration = Duration::from_millis(100);
const MAX_INTERVAL: Duration = Duration::from_secs(15);

/// The pause before the next poll after having waited `elapsed`.
pub fn interval(elapsed: Duration) -> Duration {
    (elapsed / 20).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Poll `check` until it is ready. Returns `Interrupted` at the next poll after the
/// operator's first Ctrl-C: polling is a safe point, since the work was already journalled.
/// The step's timeout is enforced by the engine around the whole step.
pub async fn poll_until<T, F, Fut>(ctx: &StepContext, mut check: F) -> Result<T, ActionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Poll<T>, ActionError>>,
{
    let start = Instant::now();
    let mut last_message = String::new();
    loop {
        match check().await? {
            Poll::Ready(value) => return Ok(value),
            Poll::Pending(message) => {
                if message != last_message {
                    ctx.progress(message.clone());
                    last_message = message;
                }
            }
        }
        if ctx.is_interrupted() {
            return Err(ActionError::Interrupted);
        }
        tokio::time::sleep(interval(start.elapsed())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_grows_with_the_wait_and_is_bounded() {
        assert_eq!(interval(Duration::ZERO), MIN_INTERVAL);
        assert_eq!(
            interval(Duration::from_secs(10)),
            Duration::from_millis(500)
        );
        assert_eq!(interval(Duration::from_secs(3600)), MAX_INTERVAL);
    }
}
