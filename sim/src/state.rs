//! What a lock keeps between connections: its revocation state (denylist, epoch), the inside
//! knob, office mode, and how often it opened.

use std::collections::BTreeSet;

use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate};
use keyway_protocol::Command;

/// The lock's stored and mechanical state.
#[derive(Debug, Clone, Default)]
pub(crate) struct LockState {
    denylist: BTreeSet<u64>,
    revocation_epoch: u32,
    privacy: bool,
    office_mode: bool,
    unlock_count: u64,
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

    /// Carries out a granted command on the mechanism.
    pub(crate) fn carry_out(&mut self, command: Command) {
        match command {
            Command::Unlock => self.unlock_count = self.unlock_count.saturating_add(1),
            Command::OfficeModeOn => self.office_mode = true,
            Command::OfficeModeOff => self.office_mode = false,
        }
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
        state.carry_out(Command::Unlock);
        state.carry_out(Command::OfficeModeOn);
        assert!(state.office_mode());
        state.carry_out(Command::OfficeModeOff);
        assert!(!state.office_mode());
        assert_eq!(state.unlock_count(), 1);
    }
}
