//! What a lock reports on its own, with no request: the door, the battery, the privacy knob,
//! and the end of an easy office mode window. A report is an ordinary signed event record
//! whose command byte is the report's code (from 0x40, apart from [`crate::Command`]'s),
//! whose user id is 0, and whose credential id carries the reported value (the battery
//! percentage; 0 otherwise).

use crate::event::LockEvent;

/// A lock's own report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LockReport {
    /// The door opened after a granted opening.
    DoorOpened = 0x40,
    /// The door closed.
    DoorClosed = 0x41,
    /// The door stayed open longer than the lock's limit.
    DoorLeftOpen = 0x42,
    /// The door opened while the lock was locked and nobody was let in: forced.
    DoorForced = 0x43,
    /// The battery level, in percent, as value.
    Battery = 0x44,
    /// The battery fell to [`LOW_BATTERY_PERCENT`] or below (percent as value).
    BatteryLow = 0x45,
    /// Privacy mode engaged from inside (knob or button).
    PrivacyEngaged = 0x46,
    /// Privacy mode released.
    PrivacyReleased = 0x47,
    /// An easy office mode window ended and the lock locked itself.
    OfficeModeEnded = 0x48,
}

/// At or below this battery percentage a lock reports [`LockReport::BatteryLow`].
pub const LOW_BATTERY_PERCENT: u8 = 15;

impl LockReport {
    /// Every report, in code order.
    pub const ALL: [LockReport; 9] = [
        Self::DoorOpened,
        Self::DoorClosed,
        Self::DoorLeftOpen,
        Self::DoorForced,
        Self::Battery,
        Self::BatteryLow,
        Self::PrivacyEngaged,
        Self::PrivacyReleased,
        Self::OfficeModeEnded,
    ];

    /// The code in the event's command byte.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The report for a command byte, if it is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|report| report.code() == code)
    }

    /// The report an event record carries, with its value, if it is one.
    pub fn of_event(event: &LockEvent) -> Option<(Self, u64)> {
        Self::from_code(event.command).map(|report| (report, event.credential_id))
    }

    /// Whether the site owner gets an alert e-mail for it (manual 000: only the owner
    /// receives notifications).
    pub fn alerts_owner(self) -> bool {
        matches!(
            self,
            Self::DoorLeftOpen | Self::DoorForced | Self::BatteryLow
        )
    }

    /// A short name for logs, e-mails and the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::DoorOpened => "door_opened",
            Self::DoorClosed => "door_closed",
            Self::DoorLeftOpen => "door_left_open",
            Self::DoorForced => "door_forced",
            Self::Battery => "battery",
            Self::BatteryLow => "battery_low",
            Self::PrivacyEngaged => "privacy_engaged",
            Self::PrivacyReleased => "privacy_released",
            Self::OfficeModeEnded => "office_mode_ended",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_codes_never_collide_with_commands() {
        for report in LockReport::ALL {
            assert!(crate::Command::from_code(report.code()).is_err());
            assert_eq!(LockReport::from_code(report.code()), Some(report));
        }
    }
}
