//! Every refusal reason, each reached with an attacker's (or an unlucky user's) real input.
//! Each time the lock must stay shut, answer with the reason, and log it in its signed chain.

use crate::support;

use keyway_protocol::mailbox::MailboxChange;
use keyway_protocol::message::kind;
use keyway_protocol::{Command, CredentialFlags, LockPolicy, PhoneOutcome, RefusalReason};
use support::{abort, assert_granted, flip_signature_bit, Site, CREDENTIAL_ID, DAY, MONDAY_10_UTC};

#[test]
fn flipped_bit_in_the_authority_signature_is_refused() {
    let site = Site::new();
    let mut credential = site.sign(&site.credential());
    flip_signature_bit(&mut credential);
    let before = site.before();
    let outcome = site.unlock(credential);
    site.assert_refusal(before, &outcome, RefusalReason::BadAuthoritySignature);
}

#[test]
fn credential_signed_by_another_sites_authority_is_refused() {
    let site = Site::new();
    let credential = site.sign_with(&site.stranger_key(), &site.credential());
    let before = site.before();
    let outcome = site.unlock(credential);
    site.assert_refusal(before, &outcome, RefusalReason::BadAuthoritySignature);
}

#[test]
fn credential_for_another_site_of_the_same_authority_is_refused() {
    let site = Site::new();
    let mut credential = site.credential();
    credential.site_id += 1;
    let before = site.before();
    let outcome = site.unlock(site.sign(&credential));
    site.assert_refusal(before, &outcome, RefusalReason::WrongSite);
}

#[test]
fn stolen_credential_signed_by_another_device_is_refused() {
    let site = Site::new();
    let before = site.before();
    let mut thief = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let request = thief.sign(&site.stranger_key());
    let outcome = thief.send(&request);
    site.assert_refusal(before, &outcome, RefusalReason::BadDeviceSignature);
}

#[test]
fn flipped_bit_in_the_request_signature_is_refused() {
    let site = Site::new();
    let before = site.before();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let mut signature = phone.signature_by(&site.device);
    signature[5] ^= 0x80;
    let request = phone.request_with(&signature);
    let outcome = phone.send(&request);
    site.assert_refusal(before, &outcome, RefusalReason::BadDeviceSignature);
}

#[test]
fn credential_for_another_lock_is_refused() {
    let site = Site::new();
    let mut credential = site.credential();
    credential.lock_ids = vec![support::LOCK_ID + 1];
    let before = site.before();
    let outcome = site.unlock(site.sign(&credential));
    site.assert_refusal(before, &outcome, RefusalReason::NotInScope);
}

#[test]
fn credential_before_its_validity_on_the_lock_clock_is_refused() {
    let site = Site::new();
    let mut credential = site.credential();
    credential.not_before = MONDAY_10_UTC + DAY;
    let before = site.before();
    let outcome = site.unlock(site.sign(&credential));
    site.assert_refusal(before, &outcome, RefusalReason::NotYetValid);
}

#[test]
fn credential_after_its_validity_on_the_lock_clock_is_refused() {
    let site = Site::new();
    let credential = site.credential();
    site.lock().clock_mut().set(credential.not_after);
    let before = site.before();
    let outcome = site.unlock(site.sign(&credential));
    site.assert_refusal(before, &outcome, RefusalReason::Expired);
}

#[test]
fn outside_the_weekly_window_is_refused_unless_master_key() {
    let site = Site::new();
    site.lock().clock_mut().set(MONDAY_10_UTC + 5 * DAY); // Saturday 10:00
    let before = site.before();
    let outcome = site.unlock(site.sign(&site.credential()));
    site.assert_refusal(before, &outcome, RefusalReason::OutsideSchedule);

    let mut master = site.credential();
    master.flags.master_key = true;
    let before = site.before();
    assert_granted(&site.unlock(site.sign(&master)));
    site.assert_granted(before);
    assert_eq!(site.lock().unlock_count(), 1);
}

#[test]
fn the_weekly_window_is_read_in_site_local_time() {
    // UTC+10: Monday 10:00 UTC is Monday 20:00 on site, after office hours.
    let site = Site::build(600, Default::default(), support::instant_link());
    let before = site.before();
    let outcome = site.unlock(site.sign(&site.credential()));
    site.assert_refusal(before, &outcome, RefusalReason::OutsideSchedule);
    // Sunday 23:00 UTC is Monday 09:00 on site: inside.
    site.lock().clock_mut().set(MONDAY_10_UTC - 11 * 3600);
    let before = site.before();
    assert_granted(&site.unlock(site.sign(&site.credential())));
    site.assert_granted(before);
}

