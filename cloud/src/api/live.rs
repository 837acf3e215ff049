//! `GET /api/v1/live`: the live channel a signed-in phone holds open while its app is in the
//! foreground (server-sent events, see `keyway_api::live`), and `POST
//! /api/v1/live/{stream_id}/renew`, which moves its end to a refreshed access token's expiry.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use keyway_api::live::{LiveNotice, NOTICE_EVENT};
use keyway_api::ApiErrorBody;

use super::extract::Ids;
use crate::auth::Authenticated;
use crate::clock::CloudClock;
use crate::error::{ApiError, ApiResult};
use crate::live::LiveStream;
use crate::AppState;

/// How often an idle stream carries a keep-alive comment: a phone that has heard nothing for
/// three of these knows the connection is gone.
pub(super) const PING_SECONDS: u64 = 15;

/// Where a stream is in its life.
enum Phase {
    /// The hello is still to be sent.
    Hello(LiveStream, CloudClock),
    /// Notices flow.
    Open(LiveStream, CloudClock),
    /// Ended.
    Done,
}

fn event(notice: &LiveNotice) -> Event {
    Event::default()
        .event(NOTICE_EVENT)
        .data(serde_json::to_string(notice).unwrap_or_default())
}

/// The next notice of `live`, or `TokenExpired` once its end passed without a renewal.
async fn next_notice(live: &mut LiveStream, clock: &CloudClock) -> Option<LiveNotice> {
    loop {
        let left = live.renew_by() - clock.now();
        if left <= 0 {
            return Some(LiveNotice::TokenExpired);
        }
        // Woken at least daily: a renewal moves the end, and it is looked at again then.
        let wait = Duration::from_secs(left.unsigned_abs().min(86_400));
        tokio::select! {
            notice = live.next() => return notice,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

fn notices(live: LiveStream, clock: CloudClock) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(Phase::Hello(live, clock), |phase| async move {
        match phase {
            Phase::Hello(live, clock) => {
                let hello = LiveNotice::Hello {
                    stream_id: live.stream_id,
                    renew_by: live.renew_by(),
                };
                Some((Ok(event(&hello)), Phase::Open(live, clock)))
            }
            Phase::Open(mut live, clock) => match next_notice(&mut live, &clock).await {
                Some(LiveNotice::TokenExpired) => {
                    Some((Ok(event(&LiveNotice::TokenExpired)), Phase::Done))
                }
                Some(notice) => Some((Ok(event(&notice)), Phase::Open(live, clock))),
                None => None,
            },
            Phase::Done => None,
        }
    })
}

/// Opens the caller's live channel: a `hello`, then a notice whenever something they can
/// open changes (never the change itself: sync that part), a keep-alive comment every 15 s,
/// and `token_expired` when the access token runs out unless the stream was renewed. An
/// account holds at most four streams; a fifth closes the oldest.
#[utoipa::path(
    get,
    path = "/api/v1/live",
    tag = "live",
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", body = LiveNotice,
            description = "Server-sent events named `notice`, each a JSON LiveNotice"),
        (status = 401, body = ApiErrorBody),
    )
)]
pub(super) async fn live(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = state.live.open(caller.user_id, caller.expires_at);
    tracing::debug!(
        user_id = caller.user_id,
        stream_id = stream.stream_id,
        "live stream opened"
    );
    Sse::new(notices(stream, state.clock.clone()))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(PING_SECONDS)))
}

/// Moves the end of the caller's stream to the expiry of the access token this call carries
/// (call it with the new token after each refresh, so the stream stays open).
#[utoipa::path(
    post,
    path = "/api/v1/live/{stream_id}/renew",
    tag = "live",
    security(("bearer" = [])),
    params(("stream_id" = u64, Path, description = "The stream, from its hello")),
    responses(
        (status = 204, description = "Renewed"),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such stream of the caller's"),
    )
)]
pub(super) async fn renew(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(stream_id): Ids<u64>,
) -> ApiResult<StatusCode> {
    if state
        .live
        .renew(caller.user_id, stream_id, caller.expires_at)
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "no live stream {stream_id} of yours"
        )))
    }
}
