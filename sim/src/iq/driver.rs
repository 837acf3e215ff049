//! The simulated IQ's WebSocket to the cloud: connect, run the [`IqHub`] on every message,
//! send the lock events it collects, and reconnect with exponential backoff when the cloud
//! goes away. Records wait in the hub until the cloud acknowledged them, so an outage loses
//! none.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use keyway_protocol::iq::{CloudToIq, IqToCloud};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::hub::IqHub;
use super::radio::LockSet;
use crate::{LockClock, SimError};

/// The path of the cloud's IQ endpoint.
pub const IQ_PATH: &str = "/iq/v1/connect";

/// Where and how the IQ connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IqConnection {
    /// `ws://host:port/iq/v1/connect` (plain WebSocket: the simulator runs on loopback).
    pub url: String,
    /// Wait after the first failed attempt; doubles on each further failure.
    pub min_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// How often the IQ collects its locks' new events.
    pub event_poll: Duration,
}

impl IqConnection {
    /// The IQ endpoint of a cloud at `http://host:port`, with 50 ms to 2 s backoff and a
    /// 100 ms event poll.
    pub fn to_cloud(base_url: &str) -> Self {
        let host = base_url
            .trim_end_matches('/')
            .trim_start_matches("http://")
            .trim_start_matches("https://");
        Self {
            url: format!("ws://{host}{IQ_PATH}"),
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            event_poll: Duration::from_millis(100),
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        self.min_backoff
            .saturating_mul(2u32.saturating_pow(failures.min(16)))
            .min(self.max_backoff)
    }
}

struct Shared {
    hub: Mutex<IqHub>,
    locks: LockSet,
    clock: LockClock,
    connected: AtomicBool,
    sessions: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn hub<T>(&self, work: impl FnOnce(&mut IqHub) -> Result<T, SimError>) -> Result<T, SimError> {
        let mut hub = self.hub.lock().map_err(|_| SimError::Poisoned)?;
        work(&mut hub)
    }
}

/// A running simulated IQ: a task holding its WebSocket to the cloud. Dropping it stops it.
pub struct SimulatedIq {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SimulatedIq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedIq")
            .field("locks", &self.shared.locks.keys().collect::<Vec<_>>())
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl SimulatedIq {
    /// Starts the IQ's connection task on the current tokio runtime.
    pub fn start(hub: IqHub, locks: LockSet, connection: IqConnection) -> Self {
        let shared = Arc::new(Shared {
            hub: Mutex::new(hub),
            locks,
            clock: LockClock::system(),
            connected: AtomicBool::new(false),
            sessions: AtomicU64::new(0),
            last_error: Mutex::new(None),
        });
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(run(Arc::clone(&shared), connection, receiver));
        Self {
            shared,
            shutdown,
            task: Mutex::new(Some(task)),
        }
    }

    /// Whether the IQ is connected and authenticated now.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    /// Authenticated sessions so far (a reconnection makes one more).
    pub fn sessions(&self) -> u64 {
        self.shared.sessions.load(Ordering::SeqCst)
    }

    /// Event records the cloud has not acknowledged yet.
    pub fn pending_events(&self) -> usize {
        self.shared.hub(|hub| Ok(hub.pending_events())).unwrap_or(0)
    }

    /// The locks the cloud says are attached to the IQ, from its newest configuration.
    pub fn assigned_lock_ids(&self) -> Vec<u32> {
        self.shared
            .hub(|hub| Ok(hub.lock_ids().to_vec()))
            .unwrap_or_default()
    }

    /// The serial of the configuration in force (0 before the first).
    pub fn config_serial(&self) -> u64 {
        self.shared.hub(|hub| Ok(hub.config_serial())).unwrap_or(0)
    }

    /// Why the last connection attempt or session ended, if one did.
    pub fn last_error(&self) -> Option<String> {
        self.shared
            .last_error
            .lock()
            .ok()
            .and_then(|error| error.clone())
    }

    /// The locks the IQ reaches.
    pub fn locks(&self) -> &LockSet {
        &self.shared.locks
    }

    /// Waits until the IQ is authenticated with at least `sessions` sessions so far, for at
    /// most `timeout`; whether it got there.
    pub async fn wait_for_session(&self, sessions: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !(self.is_connected() && self.sessions() >= sessions) {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Waits until every collected record was acknowledged, for at most `timeout`.
    pub async fn wait_for_upload(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let collected = self
                .shared
                .hub(|hub| hub.collect(&self.shared.locks))
                .unwrap_or(0);
            if collected == 0 && self.pending_events() == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Closes the connection and stops the task.
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        let task = self.task.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Drop for SimulatedIq {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn run(shared: Arc<Shared>, connection: IqConnection, mut shutdown: watch::Receiver<bool>) {
    let mut failures = 0u32;
    while !*shutdown.borrow() {
        let ended = match tokio_tungstenite::connect_async(connection.url.as_str()).await {
            Ok((socket, _)) => {
                let ended = session(&shared, socket, &mut shutdown, connection.event_poll).await;
                shared.connected.store(false, Ordering::SeqCst);
                let _ = shared.hub(|hub| {
                    hub.on_disconnect();
                    Ok(())
                });
                if shared.sessions.load(Ordering::SeqCst) > 0 {
                    failures = 0;
                }
                ended
            }
            Err(error) => Err(format!("cannot connect: {error}")),
        };
        if let Err(error) = ended {
            if let Ok(mut last) = shared.last_error.lock() {
                *last = Some(error);
            }
        }
        let wait = connection.backoff(failures);
        failures = failures.saturating_add(1);
        offline(&shared, wait, connection.event_poll, &mut shutdown).await;
    }
}

/// Waits `wait` before the next attempt, collecting the locks' events meanwhile: a real IQ
/// keeps hearing its locks while the cloud is unreachable.
async fn offline(
    shared: &Arc<Shared>,
    wait: Duration,
    poll: Duration,
    shutdown: &mut watch::Receiver<bool>,
) {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        let next = (tokio::time::Instant::now() + poll).min(deadline);
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = shutdown.changed() => return,
        }
        let _ = on_blocking(shared, |shared| {
            shared.hub(|hub| {
                hub.heartbeat(&shared.locks, false)?;
                hub.collect(&shared.locks)
            })
        })
        .await;
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn session(
    shared: &Arc<Shared>,
    socket: Socket,
    shutdown: &mut watch::Receiver<bool>,
    poll: Duration,
) -> Result<(), String> {
    let (mut sink, mut stream) = socket.split();
    let mut tick = tokio::time::interval(poll);
    let mut welcomed = false;
    loop {
        let outgoing = tokio::select! {
            _ = shutdown.changed() => {
                let _ = sink.close().await;
                return Ok(());
            }
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => return Err("the cloud closed the connection".into()),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Err(format!("connection lost: {error}")),
                };
                let message: CloudToIq = serde_json::from_str(text.as_str())
                    .map_err(|error| format!("unreadable message from the cloud: {error}"))?;
                let welcome = matches!(message, CloudToIq::Welcome { .. });
                let mut replies = on_blocking(shared, move |shared| {
                    let now = shared.clock.now();
                    shared.hub(|hub| hub.handle(message, now, &shared.locks))
                })
                .await?;
                if welcome {
                    welcomed = true;
                    shared.sessions.fetch_add(1, Ordering::SeqCst);
                    shared.connected.store(true, Ordering::SeqCst);
                }
                if welcomed {
                    replies.extend(collect_events(shared).await?);
                }
                replies
            }
            _ = tick.tick(), if welcomed => collect_events(shared).await?,
        };
        for message in outgoing {
            let text = serde_json::to_string(&message).map_err(|error| error.to_string())?;
            sink.send(Message::text(text))
                .await
                .map_err(|error| format!("connection lost: {error}"))?;
        }
    }
}

/// New lock records, batched for sending.
async fn collect_events(shared: &Arc<Shared>) -> Result<Vec<IqToCloud>, String> {
    on_blocking(shared, |shared| {
        shared.hub(|hub| {
            hub.heartbeat(&shared.locks, true)?;
            hub.collect(&shared.locks)?;
            Ok(std::iter::from_fn(|| hub.next_events()).collect())
        })
    })
    .await
}

/// Runs hub work off the async threads: locks may be busy with a BLE phone or their motor.
async fn on_blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    work: impl FnOnce(&Shared) -> Result<T, SimError> + Send + 'static,
) -> Result<T, String> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || work(&shared))
        .await
        .map_err(|error| format!("IQ task failed: {error}"))?
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_urls_follow_the_cloud() {
        let connection = IqConnection::to_cloud("http://127.0.0.1:4000/");
        assert_eq!(connection.url, "ws://127.0.0.1:4000/iq/v1/connect");
        let waits: Vec<u64> = (0..8)
            .map(|failures| u64::try_from(connection.backoff(failures).as_millis()).unwrap())
            .collect();
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(connection.backoff(u32::MAX), Duration::from_secs(2));
    }
}
