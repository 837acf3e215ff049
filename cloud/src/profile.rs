//! Tag profiles and user profiles (manual: roles and profiles): who owns a person's details,
//! and what a person without an account may be given.
//!
//! - A **user profile** has an e-mail. Until the person claims their place (signs up with that
//!   address and verifies it), the site keeps the name and phone it typed and may correct
//!   them; once claimed, the person owns their name, e-mail and phone and the site may not
//!   change them. Digital keys and remote opening wait until the place is claimed.
//! - A **tag profile** has no e-mail: no account, no app. The site owns the name and phone.
//!   Such a person opens with a tag or a keypad PIN; digital keys, remote opening and any role
//!   above `user` need an account.

use keyway_api::{Profile, Role, UpdatePersonRequest};

use crate::error::ApiError;

/// Whose details a person's are, as the site sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DetailsOwner {
    /// The site: a tag profile (its `users` row), kept by the site.
    SiteTagProfile,
    /// The site, until the person claims the place: the typed name and phone on the place.
    SiteUntilClaimed,
    /// The person: a claimed user profile.
    Person,
}

impl DetailsOwner {
    /// Who owns the details of a person with `profile` whose place is `claimed` or not.
    pub(crate) fn of(profile: Profile, claimed: bool) -> Self {
        match (profile, claimed) {
            (Profile::Tag, _) => Self::SiteTagProfile,
            (Profile::User, false) => Self::SiteUntilClaimed,
            (Profile::User, true) => Self::Person,
        }
    }
}

/// What a tag profile may not be given: a role above `user`.
pub(crate) fn check_tag_profile_role(role: Role) -> Result<(), ApiError> {
    if role == Role::User {
        Ok(())
    } else {
        Err(ApiError::ProfileIncomplete(
            "a person without an e-mail (tag profile) can only be a user: higher roles need \
             an account"
                .into(),
        ))
    }
}

/// Checks a change of a person's rights and details against their profile: a tag profile
/// gets no remote opening and no role above `user`; a claimed user profile's details are its
/// person's.
pub(crate) fn check_change(
    profile: Profile,
    claimed: bool,
    change: &UpdatePersonRequest,
) -> Result<(), ApiError> {
    if profile == Profile::Tag {
        if let Some(role) = change.role {
            check_tag_profile_role(role)?;
        }
        if change.remote_opening == Some(true) {
            return Err(ApiError::ProfileIncomplete(
                "remote opening needs a user profile: add the person with an e-mail".into(),
            ));
        }
    }
    let edits_details = change.name.is_some() || change.phone.is_some();
    if edits_details && DetailsOwner::of(profile, claimed) == DetailsOwner::Person {
        return Err(owned_by_person());
    }
    Ok(())
}

/// The refusal of a change to details a person owns.
pub(crate) fn owned_by_person() -> ApiError {
    ApiError::ProfileOwnedByPerson("this person manages their own name, e-mail and phone".into())
}

#[cfg(test)]
mod tests {
    use keyway_api::ErrorCode;

    use super::*;

    fn code(result: Result<(), ApiError>) -> Option<ErrorCode> {
        result.err().map(|error| error.code())
    }

    #[test]
    fn the_site_edits_a_tag_profile_and_an_unclaimed_place_but_never_a_claimed_one() {
        let rename = UpdatePersonRequest {
            name: Some("New name".into()),
            ..UpdatePersonRequest::default()
        };
        let rephone = UpdatePersonRequest {
            phone: Some("+14155550100".into()),
            ..UpdatePersonRequest::default()
        };
        for change in [&rename, &rephone] {
            assert_eq!(code(check_change(Profile::Tag, true, change)), None);
            assert_eq!(code(check_change(Profile::User, false, change)), None);
            assert_eq!(
                code(check_change(Profile::User, true, change)),
                Some(ErrorCode::ProfileOwnedByPerson)
            );
        }
    }

    #[test]
    fn a_tag_profile_gets_neither_remote_opening_nor_a_higher_role() {
        let remote = UpdatePersonRequest {
            remote_opening: Some(true),
            ..UpdatePersonRequest::default()
        };
        assert_eq!(
            code(check_change(Profile::Tag, true, &remote)),
            Some(ErrorCode::ProfileIncomplete)
        );
        assert_eq!(code(check_change(Profile::User, false, &remote)), None);
        for role in [Role::Admin, Role::SuperUser, Role::Owner] {
            let promote = UpdatePersonRequest {
                role: Some(role),
                ..UpdatePersonRequest::default()
            };
            assert_eq!(
                code(check_change(Profile::Tag, true, &promote)),
                Some(ErrorCode::ProfileIncomplete),
                "{role:?}"
            );
        }
        let office = UpdatePersonRequest {
            office_mode: Some(true),
            privacy_override: Some(true),
            ..UpdatePersonRequest::default()
        };
        assert_eq!(
            code(check_change(Profile::Tag, true, &office)),
            None,
            "a tag can do both"
        );
    }
}
