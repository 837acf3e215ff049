//! Who may do what to whom on a site (manuals 000 and 002): pure rules, no store.
//!
//! - exactly one owner per site; nobody is added or promoted to owner, and the owner is never
//!   demoted, modified by others or removed (ownership transfer is a later feature);
//! - the owner and admins manage admins, super users and users; admins never touch the owner;
//! - super users view everyone and manage super users and users, never admins or the owner,
//!   and never make anyone an admin;
//! - users manage nobody;
//! - only the owner and admins grant privacy override; remote opening and remote office mode
//!   are set by the owner, admins and super users (within whom they may manage);
//! - remote office mode implies remote opening;
//! - nobody changes their own role, and nobody but the owner raises their own rights (privacy
//!   override, remote opening, remote office mode): those come from someone above them. The
//!   owner has nobody above them on their site and holds every right there.

use keyway_api::{Role, UpdatePersonRequest};

use crate::error::ApiError;

/// The text stored in `memberships.role`.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::SuperUser => "super_user",
        Role::User => "user",
    }
}

/// Reads a stored role.
pub fn parse_role(text: &str) -> Result<Role, ApiError> {
    match text {
        "owner" => Ok(Role::Owner),
        "admin" => Ok(Role::Admin),
        "super_user" => Ok(Role::SuperUser),
        "user" => Ok(Role::User),
        other => Err(ApiError::Internal(format!("unknown stored role {other:?}"))),
    }
}

/// Whether `actor` may list the people of the site.
pub fn may_view_people(actor: Role) -> bool {
    actor != Role::User
}

/// Whether `actor` may add, configure and remove hardware (locks, IQs) and access groups.
pub fn may_manage_site(actor: Role) -> bool {
    matches!(actor, Role::Owner | Role::Admin)
}

/// Whether `actor` may read a lock's event log.
pub fn may_view_events(actor: Role) -> bool {
    actor != Role::User
}

/// Whether `actor` may modify or remove someone else holding `target`.
pub fn may_manage(actor: Role, target: Role) -> bool {
    match actor {
        Role::Owner | Role::Admin => target != Role::Owner,
        Role::SuperUser => matches!(target, Role::SuperUser | Role::User),
        Role::User => false,
    }
}

/// Whether `actor` may give someone `role` (when adding them or changing their role).
pub fn may_assign(actor: Role, role: Role) -> bool {
    role != Role::Owner && may_manage(actor, role)
}

/// One side of a people-management decision: who, and with which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party {
    /// Account id.
    pub user_id: u32,
    /// Role on the site.
    pub role: Role,
}

/// The per-person rights stored on a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PersonFlags {
    /// Opens locks in privacy mode.
    pub privacy_override: bool,
    /// May set remote office mode.
    pub office_mode: bool,
    /// May open remotely.
    pub remote_opening: bool,
    /// Digital keys work offline (manual 003).
    pub offline_access: bool,
}

fn forbidden(message: &str) -> ApiError {
    ApiError::Forbidden(message.to_string())
}

/// Checks that `actor` may add a person with `role`.
pub fn check_add(actor: Role, role: Role) -> Result<(), ApiError> {
    if role == Role::Owner {
        return Err(forbidden(
            "a site has exactly one owner; nobody can be added as owner",
        ));
    }
    if !may_assign(actor, role) {
        return Err(forbidden("your role on this site may not add this role"));
    }
    Ok(())
}

/// Checks that `actor` may remove `target` from the site.
pub fn check_remove(actor: Party, target: Party) -> Result<(), ApiError> {
    if target.role == Role::Owner {
        return Err(forbidden("the site owner cannot be removed"));
    }
    if actor.user_id == target.user_id {
        return Err(forbidden("you cannot remove yourself from a site"));
    }
    if !may_manage(actor.role, target.role) {
        return Err(forbidden(
            "your role on this site may not remove this person",
        ));
    }
    Ok(())
}

