//! A remote grant: the cloud's signed order for one command at one lock, relayed by the IQ.
//!
//! Layout (version 1): `version u8 | site_id u32 | lock_id u32 | user_id u32 | grant_id u64 |
//! command u8 | flags u8 | not_before i64 | not_after i64 | signature [64]`, signed by the
//! site authority over `label || body`. The IQ only carries it: a lock acts on a grant that
//! its own checks accept (authority signature, its site, its id, its clock inside the short
//! validity, a grant id it has not seen, office-mode right, privacy mode), so an IQ cannot
//! make up or replay an order, and the BLE rules are not weakened.

use ring::rand::SecureRandom;

use crate::command::Command;
use crate::handshake::lock::Requester;
use crate::keys::{SigningKey, SIGNATURE_LEN};
use crate::refusal::RefusalReason;
use crate::wire::{Reader, Writer};
use crate::{LockPolicy, ProtocolError};

/// Grant format version.
pub const GRANT_VERSION: u8 = 1;
/// Encoded length of a signed grant.
pub const GRANT_LEN: usize = 1 + 4 + 4 + 4 + 8 + 1 + 1 + 8 + 8 + SIGNATURE_LEN;
/// Longest validity a lock accepts: long enough for a lock clock a minute off, short enough
/// that a grant cannot be kept for later.
pub const MAX_GRANT_LIFETIME_SECONDS: i64 = 120;
const LABEL: &[u8] = b"KEYWAY-REMOTE-GRANT-V1";

/// The rights a grant carries for the lock's own checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteGrantFlags {
    /// The person may open while privacy mode is engaged.
    pub privacy_override: bool,
    /// The person may set and unset office mode.
    pub office_mode: bool,
}

impl RemoteGrantFlags {
    const PRIVACY_OVERRIDE: u8 = 1 << 0;
    const OFFICE_MODE: u8 = 1 << 1;

    fn to_byte(self) -> u8 {
        (if self.privacy_override {
            Self::PRIVACY_OVERRIDE
        } else {
            0
        }) | (if self.office_mode {
            Self::OFFICE_MODE
        } else {
            0
        })
    }

    fn from_byte(byte: u8) -> Result<Self, ProtocolError> {
        if byte & !(Self::PRIVACY_OVERRIDE | Self::OFFICE_MODE) != 0 {
            return Err(ProtocolError::Invalid("grant flags"));
        }
        Ok(Self {
            privacy_override: byte & Self::PRIVACY_OVERRIDE != 0,
            office_mode: byte & Self::OFFICE_MODE != 0,
        })
    }
}

/// What the cloud orders: `command` at `lock_id` for `user_id`, between two instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteGrant {
    /// The site whose authority signs it.
    pub site_id: u32,
    /// The one lock it addresses.
    pub lock_id: u32,
    /// The person who asked (logged in the lock's event).
    pub user_id: u32,
    /// Unique per site; a lock acts on each id once.
    pub grant_id: u64,
    /// What to do.
    pub command: Command,
    /// Rights for the lock's checks.
    pub flags: RemoteGrantFlags,
    /// Valid from (Unix seconds, inclusive).
    pub not_before: i64,
    /// Valid until (Unix seconds, exclusive).
    pub not_after: i64,
}

impl RemoteGrant {
    fn encode_body(&self) -> Writer {
        let mut w = Writer::with_capacity(GRANT_LEN);
        w.u8(GRANT_VERSION)
            .u32(self.site_id)
            .u32(self.lock_id)
            .u32(self.user_id)
            .u64(self.grant_id)
            .u8(self.command.code())
            .u8(self.flags.to_byte())
            .i64(self.not_before)
            .i64(self.not_after);
        w
    }

    fn validate(&self) -> Result<(), ProtocolError> {
        let lifetime = self.not_after.saturating_sub(self.not_before);
        if !(1..=MAX_GRANT_LIFETIME_SECONDS).contains(&lifetime) {
            return Err(ProtocolError::Invalid("grant validity period"));
        }
        Ok(())
    }

