//! Remote opening through the IQ: the app PIN or the biometric gate, the 5-character code
//! for web remote opening, and keypad PINs. The cloud checks the person's right and the
//! gate, the IQ relays, the lock decides; a lock refusing is a report with `granted = false`.
//!
//! The core never stores the app PIN. The biometric signer and verifier are kept for the
//! session (register them again after a new biometric enrolment on the phone). IQ-code
//! secrets live in the platform's secure store.

mod code_secrets;

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::endpoints::{
    EmergencyOpenLocker, IqCodeSecrets, NewKeypadPin, NoBody, RegisterBiometricKey,
    RemoteChallenge, RemoteLocks, RemoteOpen, RemotePin, SetRemotePin,
};
use keyway_api::remote::{
    biometric_enrolment_message, remote_gate_message, BiometricKeyView,
    RegisterBiometricKeyRequest, RemoteChallengeRequest, RemoteCommand, RemoteGate as GateBody,
    RemoteOpenRequest, RemoteOpenResponse, SetRemotePinRequest,
};
pub use keyway_api::remote::{KeypadPinResponse, PinDelivery, RemoteLockView, RemotePinStatus};
use keyway_protocol::RefusalReason;

use crate::client::Context;
use crate::devices::registered_device_id;
use crate::ffi::{IqCode, RefusalAdvice};
use crate::platform::{signature_to_fixed, DeviceSigner, SecureStore, UserVerifier};
use crate::runtime::on_core_runtime;
use crate::{logging, KeywayError};

/// How the person confirms a remote command. The core's own enum rather than keyway-api's
/// `RemoteGate`: the app hands over the PIN or asks for the biometric prompt, and the core
/// fetches the challenge and signs it (the wire's signature and ids are the core's business).
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RemoteGate {
    /// The app PIN (sent to the cloud, never stored on the phone).
    Pin {
        /// The PIN.
        pin: String,
    },
    /// The user-verification prompt, then the biometric key signs a one-time challenge
    /// (see [`RemoteClient::enroll_biometric`]).
    Biometric,
}

impl std::fmt::Debug for RemoteGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pin { .. } => "Pin(..)",
            Self::Biometric => "Biometric",
        })
    }
}

/// What the lock did, and where the time went. A view of keyway-api's `RemoteOpenResponse`,
/// not the type itself: the refusal as the lock's [`RefusalReason`] (not its wire code) with
/// the advice that goes with it, and the timing flattened into plain fields.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RemoteReport {
    /// The lock.
    pub lock_id: u32,
    /// Whether it did it.
    pub granted: bool,
    /// Why not, when it did not.
    pub refusal: Option<RefusalReason>,
    /// The refusal in words.
    pub refusal_message: Option<String>,
    /// What to do about the refusal.
    pub advice: Option<RefusalAdvice>,
    /// The lock's event record number.
    pub event_seq: Option<u64>,
    /// Request to answer at the cloud.
    pub total_ms: f64,
    /// The cloud's own part (checks, PIN hashing, signing, storing).
    pub cloud_ms: f64,
    /// The cloud⇄IQ WebSocket round trip.
    pub link_ms: f64,
    /// The IQ's own part.
    pub iq_ms: f64,
    /// The lock's part (checks, motor, event).
    pub lock_ms: f64,
}

impl From<RemoteOpenResponse> for RemoteReport {
    fn from(response: RemoteOpenResponse) -> Self {
        let refusal = RefusalReason::from_code(response.reason_code).filter(|_| !response.granted);
        Self {
            lock_id: response.lock_id,
            granted: response.granted,
            refusal,
            refusal_message: response.reason,
            advice: refusal.map(RefusalAdvice::from),
            event_seq: response.event_seq,
            total_ms: response.timing.total_ms,
            cloud_ms: response.timing.cloud_ms,
            link_ms: response.timing.link_ms,
            iq_ms: response.timing.iq_ms,
            lock_ms: response.timing.lock_ms,
        }
    }
}

/// The current code of one IQ, for the web page: the core's own record, joining the IQ named
/// by keyway-api's `IqCodeSecretView` (without its secret, which stays in the secure store)
/// with the protocol's [`IqCode`] computed from it now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IqCodeInfo {
    /// Site id.
    pub site_id: u32,
    /// IQ id.
    pub iq_id: u32,
    /// IQ name.
    pub iq_name: String,
    /// The five characters.
    pub code: String,
    /// Seconds until the next code.
    pub seconds_left: u32,
}

