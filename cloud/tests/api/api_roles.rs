//! People and roles over HTTP (manuals 000 and 002): the role table row by row, one owner per
//! site, rights and their rules, and visibility of sites.

use crate::api_support;

use api_support::{typed, Caller, Cloud};
use keyway_api::{MeResponse, PersonStatus, PersonView, Role, SiteView};
use reqwest::StatusCode;
use serde_json::{json, Value};
use Role::{Admin, Owner, SuperUser, User};

/// What the actor tries to do to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    PromoteToAdmin,
    DemoteToUser,
    TogglePrivacyOverride,
    ToggleRemoteOpening,
    ToggleOfficeMode,
    Remove,
}

const ACTIONS: [Action; 6] = [
    Action::PromoteToAdmin,
    Action::DemoteToUser,
    Action::TogglePrivacyOverride,
    Action::ToggleRemoteOpening,
    Action::ToggleOfficeMode,
    Action::Remove,
];

const Y: bool = true;
const N: bool = false;

/// actor × target → allowed, per action in [`ACTIONS`] order:
/// promote to admin, demote to user, privacy override, remote opening, office mode, remove.
/// The owner row against the owner is the owner acting on themselves.
const TABLE: [(Role, Role, [bool; 6]); 16] = [
    (Owner, Owner, [N, N, Y, Y, Y, N]),
    (Owner, Admin, [Y, Y, Y, Y, Y, Y]),
    (Owner, SuperUser, [Y, Y, Y, Y, Y, Y]),
    (Owner, User, [Y, Y, Y, Y, Y, Y]),
    (Admin, Owner, [N, N, N, N, N, N]),
    (Admin, Admin, [Y, Y, Y, Y, Y, Y]),
    (Admin, SuperUser, [Y, Y, Y, Y, Y, Y]),
    (Admin, User, [Y, Y, Y, Y, Y, Y]),
    (SuperUser, Owner, [N, N, N, N, N, N]),
    (SuperUser, Admin, [N, N, N, N, N, N]),
    (SuperUser, SuperUser, [N, Y, N, Y, Y, Y]),
    (SuperUser, User, [N, Y, N, Y, Y, Y]),
    (User, Owner, [N, N, N, N, N, N]),
    (User, Admin, [N, N, N, N, N, N]),
    (User, SuperUser, [N, N, N, N, N, N]),
    (User, User, [N, N, N, N, N, N]),
];

/// actor → may add someone as owner, admin, super user, user.
const ADD_TABLE: [(Role, [bool; 4]); 4] = [
    (Owner, [N, Y, Y, Y]),
    (Admin, [N, Y, Y, Y]),
    (SuperUser, [N, N, Y, Y]),
    (User, [N, N, N, N]),
];

/// A site with its owner, plus an actor and a target of the given roles (the owner itself
/// when the role is owner).
struct Scene {
    site: SiteView,
    owner: Caller,
    actor: Caller,
    target: Caller,
}

async fn scene(cloud: &Cloud, actor: Role, target: Role) -> Scene {
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let someone = |role: Role| {
        let owner = owner.clone();
        async move {
            if role == Owner {
                owner
            } else {
                cloud.member(&owner, site.site_id, role).await
            }
        }
    };
    let actor = someone(actor).await;
    let target = someone(target).await;
    Scene {
        site,
        owner,
        actor,
        target,
    }
}

fn person(people: &[PersonView], user_id: u32) -> PersonView {
    people
        .iter()
        .find(|p| p.user_id == user_id)
        .unwrap()
        .clone()
}

async fn attempt(cloud: &Cloud, scene: &Scene, action: Action) -> (StatusCode, Value) {
    let path = format!(
        "/api/v1/sites/{}/people/{}",
        scene.site.site_id, scene.target.user_id
    );
    let before = person(
        &cloud.people(&scene.owner, scene.site.site_id).await,
        scene.target.user_id,
    );
    let body = match action {
        Action::PromoteToAdmin => json!({ "role": "admin" }),
        Action::DemoteToUser => json!({ "role": "user" }),
        Action::TogglePrivacyOverride => json!({ "privacy_override": !before.privacy_override }),
        Action::ToggleRemoteOpening => json!({ "remote_opening": !before.remote_opening }),
        Action::ToggleOfficeMode => json!({ "office_mode": !before.office_mode }),
        Action::Remove => return cloud.delete(&scene.actor, &path).await,
    };
    cloud.patch(&scene.actor, &path, body).await
}

