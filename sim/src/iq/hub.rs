//! The IQ's decisions, without sockets: answering the cloud's login nonce, keeping the
//! IQ-code secrets and checking typed codes (each accepted once), relaying commands to locks,
//! handing keypad tables to locks, and the event outbox (records leave only once the cloud
//! acknowledged them; a lost connection sends them again).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use keyway_protocol::iq::auth::sign_auth;
use keyway_protocol::iq::messages::{CodeCheck, IqConfig, RelayCommand, RelayOutcome, RelayResult};
use keyway_protocol::iq::{CloudToIq, HexBytes, IqToCloud, KeypadTable};
use keyway_protocol::iq_code::{iq_code_matching_step, iq_time_step};
use keyway_protocol::tag::TagList;
use keyway_protocol::LockSettings;
use keyway_protocol::{SignedEvent, SigningKey};
use ring::rand::SystemRandom;

use super::radio::LockRadio;
use crate::SimError;

/// Most records one `events` message carries.
pub const EVENTS_PER_BATCH: usize = 100;
/// The firmware a new simulated IQ reports.
pub const DEFAULT_IQ_FIRMWARE: &str = "2.4.0";

/// What the IQ knows and holds.
pub struct IqHub {
    iq_id: u32,
    key: SigningKey,
    firmware: String,
    rng: SystemRandom,
    site_id: Option<u32>,
    lock_ids: Vec<u32>,
    config_serial: u64,
    secrets: HashMap<u32, Vec<u8>>,
    used_codes: BTreeSet<(u32, u64)>,
    collected: BTreeMap<u32, u64>,
    pending: VecDeque<SignedEvent>,
    in_flight: BTreeMap<u64, Vec<SignedEvent>>,
    next_batch: u64,
}

impl std::fmt::Debug for IqHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IqHub")
            .field("iq_id", &self.iq_id)
            .field("site_id", &self.site_id)
            .field("people", &self.secrets.len())
            .field("pending_events", &self.pending_events())
            .finish_non_exhaustive()
    }
}

impl IqHub {
    /// An IQ with its key and the id the cloud gave it at registration.
    pub fn new(iq_id: u32, key: SigningKey) -> Self {
        Self {
            iq_id,
            key,
            firmware: DEFAULT_IQ_FIRMWARE.to_owned(),
            rng: SystemRandom::new(),
            site_id: None,
            lock_ids: Vec::new(),
            config_serial: 0,
            secrets: HashMap::new(),
            used_codes: BTreeSet::new(),
            collected: BTreeMap::new(),
            pending: VecDeque::new(),
            in_flight: BTreeMap::new(),
            next_batch: 1,
        }
    }

    /// The same IQ running another firmware version (`major.minor.patch`).
    pub fn with_firmware(mut self, firmware: &str) -> Self {
        self.firmware = firmware.to_owned();
        self
    }

    /// The IQ's id.
    pub fn iq_id(&self) -> u32 {
        self.iq_id
    }

    /// The site, once the cloud welcomed the IQ.
    pub fn site_id(&self) -> Option<u32> {
        self.site_id
    }

    /// The locks the cloud says are attached to the IQ (from the welcome, then each config).
    pub fn lock_ids(&self) -> &[u32] {
        &self.lock_ids
    }

    /// The serial of the configuration in force (0 before the first).
    pub fn config_serial(&self) -> u64 {
        self.config_serial
    }

    /// Event records not yet acknowledged by the cloud.
    pub fn pending_events(&self) -> usize {
        self.pending.len() + self.in_flight.values().map(Vec::len).sum::<usize>()
    }

    /// Handles one message from the cloud at IQ time `now`; returns what to send back.
    pub fn handle(
        &mut self,
        message: CloudToIq,
        now: i64,
        radio: &dyn LockRadio,
    ) -> Result<Vec<IqToCloud>, SimError> {
        match message {
            CloudToIq::Hello { nonce } => {
                let signature = sign_auth(&self.key, self.iq_id, nonce.as_slice(), &self.rng)?;
                Ok(vec![IqToCloud::Auth {
                    iq_id: self.iq_id,
                    signature: HexBytes(signature.to_vec()),
                    firmware: Some(self.firmware.clone()),
                }])
            }
            CloudToIq::Welcome {
                site_id, lock_ids, ..
            } => {
                self.site_id = Some(site_id);
                self.lock_ids = lock_ids;
                // Serials order the pushes of one session; a new session starts afresh, so a
                // cloud restored from a backup (lower serials) is still obeyed.
                self.config_serial = 0;
                Ok(Vec::new())
            }
            CloudToIq::Config(config) => {
                self.configure(config, radio)?;
                Ok(Vec::new())
            }
            CloudToIq::Command(command) => {
                let result = self.relay(command, now, radio)?;
                Ok(vec![IqToCloud::Result(result)])
            }
            CloudToIq::EventsAck { batch } => {
                self.in_flight.remove(&batch);
                Ok(Vec::new())
            }
        }
    }