#[test]
fn denylisted_credential_is_refused() {
    let site = Site::new();
    site.lock().deny(CREDENTIAL_ID);
    let before = site.before();
    let outcome = site.unlock(site.sign(&site.credential()));
    site.assert_refusal(before, &outcome, RefusalReason::Revoked);
}

#[test]
fn credential_from_an_older_epoch_is_refused() {
    let site = Site::new();
    site.lock().set_revocation_epoch(2);
    let before = site.before();
    let outcome = site.unlock(site.sign(&site.credential()));
    site.assert_refusal(before, &outcome, RefusalReason::Revoked);
}

#[test]
fn carried_denylist_update_revokes_now_and_in_later_sessions() {
    let site = Site::new();
    let credential = site.sign(&site.credential());
    let deny = site.mailbox(
        &site.authority,
        1,
        MailboxChange::DenyCredentials(vec![CREDENTIAL_ID]),
    );
    let before = site.before();
    let outcome = site.attempt(credential.clone(), Command::Unlock, vec![deny]);
    site.assert_refusal(before, &outcome, RefusalReason::Revoked);
    assert!(site.lock().is_denied(CREDENTIAL_ID));

    let before = site.before();
    let outcome = site.unlock(credential);
    site.assert_refusal(before, &outcome, RefusalReason::Revoked);
}

#[test]
fn another_users_phone_carries_an_epoch_bump_to_the_lock() {
    let site = Site::new();
    let mut colleague = site.credential();
    colleague.credential_id = CREDENTIAL_ID + 1;
    colleague.user_id += 1;
    colleague.revocation_epoch = 2;
    let bump = site.mailbox(&site.authority, 1, MailboxChange::RaiseEpoch(2));
    let before = site.before();
    assert_granted(&site.attempt(site.sign(&colleague), Command::Unlock, vec![bump]));
    site.assert_granted(before);
    assert_eq!(site.lock().revocation_epoch(), 2);

    let before = site.before();
    let outcome = site.unlock(site.sign(&site.credential()));
    site.assert_refusal(before, &outcome, RefusalReason::Revoked);
}

#[test]
fn updates_delivered_out_of_order_all_take_effect() {
    let site = Site::new();
    let mut colleague = site.credential();
    colleague.credential_id = CREDENTIAL_ID + 1;
    colleague.user_id += 1;
    let colleague = site.sign(&colleague);
    // Serial 2 arrives first (denying someone else), then serial 1 denying our credential.
    let later = site.mailbox(
        &site.authority,
        2,
        MailboxChange::DenyCredentials(vec![CREDENTIAL_ID + 7]),
    );
    let earlier = site.mailbox(
        &site.authority,
        1,
        MailboxChange::DenyCredentials(vec![CREDENTIAL_ID]),
    );
    assert_granted(&site.attempt(colleague.clone(), Command::Unlock, vec![later]));
    assert_granted(&site.attempt(colleague, Command::Unlock, vec![earlier]));
    assert!(
        site.lock().is_denied(CREDENTIAL_ID),
        "the older revocation was applied too"
    );
    let before = site.before();
    let outcome = site.unlock(site.sign(&site.credential()));
    site.assert_refusal(before, &outcome, RefusalReason::Revoked);
}

#[test]
fn forged_mailbox_update_is_refused_and_not_applied() {
    let site = Site::new();
    let forged = site.mailbox(
        &site.stranger_key(),
        1,
        MailboxChange::DenyCredentials(vec![CREDENTIAL_ID + 1]),
    );
    let before = site.before();
    let outcome = site.attempt(site.sign(&site.credential()), Command::Unlock, vec![forged]);
    site.assert_refusal(before, &outcome, RefusalReason::BadMailboxSignature);
    let lock = site.lock();
    assert!(!lock.is_denied(CREDENTIAL_ID + 1));
}

