//! The admin console (`/web/console`) as a browser and as an attacker use it: forms forged
//! without the session's token or from another origin are refused and change nothing; a super
//! user forcing an owner-only change through a hand-made form is refused with the rules' own
//! code; each role is offered only what it may do; the pages do what the JSON API does.

use crate::api_support;

use api_support::console::{error_code, on_site, person, Browser};
use api_support::{typed, Caller, Cloud};
use keyway_api::pods::{GuestView, PodPersonStatus, PodView};
use keyway_api::{PersonView, Role};
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use reqwest::StatusCode;
use serde_json::json;

struct Site {
    cloud: Cloud,
    owner: Caller,
    owner_email: String,
    site_id: u32,
}

async fn site() -> Site {
    let cloud = Cloud::start().await;
    let (owner_email, owner) = person(&cloud).await;
    let site_id = cloud.site(&owner).await.site_id;
    Site {
        cloud,
        owner,
        owner_email,
        site_id,
    }
}

async fn person_view(cloud: &Cloud, owner: &Caller, site_id: u32, user_id: u32) -> PersonView {
    cloud
        .people(owner, site_id)
        .await
        .into_iter()
        .find(|person| person.user_id == user_id)
        .unwrap()
}

#[tokio::test]
async fn forged_forms_without_the_token_or_from_another_origin_change_nothing() {
    let s = site().await;
    let target = s.cloud.member(&s.owner, s.site_id, Role::User).await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let rights = format!(
        "/web/console/sites/{}/people/{}/rights",
        s.site_id, target.user_id
    );
    let grant = [
        ("remote_opening", "on"),
        ("privacy_override", "on"),
        ("offline_access", "on"),
    ];

    let (status, page) = owner.post_as(&rights, &grant, &owner.origin, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token");
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    let (status, page) = owner
        .post_as(&rights, &grant, "https://evil.example", true)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "foreign origin");
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    let (status, _) = owner.post_as(&rights, &grant, "null", true).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "opaque origin");
    let removal = format!(
        "/web/console/sites/{}/people/{}/remove",
        s.site_id, target.user_id
    );
    let (status, _) = owner
        .post_as(&removal, &[("csrf", "not-the-token")], &owner.origin, false)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another token");
    let after = person_view(&s.cloud, &s.owner, s.site_id, target.user_id).await;
    assert!(
        !after.remote_opening && !after.privacy_override && !after.offline_access,
        "{after:?}"
    );

    // Without a session nothing is posted at all.
    let anonymous = Browser {
        cookie: String::new(),
        ..owner
    };
    let (status, page) = anonymous.post(&rights, &grant).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&page).as_deref(), Some("unauthorized"));

    // The real form, from the page, works.
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let (status, _) = owner.post(&rights, &grant).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let after = person_view(&s.cloud, &s.owner, s.site_id, target.user_id).await;
    assert!(
        after.remote_opening && after.privacy_override && after.offline_access,
        "{after:?}"
    );
}

