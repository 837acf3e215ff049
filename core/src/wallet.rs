//! The wallet: digital keys synced from the cloud into the local store, listed for the app,
//! and used to unlock locks over BLE.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::endpoints::{NoBody, SyncKeys};
pub use keyway_api::LockRef;
use keyway_protocol::mailbox::MailboxAddress;
use keyway_protocol::message::{mailbox_budget, MAILBOX_ENTRY_OVERHEAD, MAX_MAILBOX_UPDATES};
use keyway_protocol::{Command, SignedCredential};

use crate::client::Context;
use crate::devices::registered_device_id;
use crate::ffi::UnlockReport;
use crate::local_store::StoredKey;
use crate::runtime::on_core_runtime;
use crate::{logging, unlock, KeywayError};

/// A digital key, for the wallet screen. A view of keyway-api's `DigitalKeyView`, not the
/// type itself: it adds whether the key is valid now on this phone's clock, and leaves out the
/// signed credential (base64), which the core keeps and presents to locks itself.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyInfo {
    /// Credential id.
    pub credential_id: u64,
    /// Site id.
    pub site_id: u32,
    /// Site name.
    pub site_name: String,
    /// Locks it opens.
    pub locks: Vec<LockRef>,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// Valid until (Unix seconds).
    pub not_after: i64,
    /// Whether it is valid now on this phone's clock.
    pub valid_now: bool,
    /// Offline access (manual 003): it opens even when the lock cannot reach its IQ. Without
    /// it, a lock paired with an IQ opens only while it can confirm the key with its IQ.
    pub works_offline: bool,
}

/// What a sync changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncSummary {
    /// Keys in the wallet now.
    pub keys: u32,
    /// Keys that arrived.
    pub added: u32,
    /// Keys that left (revoked or expired).
    pub removed: u32,
    /// Mailbox updates to carry to locks.
    pub mailbox_updates: u32,
}

/// The wallet of digital keys.
#[derive(uniffi::Object)]
pub struct WalletClient {
    context: Arc<Context>,
}

impl std::fmt::Debug for WalletClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WalletClient(..)")
    }
}

impl WalletClient {
    pub(crate) fn new(context: Arc<Context>) -> Self {
        Self { context }
    }

    /// The signed bytes of a wallet key (tools and tests; apps never need them).
    pub async fn credential_bytes(&self, credential_id: u64) -> Result<Vec<u8>, KeywayError> {
        let keys = self.context.store.keys().await?;
        keys.into_iter()
            .find(|key| key.credential_id == credential_id)
            .map(|key| key.credential)
            .ok_or_else(|| KeywayError::invalid(format!("no key #{credential_id} in the wallet")))
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn key_info(key: &StoredKey, now: i64) -> KeyInfo {
    KeyInfo {
        credential_id: key.credential_id,
        site_id: key.site_id,
        site_name: key.site_name.clone(),
        locks: key
            .locks
            .iter()
            .map(|(lock_id, name)| LockRef {
                lock_id: *lock_id,
                name: name.clone(),
            })
            .collect(),
        not_before: key.not_before,
        not_after: key.not_after,
        valid_now: key.not_before <= now && now < key.not_after,
        works_offline: SignedCredential::decode(&key.credential)
            .is_ok_and(|signed| signed.credential().flags.offline_access),
    }
}

fn decode_key(
    view: keyway_api::DigitalKeyView,
    device_key: &[u8],
) -> Result<StoredKey, KeywayError> {
    let credential = STANDARD
        .decode(&view.credential)
        .map_err(|_| KeywayError::Retry {
            detail: "the cloud sent a malformed key".into(),
        })?;
    let parsed = SignedCredential::decode(&credential)?;
    if parsed.credential().device_key.as_bytes().as_slice() != device_key {
        return Err(KeywayError::RegisterDevice {
            detail: "the cloud issued a key for another device key".into(),
        });
    }
    Ok(StoredKey {
        credential_id: view.credential_id,
        site_id: view.site_id,
        site_name: view.site_name,
        locks: view
            .locks
            .into_iter()
            .map(|lock| (lock.lock_id, lock.name))
            .collect(),
        not_before: view.not_before,
        not_after: view.not_after,
        credential,
    })
}

#[uniffi::export]
impl WalletClient {
    /// Fetches this device's keys and replaces the wallet with them: a key the cloud no longer
    /// lists (revoked, removed from a group) leaves the phone.
    pub async fn sync(&self) -> Result<SyncSummary, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { sync_wallet(&context).await })
            .await
            .inspect_err(|error| logging::error("key sync", error))
    }

