//! The catalog: every route the clients (the core, hence the apps and the CLI) call, one
//! endpoint each. A route the cloud serves to nobody of them is in
//! [`super::SERVER_ONLY`] instead.

use super::body::{CsvFile, EventStream, Form, NoBody, NoContent, TextBody};
use super::define::endpoints;
use crate::import::{ImportQuery, ImportReport, ImportStarted};
use crate::lock_rules::{
    LockSettingsView, LockerView, OfflineStorageView, RegisterTagRequest, SetLockerRequest, TagUid,
    TagView, UpdateLockSettingsRequest, UpdateTagRequest,
};
use crate::oauth::{AuthorizeQuery, RevokeRequest, TokenGrant};
use crate::pods::{
    CreatePodRequest, GuestView, InviteGuestRequest, MyPodView, PodMemberInput, PodView,
    RedeemInvitationRequest, SetPodLocksRequest, UpdatePodRequest,
};
use crate::remote::{
    BiometricKeyView, IqCodeSecretView, KeypadPinResponse, RegisterBiometricKeyRequest,
    RemoteChallengeRequest, RemoteChallengeView, RemoteLockView, RemoteOpenRequest,
    RemoteOpenResponse, RemotePinStatus, SetRemotePinRequest,
};
use crate::{
    AccessGroupView, AddPersonRequest, AttachIqRequest, CreateAccessGroupRequest, CreateIqRequest,
    CreateLockRequest, CreateSiteRequest, DeviceView, IqView, KeySyncResponse, LockView,
    PeoplePage, PeopleQuery, PersonView, RegisterDeviceRequest, SetGroupMembersRequest,
    SignupAccepted, SignupRequest, SiteView, TokenResponse, UpdatePersonRequest,
    UploadEventsRequest, UploadEventsResponse, UserView, VerifyEmailRequest,
};

