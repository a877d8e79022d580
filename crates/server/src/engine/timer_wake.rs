//! How committed turns tell the timer worker about the timers they set: the earliest due time
//! among them, so the worker reads the store again only when that comes before the wake-up it
//! already planned (most timers are due long after the next one).

use std::sync::Mutex;
use tokio::sync::Notify;

#[derive(Default)]
pub struct TimerWake {
    /// The earliest due time (ms) set since the worker last looked.
    earliest: Mutex<Option<i64>>,
    notify: Notify,
}

impl TimerWake {
    /// Committed turns set a timer due at `due` (ms).
    pub fn set(&self, due: i64) {
        let mut earliest = self.earliest.lock().unwrap_or_else(|p| p.into_inner());
        *earliest = Some(earliest.map_or(due, |e| e.min(due)));
        self.notify.notify_one();
    }

    /// Waits for timers to be set; returns the earliest due time set since the last call.
    pub async fn wait(&self) -> i64 {
        loop {
            if let Some(due) = self.earliest.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return due;
            }
            self.notify.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_worker_hears_the_earliest_timer_set_since_it_last_looked() {
        let wake = TimerWake::default();
        wake.set(5_000);
        wake.set(2_000);
        wake.set(9_000);
        assert_eq!(wake.wait().await, 2_000);
        wake.set(7_000);
        assert_eq!(wake.wait().await, 7_000);
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), wake.wait()).await;
        assert!(waiting.is_err(), "nothing set since: the worker keeps waiting");
    }
}
