//! A [`BleTransport`] over [btleplug](https://docs.rs/btleplug): BlueZ (over D-Bus) on Linux,
//! CoreBluetooth on macOS, WinRT on Windows. The `keyway` CLI uses it for `unlock --ble`, and
//! the end-to-end tests run it against a mocked BlueZ whose GATT peripheral is the lock
//! simulator. The phone apps do not: they bring their platform's BLE stack through the
//! foreign trait.
//!
//! One connection: scan for [`SERVICE_UUID`], pick the peripheral whose service data names the
//! lock, connect, resolve services, subscribe to the notify characteristic (the lock answers
//! with its challenge), then write fragments without response and read notifications through
//! a channel fed by a background task, which also turns a disconnection into
//! [`TransportError::LinkLost`].
//!
//! # ATT MTU
//! btleplug reports the MTU BlueZ publishes on the GATT characteristics (`MTU` property,
//! BlueZ ≥ 5.62) and falls back to 23, the BLE minimum, when BlueZ does not say. We use that
//! value as is: a write without response larger than `MTU - 3` is dropped or refused by the
//! stack, so guessing the usual 185 on a link that negotiated less would break every unlock,
//! while 23 always works and only costs more writes (about 19 instead of 2). Values above 517
//! (the ATT maximum) are capped.

use std::time::Duration;

use async_trait::async_trait;
use btleplug::api::{
    Central as _, CentralEvent, Characteristic, Manager as _, Peripheral as _, ScanFilter,
    WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures_util::StreamExt as _;
use keyway_protocol::ble::{
    lock_id_from_service_data, NOTIFY_CHARACTERISTIC_UUID, SERVICE_UUID, WRITE_CHARACTERISTIC_UUID,
};
use keyway_protocol::frame::MIN_ATT_MTU;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{BleTransport, TransportError};

/// How long [`BtleplugTransport::with_default_scan_timeout`] scans for a lock.
pub const DEFAULT_SCAN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting and resolving the lock's services may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a disconnect may take before we give up on it (the link is dropped either way).
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest ATT MTU BLE allows.
const MAX_ATT_MTU: u16 = 517;
/// After a failed write, how long to wait for BlueZ to report the disconnection that likely
/// caused it (the write can fail before the `Connected` property changes).
const DROP_GRACE: Duration = Duration::from_millis(300);

/// A BLE central on the machine's first Bluetooth adapter, through btleplug.
pub struct BtleplugTransport {
    adapter: Adapter,
    scan_timeout: Duration,
    uuids: KeywayUuids,
    link: Mutex<Option<Link>>,
}

impl std::fmt::Debug for BtleplugTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BtleplugTransport")
            .field("scan_timeout", &self.scan_timeout)
            .finish_non_exhaustive()
    }
}

/// The Keyway GATT UUIDs, parsed once.
#[derive(Debug, Clone, Copy)]
struct KeywayUuids {
    service: Uuid,
    write: Uuid,
    notify: Uuid,
}

impl KeywayUuids {
    fn parse() -> Result<Self, TransportError> {
        let parse = |text: &str| {
            Uuid::parse_str(text).map_err(|e| lost(format!("bad Keyway UUID {text}: {e}")))
        };
        Ok(Self {
            service: parse(SERVICE_UUID)?,
            write: parse(WRITE_CHARACTERISTIC_UUID)?,
            notify: parse(NOTIFY_CHARACTERISTIC_UUID)?,
        })
    }
}

/// An open connection to one lock.
struct Link {
    peripheral: Peripheral,
    write: Characteristic,
    notifications: mpsc::UnboundedReceiver<Result<Vec<u8>, TransportError>>,
    /// Becomes `true` when BlueZ reports the device disconnected.
    dropped: watch::Receiver<bool>,
    pump: JoinHandle<()>,
}

impl BtleplugTransport {
    /// A transport on the first Bluetooth adapter (`hci0` on Linux) that scans at most
    /// `scan_timeout` for a lock. Must run inside a tokio runtime, which then carries the
    /// D-Bus connection (on Linux) for the transport's life.
    pub async fn new(scan_timeout: Duration) -> Result<Self, TransportError> {
        let manager = Manager::new()
            .await
            .map_err(|e| lost(format!("no Bluetooth stack: {e}")))?;
        let adapter = manager
            .adapters()
            .await
            .map_err(|e| lost(format!("cannot list Bluetooth adapters: {e}")))?
            .into_iter()
            .next()
            .ok_or_else(|| lost("no Bluetooth adapter"))?;
        Ok(Self {
            adapter,
            scan_timeout,
            uuids: KeywayUuids::parse()?,
            link: Mutex::new(None),
        })
    }

