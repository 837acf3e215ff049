//! What a lock enforces, as the cloud keeps it (manuals 000 and 003): tags and their rights,
//! offline access, master keys, each lock's settings, and what locks report.
//!
//! - [`tags`]: registering, handing over, changing and revoking tags; the master-key rules
//!   (the owner's tags are master keys; at most [`tags::MAX_MASTER_KEYS_PER_LOCK`] per lock);
//! - [`lists`]: the signed per-lock tag lists and settings, and the site's revocations, that
//!   an IQ is handed with its configuration; what a lock's offline storage holds;
//! - [`lockers`]: XS4 locker locks, their assignment, status and emergency opening;
//! - [`settings`]: a lock's settings (Near Detection Mode needs an IQ at firmware 2.3);
//! - [`reports`]: a lock's own reports (battery, door, privacy) kept as its state, and the
//!   owner's alert e-mails.

pub mod lists;
pub mod lockers;
pub mod reports;
pub mod settings;
pub mod tags;