#[tokio::test]
async fn the_role_table_holds_row_by_row() {
    let cloud = Cloud::start().await;
    for (actor, target, expected) in TABLE {
        for (action, allowed) in ACTIONS.into_iter().zip(expected) {
            let scene = scene(&cloud, actor, target).await;
            let before = cloud.people(&scene.owner, scene.site.site_id).await;
            let (status, body) = attempt(&cloud, &scene, action).await;
            let row = format!("{actor:?} → {target:?}: {action:?}");
            if allowed {
                assert!(
                    status.is_success(),
                    "{row} should be allowed, got {status} {body}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{row}: {body}");
                assert_eq!(body["error"], "forbidden", "{row}");
                let after = cloud.people(&scene.owner, scene.site.site_id).await;
                assert_eq!(after, before, "{row}: a refused request changed nothing");
            }
        }
    }
}

#[tokio::test]
async fn who_may_add_whom_row_by_row() {
    let cloud = Cloud::start().await;
    let roles = [Owner, Admin, SuperUser, User];
    for (actor, expected) in ADD_TABLE {
        for (role, allowed) in roles.into_iter().zip(expected) {
            let scene = scene(&cloud, actor, User).await;
            let before = cloud.people(&scene.owner, scene.site.site_id).await;
            let (status, body) = cloud
                .post(
                    &scene.actor,
                    &format!("/api/v1/sites/{}/people", scene.site.site_id),
                    json!({ "email": cloud.email(), "name": "New", "role": role }),
                )
                .await;
            let row = format!("{actor:?} adds {role:?}");
            if allowed {
                assert_eq!(status, StatusCode::CREATED, "{row}: {body}");
                let added: PersonView = typed(body);
                assert_eq!(added.role, role, "{row}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{row}: {body}");
                let after = cloud.people(&scene.owner, scene.site.site_id).await;
                assert_eq!(after, before, "{row}: nothing added");
            }
        }
    }
}

