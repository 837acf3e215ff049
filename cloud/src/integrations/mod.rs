//! Connected systems (manuals 001 and 004): a self-storage or coworking system drives a
//! site's people and access through a site API key.
//!
//! - [`keys`]: API keys: made by the owner or an admin, shown once, stored hashed, at most
//!   two live per site (rotation without downtime), revocable;
//! - [`caller`]: the `Authorization: Bearer kwk_…` extractor, scopes, and the per-key rate
//!   limit (`429` with `Retry-After`);
//! - [`idempotency`]: `Idempotency-Key`: the same key and request apply once, the same key with
//!   another request is `422`;
//! - [`people`]: upserting a person by the system's id, removing them, granting and revoking
//!   access-group membership, for good or between dates; each change audited;
//! - [`resync`]: the system's full list reconciled with the site, with a dry run;
//! - [`connections`]: apps connected through OAuth ("Connect"): registered apps, the
//!   connections admins consent to, their tokens, disconnecting;
//! - [`bookings`]: a coworking system's room and desk bookings, with their grace periods.

pub mod bookings;
pub mod caller;
pub mod connections;
pub mod idempotency;
pub mod keys;
pub mod people;
pub mod resync;
