//! Pods (manual 000): the site's owner and admins create a pod with a name, at least one member
//! and a set of locks. Members get digital keys and remote opening on the pod's locks and
//! invite guests by e-mail; a guest gets digital keys only, on some of the pod's locks, for a
//! check-in/check-out timeframe the lock enforces on its own clock. Members (for their own
//! guests) and admins block, unblock and delete guests; blocking revokes the guest's keys
//! through the same path as any revocation (denylist mailbox updates phones carry to locks).
//!
//! - [`store`]: pod rows and the views built from them;
//! - [`access`]: who may do what to a pod;
//! - [`invitations`]: single-use, expiring invitation codes (only their SHA-256 is stored);
//! - [`people`]: joining and leaving (site membership, remote opening), blocking;
//! - [`members`], [`guests`], [`pod_locks`]: adding members, inviting guests, changing locks;
//! - [`mail`]: the invitation and welcome e-mails;
//! - [`rights`]: what pods grant, for key issuing and for remote opening.
//!
//! The HTTP handlers are in `crate::api` (`pods*.rs`).

pub mod access;
pub mod guests;
pub mod invitations;
pub mod mail;
pub mod members;
pub mod people;
pub mod pod_locks;
pub mod rights;
pub mod store;

pub use rights::{remote_opening_right, RemoteOpening, GUEST_REMOTE_REFUSAL};
