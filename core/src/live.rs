//! Live changes: while the app is in the foreground the core holds the live channel open
//! (`GET /api/v1/live`, server-sent events, see `keyway_api::live`), syncs what a notice says
//! changed, and tells the app's [`ChangeObserver`] so its screen refreshes within a second of
//! an administrator's change.
//!
//! - The app calls [`LiveClient::start`] when it comes to the foreground and
//!   [`LiveClient::stop`] when it leaves it (dropping the client stops it too).
//! - Keys (`keys_changed`, `denylist_changed`, `resync`): the core syncs the wallet, then calls
//!   [`ChangeObserver::keys_changed`]. Pods and remote rights: the core keeps no copy of
//!   them, so it calls [`ChangeObserver::pods_changed`] or
//!   [`ChangeObserver::remote_locks_changed`] and the app reloads that screen.
//! - After every (re)connect the core syncs once and calls every observer method, so nothing
//!   changed while the phone was away is missed. Notices are idempotent.
//! - A dropped connection (the stream ends, a read fails, or no byte, not even a keep-alive
//!   ping, for [`IDLE_TIMEOUT`]) is reopened after an exponential backoff with full jitter
//!   ([`BACKOFF_BASE`] doubling to [`BACKOFF_MAX`]; back to the base once a stream stayed open
//!   [`STABLE_AFTER`]).
//! - When the access token refreshes (before its expiry, or because another call refreshed
//!   it), the open stream is renewed in place with the new token
//!   (`POST /api/v1/live/{stream_id}/renew`); when the session ends (the refresh is refused,
//!   or a logout) the core calls [`ChangeObserver::session_ended`] and the client stops.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use keyway_api::endpoints::{Live, NoBody, RenewLive};
use keyway_api::live::{LiveNotice, SseDecoder};
use tokio::task::JoinHandle;

use crate::client::Context;
use crate::http::{CallFailure, EventStreamBody};
use crate::runtime::{blocking, spawn_task};
use crate::wallet::sync_wallet;
use crate::KeywayError;

/// A stream that carried no byte for this long is taken for dead: the cloud sends a
/// keep-alive ping every 15 s, so three were missed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(45);
/// The first reconnect waits up to this long (full jitter: a random time up to the bound).
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// The bound doubles with each failed attempt up to this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A stream that stayed open this long was a success: the backoff starts again from
/// [`BACKOFF_BASE`]. One that ends sooner after its `hello` (a cloud that accepts and drops)
/// counts as a failed attempt, so a flapping cloud is not hammered.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);

/// What the app implements to hear of changes while the live channel is open. Called on the
/// core's blocking pool, one call at a time; each should only schedule the screen's refresh
/// (on the UI thread) and return.
#[uniffi::export(with_foreign)]
pub trait ChangeObserver: Send + Sync {
    /// The wallet changed and the core already synced it: reload the keys
    /// (`wallet().keys()`).
    fn keys_changed(&self);
    /// The person's pods changed (membership, guests, locks): reload the pod screens.
    fn pods_changed(&self);
    /// What the person may open remotely changed: reload `remote().locks()`.
    fn remote_locks_changed(&self);
    /// The session ended (the token refresh was refused): ask the person to log in again.
    /// The live client has stopped.
    fn session_ended(&self);
}

/// The live channel of this app: start it in the foreground, stop it in the background.
#[derive(uniffi::Object)]
pub struct LiveClient {
    context: Arc<Context>,
    task: Mutex<Option<JoinHandle<()>>>,
    idle_timeout: Mutex<Duration>,
}

impl std::fmt::Debug for LiveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveClient")
            .field("running", &self.is_running())
            .finish()
    }
}

impl LiveClient {
    pub(crate) fn new(context: Arc<Context>) -> Self {
        Self {
            context,
            task: Mutex::new(None),
            idle_timeout: Mutex::new(IDLE_TIMEOUT),
        }
    }

    /// Sets how long a silent stream is trusted before it is taken for dead ([`IDLE_TIMEOUT`]
    /// unless set; tests and tools). The next [`LiveClient::start`] uses it.
    pub fn set_idle_timeout(&self, timeout: Duration) {
        *self
            .idle_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = timeout;
    }