endpoints! {
    /// Signs up: the cloud e-mails the address a verification code.
    SignUp {} Post "/api/v1/accounts", None, Api, SignupRequest => SignupAccepted;
    /// Proves the address with the code of its verification e-mail.
    VerifyEmail {} Post "/api/v1/accounts/verify", None, Api, VerifyEmailRequest => UserView;
    /// The login page the app opens in the browser (never called by the core itself: it
    /// builds the URL).
    Authorize {} Get "/oauth/authorize", None, OAuth, NoBody => TextBody,
        query query: AuthorizeQuery;
    /// Trades an authorization code or a refresh token for new tokens.
    Token {} Post "/oauth/token", None, OAuth, Form<TokenGrant> => TokenResponse;
    /// Ends the login a token belongs to.
    Revoke {} Post "/oauth/revoke", None, OAuth, Form<RevokeRequest> => NoContent;

    /// Creates a site; the caller becomes its owner.
    CreateSite {} Post "/api/v1/sites", Bearer, Api, CreateSiteRequest => SiteView;
    /// One page of a site's people.
    ListPeople { site_id } Get "/api/v1/sites/{site_id}/people", Bearer, Api,
        NoBody => PeoplePage, query query: PeopleQuery;
    /// Adds a person to a site by e-mail.
    AddPerson { site_id } Post "/api/v1/sites/{site_id}/people", Bearer, Api,
        AddPersonRequest => PersonView;
    /// Changes a person's role or lock options.
    UpdatePerson { site_id, user_id } Patch "/api/v1/sites/{site_id}/people/{user_id}",
        Bearer, Api, UpdatePersonRequest => PersonView;
    /// Removes a person from a site.
    RemovePerson { site_id, user_id } Delete "/api/v1/sites/{site_id}/people/{user_id}",
        Bearer, Api, NoBody => NoContent;
    /// Makes a new keypad PIN for a person.
    NewKeypadPin { site_id, user_id } Post
        "/api/v1/sites/{site_id}/people/{user_id}/keypad-pin", Bearer, Api,
        NoBody => KeypadPinResponse;
    /// Registers an installed lock.
    CreateLock { site_id } Post "/api/v1/sites/{site_id}/locks", Bearer, Api,
        CreateLockRequest => LockView;
    /// Attaches a lock to an IQ.
    AttachLockToIq { site_id, lock_id } Put "/api/v1/sites/{site_id}/locks/{lock_id}/iq",
        Bearer, Api, AttachIqRequest => LockView;
    /// Registers an installed IQ.
    CreateIq { site_id } Post "/api/v1/sites/{site_id}/iqs", Bearer, Api,
        CreateIqRequest => IqView;
    /// Creates an access group.
    CreateAccessGroup { site_id } Post "/api/v1/sites/{site_id}/access-groups", Bearer, Api,
        CreateAccessGroupRequest => AccessGroupView;
    /// Replaces the people of an access group.
    SetGroupMembers { site_id, group_id } Put
        "/api/v1/sites/{site_id}/access-groups/{group_id}/members", Bearer, Api,
        SetGroupMembersRequest => AccessGroupView;
    /// The site's locks, with what each last reported (battery, door, privacy mode).
    ListLocks { site_id } Get "/api/v1/sites/{site_id}/locks", Bearer, Api,
        NoBody => Vec<LockView>;
    /// Registers a tag read at an enrolment reader, optionally for a person.
    RegisterTag { site_id } Post "/api/v1/sites/{site_id}/tags", Bearer, Api,
        RegisterTagRequest => TagView;
    /// The site's tags.
    ListTags { site_id } Get "/api/v1/sites/{site_id}/tags", Bearer, Api, NoBody => Vec<TagView>;
    /// Hands a tag over, or changes its offline access or master key.
    UpdateTag { site_id, tag_id: TagUid } Patch "/api/v1/sites/{site_id}/tags/{tag_id}",
        Bearer, Api, UpdateTagRequest => TagView;
    /// Revokes a tag: no lock opens for it any more.
    RevokeTag { site_id, tag_id: TagUid } Delete "/api/v1/sites/{site_id}/tags/{tag_id}",
        Bearer, Api, NoBody => NoContent;
    /// A lock's settings.
    GetLockSettings { site_id, lock_id } Get "/api/v1/sites/{site_id}/locks/{lock_id}/settings",
        Bearer, Api, NoBody => LockSettingsView;
    /// Changes a lock's settings (Near Detection Mode, Easy Office Mode, door limit).
    UpdateLockSettings { site_id, lock_id } Patch
        "/api/v1/sites/{site_id}/locks/{lock_id}/settings", Bearer, Api,
        UpdateLockSettingsRequest => LockSettingsView;
    /// What the lock stores for offline use, and who does not fit.
    LockOfflineStorage { site_id, lock_id } Get
        "/api/v1/sites/{site_id}/locks/{lock_id}/offline", Bearer, Api,
        NoBody => OfflineStorageView;
    /// Makes a lock an XS4 locker and sets who uses it.
    SetLocker { site_id, lock_id } Put "/api/v1/sites/{site_id}/locks/{lock_id}/locker",
        Bearer, Api, SetLockerRequest => LockerView;
    /// The site's lockers with their status, battery and who opened them last.
    ListLockers { site_id } Get "/api/v1/sites/{site_id}/lockers", Bearer, Api,
        NoBody => Vec<LockerView>;
    /// Opens a locker in an emergency (owner and admins), through its IQ, logged.
    EmergencyOpenLocker { site_id, lock_id } Post
        "/api/v1/sites/{site_id}/lockers/{lock_id}/emergency-open", Bearer, Api,
        RemoteOpenRequest => RemoteOpenResponse;

    /// The CSV template of the user import.
    ImportTemplate { site_id } Get "/api/v1/sites/{site_id}/imports/template", Bearer, Api,
        NoBody => TextBody;
    /// What importing a file would do, with nothing written.
    PreviewImport { site_id } Post "/api/v1/sites/{site_id}/imports", Bearer, Api,
        CsvFile => ImportReport, fixed_query ImportQuery { dry_run: true };
    /// Starts importing a file.
    StartImport { site_id } Post "/api/v1/sites/{site_id}/imports", Bearer, Api,
        CsvFile => ImportStarted;
    /// An import's progress and report.
    ImportProgress { site_id, import_id } Get "/api/v1/sites/{site_id}/imports/{import_id}",
        Bearer, Api, NoBody => ImportReport;

    /// Registers this device's key with the account.
    RegisterDevice {} Post "/api/v1/devices", Bearer, Api, RegisterDeviceRequest => DeviceView;
    /// The device's digital keys and the mailbox updates to carry.
    SyncKeys { device_id } Get "/api/v1/devices/{device_id}/keys", Bearer, Api,
        NoBody => KeySyncResponse;
    /// Uploads lock event records.
    UploadEvents {} Post "/api/v1/events", Bearer, Api,
        UploadEventsRequest => UploadEventsResponse;

    /// Sets or resets the app PIN.
    SetRemotePin {} Put "/api/v1/me/remote-pin", Bearer, Api,
        SetRemotePinRequest => RemotePinStatus;
    /// The app PIN's state.
    RemotePin {} Get "/api/v1/me/remote-pin", Bearer, Api, NoBody => RemotePinStatus;
    /// Registers the biometric-bound key of a device.
    RegisterBiometricKey { device_id } Put "/api/v1/devices/{device_id}/biometric-key",
        Bearer, Api, RegisterBiometricKeyRequest => BiometricKeyView;
    /// A one-time challenge for the biometric gate.
    RemoteChallenge {} Post "/api/v1/remote/challenges", Bearer, Api,
        RemoteChallengeRequest => RemoteChallengeView;
    /// Opens a lock, or sets its office mode, remotely through its IQ.
    RemoteOpen { site_id, lock_id } Post "/api/v1/sites/{site_id}/locks/{lock_id}/remote",
        Bearer, Api, RemoteOpenRequest => RemoteOpenResponse;
    /// The locks the caller may open remotely.
    RemoteLocks {} Get "/api/v1/me/remote-locks", Bearer, Api, NoBody => Vec<RemoteLockView>;
    /// The device's IQ-code secrets.
    IqCodeSecrets { device_id } Get "/api/v1/devices/{device_id}/iq-code-secrets", Bearer,
        Api, NoBody => Vec<IqCodeSecretView>;

    /// Creates a pod.
    CreatePod { site_id } Post "/api/v1/sites/{site_id}/pods", Bearer, Api,
        CreatePodRequest => PodView;
    /// The site's pods.
    ListPods { site_id } Get "/api/v1/sites/{site_id}/pods", Bearer, Api,
        NoBody => Vec<PodView>;
    /// A pod.
    GetPod { pod_id } Get "/api/v1/pods/{pod_id}", Bearer, Api, NoBody => PodView;
    /// Renames a pod.
    UpdatePod { pod_id } Patch "/api/v1/pods/{pod_id}", Bearer, Api,
        UpdatePodRequest => PodView;
    /// Deletes a pod after cleaning it.
    DeletePod { pod_id } Delete "/api/v1/pods/{pod_id}", Bearer, Api, NoBody => PodView;
    /// Replaces a pod's locks.
    SetPodLocks { pod_id } Put "/api/v1/pods/{pod_id}/locks", Bearer, Api,
        SetPodLocksRequest => PodView;
    /// Removes a pod's members and guests, keeping its locks.
    CleanPod { pod_id } Post "/api/v1/pods/{pod_id}/clean", Bearer, Api, NoBody => PodView;
    /// Adds a member to a pod.
    AddPodMember { pod_id } Post "/api/v1/pods/{pod_id}/members", Bearer, Api,
        PodMemberInput => PodView;
    /// Removes a member and the guests they invited.
    RemovePodMember { pod_id, member_id } Delete "/api/v1/pods/{pod_id}/members/{member_id}",
        Bearer, Api, NoBody => PodView;
    /// The guests the caller manages in a pod.
    ListGuests { pod_id } Get "/api/v1/pods/{pod_id}/guests", Bearer, Api,
        NoBody => Vec<GuestView>;
    /// Invites a guest by e-mail.
    InviteGuest { pod_id } Post "/api/v1/pods/{pod_id}/guests", Bearer, Api,
        InviteGuestRequest => GuestView;
    /// Blocks a guest.
    BlockGuest { pod_id, guest_id } Post "/api/v1/pods/{pod_id}/guests/{guest_id}/block",
        Bearer, Api, NoBody => GuestView;
    /// Unblocks a guest.
    UnblockGuest { pod_id, guest_id } Post "/api/v1/pods/{pod_id}/guests/{guest_id}/unblock",
        Bearer, Api, NoBody => GuestView;
    /// Deletes a guest.
    DeleteGuest { pod_id, guest_id } Delete "/api/v1/pods/{pod_id}/guests/{guest_id}",
        Bearer, Api, NoBody => GuestView;
    /// Redeems an invitation code for the caller.
    RedeemInvitation {} Post "/api/v1/invitations/redeem", Bearer, Api,
        RedeemInvitationRequest => MyPodView;
    /// The pods the caller joined.
    MyPods {} Get "/api/v1/me/pods", Bearer, Api, NoBody => Vec<MyPodView>;

    /// The live channel: server-sent notices of what changed for the caller (read as it
    /// arrives, see `crate::live`).
    Live {} Get "/api/v1/live", Bearer, Api, NoBody => EventStream;
    /// Moves the end of a live stream to the expiry of the (refreshed) token this call carries.
    RenewLive { stream_id: u64 } Post "/api/v1/live/{stream_id}/renew", Bearer, Api,
        NoBody => NoContent;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::super::path::template_params;
    use super::*;

    #[test]
    fn every_endpoint_fills_every_parameter_of_its_template() {
        let samples = sample_paths();
        assert_eq!(samples.len(), ALL.len());
        for (route, path) in samples {
            let path = path.unwrap();
            assert_eq!(template_params(route.path), route.params, "{}", route.name);
            assert!(!path.contains('{'), "{}: {path}", route.name);
            assert!(path.starts_with('/'), "{}: {path}", route.name);
        }
    }

    #[test]
    fn no_two_endpoints_share_a_name_or_a_route_unless_their_queries_differ() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.name, b.name);
                if (a.method, a.path) == (b.method, b.path) {
                    assert_ne!(a.query, b.query, "{} and {}", a.name, b.name);
                }
            }
        }
    }

    #[test]
    fn a_preview_asks_for_a_dry_run_and_a_start_does_not() {
        use super::super::Endpoint;
        assert_eq!(
            PreviewImport { site_id: 3 }.path().unwrap(),
            "/api/v1/sites/3/imports?dry_run=true"
        );
        assert_eq!(
            StartImport { site_id: 3 }.path().unwrap(),
            "/api/v1/sites/3/imports"
        );
    }
}
