//! The messages on the IQ's WebSocket to the cloud, one JSON object per text frame, tagged by
//! `type`. Binary values are hex strings ([`HexBytes`]).
//!
//! ```text
//! cloud → IQ  hello { nonce }                      on connect
//! IQ → cloud  auth { iq_id, signature, firmware }  the nonce signed with the IQ key
//! cloud → IQ  welcome { site_id, lock_ids, .. }    or the socket closes
//! cloud → IQ  config { serial, lock_ids, code_secrets, keypad_tables, tag_lists,
//!                      lock_settings, revocations }   now, and on every change
//! cloud → IQ  command { request_id, lock_id, grant, code? }
//! IQ → cloud  result { request_id, outcome, event?, timings }
//! IQ → cloud  events { batch, records }            lock events, until acknowledged
//! cloud → IQ  events_ack { batch }
//! ```

use serde::{Deserialize, Serialize};

use super::HexBytes;

/// What the cloud sends an IQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CloudToIq {
    /// The first message on a connection: sign this nonce.
    Hello {
        /// A fresh random nonce ([`super::auth::IQ_NONCE_LEN`] bytes).
        nonce: HexBytes,
    },
    /// The IQ is authenticated.
    Welcome {
        /// Its site.
        site_id: u32,
        /// The locks attached to it.
        lock_ids: Vec<u32>,
        /// The cloud's clock (Unix seconds).
        server_time: i64,
    },
    /// What the IQ must know: the IQ-code secrets of people who may open its locks
    /// remotely, and the keypad table of each of its locks. Replaces the previous config.
    Config(IqConfig),
    /// Relay a remote command to a lock.
    Command(RelayCommand),
    /// The cloud stored the records of batch `batch`: the IQ may forget them.
    EventsAck {
        /// The batch number the IQ gave.
        batch: u64,
    },
}

/// What the IQ sends the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IqToCloud {
    /// The answer to `hello`.
    Auth {
        /// The IQ's id at the cloud.
        iq_id: u32,
        /// Its key's signature over [`super::auth::auth_message`].
        signature: HexBytes,
        /// Its firmware version, `major.minor.patch` (absent from old firmware).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        firmware: Option<String>,
    },
    /// The outcome of a relayed command.
    Result(RelayResult),
    /// Lock event records the IQ collected, oldest first per lock.
    Events {
        /// The IQ's number for this batch (acknowledged by `events_ack`).
        batch: u64,
        /// Signed records.
        records: Vec<HexBytes>,
    },
}

/// The per-IQ configuration. Each one the cloud builds carries a higher `serial`: pushes sent
/// concurrently can overtake each other, and the IQ keeps only the newest it has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IqConfig {
    /// Increases with every configuration built for this IQ (0 from a cloud without serials).
    #[serde(default)]
    pub serial: u64,
    /// The locks attached to the IQ now (a lock attached while it is connected shows up here).
    #[serde(default)]
    pub lock_ids: Vec<u32>,
    /// One secret per person who may open remotely through this IQ.
    pub code_secrets: Vec<CodeSecret>,
    /// One authority-signed keypad table per lock of the IQ.
    pub keypad_tables: Vec<HexBytes>,
    /// Authority-signed tag lists ([`crate::tag::TagList`]): per lock, the online one (the
    /// IQ answers the lock from it) and the offline one (the lock stores it).
    #[serde(default)]
    pub tag_lists: Vec<HexBytes>,
    /// One authority-signed [`crate::LockSettings`] per lock.
    #[serde(default)]
    pub lock_settings: Vec<HexBytes>,
    /// The site's live revocation updates ([`crate::mailbox::MailboxUpdate`]), handed to
    /// every lock so their denylists are current without a phone carrying them.
    #[serde(default)]
    pub revocations: Vec<HexBytes>,
}

/// A person's IQ-code secret (the phone holds the same one).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSecret {
    /// The person.
    pub user_id: u32,
    /// The secret.
    pub secret: HexBytes,
}

impl std::fmt::Debug for CodeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeSecret")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// A remote command to relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayCommand {
    /// The cloud's id for this request (echoed in the result).
    pub request_id: u64,
    /// The lock.
    pub lock_id: u32,
    /// The signed [`super::RemoteGrant`] for the lock.
    pub grant: HexBytes,
    /// For web remote opening: the code the person typed, which the IQ checks again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeCheck>,
}

/// A typed IQ code to check before relaying.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeCheck {
    /// Whose secret it must match.
    pub user_id: u32,
    /// What they typed.
    pub code: String,
}

impl std::fmt::Debug for CodeCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeCheck")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// How a relayed command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayResult {
    /// The request it answers.
    pub request_id: u64,
    /// What happened.
    pub outcome: RelayOutcome,
    /// The lock's signed event record, when the lock answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<HexBytes>,
    /// Microseconds the IQ spent from receiving the command to sending this (lock included).
    pub iq_micros: u64,
    /// Microseconds of that the lock spent (checks, motor, event).
    pub lock_micros: u64,
}

/// The outcome of a relayed command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RelayOutcome {
    /// The lock did it.
    Granted,
    /// The lock refused, with its reason code.
    Refused {
        /// [`crate::RefusalReason`] wire code.
        reason: u8,
    },
    /// The IQ refused the typed code (wrong, expired, or used before): nothing was relayed.
    CodeRejected,
    /// The lock is not attached to this IQ or does not answer.
    LockUnreachable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json_and_debug_hides_secrets() {
        let command = CloudToIq::Command(RelayCommand {
            request_id: 3,
            lock_id: 5,
            grant: HexBytes(vec![1, 2]),
            code: Some(CodeCheck {
                user_id: 4,
                code: "ABCDE".into(),
            }),
        });
        let json = serde_json::to_string(&command).unwrap();
        assert!(json.starts_with("{\"type\":\"command\""), "{json}");
        assert_eq!(serde_json::from_str::<CloudToIq>(&json).unwrap(), command);
        assert!(!format!("{command:?}").contains("ABCDE"));
        let secret = CodeSecret {
            user_id: 1,
            secret: HexBytes(vec![9; 16]),
        };
        assert!(!format!("{secret:?}").contains("09"));
        let result = IqToCloud::Result(RelayResult {
            request_id: 3,
            outcome: RelayOutcome::Refused { reason: 13 },
            event: None,
            iq_micros: 10,
            lock_micros: 5,
        });
        let json = serde_json::to_string(&result).unwrap();
        assert_eq!(serde_json::from_str::<IqToCloud>(&json).unwrap(), result);
        assert!(serde_json::from_str::<IqToCloud>("{\"type\":\"nonsense\"}").is_err());
    }
}
