//! The lock's tag reader. A presented tag gets a fresh challenge; its rights come from the
//! IQ's online list while the IQ is in reach with current rules, else from the lock's own
//! offline list (fallback: master keys open 24/7). Holding a tag with the office-mode right
//! for [`OFFICE_MODE_HOLD_SECONDS`], or presenting it during an easy office mode window,
//! switches office mode. Every presentation is answered and logged.

use std::time::Instant;

use keyway_protocol::tag::{
    check_tag, TagPresentation, TagSource, OFFICE_MODE_HOLD_SECONDS, TAG_NONCE_LEN,
};
use keyway_protocol::Command;
use ring::rand::SecureRandom;

use super::{LockReply, SimulatedLock};
use crate::tag::SimulatedTag;
use crate::SimError;

impl SimulatedLock {
    /// A tag held to the reader for `held_seconds`.
    pub fn present_tag(
        &mut self,
        tag: &SimulatedTag,
        held_seconds: u32,
    ) -> Result<LockReply, SimError> {
        let started = Instant::now();
        self.run_timers()?;
        let mut nonce = [0u8; TAG_NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SimError::Protocol(keyway_protocol::ProtocolError::Random))?;
        let answer = tag.answer(self.config.site_id, self.config.lock_id, &nonce)?;
        let now = self.clock.now();
        let (source, list) = if self.iq.rules_fresh(now) && self.iq.online_tags.is_some() {
            (TagSource::Online, self.iq.online_tags.as_ref())
        } else {
            (TagSource::Fallback, self.iq.offline_tags.as_ref())
        };
        let entry = list.and_then(|list| list.entry(tag.tag_id()));
        let easy_office = self.in_easy_office_window();
        let switches = entry.is_some_and(|entry| entry.flags.office_mode)
            && (easy_office || held_seconds >= OFFICE_MODE_HOLD_SECONDS);
        let command = match (switches, self.state.office_mode()) {
            (false, _) => Command::Unlock,
            (true, false) => Command::OfficeModeOn,
            (true, true) => Command::OfficeModeOff,
        };
        let presented = TagPresentation {
            tag_id: tag.tag_id(),
            nonce: &nonce,
            answer: &answer,
            command,
        };
        let (requester, decision) = check_tag(entry, source, &presented, &*self);
        if decision == Ok(Command::OfficeModeOn) {
            self.state.set_office_mode_by_schedule(easy_office);
        }
        self.act_and_record(requester, decision, started)
    }
}
