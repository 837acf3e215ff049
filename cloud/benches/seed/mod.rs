//! A site of 40,000 people for the benchmarks (`bench people`, `bench console`), written
//! straight into the store: most have used Keyway, one in ten is still invited.

use keyway_cloud::StoreError;

use super::api_support::Cloud;

/// People on the site, the owner included.
pub const PEOPLE: u32 = 40_000;

const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chloé", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kim",
    "Lena", "Marc", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sam", "Tom",
];
const LAST_NAMES: &[&str] = &[
    "Andersen", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova",
    "Jensen", "Keller", "Lambert", "Martin", "Novak", "Olsen", "Petit", "Rossi", "Schmidt",
    "Tanaka", "Weber",
];

/// Everyone but the owner, straight into the store: most have used Keyway, one in ten is
/// still invited under the name the admin typed.
pub async fn fill(cloud: &Cloud, site_id: u32) {
    cloud
        .running
        .state
        .store
        .transaction(move |tx| {
            let mut user = tx.prepare(
                "INSERT INTO users (email, name, created_at, email_verified_at)
                 VALUES (?1, ?2, 0, 0)",
            )?;
            let mut place = tx.prepare(
                "INSERT INTO memberships (site_id, user_id, role, created_at, claimed_at,
                 invited_name) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            )?;
            for index in 1..PEOPLE {
                let i = index as usize;
                let name = format!(
                    "{} {}",
                    FIRST_NAMES[i * 7 % FIRST_NAMES.len()],
                    LAST_NAMES[i * 13 % LAST_NAMES.len()]
                );
                user.execute(rusqlite::params![
                    format!("person{index}@bench.example"),
                    name
                ])?;
                let invited = index % 10 == 0;
                let role = match index % 100 {
                    0 => "admin",
                    1..=4 => "super_user",
                    _ => "user",
                };
                place.execute(rusqlite::params![
                    site_id,
                    tx.last_insert_rowid(),
                    role,
                    (!invited).then_some(0),
                    &name
                ])?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
}
