//! Tag profiles and user profiles, phone numbers, and keypad PINs by text message, from the
//! manual's sentences (roles and profiles; site users: "The profile needs to be completed
//! before getting digital key and for remote opening").

use keyway_api::import::{ImportReport, ImportState};
use keyway_api::{ErrorCode, PersonStatus, PersonView, Profile, Role};
use keyway_cloud::remote::keypad::find_pin;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api_support::{code, typed, Caller, Cloud};
use crate::imports::{finished, upload, HEADER};

async fn add(cloud: &Cloud, actor: &Caller, site_id: u32, body: Value) -> (StatusCode, Value) {
    cloud
        .post(actor, &format!("/api/v1/sites/{site_id}/people"), body)
        .await
}

async fn add_tag_profile(cloud: &Cloud, actor: &Caller, site_id: u32, body: Value) -> PersonView {
    let (status, body) = add(cloud, actor, site_id, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    typed(body)
}

async fn person(cloud: &Cloud, caller: &Caller, site_id: u32, user_id: u32) -> PersonView {
    cloud
        .people(caller, site_id)
        .await
        .into_iter()
        .find(|p| p.user_id == user_id)
        .unwrap()
}

async fn make_pin(cloud: &Cloud, caller: &Caller, site_id: u32, user_id: u32) -> Value {
    let (status, body) = cloud
        .post(
            caller,
            &format!("/api/v1/sites/{site_id}/people/{user_id}/keypad-pin"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn texts_to(cloud: &Cloud, phone: &str) -> Vec<String> {
    cloud
        .running
        .state
        .delivered_text_messages()
        .await
        .unwrap()
        .into_iter()
        .filter(|message| message.to == phone)
        .map(|message| message.body)
        .collect()
}

#[tokio::test]
async fn a_person_without_an_e_mail_is_a_tag_profile_the_site_controls() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let mail_before = cloud.count("SELECT COUNT(*) FROM email_outbox").await;
    let cleaner = add_tag_profile(
        &cloud,
        &owner,
        site.site_id,
        json!({ "name": "Night cleaner", "role": "user", "phone": "+44 20 7946 0958" }),
    )
    .await;
    assert_eq!(cleaner.profile, Profile::Tag);
    assert_eq!(cleaner.email, None);
    assert_eq!(
        cleaner.phone.as_deref(),
        Some("+442079460958"),
        "kept in one form"
    );
    assert_eq!(
        cleaner.status,
        PersonStatus::Active,
        "nothing waits for an account"
    );
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM email_outbox").await,
        mail_before,
        "nobody to e-mail"
    );

    // "the person(s) managing the Site are in control of the User's first- and last name":
    // a super user manages users, so may rename one.
    let super_user = cloud.member(&owner, site.site_id, Role::SuperUser).await;
    let path = format!("/api/v1/sites/{}/people/{}", site.site_id, cleaner.user_id);
    let (status, body) = cloud
        .patch(
            &super_user,
            &path,
            json!({ "name": "Night cleaner (B wing)", "phone": "" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renamed = person(&cloud, &owner, site.site_id, cleaner.user_id).await;
    assert_eq!(renamed.name, "Night cleaner (B wing)");
    assert_eq!(renamed.phone, None, "a blank phone removes it");

    // The list filters by profile.
    let tags = cloud
        .people_page(
            &owner,
            &format!("/api/v1/sites/{}/people?profile=tag", site.site_id),
        )
        .await;
    let ids: Vec<u32> = tags.people.iter().map(|p| p.user_id).collect();
    assert_eq!(ids, [cleaner.user_id]);
    let users = cloud
        .people_page(
            &owner,
            &format!("/api/v1/sites/{}/people?profile=user", site.site_id),
        )
        .await;
    assert!(users.people.iter().all(|p| p.profile == Profile::User));
    assert_eq!(users.total, 2, "the owner and the super user");

    // Removed, a tag profile leaves nothing behind: it was nobody's account.
    let (status, body) = cloud.delete(&owner, &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = format!("SELECT COUNT(*) FROM users WHERE id = {}", cleaner.user_id);
    assert_eq!(cloud.count(left).await, 0);
}

#[tokio::test]
async fn a_tag_profile_gets_no_app_rights_no_higher_role_and_can_never_sign_in() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    for role in ["admin", "super_user"] {
        let (status, body) = add(
            &cloud,
            &owner,
            site.site_id,
            json!({ "name": "Tag holder", "role": role }),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(code(&body), ErrorCode::ProfileIncomplete);
    }
    let holder = add_tag_profile(
        &cloud,
        &owner,
        site.site_id,
        json!({ "name": "Tag holder", "role": "user" }),
    )
    .await;
    let path = format!("/api/v1/sites/{}/people/{}", site.site_id, holder.user_id);
    for change in [
        json!({ "remote_opening": true }),
        json!({ "role": "admin" }),
    ] {
        let (status, body) = cloud.patch(&owner, &path, change.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{change}: {body}");
        assert_eq!(code(&body), ErrorCode::ProfileIncomplete);
    }
    // A tag can still toggle office mode and pass privacy mode.
    let (status, body) = cloud
        .patch(
            &owner,
            &path,
            json!({ "office_mode": true, "privacy_override": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An attacker who got hold of a token for the tag profile's id gets nothing: the account
    // has no verified address, so no token of it is honoured.
    let forged = cloud.token_for(holder.user_id).await;
    let (status, _) = cloud.get(&forged, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        cloud
            .count(format!(
                "SELECT COUNT(*) FROM users WHERE id = {} AND password_hash IS NULL",
                holder.user_id
            ))
            .await,
        1
    );
}

#[tokio::test]
async fn a_person_who_claimed_their_place_owns_their_name_and_phone() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    // Before the place is claimed, the site corrects what it typed.
    let (status, body) = add(
        &cloud,
        &owner,
        site.site_id,
        json!({ "email": "zoe@example.com", "name": "Zoe Typo", "role": "user",
                "phone": "+1 415 555 0100" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let invited: PersonView = typed(body);
    assert_eq!(invited.profile, Profile::User);
    assert_eq!(invited.status, PersonStatus::Invited);
    assert_eq!(invited.phone.as_deref(), Some("+14155550100"));
    let path = format!("/api/v1/sites/{}/people/{}", site.site_id, invited.user_id);
    let (status, body) = cloud
        .patch(&owner, &path, json!({ "name": "Zoe Example" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(typed::<PersonView>(body).name, "Zoe Example");

    // Zoe signs up, verifies and uses Keyway: the place is hers, and so are her details.
    cloud.mark_verified(invited.user_id).await;
    let zoe = cloud.token_for(invited.user_id).await;
    let (status, body) = cloud
        .patch(
            &zoe,
            "/api/v1/me",
            json!({ "name": "Zoë Example", "phone": "+33 1 23 45 67 89" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shown = person(&cloud, &owner, site.site_id, invited.user_id).await;
    assert_eq!(shown.status, PersonStatus::Active);
    assert_eq!(shown.name, "Zoë Example");
    assert_eq!(
        shown.phone.as_deref(),
        Some("+33123456789"),
        "her own phone, not the typed one"
    );
    for change in [
        json!({ "name": "Renamed" }),
        json!({ "phone": "+15550000000" }),
    ] {
        let (status, body) = cloud.patch(&owner, &path, change.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{change}: {body}");
        assert_eq!(code(&body), ErrorCode::ProfileOwnedByPerson);
    }
    // Rights are still the site's to change.
    let (status, body) = cloud
        .patch(&owner, &path, json!({ "remote_opening": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = cloud
        .patch(&zoe, "/api/v1/me", json!({ "phone": "call me maybe" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), ErrorCode::InvalidPhone);
    let (status, body) = add(
        &cloud,
        &owner,
        site.site_id,
        json!({ "name": "Bad phone", "role": "user", "phone": "0207 946 0958" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), ErrorCode::InvalidPhone);
}

#[tokio::test]
async fn digital_keys_wait_until_the_profile_is_claimed() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let (status, body) = add(
        &cloud,
        &owner,
        site.site_id,
        json!({ "email": "newcomer@example.com", "name": "Newcomer", "role": "user" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let newcomer: PersonView = typed(body);
    cloud
        .group(
            &owner,
            site.site_id,
            &[lock.lock_id],
            &[newcomer.user_id],
            &[],
        )
        .await;
    // Not claimed: the account is not verified, and no token of it is honoured.
    let early = cloud.token_for(newcomer.user_id).await;
    let (status, _) = cloud.get(&early, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Claimed: the key is theirs.
    cloud.mark_verified(newcomer.user_id).await;
    let claimed = cloud.token_for(newcomer.user_id).await;
    let (device, _) = cloud.device(&claimed).await;
    let keys = cloud.sync(&claimed, device.device_id).await;
    assert_eq!(keys.keys.len(), 1, "{keys:?}");
}

#[tokio::test]
async fn a_pin_goes_by_text_message_only_to_a_phone_the_site_may_trust() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;

    // A tag profile with a phone: the PIN goes to that phone, never to the admin.
    let cleaner = add_tag_profile(
        &cloud,
        &owner,
        site.site_id,
        json!({ "name": "Cleaner", "role": "user", "phone": "+442079460958" }),
    )
    .await;
    let answer = make_pin(&cloud, &owner, site.site_id, cleaner.user_id).await;
    assert_eq!(answer["delivery"], "text_message", "{answer}");
    assert_eq!(answer["pin"], Value::Null);
    let texts = texts_to(&cloud, "+442079460958").await;
    assert_eq!(texts.len(), 1);
    assert!(find_pin(&texts[0]).is_some(), "{}", texts[0]);
    // Sealed until delivery, and erased after: the PIN is nowhere in the outbox.
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM email_outbox WHERE channel = 'sms' AND sealed_body IS NOT NULL")
            .await,
        0
    );

    // A tag profile without a phone has nobody else to give it to: the site hands it over.
    let visitor = add_tag_profile(
        &cloud,
        &owner,
        site.site_id,
        json!({ "name": "Visitor", "role": "user" }),
    )
    .await;
    let answer = make_pin(&cloud, &owner, site.site_id, visitor.user_id).await;
    assert_eq!(answer["delivery"], "shown", "{answer}");
    assert!(answer["pin"].as_str().is_some_and(|pin| pin.len() == 6));

    // An attacker admin types their own phone for an invited person, then makes the PIN: it
    // goes to the person's e-mail, never to a phone the admin typed.
    let admin_phone = "+4915112345678";
    let (status, body) = add(
        &cloud,
        &owner,
        site.site_id,
        json!({ "email": "tenant@example.com", "name": "Tenant", "role": "user",
                "phone": admin_phone }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let tenant: PersonView = typed(body);
    let answer = make_pin(&cloud, &owner, site.site_id, tenant.user_id).await;
    assert_eq!(answer["delivery"], "emailed", "{answer}");
    assert_eq!(answer["pin"], Value::Null);
    assert!(texts_to(&cloud, admin_phone).await.is_empty());
    let mails = cloud.mail_to("tenant@example.com").await;
    assert!(mails.iter().any(|mail| find_pin(&mail.body).is_some()));

    // Once the person set their own phone, their PIN goes there.
    cloud.mark_verified(tenant.user_id).await;
    let tenant_caller = cloud.token_for(tenant.user_id).await;
    let (status, body) = cloud
        .patch(
            &tenant_caller,
            "/api/v1/me",
            json!({ "phone": "+33612345678" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = make_pin(&cloud, &owner, site.site_id, tenant.user_id).await;
    assert_eq!(answer["delivery"], "text_message", "{answer}");
    let texts = texts_to(&cloud, "+33612345678").await;
    assert!(texts.iter().any(|text| find_pin(text).is_some()));
}

#[tokio::test]
async fn a_site_with_tag_profiles_still_imports_and_lists_them_apart() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    add_tag_profile(
        &cloud,
        &owner,
        site.site_id,
        json!({ "name": "Ada Lovelace", "role": "user" }),
    )
    .await;
    // A person of the same name, by e-mail: a user profile beside the tag profile.
    let file = format!("{HEADER}Ada,Lovelace,ada@example.com,,User\n");
    for dry_run in [true, false] {
        let (status, body) = upload(&cloud, &owner, site.site_id, file.clone(), dry_run).await;
        assert!(status.is_success(), "{body}");
        let report = if dry_run {
            typed::<ImportReport>(body)
        } else {
            finished(
                &cloud,
                &owner,
                site.site_id,
                body["import_id"].as_u64().unwrap(),
            )
            .await
        };
        assert_eq!(
            (report.state, report.imported),
            (ImportState::Done, 1),
            "{report:?}"
        );
    }
    let people = cloud.people(&owner, site.site_id).await;
    let adas: Vec<Profile> = people
        .iter()
        .filter(|p| p.name.starts_with("Ada"))
        .map(|p| p.profile)
        .collect();
    assert_eq!(adas.len(), 2);
    assert!(adas.contains(&Profile::Tag) && adas.contains(&Profile::User));
}

#[tokio::test]
async fn a_site_owner_cannot_use_keypad_pins_to_flood_a_phone_with_texts() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let victim = "+15555550123";
    let target = add_tag_profile(
        &cloud,
        &owner,
        site.site_id,
        json!({ "name": "Not a real cleaner", "role": "user", "phone": victim }),
    )
    .await;
    let path = format!(
        "/api/v1/sites/{}/people/{}/keypad-pin",
        site.site_id, target.user_id
    );
    let mut refused = None;
    for _ in 0..(keyway_cloud::email::TEXTS_PER_HOUR + 3) {
        let (status, body) = cloud.post(&owner, &path, json!({})).await;
        if status != StatusCode::CREATED {
            refused = Some((status, body));
            break;
        }
    }
    let (status, body) = refused.expect("the texts were never capped");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), ErrorCode::RateLimited);
    assert_eq!(
        texts_to(&cloud, victim).await.len(),
        keyway_cloud::email::TEXTS_PER_HOUR as usize
    );
}
