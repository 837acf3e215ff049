//! The people list at scale (issue 12): pages by an opaque cursor, filters by text, role and
//! status, refuses cursors it did not give out for this site and these filters, and never
//! lets a search or the order reveal the own name of an account whose place is not claimed.

use std::collections::{BTreeSet, HashMap};

use crate::api_support;

use api_support::{Caller, Cloud};
use keyway_api::{PeoplePage, PersonStatus, PersonView, Role};
use keyway_cloud::StoreError;
use reqwest::StatusCode;
use serde_json::json;

/// Adds a person by e-mail through the API (an invitation until they use Keyway).
async fn add(cloud: &Cloud, owner: &Caller, site_id: u32, name: &str, role: &str) -> PersonView {
    let (status, body) = cloud
        .post(
            owner,
            &format!("/api/v1/sites/{site_id}/people"),
            json!({ "email": cloud.email(), "name": name, "role": role }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    api_support::typed(body)
}

async fn remove(cloud: &Cloud, owner: &Caller, site_id: u32, user_id: u32) {
    let (status, body) = cloud
        .delete(owner, &format!("/api/v1/sites/{site_id}/people/{user_id}"))
        .await;
    assert!(status.is_success(), "{status}: {body}");
}

fn path(site_id: u32, query: &str) -> String {
    format!("/api/v1/sites/{site_id}/people?{query}")
}

/// Follows `query`'s pages to the end; every page but the last is full.
async fn all_pages(cloud: &Cloud, caller: &Caller, site_id: u32, query: &str) -> Vec<PeoplePage> {
    let mut pages = Vec::new();
    let mut next = path(site_id, query);
    loop {
        let page = cloud.people_page(caller, &next).await;
        let cursor = page.next_cursor.clone();
        pages.push(page);
        match cursor {
            Some(cursor) => next = path(site_id, &format!("{query}&cursor={cursor}")),
            None => return pages,
        }
    }
}

fn names(people: &[PersonView]) -> Vec<String> {
    people.iter().map(|person| person.name.clone()).collect()
}

/// The list's order: the shown name without (ASCII) case, then the account id.
fn assert_in_list_order(people: &[PersonView]) {
    let keys: Vec<(String, u32)> = people
        .iter()
        .map(|p| (p.name.to_ascii_lowercase(), p.user_id))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "in list order");
}

#[tokio::test]
async fn paging_visits_everyone_who_stays_exactly_once_while_people_come_and_go() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let site_id = site.site_id;
    // Names that tie and differ only by case, so the account id must order them.
    let mut start = Vec::new();
    for index in 0..40 {
        let name = match index % 4 {
            0 => format!("Sam {}", index / 8),
            1 => format!("sam {}", index / 8),
            2 => format!("Alex {index:02}"),
            _ => format!("Zoe {index:02}"),
        };
        start.push(add(&cloud, &owner, site_id, &name, "user").await.user_id);
    }
    let first = cloud.people_page(&owner, &path(site_id, "limit=7")).await;
    assert_eq!(first.total, 41, "the owner and the forty");
    assert_eq!(first.people.len(), 7);

    let mut seen: Vec<PersonView> = first.people.clone();
    let mut removed = BTreeSet::new();
    let mut cursor = first.next_cursor.clone();
    let mut round = 0;
    while let Some(next) = cursor {
        // Between pages: someone sorts before the cursor, someone after, someone already seen
        // leaves, and someone not seen yet leaves.
        add(&cloud, &owner, site_id, &format!("Aaron {round}"), "user").await;
        add(&cloud, &owner, site_id, &format!("Zz {round}"), "user").await;
        let seen_ids: BTreeSet<u32> = seen.iter().map(|p| p.user_id).collect();
        let seen_victim = start
            .iter()
            .find(|id| seen_ids.contains(id) && !removed.contains(*id))
            .copied();
        let unseen_victim = start
            .iter()
            .rev()
            .find(|id| !seen_ids.contains(id) && !removed.contains(*id))
            .copied();
        for victim in [seen_victim, unseen_victim].into_iter().flatten() {
            remove(&cloud, &owner, site_id, victim).await;
            removed.insert(victim);
        }
        let page = cloud
            .people_page(&owner, &path(site_id, &format!("limit=7&cursor={next}")))
            .await;
        assert!(page.people.len() <= 7);
        seen.extend(page.people);
        cursor = page.next_cursor;
        round += 1;
    }
    assert!(round >= 3, "several pages with changes between them");

    let mut times_seen: HashMap<u32, usize> = HashMap::new();
    for person in &seen {
        *times_seen.entry(person.user_id).or_default() += 1;
    }
    assert!(
        times_seen.values().all(|&times| times == 1),
        "nobody twice: {times_seen:?}"
    );
    for stayed in start
        .iter()
        .chain([&owner.user_id])
        .filter(|id| !removed.contains(*id))
    {
        assert_eq!(
            times_seen.get(stayed),
            Some(&1),
            "{stayed} stayed and was seen"
        );
    }
    assert_in_list_order(&seen);
    // The helper that follows every page sees the site as it is now, in order.
    let now = cloud.people(&owner, site_id).await;
    assert_in_list_order(&now);
    assert_eq!(now.len(), 41 + 2 * round - removed.len());
}