#[derive(Clone)]
struct Biometric {
    verifier: Arc<dyn UserVerifier>,
    signer: Arc<dyn DeviceSigner>,
}

/// Remote opening, IQ codes and keypad PINs.
#[derive(uniffi::Object)]
pub struct RemoteClient {
    context: Arc<Context>,
    secrets: code_secrets::CodeSecrets,
    biometric: Mutex<Option<Biometric>>,
}

impl std::fmt::Debug for RemoteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemoteClient(..)")
    }
}

impl RemoteClient {
    pub(crate) fn new(context: Arc<Context>, secure_store: Arc<dyn SecureStore>) -> Self {
        Self {
            context,
            secrets: code_secrets::CodeSecrets::new(secure_store),
            biometric: Mutex::new(None),
        }
    }

    fn keep_biometric(&self, biometric: Option<Biometric>) -> Result<(), KeywayError> {
        *self
            .biometric
            .lock()
            .map_err(|_| KeywayError::internal("biometric state poisoned"))? = biometric;
        Ok(())
    }

    fn kept_biometric(&self) -> Result<Option<Biometric>, KeywayError> {
        Ok(self
            .biometric
            .lock()
            .map_err(|_| KeywayError::internal("biometric state poisoned"))?
            .clone())
    }

    async fn command(
        &self,
        site_id: u32,
        lock_id: u32,
        command: RemoteCommand,
        gate: RemoteGate,
    ) -> Result<RemoteReport, KeywayError> {
        self.order(site_id, lock_id, command, gate, false).await
    }

    /// A remote command, or an admin's emergency opening of a locker (`emergency`).
    async fn order(
        &self,
        site_id: u32,
        lock_id: u32,
        command: RemoteCommand,
        gate: RemoteGate,
        emergency: bool,
    ) -> Result<RemoteReport, KeywayError> {
        let context = Arc::clone(&self.context);
        let biometric = match gate {
            RemoteGate::Biometric => {
                Some(
                    self.kept_biometric()?
                        .ok_or_else(|| KeywayError::NotAllowed {
                            detail: "no biometric key is enrolled on this phone: enroll one first"
                                .into(),
                        })?,
                )
            }
            RemoteGate::Pin { .. } => None,
        };
        let gate_kind = match gate {
            RemoteGate::Pin { .. } => "pin",
            RemoteGate::Biometric => "biometric",
        };
        tracing::info!(site_id, lock_id, command = ?command, gate = gate_kind, "remote opening started");
        let started = std::time::Instant::now();
        on_core_runtime(async move {
            let gate = match (gate, biometric) {
                (RemoteGate::Pin { pin }, _) => GateBody::Pin { pin },
                (RemoteGate::Biometric, Some(biometric)) => {
                    answer_challenge(&context, &biometric, site_id, lock_id, command).await?
                }
                (RemoteGate::Biometric, None) => {
                    return Err(KeywayError::internal("biometric gate without a signer"))
                }
            };
            let request = RemoteOpenRequest { command, gate };
            let response = if emergency {
                let endpoint = EmergencyOpenLocker { site_id, lock_id };
                context.call(&endpoint, &request).await?
            } else {
                context
                    .call(&RemoteOpen { site_id, lock_id }, &request)
                    .await?
            };
            let report = RemoteReport::from(response);
            log_report(&report, gate_kind, started);
            Ok(report)
        })
        .await
        .inspect_err(|error| logging::error("remote opening", error))
    }
}