    /// [`BtleplugTransport::new`] with [`DEFAULT_SCAN_TIMEOUT`].
    pub async fn with_default_scan_timeout() -> Result<Self, TransportError> {
        Self::new(DEFAULT_SCAN_TIMEOUT).await
    }

    /// Scans until a peripheral advertises the Keyway service with `lock_id` in its service
    /// data, or `scan_timeout` passes.
    async fn find(&self, lock_id: u32) -> Result<Peripheral, TransportError> {
        // Subscribe first: the stream also replays the devices BlueZ already knows.
        let mut events = self
            .adapter
            .events()
            .await
            .map_err(|e| lost(format!("cannot watch the adapter: {e}")))?;
        self.adapter
            .start_scan(ScanFilter {
                services: vec![self.uuids.service],
            })
            .await
            .map_err(|e| lost(format!("cannot scan: {e}")))?;
        let search = async {
            while let Some(event) = events.next().await {
                let id = match event {
                    CentralEvent::DeviceDiscovered(id)
                    | CentralEvent::DeviceUpdated(id)
                    | CentralEvent::ServiceDataAdvertisement { id, .. }
                    | CentralEvent::ServicesAdvertisement { id, .. } => id,
                    _ => continue,
                };
                let Ok(peripheral) = self.adapter.peripheral(&id).await else {
                    continue;
                };
                if self.advertised_lock(&peripheral).await == Some(lock_id) {
                    return Some(peripheral);
                }
            }
            None
        };
        let found = tokio::time::timeout(self.scan_timeout, search).await;
        // Stopping may fail when the adapter vanished; the result stands either way.
        let _ = self.adapter.stop_scan().await;
        match found {
            Ok(Some(peripheral)) => Ok(peripheral),
            Ok(None) | Err(_) => Err(TransportError::OutOfRange { lock_id }),
        }
    }

    /// The lock id a peripheral advertises in its Keyway service data, if any.
    async fn advertised_lock(&self, peripheral: &Peripheral) -> Option<u32> {
        let properties = peripheral.properties().await.ok()??;
        let data = properties.service_data.get(&self.uuids.service)?;
        lock_id_from_service_data(data)
    }

    /// Connects, resolves services, subscribes, and starts the notification pump.
    async fn open(
        &self,
        peripheral: &Peripheral,
        lock_id: u32,
    ) -> Result<(Link, u32), TransportError> {
        let connected = peripheral.is_connected().await.unwrap_or(false);
        if !connected {
            match tokio::time::timeout(CONNECT_TIMEOUT, peripheral.connect()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return Err(TransportError::OutOfRange { lock_id }),
            }
        }
        tokio::time::timeout(CONNECT_TIMEOUT, peripheral.discover_services())
            .await
            .map_err(|_| lost("service discovery timed out"))?
            .map_err(|e| lost(format!("service discovery failed: {e}")))?;
        let characteristics = peripheral.characteristics();
        let find = |uuid: Uuid, what: &str| {
            characteristics
                .iter()
                .find(|c| c.service_uuid == self.uuids.service && c.uuid == uuid)
                .cloned()
                .ok_or_else(|| {
                    lost(format!(
                        "lock {lock_id} has no Keyway {what} characteristic"
                    ))
                })
        };
        let write = find(self.uuids.write, "write")?;
        let notify = find(self.uuids.notify, "notify")?;

        // Listen before subscribing: the lock sends its challenge as soon as we subscribe.
        let values = peripheral
            .notifications()
            .await
            .map_err(|e| lost(format!("cannot listen for notifications: {e}")))?;
        let events = self
            .adapter
            .events()
            .await
            .map_err(|e| lost(format!("cannot watch the adapter: {e}")))?;
        let (sender, notifications) = mpsc::unbounded_channel();
        let (dropped_sender, dropped) = watch::channel(false);
        let pump = tokio::spawn(pump(
            values,
            events,
            peripheral.id(),
            self.uuids.notify,
            sender,
            dropped_sender,
        ));
        if let Err(e) = peripheral.subscribe(&notify).await {
            pump.abort();
            return Err(lost(format!("cannot subscribe to notifications: {e}")));
        }
        let min_mtu = u16::try_from(MIN_ATT_MTU).unwrap_or(u16::MAX);
        let mtu = u32::from(peripheral.mtu().clamp(min_mtu, MAX_ATT_MTU));
        let link = Link {
            peripheral: peripheral.clone(),
            write,
            notifications,
            dropped,
            pump,
        };
        Ok((link, mtu))
    }
}

