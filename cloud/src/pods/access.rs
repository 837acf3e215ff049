//! Who may do what to a pod (manual 000): the site's owner and admins manage pods, their
//! members and locks, and every guest; a member sees the pod, invites guests and manages the
//! guests they invited; anyone else on the site is refused (403). The pod's site is invisible
//! (404) to people not on it: the handlers check that first.

use keyway_api::Role;
use rusqlite::Connection;

use super::store::{people_where, Kind, Pod, PodPerson};
use crate::error::{ApiError, ApiResult};
use crate::roles::may_manage_site;

/// The caller's standing towards one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The caller's account.
    pub user_id: u32,
    /// Owner or admin of the pod's site.
    pub admin: bool,
    /// Their row as a joined member of this pod.
    pub member: Option<PodPerson>,
}

/// The standing of `user_id`, whose role on the pod's site is `role`.
pub fn standing(db: &Connection, pod: &Pod, user_id: u32, role: Role) -> ApiResult<Standing> {
    let member = people_where(
        db,
        "pod_id = ?1 AND user_id = ?2 AND kind = 'member'",
        [pod.pod_id, user_id],
    )?
    .into_iter()
    .next();
    Ok(Standing {
        user_id,
        admin: may_manage_site(role),
        member,
    })
}

fn forbidden(message: &str) -> ApiError {
    ApiError::Forbidden(message.to_string())
}

impl Standing {
    /// Creating, changing, cleaning and deleting pods, their members and locks.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.admin {
            Ok(())
        } else {
            Err(forbidden(
                "only the site owner and admins manage pods, their members and locks",
            ))
        }
    }

    /// Seeing the pod's details.
    pub fn require_view(&self) -> ApiResult<()> {
        if self.admin || self.member.is_some() {
            Ok(())
        } else {
            Err(forbidden(
                "only the pod's members and the site owner and admins see this pod",
            ))
        }
    }

    /// Inviting guests: members only, from their app.
    pub fn require_member(&self) -> ApiResult<&PodPerson> {
        self.member
            .as_ref()
            .ok_or_else(|| forbidden("only the members of this pod invite its guests"))
    }

    /// Whether the caller sees and manages this guest: admins all of them, members the ones
    /// they invited.
    pub fn manages(&self, guest: &PodPerson) -> bool {
        guest.kind == Kind::Guest
            && (self.admin || (self.member.is_some() && guest.invited_by == Some(self.user_id)))
    }

    /// Blocking, unblocking or deleting `guest`.
    pub fn require_manages(&self, guest: &PodPerson) -> ApiResult<()> {
        if self.manages(guest) {
            Ok(())
        } else if self.member.is_some() {
            Err(forbidden(
                "pod members manage only the guests they invited themselves",
            ))
        } else {
            Err(forbidden(
                "only the member who invited this guest and the site owner and admins manage it",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(kind: Kind, user_id: Option<u32>, invited_by: Option<u32>) -> PodPerson {
        PodPerson {
            id: 1,
            pod_id: 1,
            site_id: 1,
            kind,
            email: "x@example.com".into(),
            name: "X".into(),
            user_id,
            invited_by,
            stay: None,
            blocked_at: None,
            owns_membership: false,
            granted_remote: false,
        }
    }

    #[test]
    fn admins_manage_everything_members_their_own_guests_others_nothing() {
        let admin = Standing {
            user_id: 1,
            admin: true,
            member: None,
        };
        let member = Standing {
            user_id: 2,
            admin: false,
            member: Some(person(Kind::Member, Some(2), Some(1))),
        };
        let other = Standing {
            user_id: 3,
            admin: false,
            member: None,
        };
        let mine = person(Kind::Guest, None, Some(2));
        let theirs = person(Kind::Guest, None, Some(9));
        assert!(admin.require_admin().is_ok() && admin.require_view().is_ok());
        assert!(
            admin.require_member().is_err(),
            "admins do not invite guests"
        );
        assert!(admin.manages(&mine) && admin.manages(&theirs));
        assert!(member.require_admin().is_err());
        assert!(member.require_view().is_ok() && member.require_member().is_ok());
        assert!(member.manages(&mine) && !member.manages(&theirs));
        assert!(member.require_manages(&theirs).is_err());
        assert!(other.require_view().is_err() && other.require_member().is_err());
        assert!(!other.manages(&mine));
        let not_a_guest = person(Kind::Member, Some(5), Some(2));
        assert!(
            !admin.manages(&not_a_guest),
            "members are not managed as guests"
        );
    }
}
