//! Pure planning: from the access groups a person is in to the keys their device should hold.
//!
//! Each lock's schedule is the union of the windows of the groups granting it (a group without
//! windows grants at any time). Locks with the same schedule share one key. Schedules are put in
//! a canonical form first (per day, overlapping or touching intervals merged; equal intervals
//! on several days joined into one window), so equal schedules written differently share a key
//! and keep the same digest.

use std::collections::BTreeMap;

use keyway_protocol::credential::{MAX_LOCKS_PER_CREDENTIAL, MAX_WINDOWS_PER_CREDENTIAL};
use keyway_protocol::schedule::MINUTES_PER_DAY;
use keyway_protocol::{Credential, CredentialFlags, PublicKey, ScheduleWindow};
use ring::digest;

use super::CLOCK_SKEW_SECONDS;

/// One access group the person is in: its locks and its windows (empty = at any time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRight {
    /// Locks the group opens.
    pub lock_ids: Vec<u32>,
    /// When.
    pub schedule: Vec<ScheduleWindow>,
}

/// The scope of one key: locks sharing one weekly schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedKey {
    /// Locks, ascending.
    pub lock_ids: Vec<u32>,
    /// Canonical windows; empty = at any time.
    pub schedule: Vec<ScheduleWindow>,
}

/// Groups the locks of `rights` by schedule: one planned key per distinct schedule (split when
/// it names more locks than a credential may carry), in a stable order.
pub fn plan_keys(rights: &[GroupRight]) -> Vec<PlannedKey> {
    // None: at any time; Some(windows): only within them.
    let mut per_lock: BTreeMap<u32, Option<Vec<ScheduleWindow>>> = BTreeMap::new();
    for right in rights {
        for lock_id in &right.lock_ids {
            let access = per_lock.entry(*lock_id).or_insert_with(|| Some(Vec::new()));
            match access {
                None => {}
                Some(_) if right.schedule.is_empty() => *access = None,
                Some(windows) => windows.extend_from_slice(&right.schedule),
            }
        }
    }
    let mut by_schedule: BTreeMap<Vec<(u16, u16, u8)>, Vec<u32>> = BTreeMap::new();
    for (lock_id, access) in per_lock {
        let schedule = access.map_or_else(Vec::new, |windows| canonical_schedule(&windows));
        by_schedule
            .entry(schedule.iter().map(window_key).collect())
            .or_default()
            .push(lock_id);
    }
    let mut keys = Vec::new();
    for (schedule, lock_ids) in by_schedule {
        if schedule.len() > MAX_WINDOWS_PER_CREDENTIAL {
            tracing::warn!(
                windows = schedule.len(),
                "a schedule has more windows than a credential carries; those locks get no key"
            );
            continue;
        }
        let schedule: Vec<ScheduleWindow> = schedule
            .into_iter()
            .map(|(start_minute, end_minute, days)| ScheduleWindow {
                days,
                start_minute,
                end_minute,
            })
            .collect();
        for chunk in lock_ids.chunks(MAX_LOCKS_PER_CREDENTIAL) {
            keys.push(PlannedKey {
                lock_ids: chunk.to_vec(),
                schedule: schedule.clone(),
            });
        }
    }
    keys
}

fn window_key(window: &ScheduleWindow) -> (u16, u16, u8) {
    (window.start_minute, window.end_minute, window.days)
}

