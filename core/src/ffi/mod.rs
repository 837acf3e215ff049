//! The UniFFI surface: the functions, records and errors the apps see.

mod credential;
mod iq_code;
pub mod records;
mod version;

pub use credential::{inspect_credential, CredentialInfo, ScheduleWindowInfo};
pub use iq_code::{iq_code_at, iq_code_matching_step, iq_code_now, IqCode};
pub use records::{LockEventInfo, LockRefusal, RefusalAdvice, UnlockReport};
pub use version::keyway_core_version;