    /// Takes a configuration unless one with the same or a higher serial is already in force
    /// (a push that overtook a newer one must not bring back a removed person's secret).
    fn configure(&mut self, config: IqConfig, radio: &dyn LockRadio) -> Result<(), SimError> {
        if config.serial != 0 && config.serial <= self.config_serial {
            return Ok(());
        }
        self.config_serial = config.serial;
        self.lock_ids = config.lock_ids;
        self.secrets = config
            .code_secrets
            .into_iter()
            .map(|secret| (secret.user_id, secret.secret.into_vec()))
            .collect();
        for table in &config.keypad_tables {
            if let Some(lock_id) = KeypadTable::addressed_lock(table.as_slice()) {
                radio.keypad_table(lock_id, table.as_slice())?;
            }
        }
        // One lock refusing what it was handed (a list longer than its storage, say) must not
        // keep the others from theirs: the cloud sees what each lock stores in its reports.
        for list in &config.tag_lists {
            if let Some(lock_id) = TagList::addressed_lock(list.as_slice()) {
                radio.tag_list(lock_id, list.as_slice()).unwrap_or(false);
            }
        }
        for settings in &config.lock_settings {
            if let Some(lock_id) = LockSettings::addressed_lock(settings.as_slice()) {
                radio
                    .settings(lock_id, settings.as_slice())
                    .unwrap_or(false);
            }
        }
        for lock_id in radio.lock_ids() {
            for update in &config.revocations {
                radio
                    .revocation(lock_id, update.as_slice())
                    .unwrap_or(false);
            }
        }
        Ok(())
    }

    /// Tells every lock the IQ is there and whether the cloud is (call it every poll, online
    /// or not): a lock that stops hearing it falls back on what it stores.
    pub fn heartbeat(&self, radio: &dyn LockRadio, cloud_connected: bool) -> Result<(), SimError> {
        for lock_id in radio.lock_ids() {
            radio.heartbeat(lock_id, cloud_connected)?;
        }
        Ok(())
    }

    /// Whether a typed code matches the person's secret within one step and was not used.
    fn accept_code(&mut self, check: &CodeCheck, now: i64) -> bool {
        let Some(secret) = self.secrets.get(&check.user_id) else {
            return false;
        };
        let Ok(Some(step)) = iq_code_matching_step(secret, &check.code, now) else {
            return false;
        };
        let oldest = iq_time_step(now).unwrap_or(0).saturating_sub(2);
        self.used_codes.retain(|(_, used)| *used >= oldest);
        self.used_codes.insert((check.user_id, step))
    }

    fn relay(
        &mut self,
        command: RelayCommand,
        now: i64,
        radio: &dyn LockRadio,
    ) -> Result<RelayResult, SimError> {
        let started = Instant::now();
        let mut result = RelayResult {
            request_id: command.request_id,
            outcome: RelayOutcome::CodeRejected,
            event: None,
            iq_micros: 0,
            lock_micros: 0,
        };
        let code_ok = command
            .code
            .as_ref()
            .is_none_or(|check| self.accept_code(check, now));
        if code_ok {
            match radio.relay(command.lock_id, command.grant.as_slice())? {
                None => result.outcome = RelayOutcome::LockUnreachable,
                Some((reply, lock_micros)) => {
                    result.outcome = match reply.refusal {
                        None => RelayOutcome::Granted,
                        Some(reason) => RelayOutcome::Refused {
                            reason: reason.code(),
                        },
                    };
                    result.event = Some(HexBytes(reply.event.as_bytes().to_vec()));
                    result.lock_micros = lock_micros;
                }
            }
        }
        result.iq_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Ok(result)
    }

