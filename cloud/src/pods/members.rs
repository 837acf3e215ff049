//! Adding a member (owner and admins): a verified account of the address joins at once and
//! gets a note; any other address gets an invitation code to accept once signed up and
//! verified.

use keyway_api::pods::PodMemberInput;
use keyway_api::Role;
use rusqlite::Connection;

use super::invitations;
use super::mail::{member_email, site_info};
use super::people::{ensure_not_a_guest, ensure_not_in_pod, join};
use super::store::{lock_ids, lock_refs, people_where, Kind, Pod, PodPerson};
use crate::api::access::role_on_site;
use crate::auth::accounts::{normalize_email, normalize_name};
use crate::auth::verification::find_account;
use crate::email;
use crate::error::{ApiError, ApiResult};

/// Joining a pod as a member turns remote opening on: nobody but the site's owner raises their
/// own rights, so an admin cannot make themselves a member (another admin or the owner may).
fn refuse_self_membership(
    db: &Connection,
    site_id: u32,
    email: &str,
    invited_by: u32,
) -> ApiResult<()> {
    let own = matches!(find_account(db, email)?, Some((user_id, _)) if user_id == invited_by);
    if own && role_on_site(db, site_id, invited_by)? != Role::Owner {
        return Err(ApiError::Forbidden(
            "nobody raises their own rights: ask the site's owner or another admin to make you \
             a member of this pod"
                .into(),
        ));
    }
    Ok(())
}

/// Adds `input` to `pod` on behalf of `invited_by`; an invitation lives `invitation_ttl`
/// seconds. Queues the e-mail (delivered once the caller's transaction commits).
pub fn add_member(
    db: &Connection,
    pod: &Pod,
    input: &PodMemberInput,
    invited_by: u32,
    now: i64,
    invitation_ttl: i64,
) -> ApiResult<PodPerson> {
    let email = normalize_email(&input.email)?;
    let name = normalize_name(&input.name)?;
    refuse_self_membership(db, pod.site_id, &email, invited_by)?;
    ensure_not_in_pod(db, pod.pod_id, &email)?;
    ensure_not_a_guest(db, pod.site_id, &email)?;
    db.execute(
        "INSERT INTO pod_people (pod_id, site_id, kind, email, name, invited_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            pod.pod_id,
            pod.site_id,
            Kind::Member.as_str(),
            email,
            name,
            invited_by,
            now
        ],
    )?;
    let id = u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("pod member id out of range".into()))?;
    let person = people_where(db, "id = ?1", [id])?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal(format!("pod member {id} vanished")))?;
    // Only an account that proved it owns the address joins at once; anybody else gets an
    // invitation code, redeemable once signed in with a verified account of that address.
    let account = match find_account(db, &email)? {
        Some((user_id, true)) => Some(user_id),
        _ => None,
    };
    let site = site_info(db, pod.site_id)?;
    let locks = lock_refs(db, &lock_ids(db, pod.pod_id)?)?;
    match account {
        Some(user_id) => {
            let joined = join(db, &person, user_id, now)?;
            let note = member_email(&email, &name, &pod.name, &site, &locks, None);
            email::queue_capped(db, &note, now, email::MAILS_PER_HOUR)?;
            Ok(joined)
        }
        None => {
            let expires_at = now.saturating_add(invitation_ttl);
            let code = invitations::create(db, person.id, expires_at, now)?;
            let invitation = member_email(
                &email,
                &name,
                &pod.name,
                &site,
                &locks,
                Some((&code, expires_at)),
            );
            email::queue_capped(db, &invitation, now, email::MAILS_PER_HOUR)?;
            Ok(person)
        }
    }
}
