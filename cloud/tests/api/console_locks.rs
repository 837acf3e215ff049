//! The console's lock pages and the edit pages, as a browser and as an attacker use them: a
//! lock's state, settings, locker and verified log; a person's tags; changing an access group;
//! making a pod and adding its members. Forged forms by a role that may not are refused with
//! the rules' own code and change nothing; a lock of another site is not found.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::lock_rules::{LockSettingsView, LockerAssignment, LockerView, TagView};
use keyway_api::pods::PodView;
use keyway_api::{AccessGroupView, Role};
use keyway_protocol::event::GENESIS_HASH;
use keyway_protocol::{LockEvent, LockReport, SigningKey};
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use serde_json::json;

use crate::api_support::console::{error_code, on_site, person, Browser};
use crate::api_support::{b64_key, key, typed, Caller, Cloud};

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

/// What one record of a lock's log says: its command and value (a report's value rides in
/// the credential id), and who.
#[derive(Clone, Copy)]
struct Entry {
    command: u8,
    value: u64,
    user_id: u32,
}

const OPEN: Entry = Entry {
    command: 1,
    value: 7,
    user_id: 0,
};

fn report(report: LockReport, value: u64) -> Entry {
    Entry {
        command: report.code(),
        value,
        user_id: 0,
    }
}

/// The lock's log of `entries` (seq 1 on, a minute apart from `start`), chained and signed;
/// only the records whose seq `keep` says are uploaded, as a phone would carry them.
async fn upload_log(
    s: &Site,
    (lock_id, lock_key): (u32, &SigningKey),
    start: i64,
    entries: &[Entry],
    keep: impl Fn(u64) -> bool,
) {
    let rng = SystemRandom::new();
    let mut prev_hash = GENESIS_HASH;
    let mut records = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let seq = index as u64 + 1;
        let record = LockEvent {
            lock_id,
            seq,
            time: start + i64::try_from(seq).unwrap() * 60,
            user_id: entry.user_id,
            credential_id: entry.value,
            command: entry.command,
            refusal: None,
            prev_hash,
        }
        .sign(lock_key, &rng)
        .unwrap();
        prev_hash = record.hash();
        if keep(seq) {
            records.push(STANDARD.encode(record.as_bytes()));
        }
    }
    let (status, body) = s
        .cloud
        .post(&s.owner, "/api/v1/events", json!({ "records": records }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["rejected"].as_array().unwrap().is_empty(), "{body}");
}

/// The value of `attribute="…"` on the first element carrying `marker`.
fn attribute_after(page: &str, marker: &str, attribute: &str) -> Option<String> {
    let rest = &page[page.find(marker)?..];
    let start = rest.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    Some(rest[start..][..rest[start..].find('"')?].to_string())
}

/// The `href` of the page's `rel="next"` link, as a browser would follow it.
fn next_link(page: &str) -> Option<String> {
    attribute_after(page, "rel=\"next\"", "href").map(|href| href.replace("&amp;", "&"))
}

fn log_rows(page: &str) -> usize {
    page.matches("data-seq=\"").count()
}