/// Forwards the notify characteristic's values into `sender` until the device disconnects
/// (then sends one [`TransportError::LinkLost`] and sets `dropped`) or the receiver is gone.
async fn pump(
    mut values: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = btleplug::api::ValueNotification> + Send>,
    >,
    mut events: std::pin::Pin<Box<dyn futures_util::Stream<Item = CentralEvent> + Send>>,
    device: btleplug::platform::PeripheralId,
    notify: Uuid,
    sender: mpsc::UnboundedSender<Result<Vec<u8>, TransportError>>,
    dropped: watch::Sender<bool>,
) {
    let failure = loop {
        tokio::select! {
            // Deliver what arrived before a disconnection first.
            biased;
            value = values.next() => match value {
                Some(value) if value.uuid == notify => {
                    if sender.send(Ok(value.value)).is_err() {
                        return;
                    }
                }
                Some(_) => {}
                None => break "the notification stream ended",
            },
            event = events.next() => match event {
                Some(CentralEvent::DeviceDisconnected(id)) if id == device => {
                    let _ = dropped.send(true);
                    break "the lock dropped the connection";
                }
                Some(_) => {}
                None => break "the adapter event stream ended",
            },
        }
    };
    let _ = sender.send(Err(lost(failure)));
}

fn lost(detail: impl Into<String>) -> TransportError {
    TransportError::LinkLost {
        detail: detail.into(),
    }
}

#[async_trait]
impl BleTransport for BtleplugTransport {
    async fn connect(&self, lock_id: u32) -> Result<u32, TransportError> {
        self.disconnect().await;
        let peripheral = self.find(lock_id).await?;
        match self.open(&peripheral, lock_id).await {
            Ok((link, mtu)) => {
                *self.link.lock().await = Some(link);
                Ok(mtu)
            }
            Err(error) => {
                let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, peripheral.disconnect()).await;
                Err(error)
            }
        }
    }

    async fn write(&self, fragment: Vec<u8>) -> Result<(), TransportError> {
        let guard = self.link.lock().await;
        let link = guard.as_ref().ok_or_else(|| lost("not connected"))?;
        let written = link
            .peripheral
            .write(&link.write, &fragment, WriteType::WithoutResponse)
            .await;
        let Err(error) = written else {
            return Ok(());
        };
        // A write usually fails because the link dropped (BlueZ then answers "Not connected",
        // or no longer has the characteristic): say so when BlueZ confirms it.
        let error = error.to_string();
        let mut dropped = link.dropped.clone();
        let reported = tokio::time::timeout(DROP_GRACE, dropped.wait_for(|dropped| *dropped))
            .await
            .is_ok_and(|seen| seen.is_ok());
        if reported || !link.peripheral.is_connected().await.unwrap_or(false) {
            Err(lost(format!(
                "the lock dropped the connection (write failed: {})",
                error.trim()
            )))
        } else {
            Err(lost(format!("write failed: {}", error.trim())))
        }
    }

    async fn receive(&self, timeout_ms: u32) -> Result<Vec<u8>, TransportError> {
        let mut guard = self.link.lock().await;
        let link = guard.as_mut().ok_or_else(|| lost("not connected"))?;
        let wait = Duration::from_millis(u64::from(timeout_ms));
        match tokio::time::timeout(wait, link.notifications.recv()).await {
            Ok(Some(result)) => result,
            Ok(None) => Err(lost("the notification stream ended")),
            Err(_) => Err(TransportError::Timeout { timeout_ms }),
        }
    }

    async fn signal_dbm(&self) -> Option<i16> {
        let peripheral = self.link.lock().await.as_ref()?.peripheral.clone();
        peripheral.properties().await.ok()??.rssi
    }

    async fn disconnect(&self) {
        let closed = self.link.lock().await.take();
        if let Some(link) = closed {
            link.pump.abort();
            // A dead link is already closed: errors here change nothing.
            let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, link.peripheral.disconnect()).await;
        }
    }
}
