//! Errors of the protocol crate.

/// Why bytes could not be encoded, decoded or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The input ended before this field.
    #[error("input ended inside {0}")]
    Truncated(&'static str),
    /// Bytes were left over after this structure.
    #[error("unexpected bytes after {0}")]
    TrailingBytes(&'static str),
    /// A field is longer than its encoding allows.
    #[error("{0} is too long to encode")]
    TooLong(&'static str),
    /// A format or protocol version this implementation does not speak.
    #[error("unsupported {what} version {found}")]
    UnsupportedVersion {
        /// Which structure carried the version.
        what: &'static str,
        /// The version found on the wire.
        found: u8,
    },
    /// A field holds a value that is not allowed.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A signature did not verify.
    #[error("bad signature on {0}")]
    BadSignature(&'static str),
    /// A message arrived that this state machine does not expect now.
    #[error("unexpected message: {0}")]
    UnexpectedMessage(&'static str),
    /// Sealing or opening the encrypted response failed (tampered or wrong key).
    #[error("the sealed response could not be opened")]
    SealBroken,
    /// A key could not be created, parsed or used.
    #[error("key error: {0}")]
    Key(&'static str),
    /// The system random generator failed.
    #[error("random generator failed")]
    Random,
}
