//! What a lock keeps between connections: its revocation state (denylist, epoch), the inside
//! knob, office mode (and whether an easy office mode window set it), the door, the battery,
//! and how often and when it last opened.

use std::collections::BTreeSet;

use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate};
use keyway_protocol::Command;

/// The lock's stored and mechanical state.
#[derive(Debug, Clone)]
pub(crate) struct LockState {
    denylist: BTreeSet<u64>,
    revocation_epoch: u32,
    privacy: bool,
    office_mode: bool,
    office_mode_by_schedule: bool,
    unlock_count: u64,
    last_opened_at: Option<i64>,
    door_open_since: Option<i64>,
    door_left_open_reported: bool,
    battery: u8,
    battery_low_reported: bool,
}

impl Default for LockState {
    fn default() -> Self {
        Self {
            denylist: BTreeSet::new(),
            revocation_epoch: 0,
            privacy: false,
            office_mode: false,
            office_mode_by_schedule: false,
            unlock_count: 0,
            last_opened_at: None,
            door_open_since: None,
            door_left_open_reported: false,
            battery: 100,
            battery_low_reported: false,
        }
    }
}

impl LockState {
    pub(crate) fn deny(&mut self, credential_id: u64) {
        self.denylist.insert(credential_id);
    }

    pub(crate) fn is_denied(&self, credential_id: u64) -> bool {
        self.denylist.contains(&credential_id)
    }

    pub(crate) fn revocation_epoch(&self) -> u32 {
        self.revocation_epoch
    }

    /// The installer's setting: exactly this epoch.
    pub(crate) fn set_revocation_epoch(&mut self, epoch: u32) {
        self.revocation_epoch = epoch;
    }

    /// Applies a verified update; an epoch only ever rises through the mailbox.
    pub(crate) fn apply_mailbox(&mut self, update: &MailboxUpdate) {
        match &update.change {
            MailboxChange::DenyCredentials(ids) => self.denylist.extend(ids.iter().copied()),
            MailboxChange::RaiseEpoch(epoch) => {
                self.revocation_epoch = self.revocation_epoch.max(*epoch);
            }
        }
    }

    pub(crate) fn privacy(&self) -> bool {
        self.privacy
    }

    pub(crate) fn set_privacy(&mut self, engaged: bool) {
        self.privacy = engaged;
    }

    pub(crate) fn office_mode(&self) -> bool {
        self.office_mode
    }

    pub(crate) fn unlock_count(&self) -> u64 {
        self.unlock_count
    }

    /// Carries out a granted command on the mechanism at lock time `now`.
    pub(crate) fn carry_out(&mut self, command: Command, now: i64) {
        match command {
            Command::Unlock => {
                self.unlock_count = self.unlock_count.saturating_add(1);
                self.last_opened_at = Some(now);
            }
            Command::OfficeModeOn => self.office_mode = true,
            Command::OfficeModeOff => self.end_office_mode(),
        }
    }

    /// Marks the office mode about to be set as set by an easy office mode window (it ends
    /// with the window) or not (it lasts until someone ends it).
    pub(crate) fn set_office_mode_by_schedule(&mut self, by_schedule: bool) {
        self.office_mode_by_schedule = by_schedule;
    }

    pub(crate) fn office_mode_by_schedule(&self) -> bool {
        self.office_mode && self.office_mode_by_schedule
    }

    pub(crate) fn end_office_mode(&mut self) {
        self.office_mode = false;
        self.office_mode_by_schedule = false;
    }

    pub(crate) fn last_opened_at(&self) -> Option<i64> {
        self.last_opened_at
    }

    pub(crate) fn door_opened(&mut self, now: i64) {
        if self.door_open_since.is_none() {
            self.door_open_since = Some(now);
            self.door_left_open_reported = false;
        }
    }

    pub(crate) fn door_closed(&mut self) {
        self.door_open_since = None;
    }

    pub(crate) fn door_open_since(&self) -> Option<i64> {
        self.door_open_since
    }

    pub(crate) fn door_left_open_reported(&self) -> bool {
        self.door_left_open_reported
    }

    pub(crate) fn mark_door_left_open_reported(&mut self) {
        self.door_left_open_reported = true;
    }

    pub(crate) fn battery(&self) -> u8 {
        self.battery
    }

    pub(crate) fn set_battery(&mut self, percent: u8) {
        self.battery = percent;
    }

    pub(crate) fn battery_low_reported(&self) -> bool {
        self.battery_low_reported
    }

    pub(crate) fn set_battery_low_reported(&mut self, reported: bool) {
        self.battery_low_reported = reported;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(serial: u32, change: MailboxChange) -> MailboxUpdate {
        MailboxUpdate {
            site_id: 1,
            lock_id: 0,
            serial,
            change,
        }
    }

    #[test]
    fn mailbox_never_lowers_the_epoch() {
        let mut state = LockState::default();
        state.apply_mailbox(&update(1, MailboxChange::RaiseEpoch(5)));
        state.apply_mailbox(&update(2, MailboxChange::RaiseEpoch(3)));
        assert_eq!(state.revocation_epoch(), 5);
    }

    #[test]
    fn commands_change_the_mechanism() {
        let mut state = LockState::default();
        state.carry_out(Command::Unlock, 10);
        state.carry_out(Command::OfficeModeOn, 11);
        assert!(state.office_mode());
        state.carry_out(Command::OfficeModeOff, 12);
        assert!(!state.office_mode());
        assert_eq!(
            (state.unlock_count(), state.last_opened_at()),
            (1, Some(10))
        );
    }
}