    /// Encodes and signs with the site authority key.
    pub fn sign(
        &self,
        authority: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, ProtocolError> {
        self.validate()?;
        let mut w = self.encode_body();
        let signature = authority.sign(&[LABEL, w.as_slice()].concat(), rng)?;
        w.bytes(&signature);
        Ok(w.into_vec())
    }

    /// Parses a signed grant without checking its signature; returns it and its signature.
    pub fn decode(bytes: &[u8]) -> Result<(Self, &[u8]), ProtocolError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("grant version")?;
        if version != GRANT_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "grant",
                found: version,
            });
        }
        let grant = Self {
            site_id: r.u32("grant site id")?,
            lock_id: r.u32("grant lock id")?,
            user_id: r.u32("grant user id")?,
            grant_id: r.u64("grant id")?,
            command: Command::from_code(r.u8("grant command")?)?,
            flags: RemoteGrantFlags::from_byte(r.u8("grant flags")?)?,
            not_before: r.i64("grant not before")?,
            not_after: r.i64("grant not after")?,
        };
        let signature = r.take(SIGNATURE_LEN, "grant signature")?;
        r.finish("grant")?;
        grant.validate()?;
        Ok((grant, signature))
    }
}

/// A lock's decision on a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantCheck {
    /// Who asked for what, as far as the lock could tell (the person only once authentic).
    pub requester: Requester,
    /// The command to carry out, or why not.
    pub decision: Result<Command, RefusalReason>,
    /// The authentic grant addressed to this lock that this attempt used up: the lock
    /// remembers its id until `not_after`, so it acts on it once.
    pub consumed: Option<(u64, i64)>,
}

/// Checks a grant against the lock's own rules: authority signature, site, lock id, replay,
/// the validity on the lock's clock, the office-mode right and privacy mode.
/// `already_used` answers whether the lock has seen a grant id (and still remembers it).
pub fn check_remote_grant(
    bytes: &[u8],
    lock: &impl LockPolicy,
    already_used: impl Fn(u64) -> bool,
) -> GrantCheck {
    let mut check = GrantCheck {
        requester: Requester::default(),
        decision: Err(RefusalReason::MalformedFrame),
        consumed: None,
    };
    let (grant, signature) = match RemoteGrant::decode(bytes) {
        Ok(parsed) => parsed,
        Err(ProtocolError::UnsupportedVersion { .. }) => {
            check.decision = Err(RefusalReason::UnsupportedVersion);
            return check;
        }
        Err(_) => return check,
    };
    check.requester.command = grant.command.code();
    let body = bytes.get(..GRANT_LEN - SIGNATURE_LEN).unwrap_or_default();
    if !lock
        .authority_key()
        .verify(&[LABEL, body].concat(), signature)
    {
        check.decision = Err(RefusalReason::BadAuthoritySignature);
        return check;
    }
    check.requester.user_id = grant.user_id;
    check.decision = decide(&grant, lock, &already_used);
    if grant.site_id == lock.site_id() && grant.lock_id == lock.lock_id() {
        check.consumed = Some((grant.grant_id, grant.not_after));
    }
    check
}

