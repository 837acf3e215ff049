//! Weekly schedule windows, checked against the lock's local time.

use crate::ProtocolError;

/// Minutes in a day: the exclusive upper bound of a window's end.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// One weekly window: on the days in `days`, from `start_minute` (inclusive) to `end_minute`
/// (exclusive), in the site's local time. The same type is in digital keys, in the cloud's
/// REST bodies and in the app's bindings; one received from outside is checked with
/// [`ScheduleWindow::new`] before use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleWindow {
    /// Bit 0 = Monday … bit 6 = Sunday.
    pub days: u8,
    /// Minutes after local midnight when the window opens.
    pub start_minute: u16,
    /// Minutes after local midnight when the window closes (up to 1440).
    pub end_minute: u16,
}

impl ScheduleWindow {
    /// Every day of the week.
    pub const ALL_DAYS: u8 = 0b0111_1111;

    /// A window, checked: at least one day, start before end, end within the day.
    pub fn new(days: u8, start_minute: u16, end_minute: u16) -> Result<Self, ProtocolError> {
        let window = Self {
            days,
            start_minute,
            end_minute,
        };
        window.validate()?;
        Ok(window)
    }

    pub(crate) fn validate(&self) -> Result<(), ProtocolError> {
        if self.days == 0 || self.days & !Self::ALL_DAYS != 0 {
            return Err(ProtocolError::Invalid("schedule days"));
        }
        if self.start_minute >= self.end_minute || self.end_minute > MINUTES_PER_DAY {
            return Err(ProtocolError::Invalid("schedule window times"));
        }
        Ok(())
    }

    /// Whether the local time (`weekday` 0 = Monday, `minute` of the day) falls inside.
    pub fn contains(&self, weekday: u8, minute: u16) -> bool {
        self.days & (1 << weekday) != 0 && minute >= self.start_minute && minute < self.end_minute
    }
}

/// A local wall-clock position: the weekday (0 = Monday) and the minute of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMinute {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// 0 ..= 1439.
    pub minute: u16,
}

impl LocalMinute {
    /// The local weekday and minute for a Unix time and a UTC offset in minutes.
    pub fn from_unix(unix_seconds: i64, utc_offset_minutes: i32) -> Self {
        let local_minutes = unix_seconds.div_euclid(60) + i64::from(utc_offset_minutes);
        let day = local_minutes.div_euclid(i64::from(MINUTES_PER_DAY));
        // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
        // rem_euclid puts both in range: 0..7 and 0..1440.
        let weekday = u8::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
        let minute =
            u16::try_from(local_minutes.rem_euclid(i64::from(MINUTES_PER_DAY))).unwrap_or(0);
        Self { weekday, minute }
    }
}

/// Whether `windows` allow access at this local time; no windows means always.
pub fn schedule_allows(windows: &[ScheduleWindow], at: LocalMinute) -> bool {
    windows.is_empty()
        || windows
            .iter()
            .any(|window| window.contains(at.weekday, at.minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_was_a_thursday_at_midnight() {
        assert_eq!(
            LocalMinute::from_unix(0, 0),
            LocalMinute {
                weekday: 3,
                minute: 0
            }
        );
    }

    #[test]
    fn offset_moves_the_day() {
        // 2026-11-30 (a Monday) 23:30 UTC is Tuesday 00:30 at UTC+1.
        let t = 1_796_081_400; // 2026-11-30T23:30:00Z
        assert_eq!(
            LocalMinute::from_unix(t, 0),
            LocalMinute {
                weekday: 0,
                minute: 23 * 60 + 30
            }
        );
        assert_eq!(
            LocalMinute::from_unix(t, 60),
            LocalMinute {
                weekday: 1,
                minute: 30
            }
        );
    }

    #[test]
    fn window_bounds_are_start_inclusive_end_exclusive() {
        let office = ScheduleWindow::new(0b0001_1111, 8 * 60, 18 * 60).unwrap();
        assert!(office.contains(0, 8 * 60));
        assert!(!office.contains(0, 18 * 60));
        assert!(
            !office.contains(5, 9 * 60),
            "Saturday is outside a weekday window"
        );
    }

    #[test]
    fn invalid_windows_are_refused() {
        assert!(ScheduleWindow::new(0, 0, 10).is_err());
        assert!(ScheduleWindow::new(0x80, 0, 10).is_err());
        assert!(ScheduleWindow::new(1, 10, 10).is_err());
        assert!(ScheduleWindow::new(1, 0, 1441).is_err());
    }
}
