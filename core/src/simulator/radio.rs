//! A simulated BLE radio: the phone-side [`BleTransport`] over in-process simulated locks.
//! It also keeps what the last session wrote, as an eavesdropper would, so the demo and the
//! tests can replay a captured request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use keyway_sim::{LinkSession, SimulatedLink};

use crate::runtime::blocking_task;
use crate::unlock::{BleTransport, TransportError};

/// The phone's radio in a world of simulated locks.
pub struct SimulatedRadio {
    links: HashMap<u32, SimulatedLink>,
    session: Arc<Mutex<Option<Session>>>,
    captured: Mutex<Vec<Vec<u8>>>,
}

struct Session {
    link: LinkSession,
    pending: std::collections::VecDeque<Vec<u8>>,
    written: Vec<Vec<u8>>,
}

impl SimulatedRadio {
    /// A radio that can reach these locks.
    pub fn new(links: HashMap<u32, SimulatedLink>) -> Self {
        Self {
            links,
            session: Arc::new(Mutex::new(None)),
            captured: Mutex::new(Vec::new()),
        }
    }

    /// The fragments the last closed session wrote, as an eavesdropper captured them.
    pub fn captured_writes(&self) -> Vec<Vec<u8>> {
        self.captured.lock().map(|c| c.clone()).unwrap_or_default()
    }

    async fn with_session<T: Send + 'static>(
        &self,
        action: impl FnOnce(&mut Session) -> Result<T, TransportError> + Send + 'static,
    ) -> Result<T, TransportError> {
        let session = Arc::clone(&self.session);
        blocking_task(move || {
            let mut guard = session.lock().map_err(|_| lost("radio state poisoned"))?;
            let session = guard.as_mut().ok_or_else(|| lost("not connected"))?;
            action(session)
        })
        .await
        .ok_or_else(|| lost("radio task failed"))?
    }
}

fn lost(detail: &str) -> TransportError {
    TransportError::LinkLost {
        detail: detail.to_string(),
    }
}

#[async_trait]
impl BleTransport for SimulatedRadio {
    async fn connect(&self, lock_id: u32) -> Result<u32, TransportError> {
        let link = self
            .links
            .get(&lock_id)
            .ok_or(TransportError::OutOfRange { lock_id })?
            .clone();
        let link_session = blocking_task(move || link.connect())
            .await
            .ok_or_else(|| lost("radio task failed"))?
            .map_err(|error| lost(&error.to_string()))?;
        let mtu = u32::try_from(link_session.mtu()).map_err(|_| lost("MTU out of range"))?;
        let mut guard = self
            .session
            .lock()
            .map_err(|_| lost("radio state poisoned"))?;
        *guard = Some(Session {
            link: link_session,
            pending: Default::default(),
            written: Vec::new(),
        });
        Ok(mtu)
    }

    async fn write(&self, fragment: Vec<u8>) -> Result<(), TransportError> {
        self.with_session(move |session| {
            session
                .link
                .write(&fragment)
                .map_err(|error| lost(&error.to_string()))?;
            session.written.push(fragment);
            Ok(())
        })
        .await
    }

    async fn receive(&self, timeout_ms: u32) -> Result<Vec<u8>, TransportError> {
        self.with_session(move |session| {
            if session.pending.is_empty() {
                session.pending.extend(session.link.notifications());
            }
            session
                .pending
                .pop_front()
                .ok_or(TransportError::Timeout { timeout_ms })
        })
        .await
    }

    async fn signal_dbm(&self) -> Option<i16> {
        let guard = self.session.lock().ok()?;
        guard
            .as_ref()
            .map(|session| i16::from(session.link.rssi_dbm()))
    }

    async fn disconnect(&self) {
        let closed = self.session.lock().ok().and_then(|mut guard| guard.take());
        if let Some(session) = closed {
            if let Ok(mut captured) = self.captured.lock() {
                *captured = session.written;
            }
            session.link.disconnect();
        }
    }
}