#[tokio::test]
async fn a_super_user_forcing_owner_only_changes_is_refused_and_is_not_offered_them() {
    let s = site().await;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let admin = s.cloud.member(&s.owner, s.site_id, Role::Admin).await;
    let user = s.cloud.member(&s.owner, s.site_id, Role::User).await;
    let browser = Browser::sign_in(&s.cloud, &super_email).await;
    let person = |id: u32| format!("/web/console/sites/{}/people/{id}", s.site_id);

    // The user's page offers remote opening but neither privacy override nor the admin role.
    let (status, page) = browser.get(&person(user.user_id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"remote_opening\""), "{page}");
    assert!(!page.contains("name=\"privacy_override\""), "{page}");
    assert!(!page.contains("name=\"offline_access\""), "{page}");
    assert!(!page.contains("value=\"admin\""), "{page}");
    // An admin's page offers no change and no removal.
    let (_, page) = browser.get(&person(admin.user_id)).await;
    assert!(
        !page.contains("/rights\"") && !page.contains("/remove\""),
        "{page}"
    );

    // Forged forms: privacy override, promotion to admin, removing an admin.
    for (path, fields) in [
        (
            format!("{}/rights", person(user.user_id)),
            vec![("privacy_override", "on")],
        ),
        (
            format!("{}/rights", person(user.user_id)),
            vec![("offline_access", "on")],
        ),
        (
            format!("{}/rights", person(user.user_id)),
            vec![("role", "admin")],
        ),
        (
            format!("{}/rights", person(user.user_id)),
            vec![("role", "owner")],
        ),
        (format!("{}/remove", person(admin.user_id)), vec![]),
        (
            format!("{}/rights", person(s.owner.user_id)),
            vec![("remote_opening", "off")],
        ),
    ] {
        let (status, page) = browser.post(&path, &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} {fields:?}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"), "{path}");
    }
    let after = person_view(&s.cloud, &s.owner, s.site_id, user.user_id).await;
    assert_eq!((after.role, after.privacy_override), (Role::User, false));
    assert_eq!(
        s.cloud.people(&s.owner, s.site_id).await.len(),
        4,
        "nobody removed"
    );

    // What they may do, they do: remote opening for the user.
    let (status, _) = browser
        .post(
            &format!("{}/rights", person(user.user_id)),
            &[("remote_opening", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        person_view(&s.cloud, &s.owner, s.site_id, user.user_id)
            .await
            .remote_opening
    );
    // And removing a user: back to People, which says so.
    let (status, _) = browser
        .post(&format!("{}/remove", person(user.user_id)), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, people) = browser
        .get(&format!(
            "/web/console/sites/{}/people?done=removed",
            s.site_id
        ))
        .await;
    assert!(people.contains("data-done=\"removed\""), "{people}");
    let everyone = s.cloud.people(&s.owner, s.site_id).await;
    assert!(everyone.iter().all(|p| p.user_id != user.user_id));
}

#[tokio::test]
async fn each_role_sees_only_its_own_sections_and_outsiders_see_no_site() {
    let s = site().await;
    let (user_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::User).await;
    let (outsider_email, _) = person(&s.cloud).await;
    let site = format!("/web/console/sites/{}", s.site_id);

    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let (_, overview) = owner.get(&site).await;
    assert!(
        overview.contains(&s.owner_email),
        "the owner's details: {overview}"
    );
    assert!(overview.contains(&format!("{site}/pods\"")));

    let user = Browser::sign_in(&s.cloud, &user_email).await;
    let (status, overview) = user.get(&site).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !overview.contains(&format!("{site}/people\"")),
        "{overview}"
    );
    assert!(!overview.contains(&format!("{site}/pods\"")), "{overview}");
    for section in ["people", "import", "pods"] {
        let (status, page) = user.get(&format!("{site}/{section}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{section}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    }

    let outsider = Browser::sign_in(&s.cloud, &outsider_email).await;
    for path in [site.clone(), format!("{site}/people")] {
        let (status, page) = outsider.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&page).as_deref(), Some("not_found"));
    }

    // Not signed in: to the sign-in form.
    let anonymous = Browser {
        cookie: String::new(),
        ..owner
    };
    let response = anonymous
        .http
        .get(format!("{}{site}/people", anonymous.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/web/console");
}

#[tokio::test]
async fn the_people_page_searches_and_pages_with_the_lists_own_cursor_and_adds_people() {
    let s = site().await;
    for n in 0..55 {
        let (status, body) = s
            .cloud
            .post(
                &s.owner,
                &format!("/api/v1/sites/{}/people", s.site_id),
                json!({ "name": format!("Tag {n:02}"), "role": "user" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let people = format!("/web/console/sites/{}/people", s.site_id);
    let (_, first) = owner.get(&people).await;
    assert!(first.contains("56 people match"), "{first}");
    let next = first.find("rel=\"next\" href=\"").map(|at| {
        let rest = &first[at + "rel=\"next\" href=\"".len()..];
        rest[..rest.find('"').unwrap()].replace("&amp;", "&")
    });
    let (_, second) = owner.get(&next.unwrap()).await;
    assert!(
        second.contains("Tag 54") && !second.contains("Tag 00"),
        "{second}"
    );
    assert!(!second.contains("rel=\"next\""));

    let (_, found) = owner.get(&format!("{people}?q=tag+07")).await;
    assert!(
        found.contains("1 people match") && found.contains("Tag 07"),
        "{found}"
    );
    let (status, page) = owner.get(&format!("{people}?q={}", "x".repeat(101))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page).as_deref(), Some("invalid_input"));

    // Adding: a bad phone is the phone field's error; a tag profile is added.
    let (status, page) = owner
        .post(
            &people,
            &[
                ("profile", "tag"),
                ("name", "Door tag"),
                ("role", "user"),
                ("phone", "12"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"phone-error\""), "{page}");
    assert_eq!(error_code(&page).as_deref(), Some("invalid_phone"));
    let (status, _) = owner
        .post(
            &people,
            &[
                ("profile", "tag"),
                ("name", "Door tag"),
                ("role", "user"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let everyone = s.cloud.people(&s.owner, s.site_id).await;
    assert!(everyone.iter().any(|person| person.name == "Door tag"));
}

#[tokio::test]
async fn an_uploaded_file_is_previewed_then_imported_with_its_failed_rows_reported() {
    let s = site().await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let import = format!("/web/console/sites/{}/import", s.site_id);
    let (status, template) = owner.get(&format!("{import}/template")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(template.starts_with("First name,Last name,Email,Alias,User role"));
    let file = "First name,Last name,Email,Alias,User role\n\
                Ann,Lee,ann@example.com,,User\n\
                Bob,Ray,not-an-address,,User\n\
                Cy,Fox,cy@example.com,,Emperor\n";
    let upload = |mode: &'static str, token: String| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", token)
            .text("mode", mode)
            .part(
                "file",
                reqwest::multipart::Part::bytes(file.as_bytes().to_vec())
                    .file_name("people.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            );
        owner
            .http
            .post(format!("{}{import}", owner.base))
            .header(COOKIE, &owner.cookie)
            .header(ORIGIN, &owner.origin)
            .multipart(form)
            .send()
    };
    // A forged upload is refused before its file counts.
    let forged = upload("import", "forged".into()).await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let preview = upload("preview", owner.csrf.clone()).await.unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    let page = preview.text().await.unwrap();
    assert!(
        page.contains("data-reason=\"bad_email\"") && page.contains("data-reason=\"unknown_role\""),
        "{page}"
    );
    assert_eq!(
        s.cloud.people(&s.owner, s.site_id).await.len(),
        1,
        "a preview writes nothing"
    );

    let started = upload("import", owner.csrf.clone()).await.unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let job = started.headers()[LOCATION].to_str().unwrap().to_string();
    let mut report = String::new();
    for _ in 0..100 {
        let (_, status) = owner.get(&format!("{job}/status")).await;
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        if status["state"] == "done" {
            report = owner.get(&job).await.1;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(report.contains("data-done=\"import_done\""), "{report}");
    assert!(report.contains("data-reason=\"bad_email\""), "{report}");
    assert!(s
        .cloud
        .people(&s.owner, s.site_id)
        .await
        .iter()
        .any(|p| p.email.as_deref() == Some("ann@example.com")));
}

#[tokio::test]
async fn an_admin_blocks_a_pod_guest_from_the_pods_page() {
    let s = site().await;
    let lock = s.cloud.lock(&s.owner, s.site_id, "Gate").await.0.lock_id;
    let (admin_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::Admin).await;
    let member = s.cloud.account_with_email("mia@example.com").await;
    let (status, body) = s
        .cloud
        .post(
            &s.owner,
            &format!("/api/v1/sites/{}/pods", s.site_id),
            json!({ "name": "Apartment 201", "lock_ids": [lock],
                    "members": [{ "name": "Mia", "email": "mia@example.com" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pod: PodView = typed(body);
    let now = chrono::Utc::now().timestamp();
    let (status, body) = s
        .cloud
        .post(
            &member,
            &format!("/api/v1/pods/{}/guests", pod.pod_id),
            json!({ "email": "gus@example.com", "name": "Gus", "lock_ids": [lock],
                    "from": now - 60, "until": now + 3_600 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let guest: GuestView = typed(body);
    let admin = Browser::sign_in(&s.cloud, &admin_email).await;
    let pods = format!("/web/console/sites/{}/pods", s.site_id);
    let (_, summary) = admin.get(&format!("{pods}?q=apartment")).await;
    assert!(summary.contains("Apartment 201"), "{summary}");
    let (_, none) = admin.get(&format!("{pods}?q=garage")).await;
    assert!(!none.contains("Apartment 201"));

    let block = format!("{pods}/{}/guests/{}/block", pod.pod_id, guest.guest_id);
    let (status, _) = admin
        .post_as(&block, &[], "https://evil.example", true)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin.post(&block, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/pods/{}/guests", pod.pod_id))
        .await;
    assert_eq!(
        typed::<Vec<GuestView>>(body)[0].status,
        PodPersonStatus::Blocked
    );
    let (_, page) = admin.get(&format!("{pods}/{}", pod.pod_id)).await;
    assert!(page.contains("data-status=\"blocked\""), "{page}");

    // Cleaning: the guest and the member leave; the lock stays.
    let (status, _) = admin
        .post(&format!("{pods}/{}/clean", pod.pod_id), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/pods/{}", pod.pod_id))
        .await;
    let cleaned: PodView = typed(body);
    assert!(
        cleaned.members.is_empty() && cleaned.guests_active == 0,
        "{cleaned:?}"
    );
    assert_eq!(cleaned.locks.len(), 1);

    // Another site's pod is not found through this site's pages.
    let other = s.cloud.site(&s.owner).await.site_id;
    let (status, _) = admin
        .get(&format!("/web/console/sites/{other}/pods/{}", pod.pod_id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The people of the site's one access group, through the JSON API.
async fn group_members(s: &Site) -> Vec<u32> {
    let path = format!("/api/v1/sites/{}/access-groups", s.site_id);
    let (_, body) = s.cloud.get(&s.owner, &path).await;
    typed::<Vec<keyway_api::AccessGroupView>>(body)[0]
        .user_ids
        .clone()
}

#[tokio::test]
async fn an_access_group_is_made_with_its_weekly_schedule_and_its_people_come_and_go() {
    let s = site().await;
    let gate = s.cloud.lock(&s.owner, s.site_id, "Gate").await.0.lock_id;
    let (member_email, member) = on_site(&s.cloud, &s.owner, s.site_id, Role::User).await;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let groups = format!("/web/console/sites/{}/groups", s.site_id);
    let (_, form) = owner.get(&format!("{groups}/new")).await;
    assert!(form.contains(&format!("name=\"lock{gate}\"")), "{form}");

    let gate_field = format!("lock{gate}");
    let (status, page) = owner
        .post(
            &groups,
            &[
                ("name", "Staff"),
                (&gate_field, "on"),
                ("w0_day0", "on"),
                ("w0_from", "25:00"),
                ("w0_until", "18:00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page).as_deref(), Some("invalid_input"));
    let (status, _) = owner
        .post(
            &groups,
            &[
                ("name", "Staff"),
                (&gate_field, "on"),
                ("w0_day0", "on"),
                ("w0_day4", "on"),
                ("w0_from", "08:00"),
                ("w0_until", "18:00"),
                ("w1_from", "08:00"),
                ("w1_until", "18:00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body) = s
        .cloud
        .get(
            &s.owner,
            &format!("/api/v1/sites/{}/access-groups", s.site_id),
        )
        .await;
    let made: Vec<keyway_api::AccessGroupView> = typed(body);
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].lock_ids, [gate]);
    assert_eq!(
        made[0].schedule,
        [keyway_protocol::ScheduleWindow {
            days: 0b1_0001,
            start_minute: 480,
            end_minute: 1080
        }]
    );
    let group = format!("{groups}/{}", made[0].group_id);
    let (_, page) = owner.get(&group).await;
    assert!(page.contains("Monday, Friday 08:00–18:00"), "{page}");

    // People by e-mail: somebody not on the site is the field's error.
    let (status, page) = owner
        .post(
            &format!("{group}/members"),
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("id=\"email-error\""), "{page}");
    let (status, _) = owner
        .post(
            &format!("{group}/members"),
            &[("email", &member_email.to_uppercase())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(group_members(&s).await, [member.user_id]);

    // A super user manages no access group: not offered, refused when forced.
    let super_user = Browser::sign_in(&s.cloud, &super_email).await;
    let (_, overview) = super_user
        .get(&format!("/web/console/sites/{}", s.site_id))
        .await;
    assert!(!overview.contains(&format!("{groups}\"")), "{overview}");
    let (status, _) = super_user.get(&group).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let member_id = member.user_id.to_string();
    let (status, page) = super_user
        .post(
            &format!("{group}/remove-member"),
            &[("user_id", &member_id)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    assert_eq!(group_members(&s).await, [member.user_id]);

    let (status, _) = owner
        .post(
            &format!("{group}/remove-member"),
            &[("user_id", &member_id)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(group_members(&s).await.is_empty());
    let (status, _) = owner.post(&format!("{group}/delete"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body) = s
        .cloud
        .get(
            &s.owner,
            &format!("/api/v1/sites/{}/access-groups", s.site_id),
        )
        .await;
    assert!(typed::<Vec<keyway_api::AccessGroupView>>(body).is_empty());
}

#[tokio::test]
async fn the_locks_page_lists_locks_with_their_iq_for_the_owner_only() {
    let s = site().await;
    s.cloud.lock(&s.owner, s.site_id, "Front door").await;
    let (admin_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let locks = format!("/web/console/sites/{}/locks", s.site_id);
    let (status, page) = owner.get(&locks).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Front door"), "{page}");
    let super_user = Browser::sign_in(&s.cloud, &admin_email).await;
    let (status, page) = super_user.get(&locks).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
}

/// `count` events of `lock_id` by `user_id`, a minute apart, every second one refused
/// (outside the schedule), signed with the lock's key and uploaded as a phone would.
async fn lock_log(
    s: &Site,
    (lock_id, lock_key): (u32, &keyway_protocol::SigningKey),
    user_id: u32,
    count: u64,
) {
    use base64::Engine;
    use keyway_protocol::event::GENESIS_HASH;
    use keyway_protocol::{LockEvent, RefusalReason};
    let rng = ring::rand::SystemRandom::new();
    let mut prev_hash = GENESIS_HASH;
    let mut records = Vec::new();
    for seq in 1..=count {
        let event = LockEvent {
            lock_id,
            seq,
            time: 1_796_000_000 + i64::try_from(seq).unwrap() * 60,
            user_id,
            credential_id: seq,
            command: 1,
            refusal: (seq % 2 == 0).then_some(RefusalReason::OutsideSchedule),
            prev_hash,
        };
        let record = event.sign(lock_key, &rng).unwrap();
        prev_hash = record.hash();
        records.push(base64::engine::general_purpose::STANDARD.encode(record.as_bytes()));
    }
    let (status, body) = s
        .cloud
        .post(&s.owner, "/api/v1/events", json!({ "records": records }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The rows of a page's events table: whether each was granted.
fn event_rows(page: &str) -> Vec<bool> {
    page.match_indices("data-granted=\"")
        .map(|(at, marker)| page[at + marker.len()..].starts_with("true"))
        .collect()
}

#[tokio::test]
async fn the_events_page_filters_pages_and_exports_the_verified_log() {
    let s = site().await;
    let (gate, gate_key) = s.cloud.lock(&s.owner, s.site_id, "Gate").await;
    let (member_email, member) = on_site(&s.cloud, &s.owner, s.site_id, Role::User).await;
    lock_log(&s, (gate.lock_id, &gate_key), member.user_id, 60).await;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let browser = Browser::sign_in(&s.cloud, &super_email).await;
    let events = format!("/web/console/sites/{}/events", s.site_id);

    let (status, first) = browser.get(&events).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(event_rows(&first).len(), 50, "{first}");
    assert!(
        first.contains("User person")
            && first.contains("Refused: the key is outside its schedule now")
    );
    let older = first.find("rel=\"next\" href=\"").map(|at| {
        let rest = &first[at + "rel=\"next\" href=\"".len()..];
        rest[..rest.find('"').unwrap()].replace("&amp;", "&")
    });
    let (_, second) = browser.get(&older.unwrap()).await;
    assert_eq!(event_rows(&second).len(), 10);
    assert!(!second.contains("rel=\"next\""));

    let (_, refused) = browser.get(&format!("{events}?result=refused")).await;
    assert_eq!(event_rows(&refused), vec![false; 30]);
    let (_, theirs) = browser
        .get(&format!("{events}?person={member_email}&result=granted"))
        .await;
    assert_eq!(event_rows(&theirs), vec![true; 30]);
    let (status, page) = browser
        .get(&format!("{events}?person=nobody@example.com"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("id=\"filter-error\""), "{page}");
    let (_, later) = browser.get(&format!("{events}?from=2030-01-01")).await;
    assert!(event_rows(&later).is_empty() && later.contains("No event matches"));
    let (status, _) = browser.get(&format!("{events}?before=not-a-cursor")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, file) = browser.get(&format!("{events}.csv?result=refused")).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 31, "{file}");
    assert!(lines[0].starts_with("Time,Lock,Lock id,Seq,Person"));
    assert!(
        lines[1].contains(",Gate,") && lines[1].contains("Refused"),
        "{}",
        lines[1]
    );

    // A user reads no lock log.
    let user = Browser::sign_in(&s.cloud, &member_email).await;
    for path in [events.clone(), format!("{events}.csv")] {
        let (status, page) = user.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    }
}

#[tokio::test]
async fn an_upload_over_the_limit_is_the_file_fields_error_and_a_user_may_not_import() {
    let s = site().await;
    let (user_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::User).await;
    let import = format!("/web/console/sites/{}/import", s.site_id);
    let upload = |browser: &Browser, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", browser.csrf.clone())
            .text("mode", "import")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("people.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            );
        browser
            .http
            .post(format!("{}{import}", browser.base))
            .header(COOKIE, &browser.cookie)
            .header(ORIGIN, &browser.origin)
            .multipart(form)
            .send()
    };
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let mut large = b"First name,Last name,Email,Alias,User role\n".to_vec();
    large.resize(2 * 1024 * 1024 + 1, b'x');
    let answer = upload(&owner, large).await.unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = answer.text().await.unwrap();
    assert!(page.contains("id=\"file-error\""), "{page}");
    assert_eq!(error_code(&page).as_deref(), Some("file_too_large"));
    let (status, page) = owner.get(&format!("{import}/template")).await;
    assert_eq!(status, StatusCode::OK, "{page}");

    let user = Browser::sign_in(&s.cloud, &user_email).await;
    let file = b"First name,Last name,Email,Alias,User role\nAnn,Lee,ann@example.com,,User\n";
    let answer = upload(&user, file.to_vec()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let (status, _) = user.get(&format!("{import}/template")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.cloud.people(&s.owner, s.site_id).await.len(),
        2,
        "nobody imported"
    );
}