    fn task(&self) -> std::sync::MutexGuard<'_, Option<JoinHandle<()>>> {
        self.task.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[uniffi::export]
impl LiveClient {
    /// Opens the live channel in the background and keeps it open (reconnecting as needed)
    /// until [`LiveClient::stop`], telling `observer` of every change. Returns at once (safe
    /// on the UI thread). Starting a running client restarts it with the new observer. The
    /// channel closes with [`ChangeObserver::session_ended`] when the session ends: a refresh
    /// refused, a logout, or a start while logged out.
    pub fn start(&self, observer: Arc<dyn ChangeObserver>) -> Result<(), KeywayError> {
        let mut task = self.task();
        if let Some(old) = task.take() {
            old.abort();
        }
        let idle_timeout = *self
            .idle_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *task = Some(spawn_task(run(
            Arc::clone(&self.context),
            observer,
            idle_timeout,
        ))?);
        tracing::info!("live channel started");
        Ok(())
    }

    /// Closes the live channel (the app went to the background). Nothing is called on the
    /// observer afterwards, except a call already under way.
    pub fn stop(&self) {
        if let Some(task) = self.task().take() {
            task.abort();
            tracing::info!("live channel stopped");
        }
    }

    /// Whether the channel is running (started, and neither stopped nor ended with the
    /// session).
    pub fn is_running(&self) -> bool {
        self.task().as_ref().is_some_and(|task| !task.is_finished())
    }
}

impl Drop for LiveClient {
    fn drop(&mut self) {
        if let Some(task) = self.task().take() {
            task.abort();
        }
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The session is over: stop.
    SessionEnded,
    /// Anything else: reconnect after the backoff.
    Dropped(&'static str),
}

impl Ended {
    /// What an error of a call on the channel's behalf means for the channel.
    fn by(error: &KeywayError, what: &'static str) -> Self {
        match error {
            KeywayError::ReLogin { .. } => Self::SessionEnded,
            _ => Self::Dropped(what),
        }
    }
}

/// The channel's task: connections one after the other until the session ends.
async fn run(context: Arc<Context>, observer: Arc<dyn ChangeObserver>, idle_timeout: Duration) {
    let mut backoff = Backoff::new(BACKOFF_BASE, BACKOFF_MAX);
    loop {
        let mut opened_at = None;
        let ended = connection(&context, &observer, &mut opened_at, idle_timeout).await;
        if opened_at.is_some_and(|at: Instant| at.elapsed() >= STABLE_AFTER) {
            backoff.reset();
        }
        match ended {
            Ended::SessionEnded => {
                tracing::info!("live channel closed: the session ended");
                notify(&observer, Change::SessionEnded).await;
                return;
            }
            Ended::Dropped(why) => {
                let delay = backoff.next_delay();
                let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                tracing::info!(why, delay_ms, "live channel dropped: reconnecting");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// The work a batch of notices asks for (merged: notices are idempotent).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Work {
    keys: bool,
    pods: bool,
    remote: bool,
}

impl Work {
    const ALL: Self = Self {
        keys: true,
        pods: true,
        remote: true,
    };
}

/// One connection: open it, then read notices, renew the stream when the token refreshes,
/// and sync what changed, until the connection ends. `opened_at` is set when the `hello`
/// arrives.
async fn connection(
    context: &Context,
    observer: &Arc<dyn ChangeObserver>,
    opened_at: &mut Option<Instant>,
    idle_timeout: Duration,
) -> Ended {
    let mut token_changes = context.session.token_changes();
    token_changes.mark_unchanged();
    let (mut body, mut token) = match open(context).await {
        Ok(opened) => opened,
        Err(error) => {
            let variant = error.variant();
            match error.loggable_detail() {
                Some(detail) => tracing::debug!(variant, detail, "live channel not opened"),
                None => tracing::debug!(variant, "live channel not opened"),
            }
            return Ended::by(&error, "the channel could not be opened");
        }
    };
    let mut decoder = SseDecoder::new();
    let mut stream_id = None;
    loop {
        let renew_in = renew_delay(context).await;
        let work = tokio::select! {
            read = tokio::time::timeout(idle_timeout, body.chunk()) => {
                let bytes = match read {
                    Err(_) => return Ended::Dropped("silent for too long (missed pings)"),
                    Ok(Err(_)) => return Ended::Dropped("the stream could not be read"),
                    Ok(Ok(None)) => return Ended::Dropped("the cloud ended the stream"),
                    Ok(Ok(Some(bytes))) => bytes,
                };
                let Ok(notices) = decoder.feed(&bytes) else {
                    return Ended::Dropped("an event too long");
                };
                let mut work = Work::default();
                for notice in notices {
                    tracing::debug!(notice = notice_name(&notice), "live notice");
                    match notice {
                        LiveNotice::Hello { stream_id: id, .. } => {
                            tracing::info!(stream_id = id, "live channel open");
                            stream_id = Some(id);
                            *opened_at = Some(Instant::now());
                            // Whatever changed while the phone was away.
                            work = Work::ALL;
                        }
                        LiveNotice::KeysChanged | LiveNotice::DenylistChanged { .. } => {
                            work.keys = true;
                        }
                        LiveNotice::PodsChanged => work.pods = true,
                        LiveNotice::RemoteRightsChanged => work.remote = true,
                        LiveNotice::Resync => work = Work::ALL,
                        LiveNotice::TokenExpired => {
                            return Ended::Dropped("the stream's token expired");
                        }
                    }
                }
                work
            }
            // The token is about to expire: refresh it now, then renew below.
            () = tokio::time::sleep(renew_in), if stream_id.is_some() => {
                if let Err(error) = context.session.access_token().await {
                    return Ended::by(&error, "the token could not be refreshed");
                }
                Work::default()
            }
            // Another call refreshed the token (renew below) or the person logged out (the
            // renewal finds no token and the channel closes).
            changed = token_changes.changed() => {
                if changed.is_err() {
                    return Ended::SessionEnded;
                }
                Work::default()
            }
        };
        if let Some(stream_id) = stream_id {
            match renew_if_refreshed(context, stream_id, &token).await {
                Ok(Some(new)) => token = new,
                Ok(None) => {}
                Err(ended) => return ended,
            }
        }
        if let Err(ended) = apply(context, observer, work).await {
            return ended;
        }
    }
}

/// Opens the stream with the session's token; on a 401 refreshes it once (the same single
/// flight as every call) and retries. Returns the body and the token it was opened with.
async fn open(context: &Context) -> Result<(EventStreamBody, String), KeywayError> {
    let token = context.session.access_token().await?;
    match context.http.open_stream(&Live {}, &token).await {
        Ok(body) => Ok((body, token)),
        Err(CallFailure::Unauthorized) => {
            tracing::debug!("live channel: access token rejected (401), refreshing once");
            let token = context.session.refreshed_token(&token).await?;
            let body = context.http.open_stream(&Live {}, &token).await?;
            Ok((body, token))
        }
        Err(failure) => Err(failure.into()),
    }
}

/// How long until the session's token goes stale (a call then refreshes it first); a second
/// is added so that the token is stale by then whatever the rounding. An hour when logged out
/// (the stream then ends with its token).
async fn renew_delay(context: &Context) -> Duration {
    match context.session.stale_at().await {
        Some(stale_at) => {
            let seconds = stale_at.saturating_sub(chrono::Utc::now().timestamp());
            Duration::from_secs(u64::try_from(seconds).unwrap_or(0).saturating_add(1))
        }
        None => Duration::from_secs(3_600),
    }
}

/// Renews the stream when the session's token is no longer the one it runs on; the new token,
/// or `None` when it did not change.
async fn renew_if_refreshed(
    context: &Context,
    stream_id: u64,
    current: &str,
) -> Result<Option<String>, Ended> {
    let token = context
        .session
        .access_token()
        .await
        .map_err(|error| Ended::by(&error, "the token could not be refreshed"))?;
    if token == current {
        return Ok(None);
    }
    match context.call(&RenewLive { stream_id }, &NoBody).await {
        Ok(_) => {
            tracing::info!(stream_id, "live stream renewed with the refreshed token");
            Ok(Some(token))
        }
        Err(error) => Err(Ended::by(&error, "the stream could not be renewed")),
    }
}

/// Syncs what `work` names and tells the observer.
async fn apply(
    context: &Context,
    observer: &Arc<dyn ChangeObserver>,
    work: Work,
) -> Result<(), Ended> {
    if work.keys {
        match sync_wallet(context).await {
            Ok(_) => notify(observer, Change::Keys).await,
            Err(error @ (KeywayError::Retry { .. } | KeywayError::RetryAfter { .. })) => {
                // Reconnecting syncs again.
                crate::logging::error("live key sync", &error);
                return Err(Ended::Dropped("the wallet could not be synced"));
            }
            Err(error) => {
                crate::logging::error("live key sync", &error);
                if matches!(error, KeywayError::ReLogin { .. }) {
                    return Err(Ended::SessionEnded);
                }
            }
        }
    }
    if work.pods {
        notify(observer, Change::Pods).await;
    }
    if work.remote {
        notify(observer, Change::Remote).await;
    }
    Ok(())
}

/// An observer method.
#[derive(Debug, Clone, Copy)]
enum Change {
    Keys,
    Pods,
    Remote,
    SessionEnded,
}

/// Calls the observer on the blocking pool (its code may block; a call that throws or panics
/// is dropped).
async fn notify(observer: &Arc<dyn ChangeObserver>, change: Change) {
    let observer = Arc::clone(observer);
    let called = blocking(move || {
        match change {
            Change::Keys => observer.keys_changed(),
            Change::Pods => observer.pods_changed(),
            Change::Remote => observer.remote_locks_changed(),
            Change::SessionEnded => observer.session_ended(),
        }
        Ok(())
    })
    .await;
    if called.is_err() {
        tracing::warn!(?change, "the change observer failed");
    }
}

/// A notice's name for the logs.
fn notice_name(notice: &LiveNotice) -> &'static str {
    match notice {
        LiveNotice::Hello { .. } => "hello",
        LiveNotice::KeysChanged => "keys_changed",
        LiveNotice::PodsChanged => "pods_changed",
        LiveNotice::RemoteRightsChanged => "remote_rights_changed",
        LiveNotice::DenylistChanged { .. } => "denylist_changed",
        LiveNotice::Resync => "resync",
        LiveNotice::TokenExpired => "token_expired",
    }
}

/// Exponential backoff with full jitter: attempt `n` waits a random time in
/// `[0, min(max, base · 2ⁿ)]`.
#[derive(Debug, Clone)]
struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            attempt: 0,
        }
    }

    /// The bound of the current attempt.
    fn bound(&self) -> Duration {
        let factor = 1u32 << self.attempt.min(16);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The wait before the next attempt; the bound then doubles.
    fn next_delay(&mut self) -> Duration {
        let bound = self.bound();
        self.attempt = self.attempt.saturating_add(1);
        bound.mul_f64(random_fraction())
    }

    /// A connection succeeded: the next wait starts from the base again.
    fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A random number in `[0, 1]` (one half if the system's generator fails).
fn random_fraction() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 4];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_to_its_cap_with_full_jitter_and_resets() {
        let mut backoff = Backoff::new(BACKOFF_BASE, BACKOFF_MAX);
        let bounds: Vec<u64> = (0..10)
            .map(|_| {
                let bound = backoff.bound();
                let delay = backoff.next_delay();
                assert!(delay <= bound, "{delay:?} within {bound:?}");
                u64::try_from(bound.as_millis()).unwrap_or(u64::MAX)
            })
            .collect();
        assert_eq!(
            bounds,
            [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]
        );
        for _ in 0..100 {
            backoff.next_delay();
        }
        assert_eq!(backoff.bound(), BACKOFF_MAX, "no overflow however many");
        backoff.reset();
        assert_eq!(backoff.bound(), BACKOFF_BASE);
    }

    #[test]
    fn the_jitter_spreads_over_the_whole_range() {
        let samples: Vec<f64> = (0..200).map(|_| random_fraction()).collect();
        assert!(samples.iter().all(|x| (0.0..=1.0).contains(x)));
        assert!(samples.iter().any(|x| *x < 0.25));
        assert!(samples.iter().any(|x| *x > 0.75));
    }

    #[test]
    fn a_relogin_ends_the_channel_and_anything_else_reconnects() {
        let relogin = KeywayError::ReLogin {
            detail: String::new(),
        };
        assert_eq!(Ended::by(&relogin, "x"), Ended::SessionEnded);
        let retry = KeywayError::Retry {
            detail: String::new(),
        };
        assert_eq!(Ended::by(&retry, "x"), Ended::Dropped("x"));
    }
}