#[test]
fn captured_request_replayed_in_a_new_session_is_refused() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let request = phone.sign(&site.device);
    let captured = phone.fragments(&request);
    assert_granted(&phone.send(&request));
    drop(phone);

    let before = site.before();
    let mut attacker = site.link.connect().unwrap();
    attacker.notifications();
    for fragment in &captured {
        attacker.write(fragment).unwrap();
    }
    let answer = support::reassemble(attacker.notifications());
    assert_eq!(
        answer[0],
        kind::RESPONSE,
        "sealed for a key the attacker lacks"
    );
    site.assert_refused(before, RefusalReason::Replayed);
}

#[test]
fn request_sent_twice_in_one_session_is_refused_the_second_time() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let request = phone.sign(&site.device);
    let fragments = phone.fragments(&request);
    let first = phone.write_all(&fragments);
    assert_granted(&phone.open(&first));

    let before = site.before();
    let (reason, event) = abort(&phone.write_all(&fragments));
    assert_eq!(reason, RefusalReason::Replayed);
    assert_eq!(event, site.assert_refused(before, RefusalReason::Replayed));
}

#[test]
fn request_after_the_challenge_went_stale_is_refused() {
    let site = Site::new();
    let credential = site.sign(&site.credential());
    let mut phone = site.connect(credential.clone(), Command::Unlock, Vec::new());
    site.lock().clock_mut().advance(31);
    let request = phone.sign(&site.device);
    let before = site.before();
    let outcome = phone.send(&request);
    site.assert_refusal(before, &outcome, RefusalReason::StaleChallenge);
    drop(phone);

    let mut slow = site.connect(credential, Command::Unlock, Vec::new());
    site.lock().clock_mut().advance(25);
    let request = slow.sign(&site.device);
    assert_granted(&slow.send(&request));
}

#[test]
fn privacy_mode_refuses_unless_the_credential_overrides_it() {
    let site = Site::new();
    site.lock().set_privacy(true).unwrap();
    let before = site.before();
    let outcome = site.unlock(site.sign(&site.credential()));
    site.assert_refusal(before, &outcome, RefusalReason::PrivacyMode);

    let mut staff = site.credential();
    staff.flags = CredentialFlags {
        privacy_override: true,
        ..CredentialFlags::default()
    };
    let before = site.before();
    assert_granted(&site.unlock(site.sign(&staff)));
    site.assert_granted(before);
    assert_eq!(site.lock().unlock_count(), 1);
}

#[test]
fn office_mode_needs_the_right() {
    let site = Site::new();
    let before = site.before();
    let outcome = site.attempt(
        site.sign(&site.credential()),
        Command::OfficeModeOn,
        Vec::new(),
    );
    site.assert_refusal(before, &outcome, RefusalReason::CommandNotAllowed);
    assert!(!site.lock().office_mode());

    let mut manager = site.credential();
    manager.flags.office_mode = true;
    let manager = site.sign(&manager);
    assert_granted(&site.attempt(manager.clone(), Command::OfficeModeOn, Vec::new()));
    assert!(site.lock().office_mode());
    assert_granted(&site.attempt(manager, Command::OfficeModeOff, Vec::new()));
    let lock = site.lock();
    assert!(!lock.office_mode());
    assert_eq!(lock.unlock_count(), 0, "office mode is not an unlock");
}

#[test]
fn garbage_fragment_is_answered_logged_and_the_challenge_survives() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let before = site.before();
    let (reason, event) = abort(&phone.write_all(&[vec![0xde, 0xad, 0xbe, 0xef]]));
    assert_eq!(reason, RefusalReason::MalformedFrame);
    assert_eq!(
        event,
        site.assert_refused(before, RefusalReason::MalformedFrame)
    );
    assert_eq!((event.event().user_id, event.event().command), (0, 0));

    let request = phone.sign(&site.device);
    assert_granted(&phone.send(&request));
}

#[test]
fn wrong_frame_version_is_answered_as_malformed() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let request = phone.sign(&site.device);
    let mut fragments = phone.fragments(&request);
    fragments[0][0] = keyway_protocol::frame::FRAME_VERSION + 1;
    let before = site.before();
    let answer = phone.write_all(&fragments[..1]);
    let outcome = phone.open(&answer);
    site.assert_refusal(before, &outcome, RefusalReason::MalformedFrame);
}

#[test]
fn truncated_request_is_answered_as_malformed() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let request = phone.sign(&site.device);
    let before = site.before();
    let outcome = phone.send(&request[..request.len() - 10]);
    site.assert_refusal(before, &outcome, RefusalReason::MalformedFrame);
}