/// Asks the cloud for a challenge, has the person verify, and signs the challenge for this
/// action with the biometric key.
async fn answer_challenge(
    context: &Context,
    biometric: &Biometric,
    site_id: u32,
    lock_id: u32,
    command: RemoteCommand,
) -> Result<GateBody, KeywayError> {
    let device_id = registered_device_id(context).await?;
    tracing::debug!(
        device_id,
        "remote: asking the cloud for a biometric challenge"
    );
    let challenge = context
        .call(&RemoteChallenge {}, &RemoteChallengeRequest { device_id })
        .await?;
    let nonce = STANDARD
        .decode(&challenge.nonce)
        .map_err(|_| KeywayError::Retry {
            detail: "the cloud sent a malformed challenge".into(),
        })?;
    let reason = match command {
        RemoteCommand::Unlock => format!("Open lock {lock_id} remotely"),
        RemoteCommand::OfficeModeOn => format!("Put lock {lock_id} in office mode"),
        RemoteCommand::OfficeModeOff => format!("Take lock {lock_id} out of office mode"),
    };
    if !biometric.verifier.verify(reason).await? {
        tracing::info!("remote: the user verification failed");
        return Err(KeywayError::NotAllowed {
            detail: "the user verification failed".into(),
        });
    }
    tracing::debug!(
        challenge_id = challenge.challenge_id,
        "remote: verified, signing the challenge with the biometric key"
    );
    let message = remote_gate_message(&nonce, site_id, lock_id, command);
    let signature = signature_to_fixed(&biometric.signer.sign(message).await?)?;
    Ok(GateBody::Biometric {
        device_id,
        challenge_id: challenge.challenge_id,
        signature: STANDARD.encode(signature),
    })
}

/// Logs what the IQ and the lock answered, and where the time went.
fn log_report(report: &RemoteReport, gate: &str, started: std::time::Instant) {
    let elapsed_ms = started.elapsed().as_millis();
    if report.granted {
        tracing::info!(
            lock_id = report.lock_id,
            gate,
            event_seq = report.event_seq,
            elapsed_ms,
            total_ms = report.total_ms,
            cloud_ms = report.cloud_ms,
            link_ms = report.link_ms,
            iq_ms = report.iq_ms,
            lock_ms = report.lock_ms,
            "remote opening: the lock granted"
        );
    } else {
        tracing::info!(
            lock_id = report.lock_id,
            gate,
            refusal = ?report.refusal,
            event_seq = report.event_seq,
            elapsed_ms,
            total_ms = report.total_ms,
            iq_ms = report.iq_ms,
            lock_ms = report.lock_ms,
            "remote opening: the lock refused"
        );
    }
}

#[uniffi::export]
impl RemoteClient {
    /// Sets (or resets, after a lockout) the app PIN: 4 to 8 digits, confirmed with the
    /// account password.
    pub async fn set_pin(&self, password: String, pin: String) -> Result<(), KeywayError> {
        let context = Arc::clone(&self.context);
        tracing::info!("setting the app PIN");
        on_core_runtime(async move {
            context
                .call(&SetRemotePin {}, &SetRemotePinRequest { password, pin })
                .await
                .map(drop)
        })
        .await
        .inspect_err(|error| logging::error("setting the app PIN", error))
    }

