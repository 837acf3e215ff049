//! The UniFFI surface: the functions, records and errors the apps see. The shared types the
//! apps see as they are ([`ScheduleWindow`], [`RefusalReason`], [`IqCode`]) are the protocol's
//! own, re-exported here (they derive UniFFI's traits with its `uniffi` feature).

mod credential;
mod iq_code;
pub mod records;
mod version;

pub use credential::{inspect_credential, CredentialInfo};
pub use iq_code::{iq_code_at, iq_code_matching_step, iq_code_now};
pub use keyway_protocol::iq_code::IqCode;
pub use keyway_protocol::{RefusalReason, ScheduleWindow};
pub use records::{LockEventInfo, RefusalAdvice, UnlockReport};
pub use version::keyway_core_version;
