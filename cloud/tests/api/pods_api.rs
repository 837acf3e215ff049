//! Pods over HTTP: who may do what (owner and admins manage pods; members invite and manage
//! their own guests), every refusal with a clear status and error code, invitations that work
//! once and expire, and refused requests that change nothing (no person, no e-mail).

use crate::api_support;

use api_support::{typed, Caller, Cloud};
use keyway_api::pods::{GuestView, MyPodView, PodPersonStatus, PodRole, PodView};
use keyway_api::{ErrorCode, MeResponse, Role, SiteView};
use keyway_cloud::pods::invitations::find_code;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Fixture {
    cloud: Cloud,
    owner: Caller,
    site: SiteView,
    locks: Vec<u32>,
    member: Caller,
    member_email: String,
    pod: PodView,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A site with three locks and a pod on the first two, whose one member has an account.
async fn fixture() -> Fixture {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let mut locks = Vec::new();
    for name in ["Apartment", "Gate", "Storage"] {
        locks.push(cloud.lock(&owner, site.site_id, name).await.0.lock_id);
    }
    let member = cloud.account().await;
    let member_email = email_of(&cloud, member.user_id).await;
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/pods", site.site_id),
            json!({ "name": "Apartment 201", "lock_ids": [locks[0], locks[1]],
                    "members": [{ "name": "Mia", "email": member_email }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pod: PodView = typed(body);
    Fixture {
        cloud,
        owner,
        site,
        locks,
        member,
        member_email,
        pod,
    }
}

async fn email_of(cloud: &Cloud, user_id: u32) -> String {
    let (email,): (String,) = cloud
        .running
        .state
        .store
        .run(move |db| {
            Ok::<_, keyway_cloud::StoreError>((db.query_row(
                "SELECT email FROM users WHERE id = ?1",
                [user_id],
                |row| row.get(0),
            )?,))
        })
        .await
        .unwrap();
    email
}

/// Delivers due mail and returns the latest invitation code sent to `to`.
async fn code_for(cloud: &Cloud, to: &str) -> String {
    cloud
        .mail_to(to)
        .await
        .into_iter()
        .rev()
        .find_map(|message| find_code(&message.body))
        .unwrap_or_else(|| panic!("no invitation to {to}"))
}

fn guest_body(email: &str, lock_ids: &[u32], from: i64, until: i64) -> Value {
    json!({ "email": email, "name": "Gus", "lock_ids": lock_ids, "from": from, "until": until })
}

/// The machine code of an error body.
fn error_code(body: &Value) -> ErrorCode {
    ErrorCode::parse(body["error"].as_str().unwrap_or_default())
}

impl Fixture {
    fn pod_path(&self, rest: &str) -> String {
        format!("/api/v1/pods/{}{rest}", self.pod.pod_id)
    }

    async fn invite(&self, by: &Caller, email: &str, lock_ids: &[u32]) -> (StatusCode, Value) {
        self.cloud
            .post(
                by,
                &self.pod_path("/guests"),
                guest_body(email, lock_ids, now() - 60, now() + 3_600),
            )
            .await
    }

    async fn redeem(&self, by: &Caller, code: &str) -> (StatusCode, Value) {
        self.cloud
            .post(by, "/api/v1/invitations/redeem", json!({ "code": code }))
            .await
    }
}

#[tokio::test]
async fn only_the_owner_and_admins_manage_pods_and_outsiders_do_not_see_them() {
    let f = fixture().await;
    let site_id = f.site.site_id;
    assert_eq!(f.pod.members.len(), 1);
    // Joined with an existing account, but shown as invited until they use Keyway: adding an
    // address tells the admin nothing about whether it has an account.
    assert_eq!(f.pod.members[0].status, PodPersonStatus::Invited);
    assert_eq!(f.pod.members[0].user_id, None);
    assert_eq!(f.cloud.get(&f.member, "/api/v1/me").await.0, StatusCode::OK);
    let (_, pod) = f.cloud.get(&f.owner, &f.pod_path("")).await;
    let pod: PodView = typed(pod);
    assert_eq!(pod.members[0].status, PodPersonStatus::Active);
    assert_eq!(pod.members[0].user_id, Some(f.member.user_id));
    assert_eq!(f.pod.locks.len(), 2);
    let admin = f.cloud.member(&f.owner, site_id, Role::Admin).await;
    let superuser = f.cloud.member(&f.owner, site_id, Role::SuperUser).await;
    let user = f.cloud.member(&f.owner, site_id, Role::User).await;
    let outsider = f.cloud.account().await;
    let create = json!({ "name": "P", "lock_ids": [f.locks[2]],
                         "members": [{ "name": "N", "email": "n@example.com" }] });
    let path = format!("/api/v1/sites/{site_id}/pods");
    for (caller, status) in [
        (&superuser, StatusCode::FORBIDDEN),
        (&user, StatusCode::FORBIDDEN),
        (&f.member, StatusCode::FORBIDDEN),
        (&outsider, StatusCode::NOT_FOUND),
        (&admin, StatusCode::CREATED),
    ] {
        let (got, body) = f.cloud.post(caller, &path, create.clone()).await;
        assert_eq!(got, status, "{body}");
    }
    let (status, body) = f
        .cloud
        .post(
            &admin,
            &path,
            json!({ "name": "Empty", "lock_ids": [], "members": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), ErrorCode::InvalidInput, "{body}");
    let other_site = f.cloud.site(&f.owner).await;
    let (foreign, _) = f
        .cloud
        .lock(&f.owner, other_site.site_id, "Elsewhere")
        .await;
    let (status, body) = f
        .cloud
        .post(
            &admin,
            &path,
            json!({ "name": "X", "lock_ids": [foreign.lock_id],
                                      "members": [{ "name": "N", "email": "z@example.com" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), ErrorCode::InvalidInput, "{body}");

    // Seeing a pod: its member and the admins; other people on the site get 403; outsiders 404.
    for (caller, status) in [
        (&f.member, StatusCode::OK),
        (&admin, StatusCode::OK),
        (&user, StatusCode::FORBIDDEN),
        (&outsider, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(f.cloud.get(caller, &f.pod_path("")).await.0, status);
    }
    let (status, body) = f.cloud.get(&f.owner, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(typed::<Vec<PodView>>(body).len(), 2);
    let (status, body) = f
        .cloud
        .patch(&f.member, &f.pod_path(""), json!({ "name": "Mine now" }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), ErrorCode::Forbidden, "{body}");
    let (status, body) = f
        .cloud
        .patch(&admin, &f.pod_path(""), json!({ "name": "Apartment 202" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(typed::<PodView>(body).name, "Apartment 202");
}

#[tokio::test]
async fn members_invite_and_manage_only_their_own_guests_admins_manage_all() {
    let f = fixture().await;
    let admin = f.cloud.member(&f.owner, f.site.site_id, Role::Admin).await;
    let (status, body) = f.invite(&f.member, "gus@example.com", &[f.locks[0]]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let guest: GuestView = typed(body);
    assert_eq!(guest.status, PodPersonStatus::Invited);
    assert!(guest.digital_key && !guest.remote_opening);
    assert!(guest.invitation_expires_at.is_some());

    // Admins do not invite (members do, from the app); non-members of the pod cannot either.
    let (status, body) = f.invite(&admin, "other@example.com", &[f.locks[0]]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), ErrorCode::Forbidden, "{body}");

    // A second member sees none of the first member's guests and cannot touch them.
    let second = f.cloud.account().await;
    let second_email = email_of(&f.cloud, second.user_id).await;
    let (status, _) = f
        .cloud
        .post(
            &f.owner,
            &f.pod_path("/members"),
            json!({ "name": "Sam", "email": second_email }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body) = f.cloud.get(&second, &f.pod_path("/guests")).await;
    assert!(typed::<Vec<GuestView>>(body).is_empty());
    let block = f.pod_path(&format!("/guests/{}/block", guest.guest_id));
    let (status, body) = f.cloud.post(&second, &block, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), ErrorCode::Forbidden, "{body}");

    // The inviting member and the admins see and block them.
    let (_, body) = f.cloud.get(&f.member, &f.pod_path("/guests")).await;
    assert_eq!(typed::<Vec<GuestView>>(body).len(), 1);
    let (_, body) = f.cloud.get(&admin, &f.pod_path("/guests")).await;
    assert_eq!(typed::<Vec<GuestView>>(body).len(), 1);
    let (status, body) = f.cloud.post(&admin, &block, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(typed::<GuestView>(body).status, PodPersonStatus::Blocked);
    let unblock = f.pod_path(&format!("/guests/{}/unblock", guest.guest_id));
    let (status, body) = f.cloud.post(&f.member, &unblock, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(typed::<GuestView>(body).status, PodPersonStatus::Invited);

    // A plain user of the site is refused; a pod of the site invisible to outsiders.
    let user = f.cloud.member(&f.owner, f.site.site_id, Role::User).await;
    assert_eq!(
        f.cloud.get(&user, &f.pod_path("/guests")).await.0,
        StatusCode::FORBIDDEN
    );
    let outsider = f.cloud.account().await;
    assert_eq!(
        f.cloud.get(&outsider, &f.pod_path("/guests")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invitations_refused_with_clear_reasons_change_nothing() {
    let f = fixture().await;
    let outbox = "SELECT COUNT(*) FROM email_outbox";
    let people = "SELECT COUNT(*) FROM pod_people";
    let (mails, persons) = (f.cloud.count(outbox).await, f.cloud.count(people).await);
    let cases: Vec<(Value, StatusCode, ErrorCode)> = vec![
        (
            guest_body("x@example.com", &[f.locks[2]], now() - 60, now() + 60),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
        ),
        (
            guest_body("x@example.com", &[], now() - 60, now() + 60),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
        ),
        (
            guest_body("x@example.com", &[f.locks[0]], now() + 60, now() - 60),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
        ),
        (
            guest_body("x@example.com", &[f.locks[0]], now() - 7_200, now() - 3_600),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
        ),
        (
            guest_body("not-an-email", &[f.locks[0]], now(), now() + 60),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
        ),
        (
            guest_body(&f.member_email, &[f.locks[0]], now(), now() + 60),
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
        ),
    ];
    for (body, status, error) in cases {
        let (got, answer) = f.cloud.post(&f.member, &f.pod_path("/guests"), body).await;
        assert_eq!(got, status, "{answer}");
        assert_eq!(error_code(&answer), error, "{answer}");
    }
    assert_eq!(
        f.cloud.count(outbox).await,
        mails,
        "no e-mail for refused requests"
    );
    assert_eq!(
        f.cloud.count(people).await,
        persons,
        "no person for refused requests"
    );

    let (status, _) = f
        .invite(&f.member, "twice@example.com", &[f.locks[0]])
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = f
        .invite(&f.member, "TWICE@example.com ", &[f.locks[0]])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), ErrorCode::Conflict, "{body}");
    // A guest of one pod is on the site: another pod's member cannot invite them either.
    let second_pod = json!({ "name": "Apartment 305", "lock_ids": [f.locks[2]],
                             "members": [{ "name": "Ola", "email": "ola@example.com" }] });
    let (status, body) = f
        .cloud
        .post(
            &f.owner,
            &format!("/api/v1/sites/{}/pods", f.site.site_id),
            second_pod,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ola_pod: PodView = typed(body);
    assert_eq!(
        ola_pod.members[0].status,
        PodPersonStatus::Invited,
        "no account yet"
    );
}

#[tokio::test]
async fn a_code_works_once_for_the_invited_address_until_it_expires() {
    let f = fixture().await;
    let (status, _) = f.invite(&f.member, "gus@example.com", &[f.locks[0]]).await;
    assert_eq!(status, StatusCode::CREATED);
    let code = code_for(&f.cloud, "gus@example.com").await;
    let stored = "SELECT COUNT(*) FROM email_outbox WHERE sealed_body IS NOT NULL";
    assert_eq!(
        f.cloud.count(stored).await,
        0,
        "delivered: the code is not kept"
    );
    assert_eq!(
        f.cloud.count("SELECT COUNT(*) FROM pod_invitations").await,
        1
    );

    let stranger = f.cloud.account().await;
    let (status, body) = f.redeem(&stranger, &code).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), ErrorCode::Forbidden, "{body}");
    assert!(
        !body.to_string().contains("gus@example.com"),
        "the invited address is not revealed: {body}"
    );
    let guest = f.cloud.account_with_email("gus@example.com").await;
    for (code, status, error) in [
        ("hello", StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
        (
            "ABCD-EFGH-JKMN-PQRS",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        ),
    ] {
        let (got, body) = f.redeem(&guest, code).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(error_code(&body), error, "{body}");
    }
    let (status, body) = f
        .redeem(&guest, &code.to_lowercase().replace('-', " "))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let joined: MyPodView = typed(body);
    assert_eq!(joined.role, PodRole::Guest);
    assert_eq!(joined.locks.len(), 1);
    assert!(!joined.remote_opening);
    let (status, body) = f.redeem(&guest, &code).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), ErrorCode::Conflict, "{body}");
    let (_, body) = f.cloud.get(&guest, "/api/v1/me").await;
    assert_eq!(
        typed::<MeResponse>(body).sites.len(),
        1,
        "the guest is on the site"
    );

    // An invitation not redeemed in time expires.
    let (status, _) = f.invite(&f.member, "late@example.com", &[f.locks[0]]).await;
    assert_eq!(status, StatusCode::CREATED);
    let code = code_for(&f.cloud, "late@example.com").await;
    let late = f.cloud.account_with_email("late@example.com").await;
    f.cloud.running.state.clock.advance(2 * 3_600);
    let (status, body) = f.redeem(&late, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), ErrorCode::InvalidInput, "{body}");
    let (_, body) = f.cloud.get(&f.member, &f.pod_path("/guests")).await;
    let statuses: Vec<PodPersonStatus> = typed::<Vec<GuestView>>(body)
        .into_iter()
        .map(|guest| guest.status)
        .collect();
    assert_eq!(
        statuses,
        vec![PodPersonStatus::Expired, PodPersonStatus::Expired]
    );
}

#[tokio::test]
async fn blocked_and_deleted_invitations_cannot_be_redeemed() {
    let f = fixture().await;
    let (_, body) = f
        .invite(&f.member, "blocked@example.com", &[f.locks[0]])
        .await;
    let blocked: GuestView = typed(body);
    let (_, body) = f
        .invite(&f.member, "deleted@example.com", &[f.locks[0]])
        .await;
    let deleted: GuestView = typed(body);
    let blocked_code = code_for(&f.cloud, "blocked@example.com").await;
    let deleted_code = code_for(&f.cloud, "deleted@example.com").await;
    let path = f.pod_path(&format!("/guests/{}/block", blocked.guest_id));
    assert_eq!(
        f.cloud.post(&f.member, &path, json!({})).await.0,
        StatusCode::OK
    );
    let path = f.pod_path(&format!("/guests/{}", deleted.guest_id));
    let (status, body) = f.cloud.delete(&f.member, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(typed::<GuestView>(body).email, "deleted@example.com");
    let who = f.cloud.account_with_email("blocked@example.com").await;
    let (status, body) = f.redeem(&who, &blocked_code).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), ErrorCode::Forbidden, "{body}");
    let who = f.cloud.account_with_email("deleted@example.com").await;
    let (status, _) = f.redeem(&who, &deleted_code).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_new_member_accepts_an_invitation_and_gets_remote_opening_leaving_undoes_it() {
    let f = fixture().await;
    let (status, body) = f
        .cloud
        .post(
            &f.owner,
            &f.pod_path("/members"),
            json!({ "name": "Nia", "email": "nia@example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pod: PodView = typed(body);
    let nia = pod
        .members
        .iter()
        .find(|m| m.email == "nia@example.com")
        .unwrap();
    assert_eq!((nia.status, nia.user_id), (PodPersonStatus::Invited, None));
    let code = code_for(&f.cloud, "nia@example.com").await;
    let account = f.cloud.account_with_email("nia@example.com").await;
    let (status, body) = f.redeem(&account, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let joined: MyPodView = typed(body);
    assert_eq!(joined.role, PodRole::Member);
    assert!(joined.remote_opening && joined.locks.len() == 2);
    let remote = format!(
        "SELECT COUNT(*) FROM memberships WHERE user_id = {} AND site_id = {} AND remote_opening",
        account.user_id, f.site.site_id
    );
    assert_eq!(
        f.cloud.count(remote.clone()).await,
        1,
        "members open remotely"
    );

    // Nia invites a guest; removing Nia removes her guest and takes her off the site.
    let (status, _) = f
        .invite(&account, "nias-guest@example.com", &[f.locks[1]])
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let member_id = f.pod_path(&format!("/members/{}", nia.member_id));
    let (status, body) = f.cloud.delete(&f.owner, &member_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after: PodView = typed(body);
    assert_eq!(after.members.len(), 1);
    assert_eq!(after.guests_invited, 0, "her guests went with her");
    let (_, body) = f.cloud.get(&account, "/api/v1/me").await;
    assert!(
        typed::<MeResponse>(body).sites.is_empty(),
        "she was on the site only through the pod"
    );
    assert_eq!(f.cloud.count(remote).await, 0);
}

#[tokio::test]
async fn cleaning_removes_people_keeps_locks_and_keeps_people_who_were_on_the_site_before() {
    let f = fixture().await;
    // A site user (already on the site, remote opening off) also joins the pod.
    let user = f.cloud.member(&f.owner, f.site.site_id, Role::User).await;
    let user_email = email_of(&f.cloud, user.user_id).await;
    let (status, _) = f
        .cloud
        .post(
            &f.owner,
            &f.pod_path("/members"),
            json!({ "name": "U", "email": user_email }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = f.invite(&f.member, "gus@example.com", &[f.locks[0]]).await;
    assert_eq!(status, StatusCode::CREATED);
    let code = code_for(&f.cloud, "gus@example.com").await;
    let guest = f.cloud.account_with_email("gus@example.com").await;
    assert_eq!(f.redeem(&guest, &code).await.0, StatusCode::OK);

    let (status, body) = f.cloud.get(&f.member, &f.pod_path("/clean")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let (status, body) = f
        .cloud
        .post(&f.member, &f.pod_path("/clean"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = f
        .cloud
        .post(&f.owner, &f.pod_path("/clean"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cleaned: PodView = typed(body);
    assert!(cleaned.members.is_empty());
    assert_eq!((cleaned.guests_invited, cleaned.guests_active), (0, 0));
    assert_eq!(cleaned.locks.len(), 2, "locks stay");

    let on_site = |caller: &Caller| {
        let cloud = &f.cloud;
        let caller = caller.clone();
        async move {
            let (_, body) = cloud.get(&caller, "/api/v1/me").await;
            typed::<MeResponse>(body).sites.len()
        }
    };
    assert_eq!(on_site(&user).await, 1, "on the site before the pod: stays");
    assert_eq!(
        on_site(&f.member).await,
        0,
        "on the site through the pod only: gone"
    );
    assert_eq!(on_site(&guest).await, 0);
    let remote = format!(
        "SELECT COUNT(*) FROM memberships WHERE user_id = {} AND remote_opening",
        user.user_id
    );
    assert_eq!(
        f.cloud.count(remote).await,
        0,
        "the pod's remote opening is taken back"
    );

    let (status, body) = f.cloud.delete(&f.owner, &f.pod_path("")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        f.cloud.get(&f.owner, &f.pod_path("")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_pod_routes() {
    let cloud = Cloud::start().await;
    let document = reqwest::get(format!("{}/openapi.json", cloud.running.base_url()))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    for path in [
        "/api/v1/sites/{site_id}/pods",
        "/api/v1/pods/{pod_id}",
        "/api/v1/pods/{pod_id}/locks",
        "/api/v1/pods/{pod_id}/clean",
        "/api/v1/pods/{pod_id}/members",
        "/api/v1/pods/{pod_id}/members/{member_id}",
        "/api/v1/pods/{pod_id}/guests",
        "/api/v1/pods/{pod_id}/guests/{guest_id}",
        "/api/v1/pods/{pod_id}/guests/{guest_id}/block",
        "/api/v1/pods/{pod_id}/guests/{guest_id}/unblock",
        "/api/v1/invitations/redeem",
        "/api/v1/me/pods",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    assert!(document["components"]["schemas"]["InviteGuestRequest"].is_object());
}
