//! A lock's own real-time clock: the system clock plus an offset, so that each lock can drift,
//! be set, or be moved forward like a real lock's RTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// A lock's clock, kept as an offset from the system clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockClock {
    offset_seconds: i64,
}

impl LockClock {
    /// A clock that follows the system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The lock's time, in Unix seconds.
    pub fn now(&self) -> i64 {
        system_seconds().saturating_add(self.offset_seconds)
    }

    /// Sets the clock to `unix_seconds`; it keeps running from there.
    pub fn set(&mut self, unix_seconds: i64) {
        self.offset_seconds = unix_seconds.saturating_sub(system_seconds());
    }

    /// Moves the clock forward by `seconds` (backward when negative).
    pub fn advance(&mut self, seconds: i64) {
        self.offset_seconds = self.offset_seconds.saturating_add(seconds);
    }
}

fn system_seconds() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_advance_move_only_this_clock() {
        let system = LockClock::system();
        let mut clock = LockClock::system();
        clock.set(1_000);
        assert!((1_000..1_003).contains(&clock.now()));
        clock.advance(60);
        assert!((1_060..1_063).contains(&clock.now()));
        assert!((system.now() - system_seconds()).abs() <= 1);
    }
}