async fn settings(s: &Site, lock_id: u32) -> LockSettingsView {
    let (status, body) = s
        .cloud
        .get(
            &s.owner,
            &format!("/api/v1/sites/{}/locks/{lock_id}/settings", s.site_id),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    typed(body)
}

#[tokio::test]
async fn a_locks_page_shows_its_reported_state_and_its_verified_log_a_page_at_a_time() {
    let s = site().await;
    let (gate, gate_key) = s.cloud.lock(&s.owner, s.site_id, "Gate").await;
    let mut entries = vec![OPEN; 55];
    entries.push(report(LockReport::Battery, 80));
    entries.push(report(LockReport::DoorOpened, 0));
    entries.push(report(LockReport::PrivacyEngaged, 0));
    let now = s.cloud.running.state.clock.now();
    upload_log(&s, (gate.lock_id, &gate_key), now - 3600, &entries, |_| {
        true
    })
    .await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let locks = format!("/web/console/sites/{}/locks", s.site_id);
    let lock = format!("{locks}/{}", gate.lock_id);

    let (status, list) = owner.get(&locks).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("href=\"{lock}\"")), "{list}");
    assert!(
        list.contains("80 %") && list.contains("Open") && list.contains("Engaged"),
        "{list}"
    );

    let (status, page) = owner.get(&lock).await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "80 %",
        "Open",
        "Engaged",
        "Battery level",
        "Door opened",
        "/web/remote",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert_eq!(
        attribute_after(&page, "class=\"chain\"", "data-chain").as_deref(),
        Some("verified")
    );
    assert_eq!(
        attribute_after(&page, "class=\"chain\"", "data-through").as_deref(),
        Some("58")
    );
    // Newest first, 50 a page, then the rest.
    assert_eq!(log_rows(&page), 50, "{page}");
    assert_eq!(
        attribute_after(&page, "data-seq=\"", "data-seq").as_deref(),
        Some("58")
    );
    let (status, older) = owner.get(&next_link(&page).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log_rows(&older), 8);
    assert!(next_link(&older).is_none());
    let (status, _) = owner.get(&format!("{lock}?before=not-a-cursor")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_gap_in_a_locks_log_is_said_with_the_last_record_the_chain_verified() {
    let s = site().await;
    let (gate, gate_key) = s.cloud.lock(&s.owner, s.site_id, "Gate").await;
    let now = s.cloud.running.state.clock.now();
    // Records 6 and 7 never reached the cloud.
    upload_log(
        &s,
        (gate.lock_id, &gate_key),
        now - 3600,
        &[OPEN; 10],
        |seq| !(6..=7).contains(&seq),
    )
    .await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let lock = format!("/web/console/sites/{}/locks/{}", s.site_id, gate.lock_id);
    let (_, page) = owner.get(&lock).await;
    assert_eq!(
        attribute_after(&page, "class=\"chain\"", "data-chain").as_deref(),
        Some("gap")
    );
    assert_eq!(
        attribute_after(&page, "class=\"chain\"", "data-through").as_deref(),
        Some("5")
    );
    assert_eq!(log_rows(&page), 8);

    // A log whose first records are missing verifies through none.
    let (door, door_key) = s.cloud.lock(&s.owner, s.site_id, "Door").await;
    upload_log(
        &s,
        (door.lock_id, &door_key),
        now - 3600,
        &[OPEN; 4],
        |seq| seq > 2,
    )
    .await;
    let (_, page) = owner
        .get(&format!(
            "/web/console/sites/{}/locks/{}",
            s.site_id, door.lock_id
        ))
        .await;
    assert_eq!(
        attribute_after(&page, "class=\"chain\"", "data-through").as_deref(),
        Some("0")
    );
}

#[tokio::test]
async fn lock_settings_are_saved_from_the_form_with_each_refusal_next_to_its_field() {
    let s = site().await;
    let (gate, _) = s.cloud.lock(&s.owner, s.site_id, "Gate").await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let lock = format!("/web/console/sites/{}/locks/{}", s.site_id, gate.lock_id);
    let save = format!("{lock}/settings");
    let (_, page) = owner.get(&lock).await;
    assert!(page.contains(&format!("action=\"{save}\"")), "{page}");
    assert!(page.contains("name=\"door_open_limit_seconds\""));

    let (status, _) = owner
        .post(
            &save,
            &[
                ("door_open_limit_seconds", "90"),
                ("near_detection", "off"),
                ("w0_day0", "on"),
                ("w0_day2", "on"),
                ("w0_from", "08:00"),
                ("w0_until", "12:30"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved = settings(&s, gate.lock_id).await;
    assert_eq!(saved.door_open_limit_seconds, 90);
    assert_eq!(saved.easy_office_schedule.len(), 1);
    assert_eq!(
        (
            saved.easy_office_schedule[0].days,
            saved.easy_office_schedule[0].start_minute,
            saved.easy_office_schedule[0].end_minute
        ),
        (0b101, 480, 750)
    );
    // The page reads the stored windows back into the editor.
    let (_, page) = owner.get(&format!("{lock}?done=settings_saved")).await;
    assert!(page.contains("data-done=\"settings_saved\""));
    assert!(page.contains("name=\"w0_day2\" checked"), "{page}");
    assert!(page.contains("value=\"12:30\""));

    // Out of range: the limit's error; near detection without an IQ: its own.
    let (status, page) = owner.post(&save, &[("door_open_limit_seconds", "2")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page).as_deref(), Some("invalid_input"));
    assert!(page.contains("id=\"limit-error\""), "{page}");
    assert!(page.contains("value=\"2\""), "what was typed stays");
    let (status, page) = owner
        .post(
            &save,
            &[("door_open_limit_seconds", "90"), ("near_detection", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&page).as_deref(), Some("iq_firmware_too_old"));
    assert!(page.contains("id=\"near-error\""), "{page}");
    let (status, page) = owner
        .post(&save, &[("w0_day0", "on"), ("w0_from", "25:00")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"easy-office-error\""), "{page}");
    let after = settings(&s, gate.lock_id).await;
    assert_eq!(after, saved, "refused forms change nothing");
}

#[tokio::test]
async fn a_super_user_forging_lock_forms_is_refused_and_another_sites_lock_is_not_found() {
    let s = site().await;
    let (gate, _) = s.cloud.lock(&s.owner, s.site_id, "Gate").await;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let lock = format!("/web/console/sites/{}/locks/{}", s.site_id, gate.lock_id);
    let before = settings(&s, gate.lock_id).await;

    let super_user = Browser::sign_in(&s.cloud, &super_email).await;
    let (status, page) = super_user.get(&lock).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    for (path, fields) in [
        (
            format!("{lock}/settings"),
            vec![("door_open_limit_seconds", "3600")],
        ),
        (
            format!("{lock}/locker"),
            vec![("assignment", "family"), ("emails", "")],
        ),
    ] {
        let (status, page) = super_user.post(&path, &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"), "{path}");
    }
    assert_eq!(settings(&s, gate.lock_id).await, before);
    assert_eq!(
        s.cloud
            .count(format!(
                "SELECT COUNT(*) FROM locks WHERE id = {} AND kind = 'locker'",
                gate.lock_id
            ))
            .await,
        0
    );

    // The owner of another site, through their own site's pages: not found.
    let (other_email, other) = person(&s.cloud).await;
    let other_site = s.cloud.site(&other).await.site_id;
    let stranger = Browser::sign_in(&s.cloud, &other_email).await;
    let through_theirs = format!("/web/console/sites/{other_site}/locks/{}", gate.lock_id);
    let (status, page) = stranger.get(&through_theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&page).as_deref(), Some("not_found"));
    let (status, _) = stranger
        .post(
            &format!("{through_theirs}/settings"),
            &[("door_open_limit_seconds", "3600")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stranger.get(&lock).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not their site at all");
    assert_eq!(settings(&s, gate.lock_id).await, before);
}

async fn lockers(s: &Site) -> Vec<LockerView> {
    let path = format!("/api/v1/sites/{}/lockers", s.site_id);
    let (_, body) = s.cloud.get(&s.owner, &path).await;
    typed(body)
}

#[tokio::test]
async fn a_locker_is_assigned_and_reassigned_from_its_page() {
    let s = site().await;
    let (locker, _) = s.cloud.lock(&s.owner, s.site_id, "Locker 12").await;
    let (anna_email, anna) = on_site(&s.cloud, &s.owner, s.site_id, Role::User).await;
    let (ben_email, ben) = on_site(&s.cloud, &s.owner, s.site_id, Role::User).await;
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let lock = format!("/web/console/sites/{}/locks/{}", s.site_id, locker.lock_id);
    let (_, page) = owner.get(&lock).await;
    assert!(page.contains("Make it a locker"), "{page}");
    let (status, _) = owner
        .post(
            &format!("{lock}/locker"),
            &[("assignment", "fixed"), ("emails", &anna_email)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let now = lockers(&s).await;
    assert_eq!(
        (now[0].assignment, now[0].user_ids.clone()),
        (LockerAssignment::Fixed, vec![anna.user_id])
    );
    let (_, page) = owner.get(&lock).await;
    assert!(page.contains("data-holders=\"1\""), "{page}");

    // A fixed locker is for one person: the form's error, nothing changes.
    let both = format!("{anna_email}\n{ben_email}");
    let (status, page) = owner
        .post(
            &format!("{lock}/locker"),
            &[("assignment", "fixed"), ("emails", &both)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"locker-error\""), "{page}");
    let (status, page) = owner
        .post(
            &format!("{lock}/locker"),
            &[("assignment", "family"), ("emails", "nobody@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("id=\"locker-error\""), "{page}");
    assert_eq!(lockers(&s).await[0].user_ids, [anna.user_id]);

    let (status, _) = owner
        .post(
            &format!("{lock}/locker"),
            &[("assignment", "family"), ("emails", &both)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut holders = lockers(&s).await[0].user_ids.clone();
    holders.sort_unstable();
    assert_eq!(holders, [anna.user_id, ben.user_id]);
}

async fn site_tags(s: &Site) -> Vec<TagView> {
    let (_, body) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/sites/{}/tags", s.site_id))
        .await;
    typed(body)
}

#[tokio::test]
async fn a_persons_tags_are_handed_over_given_offline_access_and_taken_back() {
    let s = site().await;
    let (_, member) = on_site(&s.cloud, &s.owner, s.site_id, Role::User).await;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let (status, body) = s
        .cloud
        .post(
            &s.owner,
            &format!("/api/v1/sites/{}/tags", s.site_id),
            json!({ "tag_id": "04a2197c338001", "public_key": b64_key(&key().public_key()) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let owner = Browser::sign_in(&s.cloud, &s.owner_email).await;
    let page_of = format!("/web/console/sites/{}/people/{}", s.site_id, member.user_id);
    let tag_form = format!("{page_of}/tags/04a2197c338001");

    let (_, page) = owner.get(&page_of).await;
    assert!(page.contains("name=\"tag_id\""), "{page}");
    let (status, page) = owner
        .post(&format!("{page_of}/tags"), &[("tag_id", "04a2197c33800")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "13 digits");
    assert_eq!(error_code(&page).as_deref(), Some("invalid_input"));
    let (status, page) = owner
        .post(&format!("{page_of}/tags"), &[("tag_id", "04a2197c3380ff")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not registered");
    assert_eq!(error_code(&page).as_deref(), Some("not_found"));
    let (status, _) = owner
        .post(&format!("{page_of}/tags"), &[("tag_id", "04A2197C338001")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(site_tags(&s).await[0].user_id, Some(member.user_id));
    let (status, _) = owner.post(&tag_form, &[("offline_access", "on")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(site_tags(&s).await[0].offline_access);
    let (_, page) = owner.get(&page_of).await;
    assert!(
        page.contains("data-tag=\"04a2197c338001\" data-offline=\"true\""),
        "{page}"
    );

    // A super user hands tags over but is offered no offline access, and a forged one is
    // refused.
    let super_user = Browser::sign_in(&s.cloud, &super_email).await;
    let (_, page) = super_user.get(&page_of).await;
    assert!(page.contains("name=\"tag_id\"") && page.contains("Take back"));
    assert!(!page.contains("name=\"offline_access\""), "{page}");
    let (status, page) = super_user
        .post(&tag_form, &[("offline_access", "off")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    assert!(site_tags(&s).await[0].offline_access);

    // Taken back: the site keeps it, held by nobody, its rights cleared.
    let (status, _) = super_user.post(&tag_form, &[("unassign", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let tag = &site_tags(&s).await[0];
    assert_eq!((tag.user_id, tag.offline_access), (None, false));
}

async fn group(s: &Site, group_id: u32) -> AccessGroupView {
    let (_, body) = s
        .cloud
        .get(
            &s.owner,
            &format!("/api/v1/sites/{}/access-groups", s.site_id),
        )
        .await;
    typed::<Vec<AccessGroupView>>(body)
        .into_iter()
        .find(|group| group.group_id == group_id)
        .unwrap()
}

#[tokio::test]
async fn an_access_groups_locks_and_schedule_are_changed_from_its_page() {
    let s = site().await;
    let gate = s.cloud.lock(&s.owner, s.site_id, "Gate").await.0.lock_id;
    let door = s.cloud.lock(&s.owner, s.site_id, "Door").await.0.lock_id;
    let made = s.cloud.group(&s.owner, s.site_id, &[gate], &[], &[]).await;
    let (admin_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::Admin).await;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let page_of = format!("/web/console/sites/{}/groups/{}", s.site_id, made.group_id);
    let edit = format!("{page_of}/edit");

    let admin = Browser::sign_in(&s.cloud, &admin_email).await;
    let (_, page) = admin.get(&page_of).await;
    assert!(page.contains(&format!("action=\"{edit}\"")), "{page}");
    assert!(
        page.contains(&format!("name=\"lock{gate}\" checked")),
        "{page}"
    );
    let (door_field, gate_field) = (format!("lock{door}"), format!("lock{gate}"));
    let (status, _) = admin
        .post(
            &edit,
            &[
                ("name", "Cleaners"),
                (&door_field, "on"),
                ("w0_day5", "on"),
                ("w0_from", "06:00"),
                ("w0_until", "09:00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let changed = group(&s, made.group_id).await;
    assert_eq!(changed.name, "Cleaners");
    assert_eq!(changed.lock_ids, [door]);
    assert_eq!(
        (
            changed.schedule.len(),
            changed.schedule[0].days,
            changed.schedule[0].start_minute
        ),
        (1, 0b10_0000, 360)
    );
    let (_, page) = admin.get(&format!("{page_of}?done=changed")).await;
    assert!(page.contains("Saturday 06:00–09:00"), "{page}");
    assert!(page.contains("name=\"w0_day5\" checked"), "{page}");

    // A bad time is the form's error; what was typed stays, nothing changes.
    let (status, page) = admin
        .post(
            &edit,
            &[
                ("name", "Night"),
                (&gate_field, "on"),
                ("w0_day0", "on"),
                ("w0_from", "7"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"edit-error\""), "{page}");
    assert!(page.contains("value=\"Night\""));
    assert_eq!(group(&s, made.group_id).await, changed);

    // A super user forging the form is refused.
    let super_user = Browser::sign_in(&s.cloud, &super_email).await;
    let (status, page) = super_user
        .post(&edit, &[("name", "Mine"), (&gate_field, "on")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    assert_eq!(group(&s, made.group_id).await, changed);
}

async fn pods(s: &Site) -> Vec<PodView> {
    let (_, body) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/sites/{}/pods", s.site_id))
        .await;
    typed(body)
}

#[tokio::test]
async fn a_pod_is_made_and_gets_members_by_e_mail_from_the_console() {
    let s = site().await;
    let gate = s.cloud.lock(&s.owner, s.site_id, "Gate").await.0.lock_id;
    let (admin_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::Admin).await;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let pods_page = format!("/web/console/sites/{}/pods", s.site_id);
    let admin = Browser::sign_in(&s.cloud, &admin_email).await;

    let (status, form) = admin.get(&format!("{pods_page}/new")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(&format!("name=\"lock{gate}\"")), "{form}");
    let gate_field = format!("lock{gate}");
    let (status, page) = admin
        .post(
            &pods_page,
            &[
                ("name", "Apartment 12"),
                (&gate_field, "on"),
                ("member_name", "Tess"),
                ("member_email", "not-an-email"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page).as_deref(), Some("invalid_input"));
    assert!(page.contains("value=\"Apartment 12\"") && page.contains("value=\"Tess\""));
    assert!(pods(&s).await.is_empty());

    let (status, response) = admin
        .post(
            &pods_page,
            &[
                ("name", "Apartment 12"),
                (&gate_field, "on"),
                ("member_name", "Tess"),
                ("member_email", "tess@example.com"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{response}");
    let made = pods(&s).await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].locks.len(), 1);
    assert_eq!(made[0].members[0].email, "tess@example.com");
    let pod_page = format!("{pods_page}/{}", made[0].pod_id);
    let (status, _) = admin
        .post(
            &format!("{pod_page}/members"),
            &[("member_name", "Tom"), ("member_email", "tom@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = admin.get(&format!("{pod_page}?done=member_added")).await;
    assert!(page.contains("data-member=\"tom@example.com\""), "{page}");
    assert!(
        !s.cloud.mail_to("tom@example.com").await.is_empty(),
        "invited"
    );
    let (status, page) = admin
        .post(
            &format!("{pod_page}/members"),
            &[("member_name", "Tom"), ("member_email", "tom@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "twice");
    assert!(page.contains("id=\"member-error\""), "{page}");

    // A super user forging either form is refused; nothing changes.
    let super_user = Browser::sign_in(&s.cloud, &super_email).await;
    for (path, fields) in [
        (
            pods_page.clone(),
            vec![
                ("name", "Mine"),
                ("member_name", "Eve"),
                ("member_email", "eve@example.com"),
            ],
        ),
        (
            format!("{pod_page}/members"),
            vec![("member_name", "Eve"), ("member_email", "eve@example.com")],
        ),
    ] {
        let (status, page) = super_user.post(&path, &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    }
    let after = pods(&s).await;
    assert_eq!((after.len(), after[0].members.len()), (1, 2));
}
