//! The unlock handshake: one round trip after connect.
//!
//! ```text
//! lock  → phone  Challenge { lock_id, nonce, lock_ephemeral_key }
//! phone → lock   Request { echoed nonce, phone_ephemeral_key, command, credential, mailbox,
//!                          device signature over (label, challenge, request) }
//! lock  → phone  Response = AES-256-GCM(session key, { outcome, reason, lock time, event })
//! ```
//! The session key is HKDF-SHA256 over the ephemeral ECDH secret, salted with the nonce and
//! bound to the hash of the challenge and the request.

pub mod lock;
pub mod phone;
pub mod session;