    /// The keys in the wallet.
    pub async fn keys(&self) -> Result<Vec<KeyInfo>, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let now = now();
            Ok(context
                .store
                .keys()
                .await?
                .iter()
                .map(|key| key_info(key, now))
                .collect())
        })
        .await
    }

    /// Opens `lock_id` over BLE with a key from the wallet. The lock's signed event is queued
    /// for upload whatever the outcome. A refusal is a report with `granted = false`.
    pub async fn unlock(&self, lock_id: u32) -> Result<UnlockReport, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { run(&context, lock_id, Command::Unlock).await })
            .await
            .inspect_err(|error| logging::error("unlock", error))
    }
}

/// Fetches this device's keys and replaces the wallet with them (on the core's runtime).
pub(crate) async fn sync_wallet(context: &Context) -> Result<SyncSummary, KeywayError> {
    // One sync at a time (the app's and the live channel's): a slower, older answer never
    // overwrites a newer one.
    let _one_at_a_time = context.wallet_sync.lock().await;
    let device_id = registered_device_id(context).await?;
    let response = context.call(&SyncKeys { device_id }, &NoBody).await?;
    let device_key = context.signer.public_key().await?;
    let keys = response
        .keys
        .into_iter()
        .map(|view| decode_key(view, &device_key))
        .collect::<Result<Vec<_>, _>>()?;
    let mailbox = response
        .mailbox
        .iter()
        .filter_map(|text| STANDARD.decode(text).ok())
        .filter_map(|bytes| mailbox_site(&bytes).map(|site| (site, bytes)))
        .collect::<Vec<_>>();
    let before: Vec<u64> = context
        .store
        .keys()
        .await?
        .iter()
        .map(|k| k.credential_id)
        .collect();
    let added = crate::convert::count(
        keys.iter()
            .filter(|k| !before.contains(&k.credential_id))
            .count(),
    );
    let removed = crate::convert::count(
        before
            .iter()
            .filter(|id| !keys.iter().any(|k| k.credential_id == **id))
            .count(),
    );
    let summary = SyncSummary {
        keys: crate::convert::count(keys.len()),
        added,
        removed,
        mailbox_updates: crate::convert::count(mailbox.len()),
    };
    for key in &keys {
        tracing::debug!(
            credential_id = key.credential_id,
            site_id = key.site_id,
            locks = key.locks.len(),
            not_after = key.not_after,
            "key synced"
        );
    }
    context.store.replace_wallet(keys, mailbox).await?;
    tracing::info!(
        device_id,
        keys = summary.keys,
        added = summary.added,
        removed = summary.removed,
        mailbox_updates = summary.mailbox_updates,
        "wallet synced"
    );
    Ok(summary)
}

/// The site a mailbox update is addressed to (the signature is the lock's to check).
fn mailbox_site(bytes: &[u8]) -> Option<u32> {
    MailboxAddress::peek(bytes).map(|address| address.site_id)
}

/// The updates to carry to `lock_id`: those addressed to it, at most [`MAX_MAILBOX_UPDATES`]
/// and `budget` bytes of mailbox entries (so the request still goes through at the smallest
/// ATT MTU). Epoch raises come first (one small update that outweighs any denylist), then the
/// newest denials; one that does not fit is skipped for smaller ones (locks apply updates in
/// any order).
fn updates_to_carry(
    updates: Vec<Vec<u8>>,
    site_id: u32,
    lock_id: u32,
    budget: usize,
) -> Vec<Vec<u8>> {
    let mut addressed: Vec<(MailboxAddress, Vec<u8>)> = updates
        .into_iter()
        .filter_map(|bytes| {
            let address = MailboxAddress::peek(&bytes)?;
            address
                .addresses(site_id, lock_id)
                .then_some((address, bytes))
        })
        .collect();
    addressed.sort_by_key(|(address, _)| {
        (
            std::cmp::Reverse(address.raises_epoch),
            std::cmp::Reverse(address.serial),
        )
    });
    let mut left = budget;
    let mut carried = Vec::new();
    for (_, bytes) in addressed {
        let cost = bytes.len() + MAILBOX_ENTRY_OVERHEAD;
        if carried.len() == MAX_MAILBOX_UPDATES {
            break;
        }
        if cost <= left {
            left -= cost;
            carried.push(bytes);
        }
    }
    carried
}

