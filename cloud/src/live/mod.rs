//! Live changes: the notices that tell a signed-in phone, within milliseconds, that what it
//! can open changed (`GET /api/v1/live`, see `keyway_api::live`).
//!
//! - The writes themselves leave notices in the `live_outbox` table, inside their own
//!   transaction, through the triggers of migration 0013: no code path can forget one, and a
//!   rolled-back write tells nobody.
//! - [`drain`]: after a write commits (before its request answers, or in a task for writes
//!   outside requests), the outbox is read and merged (one notice per person and kind however
//!   many rows), the site's IQs get a fresh configuration, a site-wide notice finds its
//!   people, and the notices go to the [`NoticeBus`]. IQs and phones hear of a change through
//!   this one mechanism.
//! - [`hub`]: the [`LiveHub`] holds this instance's open streams and delivers to them: a
//!   bounded queue per stream (a slow phone gets one `resync` instead of holding memory), at
//!   most [`hub::STREAMS_PER_ACCOUNT`] streams per account (a new one closes the oldest).
//!
//! One cloud instance delivers in-process: the drain calls [`LiveHub::deliver`] through the
//! [`NoticeBus`] the hub implements. Several instances behind a load balancer would put a
//! broker there: the drain publishes each notice to it (PostgreSQL `NOTIFY keyway_live`, or a
//! NATS subject per person) and every instance runs a listener that calls its own hub's
//! `deliver`; the outbox rows are then the transactional outbox the broker relays, and nothing
//! else changes.

pub mod drain;
pub mod hub;

pub use hub::{LiveHub, LiveStream};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use keyway_api::live::LiveNotice;

use crate::AppState;

/// After every request that left notices (its writes' triggers raised the store's flag),
/// drains them and the IQ configurations before its answer goes out: when an admin's call
/// returns, the site's IQs hold the change and the phones' streams carry its notice.
pub async fn drain_after_write(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if state.store.live_wake().pending() {
        drain::drain_now(&state).await;
    }
    response
}

/// Where drained notices go: to the people's open streams, on this instance or (with a
/// broker) on every instance.
pub trait NoticeBus: Send + Sync + std::fmt::Debug {
    /// Sends `notice` to every open stream of each of `people`.
    fn publish(&self, people: &[u32], notice: &LiveNotice);
}