    /// Whether an app PIN is set, and whether it is waiting or locked.
    pub async fn pin_status(&self) -> Result<RemotePinStatus, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { context.call(&RemotePin {}, &NoBody).await }).await
    }

    /// Registers `signer`, the biometric-bound key of this (registered) device, after the
    /// person verifies; both it and the device key sign the enrolment. The signer and the
    /// verifier are kept for this session. After a new biometric enrolment on the phone the
    /// platform makes a new key: enroll it again.
    pub async fn enroll_biometric(
        &self,
        verifier: Arc<dyn UserVerifier>,
        signer: Arc<dyn DeviceSigner>,
    ) -> Result<(), KeywayError> {
        let context = Arc::clone(&self.context);
        let biometric = Biometric { verifier, signer };
        let kept = biometric.clone();
        on_core_runtime(async move {
            if !biometric
                .verifier
                .verify("Use biometrics for remote opening".into())
                .await?
            {
                return Err(KeywayError::NotAllowed {
                    detail: "the user verification failed".into(),
                });
            }
            let device_id = registered_device_id(&context).await?;
            let public_key = biometric.signer.public_key().await?;
            let message = biometric_enrolment_message(device_id, &public_key);
            let device_signature =
                signature_to_fixed(&context.signer.sign(message.clone()).await?)?;
            let biometric_signature = signature_to_fixed(&biometric.signer.sign(message).await?)?;
            let request = RegisterBiometricKeyRequest {
                public_key: STANDARD.encode(public_key),
                device_signature: STANDARD.encode(device_signature),
                biometric_signature: STANDARD.encode(biometric_signature),
            };
            let _: BiometricKeyView = context
                .call(&RegisterBiometricKey { device_id }, &request)
                .await?;
            tracing::info!(device_id, "biometric key enrolled for remote opening");
            Ok(())
        })
        .await?;
        self.keep_biometric(Some(kept))
    }

    /// Uses a biometric key registered earlier (after an app restart), without registering.
    pub fn use_biometric(
        &self,
        verifier: Arc<dyn UserVerifier>,
        signer: Arc<dyn DeviceSigner>,
    ) -> Result<(), KeywayError> {
        self.keep_biometric(Some(Biometric { verifier, signer }))
    }

    /// Opens a lock remotely through its IQ.
    pub async fn open(
        &self,
        site_id: u32,
        lock_id: u32,
        gate: RemoteGate,
    ) -> Result<RemoteReport, KeywayError> {
        self.command(site_id, lock_id, RemoteCommand::Unlock, gate)
            .await
    }

    /// Opens an XS4 locker in an emergency (owner and admins), whoever it is assigned to and
    /// whatever its privacy mode: logged at the cloud and in the lock's signed log.
    pub async fn emergency_open_locker(
        &self,
        site_id: u32,
        lock_id: u32,
        gate: RemoteGate,
    ) -> Result<RemoteReport, KeywayError> {
        self.order(site_id, lock_id, RemoteCommand::Unlock, gate, true)
            .await
    }

    /// Remote office mode: the lock stays open (`on`) until set off again.
    pub async fn set_office_mode(
        &self,
        site_id: u32,
        lock_id: u32,
        on: bool,
        gate: RemoteGate,
    ) -> Result<RemoteReport, KeywayError> {
        let command = if on {
            RemoteCommand::OfficeModeOn
        } else {
            RemoteCommand::OfficeModeOff
        };
        self.command(site_id, lock_id, command, gate).await
    }

    /// The locks this person may open remotely, with their IQ's state.
    pub async fn locks(&self) -> Result<Vec<RemoteLockView>, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { context.call(&RemoteLocks {}, &NoBody).await }).await
    }

    /// Fetches this person's IQ-code secrets for this device into the secure store (one per
    /// IQ where they may open remotely); returns how many it holds.
    pub async fn sync_code_secrets(&self) -> Result<u32, KeywayError> {
        let context = Arc::clone(&self.context);
        let secrets = self.secrets.clone();
        on_core_runtime(async move {
            let device_id = registered_device_id(&context).await?;
            let views = context.call(&IqCodeSecrets { device_id }, &NoBody).await?;
            let count = secrets.replace(views).await?;
            tracing::info!(device_id, iqs = count, "IQ-code secrets synced");
            Ok(count)
        })
        .await
        .inspect_err(|error| logging::error("IQ-code secret sync", error))
    }

    /// The current code and seconds left for every IQ with a stored secret.
    pub async fn iq_codes(&self) -> Result<Vec<IqCodeInfo>, KeywayError> {
        let secrets = self.secrets.clone();
        on_core_runtime(async move { secrets.codes_now().await }).await
    }

    /// The current code of one IQ, and the seconds it has left.
    pub async fn iq_code(&self, iq_id: u32) -> Result<IqCode, KeywayError> {
        let secrets = self.secrets.clone();
        let code = on_core_runtime(async move { secrets.code_now(iq_id).await }).await;
        match &code {
            Ok(code) => {
                tracing::debug!(iq_id, seconds_left = code.seconds_left, "IQ code computed")
            }
            Err(error) => logging::error("IQ code", error),
        }
        code
    }

    /// Makes a new keypad PIN for a person of the site (themselves, or someone the caller's
    /// role manages). It reaches only that person, once: `pin` is set when they asked for
    /// their own (or for a tag profile without a phone, whose PIN the site hands over); for
    /// anybody else's it goes by text message to the phone they set or by e-mail (`delivery`)
    /// and is never shown here.
    /// The cloud cannot show it again, only make a new one.
    pub async fn new_keypad_pin(
        &self,
        site_id: u32,
        user_id: u32,
    ) -> Result<KeypadPinResponse, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let response = context
                .call(&NewKeypadPin { site_id, user_id }, &NoBody)
                .await?;
            tracing::info!(
                site_id,
                user_id,
                delivery = ?response.delivery,
                shown = response.pin.is_some(),
                "keypad PIN made"
            );
            Ok(response)
        })
        .await
        .inspect_err(|error| logging::error("keypad PIN", error))
    }
}
