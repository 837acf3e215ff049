//! What the lock notices on its own and reports as signed events: the door (opened after a
//! granted opening, forced, left open past the limit, closed), the battery, the privacy knob,
//! and the end of an easy office mode window, when it locks itself on its own clock.

use keyway_protocol::handshake::lock::Requester;
use keyway_protocol::report::LOW_BATTERY_PERCENT;
use keyway_protocol::schedule::{schedule_allows, LocalMinute};
use keyway_protocol::{LockReport, SignedEvent};

use super::SimulatedLock;
use crate::event_log::Occurrence;
use crate::SimError;

/// After a granted opening, the door may be opened for this long before the lock relocks.
pub const RELOCK_SECONDS: i64 = 6;
/// A low battery is reported again only after the level came back to this (a new battery),
/// so a gauge hovering at the threshold does not report it over and over.
pub const BATTERY_REARM_PERCENT: u8 = 25;

impl SimulatedLock {
    fn report(&mut self, report: LockReport, value: u64) -> Result<SignedEvent, SimError> {
        let occurrence = Occurrence {
            lock_id: self.config.lock_id,
            time: self.clock.now(),
            requester: Requester {
                user_id: 0,
                credential_id: value,
                command: report.code(),
            },
            refusal: None,
        };
        self.log.append(occurrence, &self.lock_key, &self.rng)
    }

    /// Someone opened the door: after a granted opening (within [`RELOCK_SECONDS`]) or in
    /// office mode it is an ordinary opening, else the door was forced.
    pub fn open_door(&mut self) -> Result<SignedEvent, SimError> {
        self.run_timers()?;
        let now = self.clock.now();
        let let_in = self.state.office_mode()
            || self
                .state
                .last_opened_at()
                .is_some_and(|at| (0..=RELOCK_SECONDS).contains(&now.saturating_sub(at)));
        self.state.door_opened(now);
        let report = if let_in {
            LockReport::DoorOpened
        } else {
            LockReport::DoorForced
        };
        self.report(report, 0)
    }

    /// The door closed.
    pub fn close_door(&mut self) -> Result<SignedEvent, SimError> {
        self.state.door_closed();
        self.report(LockReport::DoorClosed, 0)
    }

    /// Whether the door is open now.
    pub fn door_open(&self) -> bool {
        self.state.door_open_since().is_some()
    }

    /// The battery gauge read `percent`: reported, and once as low when it falls to
    /// [`LOW_BATTERY_PERCENT`] (again only after it came back to [`BATTERY_REARM_PERCENT`]).
    pub fn set_battery(&mut self, percent: u8) -> Result<(), SimError> {
        let percent = percent.min(100);
        self.state.set_battery(percent);
        self.report(LockReport::Battery, u64::from(percent))?;
        if percent >= BATTERY_REARM_PERCENT {
            self.state.set_battery_low_reported(false);
        }
        if percent <= LOW_BATTERY_PERCENT && !self.state.battery_low_reported() {
            self.state.set_battery_low_reported(true);
            self.report(LockReport::BatteryLow, u64::from(percent))?;
        }
        Ok(())
    }

    /// The battery level in percent.
    pub fn battery(&self) -> u8 {
        self.state.battery()
    }

    /// Turns the inside privacy knob; a change is reported (the IQ carries it to the cloud).
    pub fn set_privacy(&mut self, engaged: bool) -> Result<(), SimError> {
        if self.state.privacy() != engaged {
            self.state.set_privacy(engaged);
            let report = if engaged {
                LockReport::PrivacyEngaged
            } else {
                LockReport::PrivacyReleased
            };
            self.report(report, 0)?;
        }
        Ok(())
    }

    /// Whether privacy mode is engaged.
    pub fn privacy(&self) -> bool {
        self.state.privacy()
    }

    /// Whether the lock's clock is inside one of its easy office mode windows.
    pub(crate) fn in_easy_office_window(&self) -> bool {
        let local = LocalMinute::from_unix(self.clock.now(), self.config.utc_offset_minutes);
        !self.settings.easy_office_schedule.is_empty()
            && schedule_allows(&self.settings.easy_office_schedule, local)
    }

    /// The lock's own timer, on its own clock: ends easy office mode when its window is over,
    /// and reports a door open longer than the limit (once per opening). Real firmware runs it
    /// every second; the simulator runs it on each IQ heartbeat and at every entry point (BLE,
    /// keypad, tag, remote grant, door), and [`Self::office_mode`] reads the window itself.
    pub fn run_timers(&mut self) -> Result<(), SimError> {
        let now = self.clock.now();
        if self.state.office_mode_by_schedule() && !self.in_easy_office_window() {
            self.state.end_office_mode();
            self.report(LockReport::OfficeModeEnded, 0)?;
        }
        let limit = i64::from(self.settings.door_open_limit_seconds);
        if let Some(since) = self.state.door_open_since() {
            if now.saturating_sub(since) > limit && !self.state.door_left_open_reported() {
                self.state.mark_door_left_open_reported();
                self.report(LockReport::DoorLeftOpen, 0)?;
            }
        }
        Ok(())
    }
}