/// The canonical form of a weekly schedule; a schedule covering the whole week becomes empty
/// (at any time), as the lock reads both the same way.
pub fn canonical_schedule(windows: &[ScheduleWindow]) -> Vec<ScheduleWindow> {
    let mut days: [Vec<(u16, u16)>; 7] = Default::default();
    for window in windows {
        for (weekday, intervals) in days.iter_mut().enumerate() {
            if window.days & (1 << weekday) != 0 {
                intervals.push((window.start_minute, window.end_minute));
            }
        }
    }
    let mut joined: BTreeMap<(u16, u16), u8> = BTreeMap::new();
    for (weekday, intervals) in days.iter_mut().enumerate() {
        intervals.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::new();
        for &(start, end) in intervals.iter() {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        for interval in merged {
            *joined.entry(interval).or_default() |= 1 << weekday;
        }
    }
    let canonical: Vec<ScheduleWindow> = joined
        .into_iter()
        .map(|((start_minute, end_minute), days)| ScheduleWindow {
            days,
            start_minute,
            end_minute,
        })
        .collect();
    let whole_week = [ScheduleWindow {
        days: ScheduleWindow::ALL_DAYS,
        start_minute: 0,
        end_minute: MINUTES_PER_DAY,
    }];
    if canonical == whole_week {
        Vec::new()
    } else {
        canonical
    }
}

/// A timeframe (a pod guest's stay, a subscription's dates, a booking): the credential never starts before
/// `from` nor ends after `until`, and the lock enforces both on its own clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    /// Check-in (Unix seconds).
    pub from: i64,
    /// Check-out (Unix seconds).
    pub until: i64,
}

/// Everything a credential grants, before it has an id and a validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The site.
    pub site_id: u32,
    /// The person.
    pub user_id: u32,
    /// Their device.
    pub device_id: u32,
    /// The device key that must sign each unlock.
    pub device_key: PublicKey,
    /// Locks and schedule.
    pub key: PlannedKey,
    /// Extra rights.
    pub flags: CredentialFlags,
    /// The site's revocation epoch.
    pub revocation_epoch: u32,
    /// A check-in/check-out bounding the validity (pod guests); `None` for ordinary keys.
    pub stay: Option<Stay>,
}

