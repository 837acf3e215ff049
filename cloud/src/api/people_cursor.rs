//! The opaque cursor of the people list: where the previous page ended, for which site and
//! which filters.
//!
//! A cursor is base64url (no padding) of
//! `version (1) | site id (4) | filter fingerprint (8) | user id (4) | listed name (UTF-8) |
//! check (16)`, the check being the first bytes of a SHA-256 over everything before it.
//! The check catches a cursor that was cut, retyped or edited; the site id and the filter
//! fingerprint catch one handed to another site or to other filters. Each of those is refused
//! with one and the same 400.
//!
//! A cursor is not a secret and grants nothing: the caller's rights are checked on every
//! page, and the listing query always keeps to the site of the path. A hand-made cursor with
//! a valid check can only choose where in that site's own list the page starts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyway_api::{PersonStatus, Profile, Role};
use ring::digest::{digest, SHA256};

use crate::error::ApiError;

/// The layout version written first in every cursor.
const CURSOR_VERSION: u8 = 1;
/// Bytes of the filter fingerprint.
const FINGERPRINT_BYTES: usize = 8;
/// Bytes of the check at the end.
const CHECK_BYTES: usize = 16;
/// Bytes before the name: version, site id, fingerprint, user id.
const HEADER_BYTES: usize = 1 + 4 + FINGERPRINT_BYTES + 4;
/// The longest cursor text accepted (a name is at most a few hundred bytes).
const MAX_CURSOR_CHARS: usize = 2048;
/// Domain separation of the check.
const CHECK_CONTEXT: &[u8] = b"keyway people cursor v1\0";
/// Domain separation of the filter fingerprint.
const FILTER_CONTEXT: &[u8] = b"keyway people filter v1\0";

/// The filters of one listing; a cursor is valid only for the filters it was made under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PeopleFilter {
    /// Text the shown name or the e-mail contains (trimmed, never empty).
    pub text: Option<String>,
    /// Only this role.
    pub role: Option<Role>,
    /// Only active or only invited people.
    pub status: Option<PersonStatus>,
    /// Only user profiles or only tag profiles.
    pub profile: Option<Profile>,
}

impl PeopleFilter {
    /// A short digest of the filters, so that a cursor cannot be replayed under others.
    fn fingerprint(&self) -> [u8; FINGERPRINT_BYTES] {
        let role = self.role.map(crate::roles::role_name).unwrap_or("");
        let status = match self.status {
            None => "",
            Some(PersonStatus::Active) => "active",
            Some(PersonStatus::Invited) => "invited",
        };
        let profile = match self.profile {
            None => "",
            Some(Profile::User) => "user",
            Some(Profile::Tag) => "tag",
        };
        let mut input = FILTER_CONTEXT.to_vec();
        for part in [self.text.as_deref().unwrap_or(""), role, status, profile] {
            input.extend_from_slice(&(part.len() as u64).to_be_bytes());
            input.extend_from_slice(part.as_bytes());
        }
        let mut fingerprint = [0; FINGERPRINT_BYTES];
        fingerprint.copy_from_slice(&digest(&SHA256, &input).as_ref()[..FINGERPRINT_BYTES]);
        fingerprint
    }
}

/// The last person of a page: the next page starts right after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PeopleCursor {
    /// The name the list sorts by (the shown name).
    pub listed_name: String,
    /// The account id that orders people with the same name.
    pub user_id: u32,
}

fn check_of(bytes: &[u8]) -> [u8; CHECK_BYTES] {
    let mut input = CHECK_CONTEXT.to_vec();
    input.extend_from_slice(bytes);
    let mut check = [0; CHECK_BYTES];
    check.copy_from_slice(&digest(&SHA256, &input).as_ref()[..CHECK_BYTES]);
    check
}

fn refused() -> ApiError {
    ApiError::InvalidInput(
        "the cursor is not one this list gave out for this site and these filters; start again \
         without it"
            .into(),
    )
}

