//! Remote opening through the IQ: the app PIN, the biometric gate, remote commands, IQ-code
//! secrets and keypad PINs. (Routes in the cloud's OpenAPI document.)
//!
//! Bodies that carry a PIN, a password, a secret or a signature print none of it in `Debug`.

use serde::{Deserialize, Serialize};

const BIOMETRIC_ENROL_LABEL: &[u8] = b"KEYWAY-BIOMETRIC-ENROL-V1";
const REMOTE_GATE_LABEL: &[u8] = b"KEYWAY-REMOTE-GATE-V1";

/// What both the device key and the biometric key sign to register the biometric key of a
/// device: `label || device_id || biometric public key`.
pub fn biometric_enrolment_message(device_id: u32, biometric_public_key: &[u8]) -> Vec<u8> {
    [
        BIOMETRIC_ENROL_LABEL,
        &device_id.to_be_bytes(),
        biometric_public_key,
    ]
    .concat()
}

/// What the biometric key signs to open: `label || challenge nonce || site_id || lock_id ||
/// command`, so a signature answers one challenge for one action.
pub fn remote_gate_message(
    nonce: &[u8],
    site_id: u32,
    lock_id: u32,
    command: RemoteCommand,
) -> Vec<u8> {
    [
        REMOTE_GATE_LABEL,
        nonce,
        &site_id.to_be_bytes(),
        &lock_id.to_be_bytes(),
        &[command.code()],
    ]
    .concat()
}

/// `PUT /api/v1/me/remote-pin`: sets (or resets) the app PIN; the account password is the
/// verification step. Setting it clears wrong tries and a lockout.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRemotePinRequest {
    /// The account password.
    pub password: String,
    /// 4 to 8 digits.
    pub pin: String,
}

impl std::fmt::Debug for SetRemotePinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetRemotePinRequest(..)")
    }
}

/// `GET /api/v1/me/remote-pin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemotePinStatus {
    /// A PIN is set.
    pub set: bool,
    /// Wrong tries since the last right one.
    pub failures: u32,
    /// Locked after too many wrong tries: set it again with the password.
    pub locked: bool,
    /// Seconds until the next try is checked (after 5 wrong tries), if waiting (the apps see
    /// it as `retry_after_seconds`, like the error's).
    #[cfg_attr(feature = "uniffi", uniffi(name = "retry_after_seconds"))]
    pub retry_after: Option<u64>,
}

/// `PUT /api/v1/devices/{device_id}/biometric-key`: registers the biometric-bound key of
/// this device (a new enrolment on the phone makes a new key: register it again).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterBiometricKeyRequest {
    /// The biometric key (base64 of the 65-byte uncompressed P-256 point).
    pub public_key: String,
    /// The device key's signature (base64) over [`biometric_enrolment_message`].
    pub device_signature: String,
    /// The biometric key's own signature (base64) over the same message.
    pub biometric_signature: String,
}

impl std::fmt::Debug for RegisterBiometricKeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterBiometricKeyRequest")
            .finish_non_exhaustive()
    }
}

/// A registered biometric key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BiometricKeyView {
    /// The device it belongs to.
    pub device_id: u32,
    /// When it was registered (Unix seconds).
    pub registered_at: i64,
}

/// `POST /api/v1/remote/challenges`: a one-time challenge for the biometric gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteChallengeRequest {
    /// The device whose biometric key will answer.
    pub device_id: u32,
}

/// A one-time challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteChallengeView {
    /// Its id, to name it when answering.
    pub challenge_id: u64,
    /// The nonce to sign (base64), inside [`remote_gate_message`].
    pub nonce: String,
    /// It cannot be answered after this (Unix seconds).
    pub expires_at: i64,
}

/// What to do at the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemoteCommand {
    /// Open once.
    Unlock,
    /// Remote office mode on (needs the remote office mode right).
    OfficeModeOn,
    /// Remote office mode off (needs the remote office mode right).
    OfficeModeOff,
}

impl RemoteCommand {
    /// The lock command it becomes.
    pub fn command(self) -> keyway_protocol::Command {
        match self {
            Self::Unlock => keyway_protocol::Command::Unlock,
            Self::OfficeModeOn => keyway_protocol::Command::OfficeModeOn,
            Self::OfficeModeOff => keyway_protocol::Command::OfficeModeOff,
        }
    }

    /// Its code in signed messages (the lock command's wire code).
    pub fn code(self) -> u8 {
        self.command().code()
    }
}

/// How the person proves it is them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RemoteGate {
    /// The app PIN, checked by the cloud.
    Pin {
        /// The PIN.
        pin: String,
    },
    /// The biometric key's signature over a one-time challenge.
    Biometric {
        /// The device whose biometric key signed.
        device_id: u32,
        /// The challenge answered.
        challenge_id: u64,
        /// Base64 signature over [`remote_gate_message`].
        signature: String,
    },
}

