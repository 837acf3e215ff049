//! One IQ's WebSocket: the login, then messages both ways until either side goes away.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use keyway_protocol::iq::auth::{new_nonce, verify_auth};
use keyway_protocol::iq::{CloudToIq, HexBytes, IqToCloud};
use keyway_protocol::{PublicKey, SignedEvent};
use ring::rand::SystemRandom;
use rusqlite::OptionalExtension;

use super::config::iq_config;
use crate::api::events::store_records;
use crate::error::ApiError;
use crate::AppState;

/// How long an IQ has to answer the login nonce.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The IQ's WebSocket. The cloud sends `hello` with a nonce; the IQ answers `auth` with its
/// id and its key's signature; then `welcome`, `config`, and commands flow.
#[utoipa::path(
    get,
    path = "/iq/v1/connect",
    tag = "iq",
    responses(
        (status = 101, description = "WebSocket upgrade: the IQ protocol (JSON text frames)"),
        (status = 400, description = "Not a WebSocket request"),
    )
)]
pub(super) async fn connect(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| async move {
        if let Err(error) = serve(state, socket).await {
            tracing::info!(%error, "IQ connection ended");
        }
    })
}

fn text(message: &CloudToIq) -> Result<Message, ApiError> {
    serde_json::to_string(message)
        .map(|json| Message::Text(json.into()))
        .map_err(|error| ApiError::Internal(format!("encoding an IQ message: {error}")))
}

async fn send(socket: &mut WebSocket, message: &CloudToIq) -> Result<(), ApiError> {
    socket
        .send(text(message)?)
        .await
        .map_err(|error| ApiError::Internal(format!("IQ socket: {error}")))
}

/// The next IQ message, `None` when the socket closed.
async fn receive(socket: &mut WebSocket) -> Result<Option<IqToCloud>, ApiError> {
    loop {
        match socket.recv().await {
            None | Some(Ok(Message::Close(_))) => return Ok(None),
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .map(Some)
                    .map_err(|error| {
                        ApiError::InvalidInput(format!("unreadable IQ message: {error}"))
                    })
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(ApiError::Internal(format!("IQ socket: {error}"))),
        }
    }
}

/// Checks the IQ's answer to the nonce; returns its id and site.
async fn login(state: &AppState, socket: &mut WebSocket) -> Result<(u32, u32), ApiError> {
    let nonce = new_nonce(&SystemRandom::new())
        .map_err(|_| ApiError::Internal("random generator failed".into()))?;
    send(
        socket,
        &CloudToIq::Hello {
            nonce: HexBytes(nonce.to_vec()),
        },
    )
    .await?;
    let answer = tokio::time::timeout(LOGIN_TIMEOUT, receive(socket))
        .await
        .map_err(|_| ApiError::Unauthorized("the IQ did not log in in time".into()))??;
    let Some(IqToCloud::Auth {
        iq_id,
        signature,
        firmware,
    }) = answer
    else {
        return Err(ApiError::Unauthorized("the IQ did not log in".into()));
    };
    let registered: Option<(u32, Vec<u8>)> = state
        .store
        .run(move |db| {
            db.query_row(
                "SELECT site_id, public_key FROM iqs WHERE id = ?1",
                [iq_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(ApiError::from)
        })
        .await?;
    let verified = registered.filter(|(_, key)| {
        PublicKey::from_bytes(key)
            .is_ok_and(|key| verify_auth(&key, iq_id, &nonce, signature.as_slice()))
    });
    match verified {
        Some((site_id, _)) => {
            // Kept as the IQ says it, short and printable: only compared, never trusted more.
            let firmware = firmware
                .filter(|text| text.len() <= 32 && text.bytes().all(|b| b.is_ascii_graphic()));
            state
                .store
                .run(move |db| {
                    db.execute(
                        "UPDATE iqs SET firmware = ?1 WHERE id = ?2",
                        rusqlite::params![firmware, iq_id],
                    )?;
                    Ok::<_, ApiError>(())
                })
                .await?;
            Ok((iq_id, site_id))
        }
        None => Err(ApiError::Unauthorized(format!(
            "IQ {iq_id} is unknown or did not sign with its registered key"
        ))),
    }
}

async fn serve(state: AppState, mut socket: WebSocket) -> Result<(), ApiError> {
    let (iq_id, site_id) = match login(&state, &mut socket).await {
        Ok(identity) => identity,
        Err(error) => {
            let _ = socket.send(Message::Close(None)).await;
            return Err(error);
        }
    };
    let mut closing = state.iqs.closing();
    let mut registration = state.iqs.register(iq_id, site_id);
    tracing::info!(iq_id, site_id, "IQ connected");
    let ended = session(
        &state,
        &mut socket,
        iq_id,
        site_id,
        &mut registration,
        &mut closing,
    )
    .await;
    state.iqs.unregister(iq_id, registration.connection);
    let _ = socket.send(Message::Close(None)).await;
    tracing::info!(iq_id, "IQ disconnected");
    ended
}

async fn session(
    state: &AppState,
    socket: &mut WebSocket,
    iq_id: u32,
    site_id: u32,
    registration: &mut super::registry::Registration,
    closing: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let config = state
        .store
        .transaction(move |tx| iq_config(tx, iq_id, now))
        .await?;
    send(
        socket,
        &CloudToIq::Welcome {
            site_id,
            lock_ids: config.lock_ids.clone(),
            server_time: now,
        },
    )
    .await?;
    send(socket, &CloudToIq::Config(config)).await?;
    loop {
        tokio::select! {
            _ = closing.changed() => return Ok(()),
            outgoing = registration.outbox.recv() => match outgoing {
                Some(message) => send(socket, &message).await?,
                None => return Ok(()),
            },
            incoming = receive(socket) => match incoming? {
                None => return Ok(()),
                Some(IqToCloud::Result(result)) => state.iqs.complete(iq_id, result),
                Some(IqToCloud::Events { batch, records }) => {
                    store_relayed(state, records).await?;
                    send(socket, &CloudToIq::EventsAck { batch }).await?;
                }
                Some(IqToCloud::Auth { .. }) => {
                    return Err(ApiError::InvalidInput("the IQ logged in twice".into()))
                }
            },
        }
    }
}

/// Stores the records an IQ carried like uploaded ones (verified, chained, once). Records
/// that do not parse or verify are dropped with a log line: acknowledging them is right,
/// since sending them again would not make them valid.
async fn store_relayed(state: &AppState, records: Vec<HexBytes>) -> Result<(), ApiError> {
    let mut decoded = Vec::with_capacity(records.len());
    let mut refused = Vec::new();
    for (index, bytes) in records.iter().enumerate() {
        match SignedEvent::decode(bytes.as_slice()) {
            Ok(record) => decoded.push((index, record)),
            Err(error) => refused.push(crate::api::events::malformed(index, &error)),
        }
    }
    let response = store_records(state, decoded, refused).await?;
    if !response.rejected.is_empty() {
        tracing::warn!(rejected = ?response.rejected, "an IQ relayed records the cloud refused");
    }
    Ok(())
}