/// Checks that `actor` may apply `change` to `target` (whose rights are now `current`) and
/// returns the target's role and rights afterwards. A field equal to its current value is not a
/// change and needs no permission.
pub fn check_update(
    actor: Party,
    target: Party,
    current: PersonFlags,
    change: &UpdatePersonRequest,
) -> Result<(Role, PersonFlags), ApiError> {
    let is_self = actor.user_id == target.user_id;
    let may_touch = may_manage(actor.role, target.role) || (is_self && actor.role == Role::Owner);
    if !may_touch {
        return Err(forbidden(
            "your role on this site may not modify this person",
        ));
    }
    let role = match change.role {
        Some(role) if role != target.role => {
            if is_self {
                return Err(forbidden("nobody may change their own role"));
            }
            if role == Role::Owner {
                return Err(forbidden(
                    "a site has exactly one owner; nobody can be promoted to owner",
                ));
            }
            if !may_assign(actor.role, role) {
                return Err(forbidden("your role on this site may not give this role"));
            }
            role
        }
        _ => target.role,
    };
    let changes = |requested: Option<bool>, now: bool| requested.is_some_and(|v| v != now);
    let raises = |requested: Option<bool>, now: bool| requested == Some(true) && !now;
    if is_self
        && actor.role != Role::Owner
        && (raises(change.privacy_override, current.privacy_override)
            || raises(change.office_mode, current.office_mode)
            || raises(change.remote_opening, current.remote_opening)
            || raises(change.offline_access, current.offline_access))
    {
        return Err(forbidden(
            "nobody raises their own rights: ask someone above you on this site",
        ));
    }
    if changes(change.privacy_override, current.privacy_override)
        && !matches!(actor.role, Role::Owner | Role::Admin)
    {
        return Err(forbidden(
            "only the site owner and admins may grant privacy override",
        ));
    }
    // Manual 003: "Only site admins can grant, revoke, and manage offline access".
    if changes(change.offline_access, current.offline_access)
        && !matches!(actor.role, Role::Owner | Role::Admin)
    {
        return Err(forbidden(
            "only the site owner and admins may manage offline access",
        ));
    }
    if (changes(change.office_mode, current.office_mode)
        || changes(change.remote_opening, current.remote_opening))
        && actor.role == Role::User
    {
        return Err(forbidden(
            "your role on this site may not change remote opening",
        ));
    }
    let office_mode = change.office_mode.unwrap_or(current.office_mode);
    let remote_opening = match (change.office_mode, change.remote_opening) {
        (Some(true), Some(false)) => {
            return Err(ApiError::InvalidInput(
                "remote office mode implies remote opening: it cannot be on while remote \
                 opening is off"
                    .into(),
            ))
        }
        (Some(true), _) => true,
        (_, requested) => requested.unwrap_or(current.remote_opening),
    };
    if office_mode && !remote_opening {
        return Err(ApiError::InvalidInput(
            "remote office mode implies remote opening: turn remote office mode off first".into(),
        ));
    }
    Ok((
        role,
        PersonFlags {
            privacy_override: change.privacy_override.unwrap_or(current.privacy_override),
            office_mode,
            remote_opening,
            offline_access: change.offline_access.unwrap_or(current.offline_access),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::SuperUser, Role::User];

    fn party(user_id: u32, role: Role) -> Party {
        Party { user_id, role }
    }

    fn promote(role: Role) -> UpdatePersonRequest {
        UpdatePersonRequest {
            role: Some(role),
            ..Default::default()
        }
    }

    #[test]
    fn stored_role_names_round_trip() {
        for role in ROLES {
            assert_eq!(parse_role(role_name(role)).unwrap(), role);
        }
        assert!(parse_role("root").is_err());
    }

    /// actor × target → may modify/remove (someone else).
    #[test]
    fn management_table() {
        use Role::*;
        let table = [
            (Owner, Owner, false),
            (Owner, Admin, true),
            (Owner, SuperUser, true),
            (Owner, User, true),
            (Admin, Owner, false),
            (Admin, Admin, true),
            (Admin, SuperUser, true),
            (Admin, User, true),
            (SuperUser, Owner, false),
            (SuperUser, Admin, false),
            (SuperUser, SuperUser, true),
            (SuperUser, User, true),
            (User, Owner, false),
            (User, Admin, false),
            (User, SuperUser, false),
            (User, User, false),
        ];
        for (actor, target, allowed) in table {
            assert_eq!(may_manage(actor, target), allowed, "{actor:?} → {target:?}");
            let removal = check_remove(party(1, actor), party(2, target));
            assert_eq!(removal.is_ok(), allowed, "{actor:?} removes {target:?}");
            let add = check_add(actor, target);
            assert_eq!(add.is_ok(), allowed, "{actor:?} adds {target:?}");
        }
    }

    #[test]
    fn promotions_follow_both_the_old_and_the_new_role() {
        use Role::*;
        // (actor, target's role, new role, allowed)
        let table = [
            (Owner, User, Admin, true),
            (Owner, Admin, User, true),
            (Owner, User, Owner, false),
            (Admin, User, Admin, true),
            (Admin, Admin, SuperUser, true),
            (Admin, SuperUser, Owner, false),
            (Admin, Owner, Admin, false),
            (SuperUser, User, SuperUser, true),
            (SuperUser, SuperUser, User, true),
            (SuperUser, User, Admin, false),
            (SuperUser, Admin, User, false),
            (User, User, SuperUser, false),
        ];
        for (actor, target, new, allowed) in table {
            let result = check_update(
                party(1, actor),
                party(2, target),
                PersonFlags::default(),
                &promote(new),
            );
            assert_eq!(result.is_ok(), allowed, "{actor:?}: {target:?} → {new:?}");
            if allowed {
                assert_eq!(result.unwrap().0, new);
            }
        }
    }

    #[test]
    fn nobody_changes_their_own_role_but_the_owner_may_set_their_own_rights() {
        for role in ROLES {
            for new in ROLES.into_iter().filter(|new| *new != role) {
                assert!(matches!(
                    check_update(
                        party(1, role),
                        party(1, role),
                        PersonFlags::default(),
                        &promote(new)
                    ),
                    Err(ApiError::Forbidden(_))
                ));
            }
        }
        let own = UpdatePersonRequest {
            privacy_override: Some(true),
            office_mode: Some(true),
            ..Default::default()
        };
        let (role, flags) = check_update(
            party(1, Role::Owner),
            party(1, Role::Owner),
            PersonFlags::default(),
            &own,
        )
        .unwrap();
        assert_eq!(role, Role::Owner);
        assert!(flags.privacy_override && flags.office_mode && flags.remote_opening);
        assert!(check_update(
            party(1, Role::User),
            party(1, Role::User),
            PersonFlags::default(),
            &UpdatePersonRequest::default()
        )
        .is_err());
    }

    #[test]
    fn a_super_user_or_admin_cannot_raise_their_own_rights_but_may_drop_them() {
        let raises = [
            UpdatePersonRequest {
                remote_opening: Some(true),
                ..Default::default()
            },
            UpdatePersonRequest {
                office_mode: Some(true),
                ..Default::default()
            },
            UpdatePersonRequest {
                privacy_override: Some(true),
                ..Default::default()
            },
        ];
        for role in [Role::Admin, Role::SuperUser] {
            for change in &raises {
                assert!(
                    matches!(
                        check_update(
                            party(7, role),
                            party(7, role),
                            PersonFlags::default(),
                            change
                        ),
                        Err(ApiError::Forbidden(_))
                    ),
                    "{role:?} raised their own {change:?}"
                );
            }
            let held = PersonFlags {
                remote_opening: true,
                ..Default::default()
            };
            let drop = UpdatePersonRequest {
                remote_opening: Some(false),
                ..Default::default()
            };
            let (_, after) = check_update(party(7, role), party(7, role), held, &drop).unwrap();
            assert!(!after.remote_opening, "{role:?} may drop a right");
        }
    }

    #[test]
    fn privacy_override_and_offline_access_only_from_owner_and_admins() {
        let grant = UpdatePersonRequest {
            privacy_override: Some(true),
            ..Default::default()
        };
        let offline = UpdatePersonRequest {
            offline_access: Some(true),
            ..Default::default()
        };
        for (actor, allowed) in [
            (Role::Owner, true),
            (Role::Admin, true),
            (Role::SuperUser, false),
            (Role::User, false),
        ] {
            for change in [&grant, &offline] {
                let result = check_update(
                    party(1, actor),
                    party(2, Role::User),
                    PersonFlags::default(),
                    change,
                );
                assert_eq!(result.is_ok(), allowed, "{actor:?} {change:?}");
            }
        }
        let own = check_update(
            party(2, Role::Admin),
            party(2, Role::Admin),
            PersonFlags::default(),
            &offline,
        );
        assert!(
            matches!(own, Err(ApiError::Forbidden(_))),
            "nobody raises their own offline access"
        );
        // Repeating the current value is not a change.
        let current = PersonFlags {
            privacy_override: true,
            ..Default::default()
        };
        assert!(check_update(
            party(1, Role::SuperUser),
            party(2, Role::User),
            current,
            &grant
        )
        .is_ok());
    }

    #[test]
    fn remote_rights_from_owner_admins_and_super_users_within_their_reach() {
        let grant = UpdatePersonRequest {
            remote_opening: Some(true),
            ..Default::default()
        };
        use Role::*;
        for (actor, target, allowed) in [
            (Owner, Admin, true),
            (Admin, Admin, true),
            (SuperUser, SuperUser, true),
            (SuperUser, User, true),
            (SuperUser, Admin, false),
            (User, User, false),
        ] {
            let result = check_update(
                party(1, actor),
                party(2, target),
                PersonFlags::default(),
                &grant,
            );
            assert_eq!(result.is_ok(), allowed, "{actor:?} → {target:?}");
        }
    }

    #[test]
    fn office_mode_implies_remote_opening() {
        let actor = party(1, Role::Admin);
        let target = party(2, Role::User);
        let on = UpdatePersonRequest {
            office_mode: Some(true),
            ..Default::default()
        };
        let (_, flags) = check_update(actor, target, PersonFlags::default(), &on).unwrap();
        assert!(flags.office_mode && flags.remote_opening);
        let contradictory = UpdatePersonRequest {
            office_mode: Some(true),
            remote_opening: Some(false),
            ..Default::default()
        };
        assert!(matches!(
            check_update(actor, target, PersonFlags::default(), &contradictory),
            Err(ApiError::InvalidInput(_))
        ));
        let off_remote = UpdatePersonRequest {
            remote_opening: Some(false),
            ..Default::default()
        };
        assert!(matches!(
            check_update(actor, target, flags, &off_remote),
            Err(ApiError::InvalidInput(_))
        ));
        let off_office = UpdatePersonRequest {
            office_mode: Some(false),
            ..Default::default()
        };
        let (_, after) = check_update(actor, target, flags, &off_office).unwrap();
        assert!(
            !after.office_mode && after.remote_opening,
            "remote opening may stay"
        );
    }
}
