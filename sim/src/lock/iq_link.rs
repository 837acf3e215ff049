//! What a lock paired with an IQ knows of it: whether the IQ is in reach (it hears from it
//! at least every [`IQ_LINK_TIMEOUT_SECONDS`]), when the IQ last confirmed its cloud link (so
//! the site's revocations are current), and what the IQ handed it: the online tag list (the
//! IQ's answer for every tag, kept here in the simulator), the offline tag list it stores,
//! the lock's settings and revocation updates. Everything handed over is checked against the
//! site authority; an older or foreign message is ignored.

use keyway_protocol::mailbox::MailboxUpdate;
use keyway_protocol::tag::{TagList, TagListKind};
use keyway_protocol::LockSettings;

use super::SimulatedLock;
use crate::SimError;

/// A lock that has not heard its IQ for this long (on its own clock) treats it as gone.
pub const IQ_LINK_TIMEOUT_SECONDS: i64 = 30;
/// How long after its IQ last confirmed the cloud link a lock still trusts its revocation
/// state and the IQ's tag rights (manual 003: an IQ without internet still informs its locks).
/// Past it, keys without offline access are refused and tags fall back on the offline list.
pub const REVOCATION_FRESH_SECONDS: i64 = 300;
/// Offline list entries a lock stores, unless its model says otherwise.
pub const DEFAULT_OFFLINE_CAPACITY: usize = 200;

/// The lock's side of its IQ.
#[derive(Debug, Default)]
pub(super) struct IqLink {
    /// Whether the radio reaches the IQ at all (false: jammed, unplugged, out of range).
    pub(super) jammed: bool,
    /// Lock time of the IQ's last heartbeat.
    pub(super) last_heard: Option<i64>,
    /// Lock time when the IQ last said it was connected to the cloud.
    pub(super) cloud_confirmed: Option<i64>,
    pub(super) online_tags: Option<TagList>,
    pub(super) offline_tags: Option<TagList>,
    pub(super) settings_serial: u32,
}

impl IqLink {
    fn within(since: Option<i64>, now: i64, bound: i64) -> bool {
        since.is_some_and(|at| (0..=bound).contains(&now.saturating_sub(at)))
    }

    pub(super) fn in_reach(&self, now: i64) -> bool {
        !self.jammed && Self::within(self.last_heard, now, IQ_LINK_TIMEOUT_SECONDS)
    }

    pub(super) fn rules_fresh(&self, now: i64) -> bool {
        self.in_reach(now) && Self::within(self.cloud_confirmed, now, REVOCATION_FRESH_SECONDS)
    }
}

impl SimulatedLock {
    /// The installer paired the lock with an IQ: from now on keys without offline access open
    /// only while its revocation state is fresh ([`Self::revocation_is_fresh`]).
    pub fn pair_with_iq(&mut self) {
        self.config.paired_with_iq = true;
    }

    /// Whether the radio to the IQ works (a test's jammer or an unplugged IQ: `false`). While
    /// it does not, the IQ reaches nothing here and the lock hears nothing from it.
    pub fn set_iq_radio(&mut self, works: bool) {
        self.iq.jammed = !works;
    }

    /// Whether the IQ can reach this lock now.
    pub fn iq_radio_works(&self) -> bool {
        !self.iq.jammed
    }

    /// The IQ's periodic word: it is there, and whether it is connected to the cloud. Also
    /// runs the lock's timers. Ignored when the radio does not work (`false`).
    pub fn iq_heartbeat(&mut self, cloud_connected: bool) -> Result<bool, SimError> {
        if self.iq.jammed {
            return Ok(false);
        }
        let now = self.clock.now();
        self.iq.last_heard = Some(now);
        if cloud_connected {
            self.iq.cloud_confirmed = Some(now);
        }
        self.run_timers()?;
        Ok(true)
    }

    /// Whether the IQ is in reach on the lock's clock.
    pub fn iq_in_reach(&self) -> bool {
        self.iq.in_reach(self.clock.now())
    }

    /// Whether keys without offline access open now: always on a standalone lock; on a lock
    /// paired with an IQ, while the IQ is in reach and confirmed the cloud within
    /// [`REVOCATION_FRESH_SECONDS`].
    pub fn revocation_is_fresh(&self) -> bool {
        !self.config.paired_with_iq || self.iq.rules_fresh(self.clock.now())
    }

    /// A tag list from the IQ. The online list stays with the IQ's answers; the offline list
    /// is stored, if it fits [`super::LockConfig::offline_capacity`]. `Ok(false)` for an
    /// older list, one for another lock, or when the radio does not work.
    pub fn apply_tag_list(&mut self, bytes: &[u8]) -> Result<bool, SimError> {
        if self.iq.jammed {
            return Ok(false);
        }
        let list = TagList::decode_verified(bytes, &self.config.authority_key)?;
        if list.site_id != self.config.site_id || list.lock_id != self.config.lock_id {
            return Ok(false);
        }
        if list.kind == TagListKind::Offline && list.entries.len() > self.config.offline_capacity {
            return Err(SimError::OfflineStorageFull {
                entries: list.entries.len(),
                capacity: self.config.offline_capacity,
            });
        }
        let held = match list.kind {
            TagListKind::Online => &mut self.iq.online_tags,
            TagListKind::Offline => &mut self.iq.offline_tags,
        };
        if held.as_ref().is_some_and(|held| held.serial >= list.serial) {
            return Ok(false);
        }
        *held = Some(list);
        Ok(true)
    }

    /// The offline list the lock stores, if any.
    pub fn offline_tags(&self) -> Option<&TagList> {
        self.iq.offline_tags.as_ref()
    }

    /// The lock's settings from the IQ; `Ok(false)` for older ones or another lock's.
    pub fn apply_settings(&mut self, bytes: &[u8]) -> Result<bool, SimError> {
        if self.iq.jammed {
            return Ok(false);
        }
        let settings = LockSettings::decode_verified(bytes, &self.config.authority_key)?;
        if settings.site_id != self.config.site_id
            || settings.lock_id != self.config.lock_id
            || (self.iq.settings_serial != 0 && settings.serial <= self.iq.settings_serial)
        {
            return Ok(false);
        }
        self.iq.settings_serial = settings.serial;
        self.settings = settings;
        self.run_timers()?;
        Ok(true)
    }

    /// The settings in force.
    pub fn settings(&self) -> &LockSettings {
        &self.settings
    }

    /// A revocation update from the IQ (the same signed updates phones carry).
    pub fn apply_revocation(&mut self, bytes: &[u8]) -> Result<bool, SimError> {
        if self.iq.jammed {
            return Ok(false);
        }
        let update = MailboxUpdate::decode_verified(bytes, &self.config.authority_key)?;
        if !update.addresses(self.config.site_id, self.config.lock_id) {
            return Ok(false);
        }
        self.state.apply_mailbox(&update);
        Ok(true)
    }
}