    /// Picks up the records the locks logged since the last collection (BLE, keypad, relayed
    /// commands), so they travel even when no phone carries them.
    pub fn collect(&mut self, radio: &dyn LockRadio) -> Result<usize, SimError> {
        let mut added = 0;
        for lock_id in radio.lock_ids() {
            let after = self.collected.get(&lock_id).copied().unwrap_or(0);
            let records = radio.events_after(lock_id, after)?;
            if let Some(last) = records.last() {
                self.collected.insert(lock_id, last.event().seq);
            }
            added += records.len();
            self.pending.extend(records);
        }
        Ok(added)
    }

    /// The next batch of records to send, if any; it stays held until acknowledged.
    pub fn next_events(&mut self) -> Option<IqToCloud> {
        if self.pending.is_empty() {
            return None;
        }
        let count = self.pending.len().min(EVENTS_PER_BATCH);
        let records: Vec<SignedEvent> = self.pending.drain(..count).collect();
        let batch = self.next_batch;
        self.next_batch = self.next_batch.saturating_add(1);
        let message = IqToCloud::Events {
            batch,
            records: records
                .iter()
                .map(|record| HexBytes(record.as_bytes().to_vec()))
                .collect(),
        };
        self.in_flight.insert(batch, records);
        Some(message)
    }

