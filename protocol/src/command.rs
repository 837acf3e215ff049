//! What the phone asks the lock to do.

use crate::ProtocolError;

/// A command carried by a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Command {
    /// Open once (the lock relocks by itself).
    Unlock = 1,
    /// Put the lock in office mode (stays open); needs the office-mode right.
    OfficeModeOn = 2,
    /// Leave office mode; needs the office-mode right.
    OfficeModeOff = 3,
}

impl Command {
    /// The wire code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The command for a wire code.
    pub fn from_code(code: u8) -> Result<Self, ProtocolError> {
        match code {
            1 => Ok(Self::Unlock),
            2 => Ok(Self::OfficeModeOn),
            3 => Ok(Self::OfficeModeOff),
            _ => Err(ProtocolError::Invalid("command")),
        }
    }

    /// Whether the command changes the lock's office mode.
    pub fn is_office_mode(self) -> bool {
        matches!(self, Self::OfficeModeOn | Self::OfficeModeOff)
    }
}