impl PeopleCursor {
    /// The cursor's text for `site_id` under `filter`.
    pub(super) fn encode(&self, site_id: u32, filter: &PeopleFilter) -> String {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + self.listed_name.len() + CHECK_BYTES);
        bytes.push(CURSOR_VERSION);
        bytes.extend_from_slice(&site_id.to_be_bytes());
        bytes.extend_from_slice(&filter.fingerprint());
        bytes.extend_from_slice(&self.user_id.to_be_bytes());
        bytes.extend_from_slice(self.listed_name.as_bytes());
        let check = check_of(&bytes);
        bytes.extend_from_slice(&check);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a cursor given out for `site_id` under `filter`; anything else is a 400.
    pub(super) fn decode(
        text: &str,
        site_id: u32,
        filter: &PeopleFilter,
    ) -> Result<Self, ApiError> {
        if text.len() > MAX_CURSOR_CHARS {
            return Err(refused());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| refused())?;
        let body_len = bytes
            .len()
            .checked_sub(CHECK_BYTES)
            .filter(|len| *len >= HEADER_BYTES)
            .ok_or_else(refused)?;
        let (body, check) = bytes.split_at(body_len);
        if check_of(body) != check {
            return Err(refused());
        }
        let (header, name) = body.split_at(HEADER_BYTES);
        let (version, header) = header.split_at(1);
        let (site, header) = header.split_at(4);
        let (fingerprint, user) = header.split_at(FINGERPRINT_BYTES);
        if version != [CURSOR_VERSION]
            || site != site_id.to_be_bytes()
            || fingerprint != filter.fingerprint()
        {
            return Err(refused());
        }
        let user_id = u32::from_be_bytes(user.try_into().map_err(|_| refused())?);
        let listed_name = String::from_utf8(name.to_vec()).map_err(|_| refused())?;
        Ok(Self {
            listed_name,
            user_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> PeopleCursor {
        PeopleCursor {
            listed_name: "Zoë Ångström".into(),
            user_id: 4_000_000_001,
        }
    }

    #[test]
    fn a_cursor_reads_back_for_its_site_and_filters_only() {
        let filter = PeopleFilter {
            text: Some("zo".into()),
            role: Some(Role::User),
            status: Some(PersonStatus::Invited),
            profile: None,
        };
        let text = cursor().encode(7, &filter);
        assert_eq!(PeopleCursor::decode(&text, 7, &filter).unwrap(), cursor());
        assert!(PeopleCursor::decode(&text, 8, &filter).is_err());
        for other in [
            PeopleFilter::default(),
            PeopleFilter {
                text: Some("z".into()),
                ..filter.clone()
            },
            PeopleFilter {
                role: Some(Role::Admin),
                ..filter.clone()
            },
            PeopleFilter {
                status: Some(PersonStatus::Active),
                ..filter.clone()
            },
            PeopleFilter {
                profile: Some(Profile::Tag),
                ..filter.clone()
            },
        ] {
            assert!(PeopleCursor::decode(&text, 7, &other).is_err(), "{other:?}");
        }
    }

    #[test]
    fn every_edited_cut_or_garbled_cursor_is_refused() {
        let filter = PeopleFilter::default();
        let text = cursor().encode(7, &filter);
        let bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
        for index in 0..bytes.len() {
            let mut edited = bytes.clone();
            edited[index] ^= 0x01;
            let edited = URL_SAFE_NO_PAD.encode(edited);
            assert!(
                PeopleCursor::decode(&edited, 7, &filter).is_err(),
                "{index}"
            );
        }
        for len in 0..bytes.len() {
            let cut = URL_SAFE_NO_PAD.encode(&bytes[..len]);
            assert!(PeopleCursor::decode(&cut, 7, &filter).is_err(), "{len}");
        }
        for garbage in ["", "!!!", "a", &"A".repeat(MAX_CURSOR_CHARS + 1)] {
            assert!(PeopleCursor::decode(garbage, 7, &filter).is_err());
        }
    }
}
