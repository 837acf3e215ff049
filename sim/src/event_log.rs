//! The lock's event log: each record signed by the lock key and chained to the one before.

use keyway_protocol::event::GENESIS_HASH;
use keyway_protocol::handshake::lock::Requester;
use keyway_protocol::{LockEvent, RefusalReason, SignedEvent, SigningKey};
use ring::rand::SecureRandom;

use crate::SimError;

/// One thing the lock did or refused, before it is numbered, chained and signed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Occurrence {
    pub(crate) lock_id: u32,
    pub(crate) time: i64,
    pub(crate) requester: Requester,
    pub(crate) refusal: Option<RefusalReason>,
}

/// The records, oldest first, numbered from 1.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    records: Vec<SignedEvent>,
}

impl EventLog {
    pub(crate) fn records(&self) -> &[SignedEvent] {
        &self.records
    }

    /// Numbers, chains and signs `occurrence`, appends it and returns the record.
    pub(crate) fn append(
        &mut self,
        occurrence: Occurrence,
        lock_key: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<SignedEvent, SimError> {
        let (seq, prev_hash) = self.records.last().map_or((1, GENESIS_HASH), |last| {
            (last.event().seq + 1, last.hash())
        });
        let event = LockEvent {
            lock_id: occurrence.lock_id,
            seq,
            time: occurrence.time,
            user_id: occurrence.requester.user_id,
            credential_id: occurrence.requester.credential_id,
            command: occurrence.requester.command,
            refusal: occurrence.refusal,
            prev_hash,
        };
        let signed = event.sign(lock_key, rng)?;
        self.records.push(signed.clone());
        Ok(signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_protocol::event::verify_chain;
    use ring::rand::SystemRandom;

    #[test]
    fn appended_records_form_a_verifiable_chain() {
        let rng = SystemRandom::new();
        let (key, _) = SigningKey::generate(&rng).unwrap();
        let mut log = EventLog::default();
        for refusal in [None, Some(RefusalReason::Expired), None] {
            let occurrence = Occurrence {
                lock_id: 5,
                time: 1_000,
                requester: Requester::default(),
                refusal,
            };
            log.append(occurrence, &key, &rng).unwrap();
        }
        let head = verify_chain(5, &key.public_key(), (0, GENESIS_HASH), log.records()).unwrap();
        assert_eq!(head.0, 3);
    }
}