    /// The connection dropped: unacknowledged batches go back in front of the queue, in order.
    pub fn on_disconnect(&mut self) {
        let unacknowledged = std::mem::take(&mut self.in_flight);
        for records in unacknowledged.into_values().rev() {
            for record in records.into_iter().rev() {
                self.pending.push_front(record);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use keyway_protocol::iq::auth::{new_nonce, verify_auth};
    use keyway_protocol::iq::grant::RemoteGrantFlags;
    use keyway_protocol::iq::messages::CodeSecret;
    use keyway_protocol::iq::RemoteGrant;
    use keyway_protocol::iq_code::iq_code_for_step;
    use keyway_protocol::{Command, RefusalReason};

    use super::*;
    use crate::iq::radio::LockSet;
    use crate::{LockConfig, SimulatedLock};

    const NOW: i64 = 1_796_032_800;
    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    struct Fixture {
        authority: SigningKey,
        iq_key_public: keyway_protocol::PublicKey,
        hub: IqHub,
        locks: LockSet,
    }

    fn fixture() -> Fixture {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (iq_key, _) = SigningKey::generate(&rng).unwrap();
        let mut lock = SimulatedLock::new(LockConfig {
            lock_id: 5,
            site_id: 1,
            authority_key: authority.public_key(),
            utc_offset_minutes: 0,
            actuation: Duration::ZERO,
            paired_with_iq: true,
            offline_capacity: crate::lock::DEFAULT_OFFLINE_CAPACITY,
        })
        .unwrap();
        lock.clock_mut().set(NOW);
        let mut locks = LockSet::new();
        locks.insert(5, Arc::new(Mutex::new(lock)));
        Fixture {
            iq_key_public: iq_key.public_key(),
            hub: IqHub::new(9, iq_key),
            authority,
            locks,
        }
    }

    fn command(f: &Fixture, grant_id: u64, code: Option<CodeCheck>) -> CloudToIq {
        let grant = RemoteGrant {
            site_id: 1,
            lock_id: 5,
            user_id: 4,
            grant_id,
            command: Command::Unlock,
            flags: RemoteGrantFlags::default(),
            not_before: NOW - 60,
            not_after: NOW + 60,
        };
        CloudToIq::Command(RelayCommand {
            request_id: grant_id,
            lock_id: 5,
            grant: HexBytes(grant.sign(&f.authority, &SystemRandom::new()).unwrap()),
            code,
        })
    }

    fn result(replies: Vec<IqToCloud>) -> RelayResult {
        match replies.as_slice() {
            [IqToCloud::Result(result)] => result.clone(),
            other => panic!("expected one result, got {other:?}"),
        }
    }

    #[test]
    fn the_hub_answers_the_nonce_with_its_key() {
        let mut f = fixture();
        let nonce = new_nonce(&SystemRandom::new()).unwrap();
        let replies = f
            .hub
            .handle(
                CloudToIq::Hello {
                    nonce: HexBytes(nonce.to_vec()),
                },
                NOW,
                &f.locks,
            )
            .unwrap();
        let [IqToCloud::Auth {
            iq_id, signature, ..
        }] = replies.as_slice()
        else {
            panic!("{replies:?}")
        };
        assert_eq!(*iq_id, 9);
        assert!(verify_auth(
            &f.iq_key_public,
            9,
            &nonce,
            signature.as_slice()
        ));
    }

    #[test]
    fn relayed_grants_reach_the_lock_and_codes_are_checked_once() {
        let mut f = fixture();
        let granted = result(f.hub.handle(command(&f, 1, None), NOW, &f.locks).unwrap());
        assert_eq!(granted.outcome, RelayOutcome::Granted);
        assert!(granted.event.is_some());
        let again = result(f.hub.handle(command(&f, 1, None), NOW, &f.locks).unwrap());
        assert_eq!(
            again.outcome,
            RelayOutcome::Refused {
                reason: RefusalReason::Replayed.code()
            }
        );

        let config = config_with_secret(1);
        f.hub
            .handle(CloudToIq::Config(config), NOW, &f.locks)
            .unwrap();
        let step = iq_time_step(NOW).unwrap();
        let check = |step: u64, user_id: u32| CodeCheck {
            user_id,
            code: iq_code_for_step(SECRET, step).unwrap(),
        };
        let cases = [
            (2, check(step - 2, 4), RelayOutcome::CodeRejected),
            (3, check(step, 7), RelayOutcome::CodeRejected),
            (4, check(step - 1, 4), RelayOutcome::Granted),
            (5, check(step - 1, 4), RelayOutcome::CodeRejected),
            (6, check(step + 1, 4), RelayOutcome::Granted),
        ];
        for (grant_id, code, expected) in cases {
            let outcome = result(
                f.hub
                    .handle(command(&f, grant_id, Some(code)), NOW, &f.locks)
                    .unwrap(),
            );
            assert_eq!(outcome.outcome, expected, "grant {grant_id}");
        }
        let unlocks = f.locks[&5].lock().unwrap().unlock_count();
        assert_eq!(unlocks, 3, "a rejected code never reaches the lock");
    }

    fn config_with_secret(serial: u64) -> IqConfig {
        IqConfig {
            serial,
            lock_ids: vec![5],
            code_secrets: vec![CodeSecret {
                user_id: 4,
                secret: HexBytes(SECRET.to_vec()),
            }],
            keypad_tables: Vec::new(),
            ..IqConfig::default()
        }
    }

    #[test]
    fn a_configuration_overtaken_by_a_newer_one_is_ignored() {
        let mut f = fixture();
        let newer = IqConfig {
            serial: 8,
            lock_ids: vec![5, 6],
            ..IqConfig::default()
        };
        f.hub
            .handle(CloudToIq::Config(newer), NOW, &f.locks)
            .unwrap();
        for stale in [config_with_secret(7), config_with_secret(8)] {
            f.hub
                .handle(CloudToIq::Config(stale), NOW, &f.locks)
                .unwrap();
        }
        assert_eq!((f.hub.config_serial(), f.hub.lock_ids()), (8, &[5, 6][..]));
        let step = iq_time_step(NOW).unwrap();
        let code = CodeCheck {
            user_id: 4,
            code: iq_code_for_step(SECRET, step).unwrap(),
        };
        let refused = result(
            f.hub
                .handle(command(&f, 1, Some(code)), NOW, &f.locks)
                .unwrap(),
        );
        assert_eq!(
            refused.outcome,
            RelayOutcome::CodeRejected,
            "the removed person's secret did not come back"
        );
        assert_eq!(f.locks[&5].lock().unwrap().unlock_count(), 0);
    }

    #[test]
    fn events_stay_until_acknowledged_and_come_back_after_a_drop() {
        let mut f = fixture();
        for grant_id in 1..=3 {
            f.hub
                .handle(command(&f, grant_id, None), NOW, &f.locks)
                .unwrap();
        }
        assert_eq!(f.hub.collect(&f.locks).unwrap(), 3);
        assert_eq!(f.hub.collect(&f.locks).unwrap(), 0, "collected once");
        let Some(IqToCloud::Events { batch, records }) = f.hub.next_events() else {
            panic!("a batch")
        };
        assert_eq!(records.len(), 3);
        assert!(f.hub.next_events().is_none());
        f.hub.on_disconnect();
        assert_eq!(f.hub.pending_events(), 3);
        let Some(IqToCloud::Events {
            batch: resent,
            records: again,
        }) = f.hub.next_events()
        else {
            panic!("the batch again")
        };
        assert_ne!(resent, batch);
        assert_eq!(again, records, "same records, same order");
        f.hub
            .handle(CloudToIq::EventsAck { batch: resent }, NOW, &f.locks)
            .unwrap();
        assert_eq!(f.hub.pending_events(), 0);
    }
}
