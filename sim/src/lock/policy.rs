//! The lock's side of [`LockPolicy`]: what the handshake reads from the lock, and the one
//! change it may make (mailbox updates).

use keyway_protocol::mailbox::MailboxUpdate;
use keyway_protocol::{LockPolicy, PublicKey};

use super::SimulatedLock;

impl LockPolicy for SimulatedLock {
    fn lock_id(&self) -> u32 {
        self.config.lock_id
    }

    fn site_id(&self) -> u32 {
        self.config.site_id
    }

    fn authority_key(&self) -> &PublicKey {
        &self.config.authority_key
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    fn utc_offset_minutes(&self) -> i32 {
        self.config.utc_offset_minutes
    }

    fn revocation_epoch(&self) -> u32 {
        self.state.revocation_epoch()
    }

    fn is_denied(&self, credential_id: u64) -> bool {
        self.state.is_denied(credential_id)
    }

    fn privacy_engaged(&self) -> bool {
        self.state.privacy()
    }

    fn revocation_fresh(&self) -> bool {
        self.revocation_is_fresh()
    }

    /// Applies an update (the handshake verified it); one meant for another lock or site is
    /// ignored, whoever calls.
    fn apply_mailbox(&mut self, update: &MailboxUpdate) {
        if update.addresses(self.config.site_id, self.config.lock_id) {
            self.state.apply_mailbox(update);
        }
    }
}