impl std::fmt::Debug for RemoteGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pin { .. } => f.write_str("Pin(..)"),
            Self::Biometric {
                device_id,
                challenge_id,
                ..
            } => f
                .debug_struct("Biometric")
                .field("device_id", device_id)
                .field("challenge_id", challenge_id)
                .finish_non_exhaustive(),
        }
    }
}

/// `POST /api/v1/sites/{site_id}/locks/{lock_id}/remote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteOpenRequest {
    /// What to do.
    pub command: RemoteCommand,
    /// The PIN or the biometric answer.
    pub gate: RemoteGate,
}

/// Where the time of a remote command went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteTiming {
    /// From the request reaching the cloud to its answer leaving.
    pub total_ms: f64,
    /// The cloud's own part: checks (PIN hashing included), signing, storing.
    pub cloud_ms: f64,
    /// The WebSocket round trip between the cloud and the IQ, the IQ's work excluded.
    pub link_ms: f64,
    /// The IQ's own part (code check, relaying), lock excluded.
    pub iq_ms: f64,
    /// The lock's part: its checks, the motor and the signed event.
    pub lock_ms: f64,
}

/// What the lock did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteOpenResponse {
    /// The lock.
    pub lock_id: u32,
    /// Whether the lock did it.
    pub granted: bool,
    /// The lock's refusal code (0 when granted).
    pub reason_code: u8,
    /// The refusal in words.
    pub reason: Option<String>,
    /// The lock's event record number for this command.
    pub event_seq: Option<u64>,
    /// Where the time went.
    pub timing: RemoteTiming,
}

/// A lock the caller may open remotely, from `GET /api/v1/me/remote-locks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteLockView {
    /// Site id.
    pub site_id: u32,
    /// Site name.
    pub site_name: String,
    /// Lock id.
    pub lock_id: u32,
    /// Lock name.
    pub name: String,
    /// Its IQ.
    pub iq_id: u32,
    /// Whether the IQ is connected now.
    pub iq_online: bool,
    /// The caller may also set remote office mode here.
    pub office_mode: bool,
}

/// One IQ-code secret of this person, from `GET /api/v1/devices/{device_id}/iq-code-secrets`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IqCodeSecretView {
    /// Site id.
    pub site_id: u32,
    /// IQ id.
    pub iq_id: u32,
    /// IQ name.
    pub iq_name: String,
    /// The secret (base64): keep it in the secure store.
    pub secret: String,
}

impl std::fmt::Debug for IqCodeSecretView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IqCodeSecretView")
            .field("site_id", &self.site_id)
            .field("iq_id", &self.iq_id)
            .field("iq_name", &self.iq_name)
            .finish_non_exhaustive()
    }
}

/// A new keypad PIN. It reaches only the person it belongs to, once: in this answer when they
/// asked themselves, otherwise by e-mail to their address (an admin never sees it). The cloud
/// keeps only a verifier and cannot show it again.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeypadPinResponse {
    /// The person.
    pub user_id: u32,
    /// Six digits when `delivery` is `shown`; `None` when it went to the person.
    pub pin: Option<String>,
    /// How the PIN reaches its person.
    pub delivery: PinDelivery,
}

/// How a new keypad PIN reaches the person it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PinDelivery {
    /// In the answer: the person asked for their own, or they have a tag profile without a
    /// phone (no app, no address: the site hands it over).
    Shown,
    /// By e-mail to the person's address: somebody else asked for it.
    Emailed,
    /// By text message to the person's phone: somebody else asked for it (the phone the
    /// person set themselves, or a tag profile's).
    TextMessage,
}

impl std::fmt::Debug for KeypadPinResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeypadPinResponse")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Whether a person has a keypad PIN (never the PIN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeypadPinStatus {
    /// The person.
    pub user_id: u32,
    /// When their current PIN was made (Unix seconds), if they have one.
    pub created_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_and_the_gate_is_tagged() {
        let gate = RemoteGate::Pin { pin: "4711".into() };
        assert!(!format!("{gate:?}").contains("4711"));
        let json = serde_json::to_string(&gate).unwrap();
        assert_eq!(json, r#"{"kind":"pin","pin":"4711"}"#);
        let request = SetRemotePinRequest {
            password: "hunter2 hunter2".into(),
            pin: "4711".into(),
        };
        let debug = format!("{request:?}");
        assert!(!debug.contains("4711") && !debug.contains("hunter2"));
        let secret = IqCodeSecretView {
            site_id: 1,
            iq_id: 2,
            iq_name: "IQ".into(),
            secret: "c2VjcmV0".into(),
        };
        assert!(!format!("{secret:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn gate_messages_bind_the_action() {
        let a = remote_gate_message(&[1; 32], 1, 2, RemoteCommand::Unlock);
        let b = remote_gate_message(&[1; 32], 1, 2, RemoteCommand::OfficeModeOn);
        let c = remote_gate_message(&[1; 32], 1, 3, RemoteCommand::Unlock);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            biometric_enrolment_message(1, &[4; 65]),
            biometric_enrolment_message(2, &[4; 65])
        );
    }
}