#[tokio::test]
async fn filters_by_text_role_and_status_and_pages_through_what_matches() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let site_id = site.site_id;
    let percent = add(&cloud, &owner, site_id, "100% Dana", "user").await;
    let underscore = add(&cloud, &owner, site_id, "Ed_Wood", "admin").await;
    let lookalike = add(&cloud, &owner, site_id, "Edxwood", "super_user").await;
    let backslash = add(&cloud, &owner, site_id, "Back\\slash", "user").await;
    let active = cloud.member(&owner, site_id, Role::User).await;

    let search = |query: &'static str| {
        let cloud = &cloud;
        let owner = &owner;
        async move {
            let page = cloud.people_page(owner, &path(site_id, query)).await;
            assert_eq!(page.total as usize, page.people.len(), "{query}");
            page.people.iter().map(|p| p.user_id).collect::<Vec<_>>()
        }
    };
    // LIKE's own characters are searched for, not obeyed.
    assert_eq!(search("q=%25").await, [percent.user_id]);
    assert_eq!(search("q=_").await, [underscore.user_id]);
    assert_eq!(search("q=%5C").await, [backslash.user_id]);
    // Case does not matter; surrounding blanks neither.
    assert_eq!(search("q=ed_W").await, [underscore.user_id]);
    assert_eq!(
        search("q=%20EDX%20").await,
        [lookalike.user_id],
        "trimmed, case-insensitive"
    );
    assert_eq!(search("q=edx").await, [lookalike.user_id]);
    // The e-mail is searched too.
    let address = cloud
        .people(&owner, site_id)
        .await
        .into_iter()
        .find(|p| p.user_id == lookalike.user_id)
        .unwrap()
        .email
        .unwrap();
    assert_eq!(
        search(Box::leak(format!("q={address}").into_boxed_str())).await,
        [lookalike.user_id]
    );
    assert!(search("q=nobody-has-this").await.is_empty());
    // An empty search is no search.
    assert_eq!(search("q=%20").await.len(), 6);

    assert_eq!(search("role=owner").await, [owner.user_id]);
    assert_eq!(search("role=admin").await, [underscore.user_id]);
    assert_eq!(search("role=super_user").await, [lookalike.user_id]);
    let mut users = search("role=user").await;
    users.sort_unstable();
    let mut expected = vec![percent.user_id, backslash.user_id, active.user_id];
    expected.sort_unstable();
    assert_eq!(users, expected);

    let invited = search("status=invited").await;
    assert_eq!(invited.len(), 4, "the four added who never used Keyway");
    assert!(!invited.contains(&active.user_id) && !invited.contains(&owner.user_id));
    let mut actives = search("status=active").await;
    actives.sort_unstable();
    let mut expected = vec![owner.user_id, active.user_id];
    expected.sort_unstable();
    assert_eq!(actives, expected);
    assert_eq!(
        search("role=user&status=invited&q=a").await,
        [percent.user_id, backslash.user_id]
    );

    // Filtered pages: one person a page, each matching, all of them once.
    let pages = all_pages(&cloud, &owner, site_id, "limit=1&status=invited").await;
    assert_eq!(pages.len(), 4);
    assert!(pages
        .iter()
        .all(|page| page.total == 4 && page.people.len() == 1));
    let people: Vec<PersonView> = pages.into_iter().flat_map(|page| page.people).collect();
    assert!(people.iter().all(|p| p.status == PersonStatus::Invited));
    assert_in_list_order(&people);
    assert_eq!(
        names(&people),
        ["100% Dana", "Back\\slash", "Ed_Wood", "Edxwood"]
    );
}

