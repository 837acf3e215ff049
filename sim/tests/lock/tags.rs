//! Tags at the lock, from manuals 000 and 003: a copied tag id does not open; online, the IQ's
//! current rights apply; when the lock cannot reach its IQ it falls back on what it stores,
//! where a master key opens 24/7 but only at a lock of its groups; keys without offline access
//! stop at a lock that cannot confirm revocations; a standalone lock treats every key as
//! offline-capable.

use keyway_protocol::tag::{tag_of_event_credential, TagFlags, TagListKind};
use keyway_protocol::{Command, CredentialFlags, RefusalReason, ScheduleWindow};
use keyway_sim::lock::{IQ_LINK_TIMEOUT_SECONDS, REVOCATION_FRESH_SECONDS};
use keyway_sim::{SimError, SimulatedTag};

use crate::support::{assert_granted, Site, OFFICE_HOURS, USER_ID};

const MASTER: TagFlags = TagFlags {
    master_key: true,
    privacy_override: false,
    office_mode: false,
};

/// Monday 03:00 on the lock's clock (UTC): outside office hours.
const MONDAY_3_AM: i64 = crate::support::MONDAY_10_UTC - 7 * 3600;

#[test]
pub fn a_copied_tag_id_does_not_open() {
    let site = Site::paired(10);
    let tag = SimulatedTag::new().unwrap();
    let entry = site.tag_entry(&tag, TagFlags::default(), Vec::new());
    site.tag_lists(1, vec![entry.clone()], vec![entry]);
    let clone = tag.copy_id().unwrap();
    assert_eq!(clone.tag_id(), tag.tag_id());
    let before = site.before();
    site.lock().present_tag(&clone, 0).unwrap();
    let event = site.assert_refused(before, RefusalReason::TagNotAuthentic);
    assert_eq!(event.event().user_id, 0, "a clone names nobody in the log");
    // Nor on fallback, from the lock's own list.
    site.lock().set_iq_radio(false);
    let before = site.before();
    site.lock().present_tag(&clone, 0).unwrap();
    site.assert_refused(before, RefusalReason::TagNotAuthentic);
    let before = site.before();
    site.lock().present_tag(&tag, 0).unwrap();
    let event = site.assert_granted(before);
    assert_eq!(
        (
            event.event().user_id,
            tag_of_event_credential(event.event().credential_id)
        ),
        (USER_ID, Some(tag.tag_id()))
    );
}

#[test]
pub fn an_unlisted_tag_does_not_open() {
    let site = Site::paired(10);
    let listed = SimulatedTag::new().unwrap();
    let entry = site.tag_entry(&listed, TagFlags::default(), Vec::new());
    site.tag_lists(1, vec![entry], Vec::new());
    let stranger = SimulatedTag::new().unwrap();
    let before = site.before();
    site.lock().present_tag(&stranger, 0).unwrap();
    site.assert_refused(before, RefusalReason::UnknownTag);
}

#[test]
fn online_the_iq_decides_and_without_it_only_offline_tags_open() {
    let site = Site::paired(10);
    let online_only = SimulatedTag::new().unwrap();
    let offline = SimulatedTag::new().unwrap();
    let entries = vec![
        site.tag_entry(&online_only, TagFlags::default(), Vec::new()),
        site.tag_entry(&offline, TagFlags::default(), Vec::new()),
    ];
    let stored = vec![entries[1].clone()];
    site.tag_lists(1, entries, stored);
    for tag in [&online_only, &offline] {
        assert!(site.lock().present_tag(tag, 0).unwrap().granted());
    }
    // The IQ unplugged: its heartbeats stop, and after the timeout the lock stops waiting.
    site.lock().clock_mut().advance(IQ_LINK_TIMEOUT_SECONDS + 1);
    assert!(!site.lock().iq_in_reach());
    let before = site.before();
    site.lock().present_tag(&online_only, 0).unwrap();
    site.assert_refused(before, RefusalReason::UnknownTag);
    assert!(site.lock().present_tag(&offline, 0).unwrap().granted());
    // It comes back: online again at once.
    assert!(site.lock().iq_heartbeat(true).unwrap());
    assert!(site.lock().present_tag(&online_only, 0).unwrap().granted());
}

#[test]
fn an_iq_without_internet_still_informs_its_locks_for_a_while() {
    let site = Site::paired(10);
    let tag = SimulatedTag::new().unwrap();
    let entry = site.tag_entry(&tag, TagFlags::default(), Vec::new());
    site.tag_lists(1, vec![entry], Vec::new());
    // Manual 003: "If the IQ loses connection to the internet but is still operational and
    // connected to the locks, then the IQ will inform the locks about the access rules."
    site.lock()
        .clock_mut()
        .advance(REVOCATION_FRESH_SECONDS - 10);
    assert!(site.lock().iq_heartbeat(false).unwrap());
    assert!(site.lock().present_tag(&tag, 0).unwrap().granted());
    // Past the bound its rules are too old to trust: the lock falls back.
    site.lock().clock_mut().advance(20);
    assert!(site.lock().iq_heartbeat(false).unwrap());
    let before = site.before();
    site.lock().present_tag(&tag, 0).unwrap();
    site.assert_refused(before, RefusalReason::UnknownTag);
}