impl Grant {
    /// SHA-256 (hex) over site, person, device, sorted locks, windows, flags and epoch: two
    /// grants with the same digest grant exactly the same.
    pub fn digest(&self) -> String {
        let mut bytes = b"keyway-grant-v1".to_vec();
        for value in [
            self.site_id,
            self.user_id,
            self.device_id,
            self.revocation_epoch,
        ] {
            bytes.extend_from_slice(&value.to_be_bytes());
        }
        bytes.extend_from_slice(self.device_key.as_bytes());
        bytes.extend([
            u8::from(self.flags.master_key),
            u8::from(self.flags.privacy_override),
            u8::from(self.flags.office_mode),
        ]);
        // Appended only when set, so the digests of keys issued before offline access existed
        // stay what they were (and those keys are not reissued for nothing).
        if self.flags.offline_access {
            bytes.extend_from_slice(b"offline");
        }
        let mut lock_ids = self.key.lock_ids.clone();
        lock_ids.sort_unstable();
        bytes.extend_from_slice(&count(lock_ids.len()).to_be_bytes());
        for lock_id in lock_ids {
            bytes.extend_from_slice(&lock_id.to_be_bytes());
        }
        bytes.extend_from_slice(&count(self.key.schedule.len()).to_be_bytes());
        for window in &self.key.schedule {
            bytes.push(window.days);
            bytes.extend_from_slice(&window.start_minute.to_be_bytes());
            bytes.extend_from_slice(&window.end_minute.to_be_bytes());
        }
        if let Some(stay) = self.stay {
            bytes.extend_from_slice(b"stay");
            bytes.extend_from_slice(&stay.from.to_be_bytes());
            bytes.extend_from_slice(&stay.until.to_be_bytes());
        }
        digest::digest(&digest::SHA256, &bytes)
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The validity period a credential issued at `now` gets: from `now` minus the clock skew
    /// allowance for `ttl` seconds, kept within the stay (a future check-in gives a key that
    /// starts then). `None` when the stay is over: nothing to issue.
    pub fn validity_period(&self, now: i64, ttl: i64) -> Option<(i64, i64)> {
        let mut start = now.saturating_sub(CLOCK_SKEW_SECONDS);
        let mut end = now.saturating_add(ttl);
        if let Some(stay) = self.stay {
            start = start.max(stay.from);
            end = now.max(stay.from).saturating_add(ttl).min(stay.until);
        }
        (end > start && end > now).then_some((start, end))
    }

    /// The credential for this grant, with its id and validity period.
    pub fn credential(&self, credential_id: u64, not_before: i64, not_after: i64) -> Credential {
        Credential {
            credential_id,
            site_id: self.site_id,
            user_id: self.user_id,
            device_key: self.device_key,
            lock_ids: self.key.lock_ids.clone(),
            not_before,
            not_after,
            schedule: self.key.schedule.clone(),
            flags: self.flags,
            revocation_epoch: self.revocation_epoch,
        }
    }
}

/// A length as the digest writes it (never near `u32::MAX`: a key has a few locks and windows).
fn count(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_protocol::SigningKey;
    use ring::rand::SystemRandom;

    const WEEKDAYS: u8 = 0b0001_1111;
    const WEEKEND: u8 = 0b0110_0000;

    fn window(days: u8, start: u16, end: u16) -> ScheduleWindow {
        ScheduleWindow::new(days, start, end).unwrap()
    }

    fn right(lock_ids: &[u32], schedule: &[ScheduleWindow]) -> GroupRight {
        GroupRight {
            lock_ids: lock_ids.to_vec(),
            schedule: schedule.to_vec(),
        }
    }

    #[test]
    fn locks_with_the_same_schedule_share_one_key() {
        let office = window(WEEKDAYS, 8 * 60, 18 * 60);
        let keys = plan_keys(&[
            right(&[3, 1], &[office]),
            right(&[2], &[office]),
            right(&[9], &[]),
        ]);
        assert_eq!(
            keys,
            vec![
                PlannedKey {
                    lock_ids: vec![9],
                    schedule: vec![]
                },
                PlannedKey {
                    lock_ids: vec![1, 2, 3],
                    schedule: vec![office]
                },
            ]
        );
    }

    #[test]
    fn a_lock_granted_by_several_groups_gets_the_union_of_their_windows() {
        let mornings = window(WEEKDAYS, 8 * 60, 12 * 60);
        let afternoons = window(WEEKDAYS, 12 * 60, 18 * 60);
        let weekend = window(WEEKEND, 10 * 60, 14 * 60);
        let keys = plan_keys(&[
            right(&[1, 2], &[mornings]),
            right(&[1], &[afternoons, weekend]),
        ]);
        assert_eq!(
            keys,
            vec![
                PlannedKey {
                    lock_ids: vec![2],
                    schedule: vec![mornings]
                },
                PlannedKey {
                    lock_ids: vec![1],
                    schedule: vec![window(WEEKDAYS, 8 * 60, 18 * 60), weekend]
                },
            ]
        );
    }

    #[test]
    fn a_group_without_windows_makes_the_lock_open_at_any_time() {
        let office = window(WEEKDAYS, 8 * 60, 18 * 60);
        for rights in [
            vec![right(&[1], &[office]), right(&[1], &[])],
            vec![right(&[1], &[]), right(&[1], &[office])],
        ] {
            assert_eq!(
                plan_keys(&rights),
                vec![PlannedKey {
                    lock_ids: vec![1],
                    schedule: vec![]
                }]
            );
        }
    }

    #[test]
    fn canonical_form_merges_and_joins_and_a_full_week_means_always() {
        let split = [
            window(0b0000_0001, 8 * 60, 10 * 60),
            window(0b0000_0001, 9 * 60, 12 * 60),
            window(0b0000_0010, 8 * 60, 12 * 60),
        ];
        assert_eq!(
            canonical_schedule(&split),
            vec![window(0b0000_0011, 8 * 60, 12 * 60)]
        );
        let week = [
            window(WEEKDAYS, 0, MINUTES_PER_DAY),
            window(WEEKEND, 0, 600),
            window(WEEKEND, 600, MINUTES_PER_DAY),
        ];
        assert_eq!(canonical_schedule(&week), vec![]);
    }

    #[test]
    fn more_locks_than_a_credential_carries_are_split() {
        let many: Vec<u32> = (1..=300).collect();
        let keys = plan_keys(&[right(&many, &[])]);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].lock_ids.len(), MAX_LOCKS_PER_CREDENTIAL);
        assert_eq!(keys[1].lock_ids.len(), 300 - MAX_LOCKS_PER_CREDENTIAL);
    }

    #[test]
    fn nothing_granted_plans_no_key() {
        assert!(plan_keys(&[]).is_empty());
        assert!(plan_keys(&[right(&[], &[])]).is_empty());
    }

    fn grant() -> Grant {
        let (device, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
        Grant {
            site_id: 1,
            user_id: 2,
            device_id: 3,
            device_key: device.public_key(),
            key: PlannedKey {
                lock_ids: vec![4, 5],
                schedule: vec![window(WEEKDAYS, 0, 60)],
            },
            flags: CredentialFlags::default(),
            revocation_epoch: 0,
            stay: None,
        }
    }

    #[test]
    fn the_digest_changes_with_every_granted_field_and_only_with_them() {
        let base = grant();
        assert_eq!(base.digest(), base.clone().digest());
        assert_eq!(base.digest().len(), 64);
        let mut reordered = base.clone();
        reordered.key.lock_ids.reverse();
        assert_eq!(
            reordered.digest(),
            base.digest(),
            "lock order does not matter"
        );
        let variants: [fn(&mut Grant); 11] = [
            |g| g.site_id = 9,
            |g| g.user_id = 9,
            |g| g.device_id = 9,
            |g| g.revocation_epoch = 1,
            |g| g.key.lock_ids.push(6),
            |g| g.key.schedule.clear(),
            |g| g.flags.privacy_override = true,
            |g| g.flags.office_mode = true,
            |g| g.flags.master_key = true,
            |g| g.stay = Some(Stay { from: 0, until: 1 }),
            |g| g.stay = Some(Stay { from: 1, until: 2 }),
        ];
        for (index, change) in variants.iter().enumerate() {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(changed.digest(), base.digest(), "variant {index}");
        }
    }

    #[test]
    fn a_stay_bounds_the_validity_period() {
        let now = 1_000_000;
        let ttl = 7 * 86_400;
        let mut grant = grant();
        assert_eq!(
            grant.validity_period(now, ttl),
            Some((now - CLOCK_SKEW_SECONDS, now + ttl))
        );
        grant.stay = Some(Stay {
            from: now - 86_400,
            until: now + 3_600,
        });
        assert_eq!(
            grant.validity_period(now, ttl),
            Some((now - CLOCK_SKEW_SECONDS, now + 3_600)),
            "checked in: from now (with skew) until check-out"
        );
        grant.stay = Some(Stay {
            from: now + 86_400,
            until: now + 3 * 86_400,
        });
        assert_eq!(
            grant.validity_period(now, ttl),
            Some((now + 86_400, now + 3 * 86_400)),
            "a future check-in: the key starts exactly then"
        );
        grant.stay = Some(Stay {
            from: now + 30 * 86_400,
            until: now + 60 * 86_400,
        });
        assert_eq!(
            grant.validity_period(now, ttl),
            Some((now + 30 * 86_400, now + 30 * 86_400 + ttl)),
            "a long stay far ahead: one key's lifetime from check-in"
        );
        grant.stay = Some(Stay {
            from: now - 7_200,
            until: now,
        });
        assert_eq!(grant.validity_period(now, ttl), None, "checked out");
    }

    #[test]
    fn the_credential_carries_the_grant() {
        let grant = grant();
        let credential = grant.credential(77, 10, 20);
        assert_eq!(credential.credential_id, 77);
        assert_eq!(credential.lock_ids, grant.key.lock_ids);
        assert_eq!(credential.schedule, grant.key.schedule);
        assert_eq!(credential.device_key, grant.device_key);
        assert_eq!((credential.not_before, credential.not_after), (10, 20));
    }
}
