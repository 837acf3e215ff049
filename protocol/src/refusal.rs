//! Why a lock refused: one distinct code per rule, carried in the sealed response and logged.

/// A lock's reason for refusing a request, one case per rule the lock enforces. The numbers
/// are the wire codes. The apps see this enum as it is (feature `uniffi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[repr(u8)]
pub enum RefusalReason {
    /// Frames or message could not be parsed.
    MalformedFrame = 1,
    /// A protocol or credential version the lock does not speak.
    UnsupportedVersion = 2,
    /// The credential is not signed by this site's authority.
    BadAuthoritySignature = 3,
    /// The request is not signed by the device key the credential names.
    BadDeviceSignature = 4,
    /// The credential belongs to another site.
    WrongSite = 5,
    /// The credential does not name this lock.
    NotInScope = 6,
    /// The credential's validity has not started on the lock's clock.
    NotYetValid = 7,
    /// The credential's validity has ended on the lock's clock.
    Expired = 8,
    /// The lock's local time is outside the credential's weekly windows.
    OutsideSchedule = 9,
    /// The credential is on the lock's denylist or from an older revocation epoch.
    Revoked = 10,
    /// The request answers another challenge, or one that was already used.
    Replayed = 11,
    /// The challenge is older than the lock accepts.
    StaleChallenge = 12,
    /// Privacy mode is engaged and the credential has no override.
    PrivacyMode = 13,
    /// The credential lacks the right for this command (e.g. office mode).
    CommandNotAllowed = 14,
    /// A mailbox update carried by the phone is not signed by the site authority.
    BadMailboxSignature = 15,
    /// The PIN typed on the keypad is not one this lock holds.
    WrongPin = 16,
    /// Too many wrong PINs in a row: the keypad waits before it checks another.
    KeypadBlocked = 17,
    /// The key has no offline access and the lock cannot confirm it is still valid: its IQ is
    /// out of reach, or has not confirmed the site's revocations recently.
    RevocationStale = 18,
    /// The tag's answer to the lock's challenge does not verify: a copied tag id.
    TagNotAuthentic = 19,
    /// No list the lock may consult now holds this tag.
    UnknownTag = 20,
    /// Near Detection Mode is on and the phone's signal is too weak: come closer.
    TooFar = 21,
}

impl RefusalReason {
    /// Every reason, in wire-code order.
    pub const ALL: [RefusalReason; 21] = [
        Self::MalformedFrame,
        Self::UnsupportedVersion,
        Self::BadAuthoritySignature,
        Self::BadDeviceSignature,
        Self::WrongSite,
        Self::NotInScope,
        Self::NotYetValid,
        Self::Expired,
        Self::OutsideSchedule,
        Self::Revoked,
        Self::Replayed,
        Self::StaleChallenge,
        Self::PrivacyMode,
        Self::CommandNotAllowed,
        Self::BadMailboxSignature,
        Self::WrongPin,
        Self::KeypadBlocked,
        Self::RevocationStale,
        Self::TagNotAuthentic,
        Self::UnknownTag,
        Self::TooFar,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The reason for a wire code, if known.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// A short sentence for people reading logs and apps.
    pub fn describe(self) -> &'static str {
        match self {
            Self::MalformedFrame => "the request could not be read",
            Self::UnsupportedVersion => "the lock does not speak this protocol version",
            Self::BadAuthoritySignature => "the key is not signed by this site",
            Self::BadDeviceSignature => "the request is not signed by the key's device",
            Self::WrongSite => "the key belongs to another site",
            Self::NotInScope => "the key does not open this lock",
            Self::NotYetValid => "the key is not valid yet",
            Self::Expired => "the key has expired",
            Self::OutsideSchedule => "the key is outside its schedule now",
            Self::Revoked => "the key has been revoked",
            Self::Replayed => "the request was replayed",
            Self::StaleChallenge => "the lock's challenge is too old",
            Self::PrivacyMode => "the lock is in privacy mode",
            Self::CommandNotAllowed => "the key lacks the right for this command",
            Self::BadMailboxSignature => "a carried lock update is not signed by this site",
            Self::WrongPin => "the PIN is not valid at this lock",
            Self::KeypadBlocked => "too many wrong PINs: the keypad waits",
            Self::RevocationStale => "the lock cannot reach its IQ to confirm this key",
            Self::TagNotAuthentic => "the tag is not the one registered",
            Self::UnknownTag => "the tag does not open this lock",
            Self::TooFar => "come closer to the lock",
        }
    }
}

impl std::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_round_trip() {
        for (position, reason) in RefusalReason::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(reason.code()), position + 1);
            assert_eq!(RefusalReason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(RefusalReason::from_code(0), None);
        assert_eq!(RefusalReason::from_code(200), None);
    }
}
