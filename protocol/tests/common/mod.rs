//! A minimal in-memory lock policy and fixtures for the protocol's own tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashSet;

use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate};
use keyway_protocol::{Credential, CredentialFlags, LockPolicy, PublicKey, SigningKey};
use ring::rand::SystemRandom;

pub const SITE: u32 = 7;
pub const LOCK: u32 = 1001;
pub const NOW: i64 = 1_796_040_000; // 2026-11-30 10:40 UTC, a Monday

pub struct TestLock {
    pub authority: PublicKey,
    pub now: i64,
    pub epoch: u32,
    pub denied: HashSet<u64>,
    pub privacy: bool,
    pub serial: u32,
    /// Whether the lock's revocation state is current (an IQ-paired lock in reach).
    pub revocation_fresh: bool,
}

impl TestLock {
    pub fn new(authority: PublicKey) -> Self {
        Self {
            authority,
            now: NOW,
            epoch: 0,
            denied: HashSet::new(),
            privacy: false,
            serial: 0,
            revocation_fresh: true,
        }
    }
}

impl LockPolicy for TestLock {
    fn lock_id(&self) -> u32 {
        LOCK
    }
    fn site_id(&self) -> u32 {
        SITE
    }
    fn authority_key(&self) -> &PublicKey {
        &self.authority
    }
    fn now(&self) -> i64 {
        self.now
    }
    fn utc_offset_minutes(&self) -> i32 {
        60
    }
    fn revocation_epoch(&self) -> u32 {
        self.epoch
    }
    fn is_denied(&self, credential_id: u64) -> bool {
        self.denied.contains(&credential_id)
    }
    fn privacy_engaged(&self) -> bool {
        self.privacy
    }
    fn revocation_fresh(&self) -> bool {
        self.revocation_fresh
    }
    fn apply_mailbox(&mut self, update: &MailboxUpdate) {
        self.serial = update.serial;
        match &update.change {
            MailboxChange::DenyCredentials(ids) => self.denied.extend(ids),
            MailboxChange::RaiseEpoch(epoch) => self.epoch = self.epoch.max(*epoch),
        }
    }
}

pub struct Keys {
    pub rng: SystemRandom,
    pub authority: SigningKey,
    pub device: SigningKey,
    pub lock: SigningKey,
}

impl Keys {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (device, _) = SigningKey::generate(&rng).unwrap();
        let (lock, _) = SigningKey::generate(&rng).unwrap();
        Self {
            rng,
            authority,
            device,
            lock,
        }
    }

    pub fn credential(&self) -> Credential {
        Credential {
            credential_id: 555,
            site_id: SITE,
            user_id: 42,
            device_key: self.device.public_key(),
            lock_ids: vec![LOCK],
            not_before: NOW - 3600,
            not_after: NOW + 3600,
            schedule: Vec::new(),
            flags: CredentialFlags::default(),
            revocation_epoch: 0,
        }
    }
}
