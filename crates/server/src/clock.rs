//! Time as the server sees it: the system clock, or a manual clock tests move.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub enum Clock {
    System,
    /// Starts at a given time and moves only when told; moving it wakes the timer worker.
    Manual(Arc<ManualClock>),
}

pub struct ManualClock {
    now_ms: AtomicI64,
    pub moved: Notify,
}

impl Clock {
    pub fn manual(start_ms: i64) -> Clock {
        Clock::Manual(Arc::new(ManualClock {
            now_ms: AtomicI64::new(start_ms),
            moved: Notify::new(),
        }))
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            Clock::Manual(m) => m.now_ms.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock on; false for the system clock.
    pub fn advance(&self, ms: i64) -> bool {
        match self {
            Clock::System => false,
            Clock::Manual(m) => {
                m.now_ms.fetch_add(ms, Ordering::SeqCst);
                m.moved.notify_waiters();
                true
            }
        }
    }
}
