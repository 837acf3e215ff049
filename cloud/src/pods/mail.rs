//! The e-mails pods send: a guest's invitation, a new member's invitation, and the note to a
//! member who already has an account. Codes go in through the outbox's secret placeholder:
//! the outbox keeps the finished body sealed until delivery, and erases it then.

use chrono::{DateTime, FixedOffset};
use keyway_api::LockRef;
use rusqlite::Connection;

use super::invitations::{InvitationCode, LINK_PREFIX};
use super::store::PodPerson;
use crate::email::{NewEmail, SECRET_PLACEHOLDER};
use crate::error::ApiResult;
use crate::issuing::plan::Stay;

/// What the e-mails say about the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    /// Site name.
    pub name: String,
    /// Its offset from UTC, minutes (times are shown in site time).
    pub utc_offset_minutes: i32,
}

/// The site's name and time zone.
pub fn site_info(db: &Connection, site_id: u32) -> ApiResult<SiteInfo> {
    Ok(db.query_row(
        "SELECT name, utc_offset_minutes FROM sites WHERE id = ?1",
        [site_id],
        |row| {
            Ok(SiteInfo {
                name: row.get(0)?,
                utc_offset_minutes: row.get(1)?,
            })
        },
    )?)
}

/// A Unix time as `2024-10-29 17:00 UTC` style text (without the zone).
pub fn utc_time(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// A Unix time in site time: `2024-10-29 17:00 (UTC+01:00)`.
pub fn site_time(unix: i64, utc_offset_minutes: i32) -> String {
    let local = FixedOffset::east_opt(utc_offset_minutes.saturating_mul(60))
        .zip(DateTime::from_timestamp(unix, 0))
        .map(|(offset, time)| time.with_timezone(&offset));
    match local {
        Some(time) => format!(
            "{} (UTC{})",
            time.format("%Y-%m-%d %H:%M"),
            time.format("%:z")
        ),
        None => format!("{} UTC", utc_time(unix)),
    }
}

/// "Hello Ana," or, when all we know is the address, "Hello,".
fn greeting(name: &str, address: &str) -> String {
    if name.eq_ignore_ascii_case(address) {
        "Hello,".into()
    } else {
        format!("Hello {name},")
    }
}

fn lock_list(locks: &[LockRef]) -> String {
    locks
        .iter()
        .map(|lock| format!("  - {}\n", lock.name))
        .collect()
}

fn how_to_accept(expires_at: i64, site: &SiteInfo) -> String {
    format!(
        "To accept:\n\
         1. Install the Keyway app and create your account with this e-mail address (or sign \
            in if you have one).\n\
         2. Open this link on your phone: {LINK_PREFIX}{SECRET_PLACEHOLDER}\n\
            or enter the invitation code: {SECRET_PLACEHOLDER}\n\
         3. Your digital key arrives in the app; hold your phone to the lock to open it.\n\n\
         The code works once, until {}. If you did not expect this e-mail, ignore it.\n",
        site_time(expires_at, site.utc_offset_minutes)
    )
}

/// A guest's invitation.
#[derive(Debug, Clone)]
pub struct GuestInvitation<'a> {
    /// The guest's address.
    pub to: &'a str,
    /// The guest's name.
    pub guest_name: &'a str,
    /// The member who invited them.
    pub inviter_name: &'a str,
    /// The pod's name.
    pub pod_name: &'a str,
    /// The site.
    pub site: &'a SiteInfo,
    /// The locks the guest opens.
    pub locks: &'a [LockRef],
    /// Check-in and check-out.
    pub stay: Stay,
    /// When the code stops working.
    pub expires_at: i64,
}

impl GuestInvitation<'_> {
    /// The e-mail, with `code` as its secret.
    pub fn email(&self, code: &InvitationCode) -> NewEmail {
        let offset = self.site.utc_offset_minutes;
        NewEmail {
            to: self.to.to_string(),
            subject: format!(
                "{} invited you to {} at {}",
                self.inviter_name, self.pod_name, self.site.name
            ),
            body: format!(
                "{}\n\n\
                 {} invited you to {} at {}. With the Keyway app your phone opens:\n{}\
                 from check-in {}\nto check-out {}.\n\n{}",
                greeting(self.guest_name, self.to),
                self.inviter_name,
                self.pod_name,
                self.site.name,
                lock_list(self.locks),
                site_time(self.stay.from, offset),
                site_time(self.stay.until, offset),
                how_to_accept(self.expires_at, self.site)
            ),
            secret: Some(code.grouped()),
        }
    }
}

