//! Pods as an attacker tries them: a removed tenant's guests staying in, a removed tenant
//! coming back with their old pod rights, a member testing who is on the site, a super user
//! raising their own rights, a stay without end.

use crate::api_support;

use api_support::{typed, Caller, Cloud};
use keyway_api::pods::{GuestView, PodView};
use keyway_api::{Role, SiteView};
use keyway_cloud::pods::invitations::find_code;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A site with a pod on its first lock; a joined member; a joined guest of that member with a
/// registered device holding a key.
struct Scene {
    cloud: Cloud,
    owner: Caller,
    site: SiteView,
    door: u32,
    member: Caller,
    member_email: String,
    pod: PodView,
    guest: Caller,
    guest_email: String,
    guest_device: u32,
}

async fn scene() -> Scene {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (door, _) = cloud.lock(&owner, site.site_id, "Apartment").await;
    let member_email = cloud.email();
    let member = cloud.account_with_email(&member_email).await;
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/pods", site.site_id),
            json!({ "name": "Apartment 201", "lock_ids": [door.lock_id],
                    "members": [{ "name": "Mia", "email": member_email }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pod: PodView = typed(body);
    let guest_email = cloud.email();
    let (status, body) = invite(&cloud, &member, pod.pod_id, &guest_email, door.lock_id).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let guest = cloud.account_with_email(&guest_email).await;
    let code = invitation_code(&cloud, &guest_email).await.unwrap();
    let (status, body) = cloud
        .post(
            &guest,
            "/api/v1/invitations/redeem",
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (device, _) = cloud.device(&guest).await;
    let keys = cloud.sync(&guest, device.device_id).await;
    assert_eq!(keys.keys.len(), 1, "the guest holds a key");
    Scene {
        cloud,
        owner,
        site,
        door: door.lock_id,
        member,
        member_email,
        pod,
        guest,
        guest_email,
        guest_device: device.device_id,
    }
}

async fn invite(
    cloud: &Cloud,
    member: &Caller,
    pod_id: u32,
    email: &str,
    lock_id: u32,
) -> (StatusCode, Value) {
    cloud
        .post(
            member,
            &format!("/api/v1/pods/{pod_id}/guests"),
            json!({ "email": email, "name": "Gus", "lock_ids": [lock_id],
                    "from": now() - 60, "until": now() + 3_600 }),
        )
        .await
}

async fn invitation_code(cloud: &Cloud, to: &str) -> Option<String> {
    cloud
        .mail_to(to)
        .await
        .iter()
        .rev()
        .find_map(|message| find_code(&message.body))
}

impl Scene {
    fn people_path(&self, user_id: u32) -> String {
        format!("/api/v1/sites/{}/people/{user_id}", self.site.site_id)
    }

    /// What the guest's phone learns at its next sync, and whether the denylist names the key.
    async fn guest_locked_out(&self) {
        let keys = self.cloud.sync(&self.guest, self.guest_device).await;
        assert!(keys.keys.is_empty(), "the guest's key is gone: {keys:?}");
        let revoked = self
            .cloud
            .count(format!(
                "SELECT COUNT(*) FROM credentials WHERE device_id = {} AND revoked_at IS NULL",
                self.guest_device
            ))
            .await;
        assert_eq!(revoked, 0, "every key of the guest is revoked");
        assert!(
            self.cloud
                .count("SELECT COUNT(*) FROM mailbox_updates WHERE kind = 'deny'")
                .await
                > 0,
            "locks are told through the denylist"
        );
        let (status, body) = self.cloud.get(&self.guest, "/api/v1/me/pods").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!([]), "the guest is in no pod");
        let told = self.cloud.mail_to(&self.guest_email).await;
        assert_eq!(told.len(), 2, "the invitation, then the note that it ended");
        assert_eq!(find_code(&told[1].body), None);
    }
}

#[tokio::test]
async fn removing_a_tenant_from_the_site_locks_their_guests_out_and_leaves_no_pod_right() {
    let s = scene().await;
    let (status, body) = s
        .cloud
        .delete(&s.owner, &s.people_path(s.member.user_id))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    s.guest_locked_out().await;

    // The pod no longer lists them.
    let (status, body) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/pods/{}", s.pod.pod_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    let pod: PodView = typed(body);
    assert!(pod.members.is_empty(), "{pod:?}");
    assert_eq!((pod.guests_active, pod.guests_invited), (0, 0));

    // Added back as a plain user, they get what that says and nothing of the pod.
    let (status, body) = s
        .cloud
        .post(
            &s.owner,
            &format!("/api/v1/sites/{}/people", s.site.site_id),
            json!({ "email": s.member_email, "name": "Mia", "role": "user" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["remote_opening"], false, "{body}");
    let (status, body) = s.cloud.get(&s.member, "/api/v1/me/pods").await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
    let (device, _) = s.cloud.device(&s.member).await;
    let keys = s.cloud.sync(&s.member, device.device_id).await;
    assert!(keys.keys.is_empty(), "no key from the old pod: {keys:?}");
    let (status, _) = invite(&s.cloud, &s.member, s.pod.pod_id, &s.cloud.email(), s.door).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no longer a member: no guests"
    );
}

#[tokio::test]
async fn removing_a_member_from_the_pod_locks_their_guests_out() {
    let s = scene().await;
    let member_id = s.pod.members[0].member_id;
    let (status, body) = s
        .cloud
        .delete(
            &s.owner,
            &format!("/api/v1/pods/{}/members/{member_id}", s.pod.pod_id),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.guest_locked_out().await;
}

#[tokio::test]
async fn a_member_cannot_tell_whether_an_address_is_on_the_site() {
    let s = scene().await;
    let insider = s.cloud.email();
    let (status, _) = s
        .cloud
        .post(
            &s.owner,
            &format!("/api/v1/sites/{}/people", s.site.site_id),
            json!({ "email": insider, "name": "Ines", "role": "user" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let newcomer = s.cloud.email();
    let (known_status, known) = invite(&s.cloud, &s.member, s.pod.pod_id, &insider, s.door).await;
    let (new_status, new) = invite(&s.cloud, &s.member, s.pod.pod_id, &newcomer, s.door).await;
    assert_eq!(known_status, new_status);
    assert_eq!(known_status, StatusCode::CREATED, "{known}");
    let (known, new): (GuestView, GuestView) = (typed(known), typed(new));
    assert_eq!(known.status, new.status);
    assert_eq!(
        known.invitation_expires_at.is_some(),
        new.invitation_expires_at.is_some()
    );
    // The member's list shows both the same way.
    let (_, list) = s
        .cloud
        .get(&s.member, &format!("/api/v1/pods/{}/guests", s.pod.pod_id))
        .await;
    let list: Vec<GuestView> = typed(list);
    let status_of = |email: &str| list.iter().find(|g| g.email == email).map(|g| g.status);
    assert_eq!(status_of(&insider), status_of(&newcomer));
    // The address itself learns the difference: the insider's e-mail carries no code.
    assert!(invitation_code(&s.cloud, &newcomer).await.is_some());
    assert_eq!(invitation_code(&s.cloud, &insider).await, None);
    assert!(!s.cloud.mail_to(&insider).await.is_empty());
    // And a guest of this site stays one guest: another pod's invitation gives nothing either.
    let (status, _) = invite(&s.cloud, &s.member, s.pod.pod_id, &s.guest_email, s.door).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "already invited to this very pod"
    );
}

#[tokio::test]
async fn a_super_user_cannot_give_himself_remote_opening_or_office_mode() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    for role in [Role::SuperUser, Role::Admin] {
        let insider = cloud.member(&owner, site.site_id, role).await;
        let own = format!("/api/v1/sites/{}/people/{}", site.site_id, insider.user_id);
        for change in [
            json!({ "remote_opening": true }),
            json!({ "office_mode": true }),
            json!({ "privacy_override": true }),
        ] {
            let (status, body) = cloud.patch(&insider, &own, change.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {change}: {body}");
            assert_eq!(body["error"], "forbidden");
        }
        let people = cloud.people(&owner, site.site_id).await;
        let me = people
            .iter()
            .find(|p| p.user_id == insider.user_id)
            .unwrap();
        assert!(!me.remote_opening && !me.office_mode && !me.privacy_override);
    }
}

#[tokio::test]
async fn a_guest_stay_longer_than_a_year_is_refused() {
    let s = scene().await;
    let (status, body) = s
        .cloud
        .post(
            &s.member,
            &format!("/api/v1/pods/{}/guests", s.pod.pod_id),
            json!({ "email": s.cloud.email(), "lock_ids": [s.door],
                    "from": now(), "until": now() + 400 * 86_400 }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_input");
    let (status, _) = s
        .cloud
        .post(
            &s.member,
            &format!("/api/v1/pods/{}/guests", s.pod.pod_id),
            json!({ "email": s.cloud.email(), "lock_ids": [s.door],
                    "from": now(), "until": now() + 360 * 86_400 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_admin_cannot_make_himself_a_pod_member_to_get_remote_opening() {
    let s = scene().await;
    let admin_email = s.cloud.email();
    let admin = s.cloud.account_with_email(&admin_email).await;
    let (status, _) = s
        .cloud
        .post(
            &s.owner,
            &format!("/api/v1/sites/{}/people", s.site.site_id),
            json!({ "email": admin_email, "name": "Adam", "role": "admin" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = s
        .cloud
        .post(
            &admin,
            &format!("/api/v1/pods/{}/members", s.pod.pod_id),
            json!({ "name": "Adam", "email": admin_email }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = s
        .cloud
        .post(
            &admin,
            &format!("/api/v1/sites/{}/pods", s.site.site_id),
            json!({ "name": "Mine", "lock_ids": [s.door],
                    "members": [{ "name": "Adam", "email": admin_email }] }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let people = s.cloud.people(&s.owner, s.site.site_id).await;
    let adam = people.iter().find(|p| p.user_id == admin.user_id).unwrap();
    assert!(!adam.remote_opening, "no remote opening gained");
    // The owner may make the admin a member.
    let (status, body) = s
        .cloud
        .post(
            &s.owner,
            &format!("/api/v1/pods/{}/members", s.pod.pod_id),
            json!({ "name": "Adam", "email": admin_email }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