#[test]
fn future_protocol_version_is_refused_as_unsupported() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let mut request = phone.sign(&site.device);
    request[1] += 1;
    let before = site.before();
    let outcome = phone.send(&request);
    assert!(
        matches!(outcome, PhoneOutcome::Aborted { .. }),
        "answered in clear"
    );
    site.assert_refusal(before, &outcome, RefusalReason::UnsupportedVersion);
}

#[test]
fn future_credential_version_is_refused_as_unsupported() {
    let site = Site::new();
    let mut credential = site.sign(&site.credential());
    credential[0] += 1;
    let before = site.before();
    let outcome = site.unlock(credential);
    assert!(
        matches!(outcome, PhoneOutcome::Answer(_)),
        "answered sealed"
    );
    site.assert_refusal(before, &outcome, RefusalReason::UnsupportedVersion);
}

/// Names one scenario per reason; adding a reason to the protocol breaks this match until a
/// scenario reaches it.
#[test]
fn a_wrong_keypad_pin_is_refused() {
    let site = Site::new();
    site.keypad_table("123456", Vec::new());
    let before = site.before();
    let reply = site.lock().keypad("123465").unwrap();
    assert_eq!(reply.refusal, Some(RefusalReason::WrongPin));
    let event = site.assert_refused(before, RefusalReason::WrongPin);
    assert_eq!(event.event().user_id, 0, "a wrong PIN names no one");
}

#[test]
fn the_keypad_waits_after_five_wrong_pins() {
    let site = Site::new();
    site.keypad_table("123456", Vec::new());
    for _ in 0..keyway_sim::lock::KEYPAD_ATTEMPTS {
        site.lock().keypad("000000").unwrap();
    }
    let before = site.before();
    site.lock().keypad("123456").unwrap();
    site.assert_refused(before, RefusalReason::KeypadBlocked);
    site.lock()
        .clock_mut()
        .advance(keyway_sim::lock::KEYPAD_BLOCK_SECONDS);
    assert_eq!(site.lock().keypad("123456").unwrap().refusal, None);
}

#[test]
fn every_refusal_reason_has_a_scenario() {
    for reason in RefusalReason::ALL {
        let scenario: fn() = match reason {
            RefusalReason::MalformedFrame => truncated_request_is_answered_as_malformed,
            RefusalReason::UnsupportedVersion => future_protocol_version_is_refused_as_unsupported,
            RefusalReason::BadAuthoritySignature => {
                flipped_bit_in_the_authority_signature_is_refused
            }
            RefusalReason::BadDeviceSignature => {
                stolen_credential_signed_by_another_device_is_refused
            }
            RefusalReason::WrongSite => {
                credential_for_another_site_of_the_same_authority_is_refused
            }
            RefusalReason::NotInScope => credential_for_another_lock_is_refused,
            RefusalReason::NotYetValid => {
                credential_before_its_validity_on_the_lock_clock_is_refused
            }
            RefusalReason::Expired => credential_after_its_validity_on_the_lock_clock_is_refused,
            RefusalReason::OutsideSchedule => {
                outside_the_weekly_window_is_refused_unless_master_key
            }
            RefusalReason::Revoked => denylisted_credential_is_refused,
            RefusalReason::Replayed => captured_request_replayed_in_a_new_session_is_refused,
            RefusalReason::StaleChallenge => request_after_the_challenge_went_stale_is_refused,
            RefusalReason::PrivacyMode => privacy_mode_refuses_unless_the_credential_overrides_it,
            RefusalReason::CommandNotAllowed => office_mode_needs_the_right,
            RefusalReason::BadMailboxSignature => forged_mailbox_update_is_refused_and_not_applied,
            RefusalReason::WrongPin => a_wrong_keypad_pin_is_refused,
            RefusalReason::KeypadBlocked => the_keypad_waits_after_five_wrong_pins,
            RefusalReason::RevocationStale => {
                crate::tags::a_key_without_offline_access_is_refused_when_the_iq_is_gone
            }
            RefusalReason::TagNotAuthentic => crate::tags::a_copied_tag_id_does_not_open,
            RefusalReason::UnknownTag => crate::tags::an_unlisted_tag_does_not_open,
            RefusalReason::TooFar => crate::door::near_detection_refuses_a_far_phone,
        };
        scenario();
    }
}