/// Puts `count` invited people on the site straight into the store (quicker than the API).
async fn fill(cloud: &Cloud, site_id: u32, count: u32) {
    cloud
        .running
        .state
        .store
        .transaction(move |tx| {
            for index in 0..count {
                tx.execute(
                    "INSERT INTO users (email, name, created_at) VALUES (?1, 'Own name', 0)",
                    [format!("filled{site_id}-{index}@example.com")],
                )?;
                tx.execute(
                    "INSERT INTO memberships (site_id, user_id, role, created_at, invited_name)
                     VALUES (?1, ?2, 'user', 0, ?3)",
                    rusqlite::params![
                        site_id,
                        tx.last_insert_rowid(),
                        format!("Filled {index:04}")
                    ],
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn pages_hold_fifty_people_unless_told_and_limits_out_of_range_are_refused() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let site_id = site.site_id;
    fill(&cloud, site_id, 520).await;

    let first = cloud.people_page(&owner, &path(site_id, "")).await;
    assert_eq!((first.people.len(), first.total), (50, 521));
    assert!(first.next_cursor.is_some());
    let one = cloud.people_page(&owner, &path(site_id, "limit=1")).await;
    assert_eq!(one.people, first.people[..1]);
    let most = cloud.people_page(&owner, &path(site_id, "limit=500")).await;
    assert_eq!(most.people.len(), 500);
    assert_eq!(most.people[..50], first.people[..]);
    let pages = all_pages(&cloud, &owner, site_id, "limit=500").await;
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].people.len(), 21);
    assert_eq!(pages[1].next_cursor, None, "the last page says so");

    for query in [
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=4294967296",
        "limit=ten",
        "role=janitor",
        "status=gone",
        &format!("q={}", "x".repeat(101)),
        "q=a%00b",
    ] {
        let (status, body) = cloud.get(&owner, &path(site_id, query)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"], "invalid_input", "{query}");
    }
    let longest = format!("q={}", "x".repeat(100));
    assert_eq!(
        cloud
            .people_page(&owner, &path(site_id, &longest))
            .await
            .total,
        0
    );
}

#[tokio::test]
async fn a_tampered_cut_or_made_up_cursor_or_one_for_other_filters_is_refused() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let site_id = site.site_id;
    fill(&cloud, site_id, 12).await;
    let first = cloud.people_page(&owner, &path(site_id, "limit=5")).await;
    let cursor = first.next_cursor.unwrap();
    let second = cloud
        .people_page(&owner, &path(site_id, &format!("limit=5&cursor={cursor}")))
        .await;
    assert_eq!(second.people.len(), 5);

    let mut tampered = Vec::new();
    for index in 0..cursor.len() {
        let mut bytes = cursor.clone().into_bytes();
        bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
        tampered.push(String::from_utf8(bytes).unwrap());
    }
    tampered.push(cursor[..cursor.len() - 1].to_string());
    tampered.push(format!("{cursor}A"));
    tampered.push("AAAA".into());
    tampered.push("not a cursor".into());
    tampered.push("%FF%FE".into());
    tampered.push("A".repeat(5000));
    for bad in &tampered {
        let (status, body) = cloud
            .get(&owner, &path(site_id, &format!("limit=5&cursor={bad}")))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_input", "{bad}");
    }
    // A cursor holds for the filters it was given out under, and no others.
    for other in [
        "limit=5&q=filled",
        "limit=5&role=user",
        "limit=5&status=invited",
    ] {
        let (status, body) = cloud
            .get(&owner, &path(site_id, &format!("{other}&cursor={cursor}")))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{other}: {body}");
        assert_eq!(body["error"], "invalid_input");
    }
    // The page size may change between pages.
    let bigger = cloud
        .people_page(&owner, &path(site_id, &format!("limit=50&cursor={cursor}")))
        .await;
    assert_eq!(bigger.people[..5], second.people[..]);
}

#[tokio::test]
async fn a_cursor_from_another_site_is_refused_and_shows_nothing_of_either() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let mine = cloud.site(&owner).await;
    let other = cloud.site(&owner).await;
    fill(&cloud, mine.site_id, 8).await;
    fill(&cloud, other.site_id, 8).await;
    let page = cloud
        .people_page(&owner, &path(mine.site_id, "limit=3"))
        .await;
    let cursor = page.next_cursor.unwrap();
    // The same owner, the other site: refused, not "the other site from that name on".
    let (status, body) = cloud
        .get(
            &owner,
            &path(other.site_id, &format!("limit=3&cursor={cursor}")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_input");
    assert!(body.get("people").is_none());

    // Another site's owner with a cursor of this one: refused on their own site, and this
    // site stays invisible to them whatever they send.
    let stranger = cloud.account().await;
    let theirs = cloud.site(&stranger).await;
    let (status, body) = cloud
        .get(
            &stranger,
            &path(theirs.site_id, &format!("cursor={cursor}")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_input");
    let (status, body) = cloud
        .get(&stranger, &path(mine.site_id, &format!("cursor={cursor}")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn owners_admins_and_super_users_list_people_users_are_refused_outsiders_see_nothing() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let site_id = site.site_id;
    let admin = cloud.member(&owner, site_id, Role::Admin).await;
    let super_user = cloud.member(&owner, site_id, Role::SuperUser).await;
    let user = cloud.member(&owner, site_id, Role::User).await;
    let outsider = cloud.account().await;
    for viewer in [&owner, &admin, &super_user] {
        let page = cloud.people_page(viewer, &path(site_id, "limit=2")).await;
        assert_eq!((page.people.len(), page.total), (2, 4));
    }
    // Refusals come first, before any input is judged: a bad limit or cursor tells nothing.
    for query in ["", "limit=2", "limit=0", "cursor=garbage", "role=janitor"] {
        let (status, body) = cloud.get(&user, &path(site_id, query)).await;
        if query == "role=janitor" {
            // Malformed query text is refused by the parser before the role is known.
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            continue;
        }
        assert_eq!(status, StatusCode::FORBIDDEN, "user, {query}: {body}");
        assert_eq!(body["error"], "forbidden");
        let (status, body) = cloud.get(&outsider, &path(site_id, query)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "outsider, {query}: {body}");
        assert_eq!(body["error"], "not_found");
    }
}

#[tokio::test]
async fn a_search_or_the_order_never_reveals_the_own_name_of_an_unclaimed_account() {
    let cloud = Cloud::start().await;
    // The victim has an account under their own name.
    let victim_email = cloud.email();
    let victim = cloud.account_with_email(&victim_email).await;
    let id = victim.user_id;
    cloud
        .running
        .state
        .store
        .run(move |db| {
            db.execute(
                "UPDATE users SET name = 'Aaron Secretname' WHERE id = ?1",
                [id],
            )?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    // The attacker opens a site and adds the victim's address under a made-up name, with a
    // decoy between the two names in the list's order.
    let attacker = cloud.account().await;
    let site = cloud.site(&attacker).await;
    let site_id = site.site_id;
    let (status, body) = cloud
        .post(
            &attacker,
            &format!("/api/v1/sites/{site_id}/people"),
            json!({ "email": victim_email, "name": "Zed Typed", "role": "user" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    add(&cloud, &attacker, site_id, "Mike Decoy", "user").await;

    for probe in ["Secretname", "secret", "aaron", "Aaron%20S", "n%20Sec"] {
        let page = cloud
            .people_page(&attacker, &path(site_id, &format!("q={probe}")))
            .await;
        assert_eq!(page.total, 0, "{probe}: {page:?}");
        assert!(page.people.is_empty());
    }
    let typed = cloud.people_page(&attacker, &path(site_id, "q=zed")).await;
    assert_eq!(typed.total, 1);
    assert_eq!(typed.people[0].user_id, id);
    assert_eq!(typed.people[0].name, "Zed Typed");
    // The order follows the typed name too: after the decoy, not first as "Aaron" would be.
    let everyone = names(&cloud.people(&attacker, site_id).await);
    assert_eq!(everyone, ["Mike Decoy", "Test person", "Zed Typed"]);
    // Paging one by one: the cursor carries the shown name only, and the page after the decoy
    // is the attacker, not the victim under the own name.
    let pages = all_pages(&cloud, &attacker, site_id, "limit=1").await;
    let paged: Vec<String> = pages.into_iter().flat_map(|p| names(&p.people)).collect();
    assert_eq!(paged, everyone);

    // Once the victim uses Keyway the place is theirs, and their own name shows and sorts.
    cloud.mark_verified(id).await;
    let (status, _) = cloud.get(&victim, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    let everyone = names(&cloud.people(&attacker, site_id).await);
    assert_eq!(everyone, ["Aaron Secretname", "Mike Decoy", "Test person"]);
    assert_eq!(
        cloud
            .people_page(&attacker, &path(site_id, "q=secret"))
            .await
            .total,
        1
    );
    // The sort key the store keeps is the shown name, whatever changed it.
    let drift = "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.listed_name IS NOT CASE WHEN m.claimed_at IS NULL
             THEN COALESCE(m.invited_name, u.name) ELSE u.name END";
    assert_eq!(cloud.count(drift).await, 0);
    cloud
        .running
        .state
        .store
        .run(move |db| {
            db.execute("UPDATE users SET name = 'Zach Renamed' WHERE id = ?1", [id])?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    assert_eq!(cloud.count(drift).await, 0);
    let everyone = names(&cloud.people(&attacker, site_id).await);
    assert_eq!(everyone, ["Mike Decoy", "Test person", "Zach Renamed"]);
}