#[test]
fn a_master_key_opens_24_7_on_fallback_but_never_a_lock_outside_its_groups() {
    let site = Site::paired(10);
    site.lock().clock_mut().set(MONDAY_3_AM);
    site.lock().iq_heartbeat(true).unwrap();
    let master = SimulatedTag::new().unwrap();
    let entry = site.tag_entry(&master, MASTER, vec![OFFICE_HOURS]);
    site.tag_lists(1, vec![entry.clone()], vec![entry]);
    let before = site.before();
    site.lock().present_tag(&master, 0).unwrap();
    site.assert_refused(before, RefusalReason::OutsideSchedule);
    site.lock().set_iq_radio(false);
    let before = site.before();
    site.lock().present_tag(&master, 0).unwrap();
    site.assert_granted(before);

    // A master key whose groups do not include this lock is in neither of its lists.
    let elsewhere = Site::paired(10);
    elsewhere.lock().clock_mut().set(MONDAY_3_AM);
    elsewhere.tag_lists(1, Vec::new(), Vec::new());
    elsewhere.lock().set_iq_radio(false);
    let before = elsewhere.before();
    elsewhere.lock().present_tag(&master, 0).unwrap();
    elsewhere.assert_refused(before, RefusalReason::UnknownTag);
}

#[test]
fn the_offline_list_must_fit_the_lock_and_stale_lists_are_ignored() {
    let site = Site::paired(2);
    let tags: Vec<SimulatedTag> = (0..3).map(|_| SimulatedTag::new().unwrap()).collect();
    let entries: Vec<_> = tags
        .iter()
        .map(|tag| site.tag_entry(tag, TagFlags::default(), Vec::new()))
        .collect();
    let too_long = site.tag_list(TagListKind::Offline, 5, entries.clone());
    assert_eq!(
        site.lock().apply_tag_list(&too_long),
        Err(SimError::OfflineStorageFull {
            entries: 3,
            capacity: 2
        })
    );
    let fits = site.tag_list(TagListKind::Offline, 5, entries[..2].to_vec());
    assert!(site.lock().apply_tag_list(&fits).unwrap());
    let older = site.tag_list(TagListKind::Offline, 4, Vec::new());
    assert!(!site.lock().apply_tag_list(&older).unwrap());
    assert_eq!(site.lock().offline_tags().unwrap().entries.len(), 2);
    let forged = {
        let thief = site.stranger_key();
        keyway_protocol::tag::TagList {
            kind: TagListKind::Offline,
            site_id: crate::support::SITE_ID,
            lock_id: crate::support::LOCK_ID,
            serial: 9,
            entries: entries[2..].to_vec(),
        }
        .sign(&thief, &site.rng)
        .unwrap()
    };
    assert!(site.lock().apply_tag_list(&forged).is_err());
}

#[test]
pub fn a_key_without_offline_access_is_refused_when_the_iq_is_gone() {
    let site = Site::paired(10);
    let mut credential = site.credential();
    credential.schedule = Vec::new();
    let online_key = site.sign(&credential);
    credential.flags = CredentialFlags {
        offline_access: true,
        ..CredentialFlags::default()
    };
    let offline_key = site.sign(&credential);
    assert_granted(&site.unlock(online_key.clone()));
    site.lock().set_iq_radio(false);
    let before = site.before();
    let outcome = site.unlock(online_key.clone());
    site.assert_refusal(before, &outcome, RefusalReason::RevocationStale);
    assert_granted(&site.unlock(offline_key));
    // A heartbeat without the cloud keeps it for a while, not for a day.
    site.lock().set_iq_radio(true);
    site.lock().iq_heartbeat(false).unwrap();
    assert_granted(&site.unlock(online_key.clone()));
    site.lock()
        .clock_mut()
        .advance(REVOCATION_FRESH_SECONDS + 1);
    site.lock().iq_heartbeat(false).unwrap();
    let before = site.before();
    let outcome = site.unlock(online_key);
    site.assert_refusal(before, &outcome, RefusalReason::RevocationStale);
}

#[test]
fn a_standalone_lock_treats_every_key_as_offline_capable() {
    let site = Site::new();
    let mut credential = site.credential();
    credential.schedule = Vec::new();
    assert!(site.lock().revocation_is_fresh());
    site.lock().clock_mut().advance(86_400);
    assert_granted(&site.unlock(site.sign(&credential)));
}