#[tokio::test]
async fn a_site_has_exactly_one_owner() {
    let cloud = Cloud::start().await;
    let scene = scene(&cloud, Admin, User).await;
    let site_id = scene.site.site_id;
    let (status, _) = cloud
        .patch(
            &scene.owner,
            &format!("/api/v1/sites/{site_id}/people/{}", scene.target.user_id),
            json!({ "role": "owner" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nobody is promoted to owner");
    let (status, _) = cloud
        .patch(
            &scene.actor,
            &format!("/api/v1/sites/{site_id}/people/{}", scene.owner.user_id),
            json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the owner is never demoted");
    let owners = cloud
        .people(&scene.owner, site_id)
        .await
        .into_iter()
        .filter(|p| p.role == Owner)
        .count();
    assert_eq!(owners, 1);
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM memberships WHERE role = 'owner'")
            .await,
        1
    );
}

#[tokio::test]
async fn nobody_changes_their_own_role() {
    let cloud = Cloud::start().await;
    for (role, new) in [
        (Admin, User),
        (SuperUser, Admin),
        (SuperUser, User),
        (User, Admin),
    ] {
        let scene = scene(&cloud, role, User).await;
        let (status, body) = cloud
            .patch(
                &scene.actor,
                &format!(
                    "/api/v1/sites/{}/people/{}",
                    scene.site.site_id, scene.actor.user_id
                ),
                json!({ "role": new }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} → {new:?}: {body}");
    }
}

#[tokio::test]
async fn remote_office_mode_implies_remote_opening() {
    let cloud = Cloud::start().await;
    let scene = scene(&cloud, Admin, User).await;
    let path = format!(
        "/api/v1/sites/{}/people/{}",
        scene.site.site_id, scene.target.user_id
    );
    let (status, body) = cloud
        .patch(
            &scene.actor,
            &path,
            json!({ "office_mode": true, "remote_opening": false }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let unchanged = person(
        &cloud.people(&scene.owner, scene.site.site_id).await,
        scene.target.user_id,
    );
    assert!(!unchanged.office_mode && !unchanged.remote_opening);

    let (status, body) = cloud
        .patch(&scene.actor, &path, json!({ "office_mode": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let on: PersonView = typed(body);
    assert!(on.office_mode && on.remote_opening, "turned on together");

    let (status, _) = cloud
        .patch(&scene.actor, &path, json!({ "remote_opening": false }))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "office mode needs remote opening"
    );

    let (status, body) = cloud
        .patch(&scene.actor, &path, json!({ "office_mode": false }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let off: PersonView = typed(body);
    assert!(
        !off.office_mode && off.remote_opening,
        "remote opening may stay"
    );
}

#[tokio::test]
async fn sites_are_visible_to_members_only_and_me_lists_them() {
    let cloud = Cloud::start().await;
    let scene = scene(&cloud, User, User).await;
    let site_id = scene.site.site_id;
    let outsider = cloud.account().await;

    let (status, body) = cloud
        .get(&scene.actor, &format!("/api/v1/sites/{site_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let seen: SiteView = typed(body);
    assert_eq!(
        seen, scene.site,
        "members see the site and its authority key"
    );
    assert!(!seen.authority_public_key.is_empty());

    for path in [
        format!("/api/v1/sites/{site_id}"),
        format!("/api/v1/sites/{site_id}/people"),
        format!("/api/v1/sites/{site_id}/locks"),
        format!("/api/v1/sites/{site_id}/access-groups"),
    ] {
        let (status, _) = cloud.get(&outsider, &path).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path} is invisible to outsiders"
        );
    }
    let (status, _) = cloud
        .get(&scene.actor, &format!("/api/v1/sites/{site_id}/people"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "users do not list people");

    let (status, body) = cloud.get(&scene.actor, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    let me: MeResponse = typed(body);
    assert_eq!(me.user.user_id, scene.actor.user_id);
    assert_eq!(me.sites.len(), 1);
    assert_eq!((me.sites[0].site_id, me.sites[0].role), (site_id, User));

    let (status, _) = cloud
        .get(
            &Caller {
                user_id: 0,
                token: "nope".into(),
            },
            "/api/v1/me",
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn adding_people_checks_input_and_existing_accounts() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let path = format!("/api/v1/sites/{}/people", site.site_id);
    let before = cloud.people(&owner, site.site_id).await;
    for bad in [
        json!({ "email": "not an email", "name": "X", "role": "user" }),
        json!({ "email": "x@example.com", "name": "  ", "role": "user" }),
        // Nobody but the person sets their password: the field is refused, not ignored.
        json!({ "email": "x@example.com", "name": "X", "role": "user", "password": "correct horse battery" }),
        json!({ "email": "x@example.com", "name": "X", "role": "janitor" }),
    ] {
        let (status, body) = cloud.post(&owner, &path, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_input");
    }
    assert_eq!(cloud.people(&owner, site.site_id).await, before);
    assert_eq!(cloud.count("SELECT COUNT(*) FROM users").await, 1);

    // A new address gets a place, no password, and an invitation to claim it.
    let (status, body) = cloud
        .post(
            &owner,
            &path,
            json!({ "email": "Ana@Example.com", "name": "Ana", "role": "user" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ana: PersonView = typed(body);
    assert_eq!(ana.status, PersonStatus::Invited);
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM users WHERE password_hash IS NOT NULL")
            .await,
        0
    );
    assert_eq!(cloud.mail_to("ana@example.com").await.len(), 1);
    // Twice on the same site: 409.
    let (status, _) = cloud
        .post(
            &owner,
            &path,
            json!({ "email": "ana@example.com", "name": "Ana", "role": "user" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // An existing account joins another site as it is.
    let other_owner = cloud.account().await;
    let other = cloud.site(&other_owner).await;
    let (status, body) = cloud
        .post(
            &other_owner,
            &format!("/api/v1/sites/{}/people", other.site_id),
            json!({ "email": "ana@example.com", "name": "Someone else", "role": "admin" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let again: PersonView = typed(body);
    // The same account, but the admin sees only what they typed until Ana uses Keyway: adding
    // an address tells nobody whether it has an account or what its owner is called.
    assert_eq!(again.user_id, ana.user_id);
    assert_eq!(
        (again.name.as_str(), again.status),
        ("Someone else", PersonStatus::Invited)
    );
    assert_eq!(cloud.count("SELECT COUNT(*) FROM users").await, 3);
    // Unknown people are 404.
    let (status, _) = cloud
        .patch(&owner, &format!("{path}/9999"), json!({ "role": "user" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
