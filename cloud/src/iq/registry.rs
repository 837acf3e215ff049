//! The connected IQs and the commands in flight to them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use keyway_protocol::iq::messages::{RelayCommand, RelayResult};
use keyway_protocol::iq::CloudToIq;
use tokio::sync::{mpsc, oneshot, watch};

/// How long the cloud waits for an IQ's answer to a command.
pub const RELAY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a command did not come back from the IQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// The IQ is not connected (or dropped while the command was out): nothing was queued.
    #[error("the IQ is offline")]
    Offline,
    /// The IQ did not answer within [`RELAY_TIMEOUT`].
    #[error("the IQ did not answer in time")]
    Timeout,
}

struct Link {
    connection: u64,
    site_id: u32,
    outbox: mpsc::UnboundedSender<CloudToIq>,
}

struct Pending {
    iq_id: u32,
    answer: oneshot::Sender<RelayResult>,
}

/// Every connected IQ, by id. One connection per IQ: a new login replaces the old one.
pub struct IqRegistry {
    links: Mutex<HashMap<u32, Link>>,
    pending: Mutex<HashMap<u64, Pending>>,
    connections: AtomicU64,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for IqRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let online = self.links.lock().map(|links| links.len()).unwrap_or(0);
        f.debug_struct("IqRegistry")
            .field("online", &online)
            .finish_non_exhaustive()
    }
}

impl Default for IqRegistry {
    fn default() -> Self {
        Self {
            links: Mutex::default(),
            pending: Mutex::default(),
            connections: AtomicU64::new(0),
            closing: watch::channel(false).0,
        }
    }
}

/// A registered connection: its number and the messages to write to its socket.
pub(crate) struct Registration {
    pub(crate) connection: u64,
    pub(crate) outbox: mpsc::UnboundedReceiver<CloudToIq>,
}

impl IqRegistry {
    /// Records an authenticated IQ connection (replacing an older one of the same IQ, whose
    /// socket then closes).
    pub(crate) fn register(&self, iq_id: u32, site_id: u32) -> Registration {
        let connection = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        let (sender, outbox) = mpsc::unbounded_channel();
        if let Ok(mut links) = self.links.lock() {
            links.insert(
                iq_id,
                Link {
                    connection,
                    site_id,
                    outbox: sender,
                },
            );
        }
        Registration { connection, outbox }
    }

    /// Forgets a connection that ended; commands waiting on it fail as `Offline`.
    pub(crate) fn unregister(&self, iq_id: u32, connection: u64) {
        let removed = self.links.lock().is_ok_and(|mut links| {
            let current = links
                .get(&iq_id)
                .is_some_and(|l| l.connection == connection);
            if current {
                links.remove(&iq_id);
            }
            current
        });
        if removed {
            if let Ok(mut pending) = self.pending.lock() {
                pending.retain(|_, waiting| waiting.iq_id != iq_id);
            }
        }
    }

    /// Whether an IQ is connected now.
    pub fn is_online(&self, iq_id: u32) -> bool {
        self.links
            .lock()
            .is_ok_and(|links| links.contains_key(&iq_id))
    }

    /// The connected IQs of a site.
    pub fn online_of_site(&self, site_id: u32) -> Vec<u32> {
        self.links
            .lock()
            .map(|links| {
                links
                    .iter()
                    .filter(|(_, link)| link.site_id == site_id)
                    .map(|(iq_id, _)| *iq_id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends a message to a connected IQ; whether it was connected.
    pub fn push(&self, iq_id: u32, message: CloudToIq) -> bool {
        self.links.lock().is_ok_and(|links| {
            links
                .get(&iq_id)
                .is_some_and(|link| link.outbox.send(message).is_ok())
        })
    }

    /// Sends a command and waits for the IQ's answer. Fails at once when the IQ is not
    /// connected: the command is never queued for later.
    pub async fn relay(
        &self,
        iq_id: u32,
        command: RelayCommand,
    ) -> Result<RelayResult, RelayError> {
        let request_id = command.request_id;
        let (answer, receiver) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(request_id, Pending { iq_id, answer });
        }
        if !self.push(iq_id, CloudToIq::Command(command)) {
            self.forget(request_id);
            return Err(RelayError::Offline);
        }
        match tokio::time::timeout(RELAY_TIMEOUT, receiver).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(_)) => Err(RelayError::Offline),
            Err(_) => {
                self.forget(request_id);
                Err(RelayError::Timeout)
            }
        }
    }

    fn forget(&self, request_id: u64) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&request_id);
        }
    }

    /// An IQ answered a command (an answer from another IQ than the one asked is dropped).
    pub(crate) fn complete(&self, iq_id: u32, result: RelayResult) {
        let waiting = self.pending.lock().ok().and_then(|mut pending| {
            match pending.get(&result.request_id) {
                Some(waiting) if waiting.iq_id == iq_id => pending.remove(&result.request_id),
                _ => None,
            }
        });
        if let Some(waiting) = waiting {
            let _ = waiting.answer.send(result);
        }
    }

    /// Closes every IQ socket (the server is shutting down; IQs reconnect to the next one).
    pub fn close_all(&self) {
        let _ = self.closing.send(true);
    }

    /// Resolves when the server shuts down.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_protocol::iq::messages::RelayOutcome;
    use keyway_protocol::iq::HexBytes;

    fn command(request_id: u64) -> RelayCommand {
        RelayCommand {
            request_id,
            lock_id: 1,
            grant: HexBytes(vec![1]),
            code: None,
        }
    }

    #[tokio::test]
    async fn an_offline_iq_fails_at_once_and_nothing_waits() {
        let registry = IqRegistry::default();
        assert_eq!(
            registry.relay(7, command(1)).await,
            Err(RelayError::Offline)
        );
        assert!(registry.pending.lock().unwrap().is_empty());
        let mut registration = registry.register(7, 1);
        assert!(registry.is_online(7));
        assert_eq!(registry.online_of_site(1), vec![7]);
        registry.unregister(7, registration.connection);
        assert!(!registry.is_online(7));
        assert!(registration.outbox.recv().await.is_none(), "socket closes");
    }

    #[tokio::test]
    async fn answers_reach_the_waiting_request_and_a_drop_fails_it() {
        let registry = std::sync::Arc::new(IqRegistry::default());
        let mut registration = registry.register(7, 1);
        let waiting = tokio::spawn({
            let registry = std::sync::Arc::clone(&registry);
            async move { registry.relay(7, command(5)).await }
        });
        let Some(CloudToIq::Command(sent)) = registration.outbox.recv().await else {
            panic!("the command reaches the socket")
        };
        let result = RelayResult {
            request_id: sent.request_id,
            outcome: RelayOutcome::Granted,
            event: None,
            iq_micros: 1,
            lock_micros: 1,
        };
        registry.complete(8, result.clone());
        registry.complete(7, result.clone());
        assert_eq!(waiting.await.unwrap(), Ok(result));

        let waiting = tokio::spawn({
            let registry = std::sync::Arc::clone(&registry);
            async move { registry.relay(7, command(6)).await }
        });
        registration.outbox.recv().await.unwrap();
        registry.unregister(7, registration.connection);
        assert_eq!(waiting.await.unwrap(), Err(RelayError::Offline));
    }
}
