//! The cloud's clock: the system clock, shiftable in tests to cross expiry times.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Unix time, with an offset tests may move forward.
#[derive(Debug, Clone, Default)]
pub struct CloudClock {
    offset_seconds: Arc<AtomicI64>,
}

impl CloudClock {
    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Moves the clock forward (tests).
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}