async fn run(
    context: &Context,
    lock_id: u32,
    command: Command,
) -> Result<UnlockReport, KeywayError> {
    let now = now();
    let keys = context.store.keys().await?;
    let key = keys
        .iter()
        .filter(|key| {
            key.locks.iter().any(|(id, _)| *id == lock_id)
                && key.not_before <= now
                && now < key.not_after
        })
        .max_by_key(|key| key.not_after)
        .ok_or_else(|| KeywayError::NotAllowed {
            detail: format!("no valid key for lock {lock_id}: sync the wallet"),
        })
        .inspect_err(|_| tracing::info!(lock_id, "no valid key for this lock in the wallet"))?;
    let transport = context
        .transport
        .as_ref()
        .ok_or_else(|| KeywayError::OutOfRange {
            detail: "this device has no BLE transport".into(),
        })?;
    let mailbox = updates_to_carry(
        context.store.mailbox(key.site_id).await?,
        key.site_id,
        lock_id,
        mailbox_budget(key.credential.len()),
    );
    tracing::info!(
        lock_id,
        credential_id = key.credential_id,
        mailbox_updates = mailbox.len(),
        "unlock started"
    );
    let link = unlock::CloseLinkOnCancel::new(transport);
    let outcome = unlock::unlock(
        transport.as_ref(),
        context.signer.as_ref(),
        lock_id,
        key.credential.clone(),
        command,
        mailbox,
    )
    .await;
    link.finished();
    let outcome = outcome?;
    // The lock's record of this attempt, and any earlier ones it could not deliver before.
    for record in outcome
        .backlog
        .iter()
        .chain(std::iter::once(&outcome.event))
    {
        let event = record.event();
        context
            .store
            .queue_event(event.lock_id, event.seq, record.as_bytes().to_vec(), now)
            .await?;
    }
    tracing::debug!(
        lock_id,
        records = outcome.backlog.len() + 1,
        "event records queued for upload"
    );
    Ok(UnlockReport::new(&outcome, std::time::Duration::ZERO))
}

// Keep the mailbox parser honest against the real format.
#[cfg(test)]
mod tests {
    use super::*;
    use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate, ALL_LOCKS};
    use keyway_protocol::SigningKey;

    #[test]
    fn the_mailbox_site_is_read_from_a_real_update() {
        let rng = ring::rand::SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let update = MailboxUpdate {
            site_id: 77,
            lock_id: ALL_LOCKS,
            serial: 1,
            change: MailboxChange::RaiseEpoch(2),
        };
        assert_eq!(
            mailbox_site(&update.sign(&authority, &rng).unwrap()),
            Some(77)
        );
        assert_eq!(mailbox_site(&[1, 2]), None);
    }

    #[test]
    fn epoch_raises_then_the_newest_denials_are_carried_within_the_budget() {
        let rng = ring::rand::SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let update = |serial, lock_id, change| {
            MailboxUpdate {
                site_id: 1,
                lock_id,
                serial,
                change,
            }
            .sign(&authority, &rng)
            .unwrap()
        };
        let deny = |ids: usize| MailboxChange::DenyCredentials((1..=ids as u64).collect());
        let mut all: Vec<_> = (1..=12)
            .map(|serial| update(serial, ALL_LOCKS, deny(1)))
            .collect();
        all.push(update(13, 99, deny(1)));
        all.insert(0, update(2, ALL_LOCKS, MailboxChange::RaiseEpoch(1)));
        let serials = |carried: Vec<Vec<u8>>| -> Vec<u32> {
            carried
                .iter()
                .map(|b| MailboxAddress::peek(b).unwrap().serial)
                .collect()
        };
        assert_eq!(
            serials(updates_to_carry(all.clone(), 1, 5, usize::MAX)),
            vec![2, 12, 11, 10, 9, 8, 7, 6],
            "the epoch first, then the newest denials, none for lock 99"
        );
        let entry = all[1].len() + MAILBOX_ENTRY_OVERHEAD;
        assert_eq!(
            serials(updates_to_carry(all, 1, 5, 3 * entry + entry / 2)),
            vec![2, 12, 11],
            "no more than the bytes a request at the smallest MTU can carry"
        );

        // A big denial that does not fit is skipped for a smaller, older one.
        let mixed = vec![
            update(20, ALL_LOCKS, deny(64)),
            update(19, ALL_LOCKS, deny(1)),
        ];
        let small = mixed[1].len() + MAILBOX_ENTRY_OVERHEAD;
        assert_eq!(serials(updates_to_carry(mixed, 1, 5, small)), vec![19]);
    }
}