/// A member's welcome: `code` is set when they have no account yet and must accept it.
pub fn member_email(
    to: &str,
    member_name: &str,
    pod_name: &str,
    site: &SiteInfo,
    locks: &[LockRef],
    invitation: Option<(&InvitationCode, i64)>,
) -> NewEmail {
    let next = match invitation {
        Some((_, expires_at)) => how_to_accept(expires_at, site),
        None => "Open the Keyway app and sync your keys: you can open these locks with your \
                 phone, open them remotely, and invite guests from the app.\n"
            .to_string(),
    };
    NewEmail {
        to: to.to_string(),
        subject: format!("You are a member of {pod_name} at {}", site.name),
        body: format!(
            "{}\n\n\
             You are now a member of {pod_name} at {}. Members open these locks:\n{}\n{next}",
            greeting(member_name, to),
            site.name,
            lock_list(locks)
        ),
        secret: invitation.map(|(code, _)| code.grouped()),
    }
}

/// The note to a guest whose access ended because the member who invited them left the pod
/// or the site.
pub fn guest_access_ended_email(guest: &PodPerson, pod_name: &str, site: &SiteInfo) -> NewEmail {
    NewEmail {
        to: guest.email.clone(),
        subject: format!("Your access to {pod_name} at {} has ended", site.name),
        body: format!(
            "{}\n\n\
             The person who invited you to {pod_name} at {} is no longer there, so your \
             invitation and your digital keys for it have ended: the locks no longer open for \
             you. If you still need access, ask someone at {} to invite you again.\n",
            greeting(&guest.name, &guest.email),
            site.name,
            pod_name
        ),
        secret: None,
    }
}

/// The note to somebody invited as a guest who is already on the site: the invitation gives
/// them nothing, and the member who invited them is not told why.
pub fn guest_already_on_site_email(
    to: &str,
    inviter_name: &str,
    pod_name: &str,
    site: &SiteInfo,
) -> NewEmail {
    NewEmail {
        to: to.to_string(),
        subject: format!("{inviter_name} invited you to {pod_name} at {}", site.name),
        body: format!(
            "Hello,\n\n\
             {inviter_name} invited you as a guest to {pod_name} at {}. You already have access \
             to this site with this address, so the invitation changes nothing: keep using \
             the Keyway app as you do. If you need access to {pod_name}, ask the site's \
             administrators.\n",
            site.name
        ),
        secret: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_site_time() {
        assert_eq!(site_time(1_572_368_400, 60), "2019-10-29 18:00 (UTC+01:00)");
        assert_eq!(
            site_time(1_572_368_400, -300),
            "2019-10-29 12:00 (UTC-05:00)"
        );
        assert_eq!(utc_time(1_572_368_400), "2019-10-29 17:00");
    }

    #[test]
    fn the_invitation_keeps_its_code_out_of_the_body() {
        let site = SiteInfo {
            name: "HQ".into(),
            utc_offset_minutes: 0,
        };
        let code = super::super::invitations::generate().unwrap();
        let locks = [LockRef {
            lock_id: 1,
            name: "Front".into(),
        }];
        let email = GuestInvitation {
            to: "g@example.com",
            guest_name: "Gus",
            inviter_name: "Mia",
            pod_name: "Apt 201",
            site: &site,
            locks: &locks,
            stay: Stay {
                from: 0,
                until: 3_600,
            },
            expires_at: 3_600,
        }
        .email(&code);
        assert!(!email.body.contains(&code.grouped()));
        assert!(email.body.contains(SECRET_PLACEHOLDER) && email.body.contains("Front"));
        assert_eq!(email.secret, Some(code.grouped()));
        let sent = email.body.replace(SECRET_PLACEHOLDER, &code.grouped());
        assert_eq!(
            super::super::invitations::find_code(&sent),
            Some(code.grouped())
        );
    }
}