fn decide(
    grant: &RemoteGrant,
    lock: &impl LockPolicy,
    already_used: &impl Fn(u64) -> bool,
) -> Result<Command, RefusalReason> {
    if grant.site_id != lock.site_id() {
        return Err(RefusalReason::WrongSite);
    }
    if grant.lock_id != lock.lock_id() {
        return Err(RefusalReason::NotInScope);
    }
    if already_used(grant.grant_id) {
        return Err(RefusalReason::Replayed);
    }
    let now = lock.now();
    if now < grant.not_before {
        return Err(RefusalReason::NotYetValid);
    }
    if now >= grant.not_after {
        return Err(RefusalReason::Expired);
    }
    if grant.command.is_office_mode() && !grant.flags.office_mode {
        return Err(RefusalReason::CommandNotAllowed);
    }
    if lock.privacy_engaged() && !grant.flags.privacy_override {
        return Err(RefusalReason::PrivacyMode);
    }
    Ok(grant.command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::MailboxUpdate;
    use crate::PublicKey;
    use ring::rand::SystemRandom;

    struct Lock {
        authority: PublicKey,
        now: i64,
        privacy: bool,
    }

    impl LockPolicy for Lock {
        fn lock_id(&self) -> u32 {
            5
        }
        fn site_id(&self) -> u32 {
            1
        }
        fn authority_key(&self) -> &PublicKey {
            &self.authority
        }
        fn now(&self) -> i64 {
            self.now
        }
        fn utc_offset_minutes(&self) -> i32 {
            0
        }
        fn revocation_epoch(&self) -> u32 {
            0
        }
        fn is_denied(&self, _: u64) -> bool {
            false
        }
        fn privacy_engaged(&self) -> bool {
            self.privacy
        }
        fn revocation_fresh(&self) -> bool {
            true
        }
        fn apply_mailbox(&mut self, _: &MailboxUpdate) {}
    }

    fn grant() -> RemoteGrant {
        RemoteGrant {
            site_id: 1,
            lock_id: 5,
            user_id: 42,
            grant_id: 9,
            command: Command::Unlock,
            flags: RemoteGrantFlags::default(),
            not_before: 1_000,
            not_after: 1_060,
        }
    }

    #[test]
    fn a_signed_grant_round_trips_and_opens_once() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let bytes = grant().sign(&authority, &rng).unwrap();
        assert_eq!(bytes.len(), GRANT_LEN);
        assert_eq!(RemoteGrant::decode(&bytes).unwrap().0, grant());
        let lock = Lock {
            authority: authority.public_key(),
            now: 1_010,
            privacy: false,
        };
        let first = check_remote_grant(&bytes, &lock, |_| false);
        assert_eq!(first.decision, Ok(Command::Unlock));
        assert_eq!(first.requester.user_id, 42);
        assert_eq!(first.consumed, Some((9, 1_060)));
        let again = check_remote_grant(&bytes, &lock, |id| id == 9);
        assert_eq!(again.decision, Err(RefusalReason::Replayed));
    }

    #[test]
    fn every_rule_has_its_refusal() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (other, _) = SigningKey::generate(&rng).unwrap();
        let lock = |now, privacy| Lock {
            authority: authority.public_key(),
            now,
            privacy,
        };
        let decide = |g: RemoteGrant, key: &SigningKey, lock: &Lock| {
            check_remote_grant(&g.sign(key, &rng).unwrap(), lock, |_| false)
        };
        let forged = decide(grant(), &other, &lock(1_010, false));
        assert_eq!(forged.decision, Err(RefusalReason::BadAuthoritySignature));
        assert_eq!(forged.requester.user_id, 0, "a forgery names no one");
        assert_eq!(forged.consumed, None);
        let cases = [
            (
                RemoteGrant {
                    site_id: 2,
                    ..grant()
                },
                1_010,
                false,
                RefusalReason::WrongSite,
            ),
            (
                RemoteGrant {
                    lock_id: 6,
                    ..grant()
                },
                1_010,
                false,
                RefusalReason::NotInScope,
            ),
            (grant(), 999, false, RefusalReason::NotYetValid),
            (grant(), 1_060, false, RefusalReason::Expired),
            (
                RemoteGrant {
                    command: Command::OfficeModeOn,
                    ..grant()
                },
                1_010,
                false,
                RefusalReason::CommandNotAllowed,
            ),
            (grant(), 1_010, true, RefusalReason::PrivacyMode),
        ];
        for (g, now, privacy, reason) in cases {
            assert_eq!(
                decide(g, &authority, &lock(now, privacy)).decision,
                Err(reason)
            );
        }
        let allowed = RemoteGrant {
            command: Command::OfficeModeOn,
            flags: RemoteGrantFlags {
                office_mode: true,
                privacy_override: true,
            },
            ..grant()
        };
        assert_eq!(
            decide(allowed, &authority, &lock(1_010, true)).decision,
            Ok(Command::OfficeModeOn)
        );
    }

    #[test]
    fn tampered_long_lived_and_garbled_grants_are_refused() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let lock = Lock {
            authority: authority.public_key(),
            now: 1_010,
            privacy: false,
        };
        let bytes = grant().sign(&authority, &rng).unwrap();
        for index in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[index] ^= 0x01;
            assert!(
                check_remote_grant(&flipped, &lock, |_| false)
                    .decision
                    .is_err(),
                "flip at {index}"
            );
        }
        let long = RemoteGrant {
            not_after: 1_000 + MAX_GRANT_LIFETIME_SECONDS + 1,
            ..grant()
        };
        assert!(long.sign(&authority, &rng).is_err());
        assert_eq!(
            check_remote_grant(&bytes[..10], &lock, |_| false).decision,
            Err(RefusalReason::MalformedFrame)
        );
        let mut newer = bytes.clone();
        newer[0] = 2;
        assert_eq!(
            check_remote_grant(&newer, &lock, |_| false).decision,
            Err(RefusalReason::UnsupportedVersion)
        );
    }
}
