//! Webhooks out, per the Standard Webhooks scheme: a connected system's endpoints get the
//! site's lock events, alerts, access changes and import results as signed JSON messages.
//!
//! - [`sign`]: secrets (`whsec_…`) and the `webhook-signature` (`v1,` and the base64 of
//!   HMAC-SHA256 over `id.timestamp.body`);
//! - [`store`]: endpoints, and the messages migration 0015's triggers queue with the writes
//!   themselves (no code path can forget one; a rolled-back write sends none);
//! - [`deliver`]: the delivery task: per endpoint one message at a time, oldest first, at least
//!   once, retried with backoff for a day, then a dead letter an admin can replay.

pub mod deliver;
pub mod sign;
pub mod store;
