//! E-mail verification as an attacker tries to get around it: signing up with somebody
//! else's address before an admin adds it, probing which addresses have accounts, guessing and
//! replaying codes, and confirming another sign-up's password with a code.

use crate::api_support;

use api_support::Cloud;
use keyway_api::{PersonStatus, PersonView, UserView};
use keyway_cloud::auth::verification::CODE_TTL_SECONDS;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ATTACKER_PASSWORD: &str = "the attacker's password";
const VICTIM_PASSWORD: &str = "the real tenant's password";

fn code_of(value: &Value) -> &str {
    value["error"].as_str().unwrap_or_default()
}

/// Another valid code than `code` (a guess that is certainly wrong).
fn wrong(code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    let last = digits
        .chars()
        .last()
        .and_then(|c| c.to_digit(10))
        .unwrap_or(0);
    format!("{}{}", &digits[..7], (last + 1) % 10)
}

#[tokio::test]
async fn a_pre_registered_address_gets_nothing_until_its_owner_verifies_it() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let victim = "future.tenant@example.com";

    // The attacker signs up first with the address an admin will add later.
    let (status, _) = cloud.sign_up(victim, ATTACKER_PASSWORD).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // The admin adds the address, with a key and remote opening.
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/people", site.site_id),
            json!({ "email": victim, "name": "Tess", "role": "user" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let person: PersonView = serde_json::from_value(body).unwrap();
    assert_eq!(person.status, PersonStatus::Invited);
    cloud
        .group(
            &owner,
            site.site_id,
            &[lock.lock_id],
            &[person.user_id],
            &[],
        )
        .await;
    let (status, _) = cloud
        .patch(
            &owner,
            &format!("/api/v1/sites/{}/people/{}", site.site_id, person.user_id),
            json!({ "remote_opening": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The attacker cannot read the victim's mailbox, so guesses; and even a token minted for
    // the unverified account (as if a login had slipped through) is refused.
    let first_code = cloud.verification_code(victim).await.unwrap();
    let (status, body) = cloud
        .verify(victim, &wrong(&first_code), ATTACKER_PASSWORD)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body), "verification_failed");
    let stolen = cloud.token_for(person.user_id).await;
    assert_eq!(
        cloud.get(&stolen, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );

    // The real tenant signs up later with their own password and gets their own code.
    let (status, _) = cloud.sign_up(victim, VICTIM_PASSWORD).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let own_code = cloud.verification_code(victim).await.unwrap();
    assert_ne!(own_code, first_code);
    // The attacker's sign-up code does not confirm the tenant's password, nor the other way.
    let (status, body) = cloud.verify(victim, &first_code, VICTIM_PASSWORD).await;
    assert_eq!(
        (status, code_of(&body)),
        (StatusCode::BAD_REQUEST, "verification_failed")
    );
    let (status, body) = cloud.verify(victim, &own_code, ATTACKER_PASSWORD).await;
    assert_eq!(
        (status, code_of(&body)),
        (StatusCode::BAD_REQUEST, "verification_failed")
    );
    let (status, body) = cloud.verify(victim, &own_code, VICTIM_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user: UserView = serde_json::from_value(body).unwrap();
    assert_eq!(
        user.user_id, person.user_id,
        "the place the admin made is theirs"
    );
    assert_eq!(
        cloud.get(&stolen, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "tokens from before the verification stay dead"
    );
    // The attacker's password is not the account's; the pending sign-up is gone.
    let (status, _) = cloud.verify(victim, &first_code, ATTACKER_PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(cloud.count("SELECT COUNT(*) FROM account_signups").await, 0);
    let tess_status = |people: Vec<PersonView>| {
        people
            .into_iter()
            .find(|p| p.user_id == person.user_id)
            .map(|p| p.status)
    };
    let people = cloud.people(&owner, site.site_id).await;
    assert_eq!(
        tess_status(people),
        Some(PersonStatus::Invited),
        "until she uses it"
    );
    let tess = cloud.token_for(person.user_id).await;
    assert_eq!(cloud.get(&tess, "/api/v1/me").await.0, StatusCode::OK);
    let people = cloud.people(&owner, site.site_id).await;
    assert_eq!(tess_status(people), Some(PersonStatus::Active));
}

#[tokio::test]
async fn sign_up_answers_the_same_for_known_and_unknown_addresses() {
    let cloud = Cloud::start().await;
    let known = cloud.email();
    let (status, _) = cloud.sign_up(&known, VICTIM_PASSWORD).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let code = cloud.verification_code(&known).await.unwrap();
    assert_eq!(
        cloud.verify(&known, &code, VICTIM_PASSWORD).await.0,
        StatusCode::OK
    );

    let unknown = cloud.email();
    let (known_status, known_body) = cloud.sign_up(&known, ATTACKER_PASSWORD).await;
    let (unknown_status, unknown_body) = cloud.sign_up(&unknown, ATTACKER_PASSWORD).await;
    assert_eq!(known_status, unknown_status);
    let strip = |mut body: Value| {
        body["email"] = Value::Null;
        body
    };
    assert_eq!(strip(known_body), strip(unknown_body));
    // The difference is told to the address itself: the known one gets no code.
    let known_mail = cloud.mail_to(&known).await;
    assert_eq!(known_mail.len(), 2);
    assert_eq!(
        keyway_cloud::auth::verification::find_code(&known_mail[1].body),
        None
    );
    assert!(cloud.verification_code(&unknown).await.is_some());
    // And the real owner's password still works: nothing changed for the known account.
    let (status, _) = cloud.verify(&known, &code, VICTIM_PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a used code does not work twice"
    );
}

#[tokio::test]
async fn codes_work_once_expire_are_throttled_and_are_not_in_the_database() {
    let cloud = Cloud::start().await;
    let email = cloud.email();
    cloud.sign_up(&email, VICTIM_PASSWORD).await;
    let code = cloud.verification_code(&email).await.unwrap();
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    let stored = cloud
        .count(format!(
            "SELECT COUNT(*) FROM account_signups WHERE instr(code_hash, '{digits}') > 0
             OR instr(hex(code_hash), '{digits}') > 0"
        ))
        .await;
    assert_eq!(stored, 0, "only a hash of the code is stored");

    // Five wrong guesses, then even the right code waits.
    for _ in 0..5 {
        let (status, body) = cloud.verify(&email, &wrong(&code), VICTIM_PASSWORD).await;
        assert_eq!(
            (status, code_of(&body)),
            (StatusCode::BAD_REQUEST, "verification_failed")
        );
    }
    let (status, body) = cloud.verify(&email, &code, VICTIM_PASSWORD).await;
    assert_eq!(
        (status, code_of(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );

    // After the window the code still works, once; it expires after its lifetime.
    cloud.running.state.clock.advance(16 * 60);
    let (status, _) = cloud.verify(&email, &code, VICTIM_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = cloud.verify(&email, &code, VICTIM_PASSWORD).await;
    assert_eq!(
        (status, code_of(&body)),
        (StatusCode::BAD_REQUEST, "verification_failed")
    );

    let late = cloud.email();
    cloud.sign_up(&late, VICTIM_PASSWORD).await;
    let late_code = cloud.verification_code(&late).await.unwrap();
    cloud.running.state.clock.advance(CODE_TTL_SECONDS + 1);
    let (status, body) = cloud.verify(&late, &late_code, VICTIM_PASSWORD).await;
    assert_eq!(
        (status, code_of(&body)),
        (StatusCode::BAD_REQUEST, "verification_failed")
    );
}

#[tokio::test]
async fn sign_up_cannot_flood_a_mailbox() {
    let cloud = Cloud::start().await;
    let email = cloud.email();
    for _ in 0..8 {
        let (status, _) = cloud.sign_up(&email, ATTACKER_PASSWORD).await;
        assert_eq!(status, StatusCode::ACCEPTED, "the answer never changes");
    }
    assert_eq!(
        cloud.mail_to(&email).await.len(),
        keyway_cloud::email::SIGNUP_MAILS_PER_HOUR as usize
    );
}

#[tokio::test]
async fn an_unverified_account_is_not_joined_to_a_pod_at_once() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Apartment").await;
    let victim = cloud.email();
    cloud.sign_up(&victim, ATTACKER_PASSWORD).await;
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/pods", site.site_id),
            json!({ "name": "Apartment 201", "lock_ids": [lock.lock_id],
                    "members": [{ "name": "Mia", "email": victim }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["members"][0]["status"], "invited");
    assert_eq!(body["members"][0]["user_id"], Value::Null);
    let joined_site = cloud
        .count(format!(
            "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE u.email = '{victim}'"
        ))
        .await;
    assert_eq!(
        joined_site, 0,
        "no place on the site for an unproven address"
    );
}

#[tokio::test]
async fn the_e_mail_link_opens_a_page_that_confirms_with_the_password_and_refuses_other_sites() {
    let cloud = Cloud::start().await;
    let email = cloud.email();
    cloud.sign_up(&email, VICTIM_PASSWORD).await;
    let mail = cloud.mail_to(&email).await;
    let body = &mail.last().unwrap().body;
    let link = body
        .split_whitespace()
        .find(|word| word.contains("/web/verify?"))
        .unwrap()
        .to_string();
    let code = keyway_cloud::auth::verification::find_code(body).unwrap();
    let http = reqwest::Client::new();
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{code}\"")),
        "the code comes filled in"
    );

    let form = [
        ("email", email.as_str()),
        ("code", code.as_str()),
        ("password", VICTIM_PASSWORD),
    ];
    let post = format!("{}/web/verify", cloud.running.base_url());
    let forged = http
        .post(&post)
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let wrong = http
        .post(&post)
        .header("origin", cloud.running.base_url())
        .form(&[
            ("email", email.as_str()),
            ("code", code.as_str()),
            ("password", ATTACKER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let confirmed = http
        .post(&post)
        .header("origin", cloud.running.base_url())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(
        cloud
            .count(format!(
                "SELECT COUNT(*) FROM users WHERE email = '{email}' AND email_verified_at IS NOT NULL"
            ))
            .await,
        1
    );
}

#[tokio::test]
async fn a_patient_guesser_gets_few_live_codes_and_few_tries_a_day() {
    let cloud = Cloud::start().await;
    let email = cloud.email();
    for _ in 0..5 {
        cloud.sign_up(&email, ATTACKER_PASSWORD).await;
    }
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM account_signups").await,
        i64::from(keyway_cloud::auth::verification::MAX_PENDING_SIGNUPS),
        "older codes die when newer ones come"
    );
    let code = cloud.verification_code(&email).await.unwrap();
    let limit = keyway_cloud::auth::verification::DAILY_FAILURE_LIMIT;
    let mut refused_at = None;
    for attempt in 0..limit + 5 {
        // Each window of the short throttle is waited out: only the daily cap is left.
        cloud.running.state.clock.advance(16 * 60);
        let (status, _) = cloud.verify(&email, &wrong(&code), ATTACKER_PASSWORD).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(attempt);
            break;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(refused_at, Some(limit), "the day's tries run out");
    let (status, _) = cloud.verify(&email, &code, ATTACKER_PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right code waits"
    );
}

#[tokio::test]
async fn adding_an_address_to_a_site_or_pod_tells_nothing_about_its_account() {
    let cloud = Cloud::start().await;
    // The victim has a verified account with her real name.
    let known = cloud.email();
    cloud.sign_up(&known, VICTIM_PASSWORD).await;
    let code = cloud.verification_code(&known).await.unwrap();
    assert_eq!(
        cloud.verify(&known, &code, VICTIM_PASSWORD).await.0,
        StatusCode::OK
    );
    let unknown = cloud.email();
    // Anybody may open a site and add addresses to it.
    let prober = cloud.account().await;
    let site = cloud.site(&prober).await;
    let (lock, _) = cloud.lock(&prober, site.site_id, "Door").await;
    let add = |email: String| {
        let path = format!("/api/v1/sites/{}/people", site.site_id);
        let cloud = &cloud;
        let prober = &prober;
        async move {
            cloud
                .post(
                    prober,
                    &path,
                    json!({ "email": email, "name": "Probe", "role": "user" }),
                )
                .await
        }
    };
    let (known_status, known_body) = add(known.clone()).await;
    let (unknown_status, unknown_body) = add(unknown.clone()).await;
    assert_eq!(known_status, unknown_status);
    let shape = |mut body: Value| {
        body["user_id"] = Value::Null;
        body["email"] = Value::Null;
        body
    };
    assert_eq!(
        shape(known_body),
        shape(unknown_body),
        "same status, the typed name"
    );
    let people = cloud.people(&prober, site.site_id).await;
    assert!(
        people.iter().all(|p| p.name != "Signer"),
        "never the account's own name"
    );
    // A pod of both addresses shows both members the same way.
    let (status, pod) = cloud
        .post(
            &prober,
            &format!("/api/v1/sites/{}/pods", site.site_id),
            json!({ "name": "Probe pod", "lock_ids": [lock.lock_id],
                    "members": [{ "name": "A", "email": known }, { "name": "B", "email": unknown }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pod}");
    let members = pod["members"].as_array().unwrap();
    assert_eq!(members[0]["status"], members[1]["status"]);
    assert_eq!(members[0]["user_id"], members[1]["user_id"]);
}