#[test]
fn revocations_from_the_iq_reach_the_lock_without_a_phone() {
    let site = Site::paired(10);
    let mut credential = site.credential();
    credential.schedule = Vec::new();
    credential.flags.offline_access = true;
    let key = site.sign(&credential);
    let update = site.mailbox(
        &site.authority,
        1,
        keyway_protocol::mailbox::MailboxChange::DenyCredentials(vec![credential.credential_id]),
    );
    assert!(site.lock().apply_revocation(&update).unwrap());
    let before = site.before();
    let outcome = site.unlock(key);
    site.assert_refusal(before, &outcome, RefusalReason::Revoked);
    let forged = site.mailbox(
        &site.stranger_key(),
        2,
        keyway_protocol::mailbox::MailboxChange::RaiseEpoch(9),
    );
    assert!(site.lock().apply_revocation(&forged).is_err());
}

#[test]
fn holding_a_tag_with_the_right_for_five_seconds_switches_office_mode() {
    let site = Site::paired(10);
    let staff = SimulatedTag::new().unwrap();
    let visitor = SimulatedTag::new().unwrap();
    let rights = TagFlags {
        office_mode: true,
        ..TagFlags::default()
    };
    let entries = vec![
        site.tag_entry(&staff, rights, Vec::new()),
        site.tag_entry(&visitor, TagFlags::default(), Vec::new()),
    ];
    site.tag_lists(1, entries, Vec::new());
    let reply = site.lock().present_tag(&staff, 4).unwrap();
    assert_eq!(reply.event.event().command, Command::Unlock.code());
    assert!(!site.lock().office_mode());
    site.lock().present_tag(&staff, 5).unwrap();
    assert!(site.lock().office_mode(), "manual office mode on");
    // Someone without the right holding their tag just opens; office mode stays.
    let reply = site.lock().present_tag(&visitor, 8).unwrap();
    assert!(reply.granted());
    assert!(site.lock().office_mode());
    site.lock().clock_mut().advance(3 * 86_400);
    site.lock().iq_heartbeat(true).unwrap();
    assert!(
        site.lock().office_mode(),
        "it stays until such a person ends it"
    );
    site.lock().present_tag(&staff, 6).unwrap();
    assert!(!site.lock().office_mode());
}

#[test]
fn easy_office_mode_ends_with_its_schedule_on_the_locks_own_clock() {
    let site = Site::paired(10);
    let staff = SimulatedTag::new().unwrap();
    let rights = TagFlags {
        office_mode: true,
        ..TagFlags::default()
    };
    site.tag_lists(
        1,
        vec![site.tag_entry(&staff, rights, Vec::new())],
        Vec::new(),
    );
    // Monday 10:00 UTC; the window is 09:00–11:00 every day.
    site.settings(keyway_protocol::LockSettings {
        serial: 1,
        easy_office_schedule: vec![ScheduleWindow::new(ScheduleWindow::ALL_DAYS, 540, 660).unwrap()],
        ..keyway_protocol::LockSettings::defaults(crate::support::SITE_ID, crate::support::LOCK_ID)
    });
    site.lock().present_tag(&staff, 0).unwrap();
    assert!(
        site.lock().office_mode(),
        "a short presentation switches it in the window"
    );
    site.lock().clock_mut().advance(30 * 60);
    site.lock().run_timers().unwrap();
    assert!(site.lock().office_mode());
    // 11:00 on the lock's clock, with no IQ and no phone: the lock locks itself, on its own
    // clock, with nothing calling into it.
    site.lock().set_iq_radio(false);
    site.lock().clock_mut().advance(30 * 60);
    assert!(
        !site.lock().office_mode(),
        "locked at the end of the window"
    );
    // Its timer logs the end at its next tick (here: someone at the keypad).
    let before = site.before();
    site.lock().keypad("000000").unwrap();
    let events = site.lock().events()[before.events()..].to_vec();
    assert_eq!(
        events[0].event().command,
        keyway_protocol::LockReport::OfficeModeEnded.code()
    );
    // Outside the window a presentation is an ordinary opening.
    site.lock().set_iq_radio(true);
    site.lock().iq_heartbeat(true).unwrap();
    let reply = site.lock().present_tag(&staff, 0).unwrap();
    assert_eq!(reply.event.event().command, Command::Unlock.code());
    assert!(!site.lock().office_mode());
}

#[test]
fn privacy_mode_lets_only_the_override_in_and_is_reported() {
    let site = Site::paired(10);
    let tenant = SimulatedTag::new().unwrap();
    let warden = SimulatedTag::new().unwrap();
    let overriding = TagFlags {
        privacy_override: true,
        ..TagFlags::default()
    };
    site.tag_lists(
        1,
        vec![
            site.tag_entry(&tenant, TagFlags::default(), Vec::new()),
            site.tag_entry(&warden, overriding, Vec::new()),
        ],
        Vec::new(),
    );
    let before = site.before();
    site.lock().set_privacy(true).unwrap();
    let engaged = site.assert_granted(before);
    assert_eq!(
        engaged.event().command,
        keyway_protocol::LockReport::PrivacyEngaged.code()
    );
    let before = site.before();
    site.lock().present_tag(&tenant, 0).unwrap();
    site.assert_refused(before, RefusalReason::PrivacyMode);
    assert!(site.lock().present_tag(&warden, 0).unwrap().granted());
}
