//! The cloud's JSON API: request and response bodies shared by the cloud and the phone core,
//! so both sides agree at compile time. Binary values (keys, credentials, event records,
//! mailbox updates) travel as standard base64 strings.
//!
//! Every route is under `/api/v1` and needs `Authorization: Bearer <access token>` from the
//! OAuth2 endpoints (`/oauth/authorize`, `/oauth/token`, `/oauth/revoke`). Errors are
//! [`ApiErrorBody`] with the HTTP status saying what to do: 400 fix the input, 401 refresh or
//! log in again, 403 not allowed, 404 unknown, 409 conflict, 429 wait (`Retry-After`).
//!
//! With the `uniffi` feature (enabled by the phone core), the bodies the apps see as they are
//! derive UniFFI's traits, so the core exports them without a copy; this crate is then the
//! `keyway_api` namespace of the generated bindings.

#![deny(unreachable_pub)]

use serde::{Deserialize, Serialize};

/// A weekly window in site local time: the protocol's own type, the one digital keys carry.
pub use keyway_protocol::ScheduleWindow;

pub mod error_code;
pub mod remote;

pub use error_code::ErrorCode;

pub mod pods;

pub mod import;

pub mod oauth;

pub mod endpoints;

pub mod live;

pub mod lock_rules;

pub mod integrations;

/// The OAuth2 client id of the Keyway apps and CLI (a public native client, RFC 8252).
pub const APP_CLIENT_ID: &str = "keyway-app";
/// The custom-scheme redirect URI the mobile apps register.
pub const APP_REDIRECT_URI: &str = "keyway://oauth";

/// A person's role on a site (manuals 000 and 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "uniffi", uniffi(name = "SiteRole"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Exactly one per site; may do everything.
    Owner,
    /// May manage admins, super users, users, access groups and hardware.
    Admin,
    /// May manage super users and users, not admins or the owner.
    SuperUser,
    /// Opens doors.
    User,
}

/// An error from the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiErrorBody {
    /// A stable machine code, one of [`ErrorCode`] (`invalid_input`, `pin_not_set`, …);
    /// a client that does not know it acts on the HTTP status.
    pub error: String,
    /// A sentence for people.
    pub message: String,
}

/// `POST /api/v1/accounts`: open sign-up (no token needed).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    /// Login e-mail, unique, case-insensitive.
    pub email: String,
    /// Full name.
    pub name: String,
    /// At least 10 characters.
    pub password: String,
}

/// The answer to a sign-up, the same whether or not the address already has an account (the
/// e-mail sent to the address tells the difference, so sign-up never reveals who has one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupAccepted {
    /// The address, normalised (trimmed, lowercased).
    pub email: String,
    /// Always `verify_email`: enter the code e-mailed to the address (or open its link) with
    /// `POST /api/v1/accounts/verify`, then log in.
    pub next: String,
}

/// The one value of [`SignupAccepted::next`].
pub const SIGNUP_NEXT_VERIFY_EMAIL: &str = "verify_email";

/// `POST /api/v1/accounts/verify`: proves the address with the code of its verification
/// e-mail. The password is the one typed at that sign-up, so a code cannot confirm somebody
/// else's sign-up of the same address.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyEmailRequest {
    /// The address signed up with.
    pub email: String,
    /// The 8-digit code of the e-mail (spaces and dashes do not matter).
    pub code: String,
    /// The password chosen at sign-up.
    pub password: String,
}

/// A person's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// Account id.
    pub user_id: u32,
    /// Login e-mail.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Phone number (E.164) for text messages (keypad PINs), if set.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `PATCH /api/v1/me`: the person's own details, which they own on every site they claimed;
/// fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// New full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New phone number in international form, or `""` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeResponse {
    /// Who the token belongs to.
    pub user: UserView,
    /// The sites they belong to, with their role.
    pub sites: Vec<SiteMembershipView>,
}

/// One site a person belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteMembershipView {
    /// Site id.
    pub site_id: u32,
    /// Site name.
    pub site_name: String,
    /// Their role there.
    pub role: Role,
}

/// `POST /api/v1/sites`: the caller becomes the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSiteRequest {
    /// Site name.
    pub name: String,
    /// Offset of the site's local time from UTC, in minutes (schedules are local).
    pub utc_offset_minutes: i32,
}

/// A site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteView {
    /// Site id.
    pub site_id: u32,
    /// Site name.
    pub name: String,
    /// Local time offset from UTC, minutes.
    pub utc_offset_minutes: i32,
    /// The site authority public key (base64): locks are provisioned with it.
    pub authority_public_key: String,
}

/// `POST /api/v1/sites/{site_id}/people`: adds a person, with a **user profile** (an e-mail:
/// they sign up with it and own their name, e-mail and phone once they claim their place) or a
/// **tag profile** (no e-mail: no account and no app; the site keeps their name and phone, and
/// they open with a tag or a keypad PIN). Nobody but the person ever sets their password: an
/// address without a verified account gets an invitation e-mail, and the membership takes
/// effect once they sign up and verify that address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddPersonRequest {
    /// Login e-mail; absent for a tag profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Full name.
    pub name: String,
    /// Role on the site (never `owner`: ownership is transferred, not granted; a tag profile
    /// is always `user`).
    pub role: Role,
    /// Phone number for text messages (keypad PINs), international form (`+44 20 7946 0958`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `PATCH /api/v1/sites/{site_id}/people/{user_id}`: fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePersonRequest {
    /// New role.
    pub role: Option<Role>,
    /// May open locks in privacy mode (only the owner grants it).
    pub privacy_override: Option<bool>,
    /// May set office mode.
    pub office_mode: Option<bool>,
    /// May open remotely.
    pub remote_opening: Option<bool>,
    /// Offline access on the person's digital keys (owner and admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_access: Option<bool>,
    /// New name: only while the site owns the person's details (a tag profile, or a place
    /// not claimed yet); a person who claimed their place owns theirs
    /// (`profile_owned_by_person`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New phone number, or `""` to remove it; the same rule as `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A person on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonView {
    /// Account id.
    pub user_id: u32,
    /// Login e-mail; absent for a tag profile.
    pub email: Option<String>,
    /// Full name.
    pub name: String,
    /// Phone number (E.164, `+442079460958`), if known.
    pub phone: Option<String>,
    /// Role on this site.
    pub role: Role,
    /// Opens locks in privacy mode.
    pub privacy_override: bool,
    /// May set office mode.
    pub office_mode: bool,
    /// May open remotely.
    pub remote_opening: bool,
    /// Offline access on the person's digital keys (the owner always has it).
    #[serde(default)]
    pub offline_access: bool,
    /// Whether the person has claimed the membership with a verified account.
    pub status: PersonStatus,
    /// User profile (an account, the app) or tag profile (neither).
    pub profile: Profile,
}

/// Who a person's details belong to, and what they can open with (manual: roles and
/// profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// An account with an e-mail: once claimed, the person owns their name, e-mail and phone;
    /// they may hold digital keys, remote opening, tags and a keypad PIN.
    User,
    /// No account: the site owns the name and phone; tags and a keypad PIN only.
    Tag,
}

/// `GET /api/v1/sites/{site_id}/people`: one page of the site's people, ordered by the name
/// shown, then by account id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeoplePage {
    /// This page's people, at most `limit` of them.
    pub people: Vec<PersonView>,
    /// Pass it back as `cursor` for the next page; absent on the last page. Opaque: valid only
    /// for the same site and the same filters.
    pub next_cursor: Option<String>,
    /// How many people match the filters on all pages together, at the time of this page.
    pub total: u64,
}

/// The query of `GET /api/v1/sites/{site_id}/people`: which page of the people list, and
/// which people. Every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PeopleQuery {
    /// People on the page: 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`; absent for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Only people whose shown name or e-mail contains this text, ignoring case (ASCII); at
    /// most 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only people with this role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Only active people, or only those invited who have not claimed their place yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PersonStatus>,
    /// Only user profiles (with an e-mail) or only tag profiles (without).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

/// Whether a person added by e-mail can use their rights yet (a tag profile is always
/// active: nothing of theirs waits for an account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// Their account's address is verified: their rights are in effect.
    Active,
    /// Invited by e-mail: their digital keys and remote opening wait until they sign up with
    /// that address and verify it.
    Invited,
}

/// `POST /api/v1/sites/{site_id}/locks`: registers an installed lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateLockRequest {
    /// Name shown to people ("Front door").
    pub name: String,
    /// The lock's own P-256 public key (base64), read from it at install.
    pub public_key: String,
}

/// A lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockView {
    /// Lock id (the id it advertises over BLE).
    pub lock_id: u32,
    /// Its site.
    pub site_id: u32,
    /// Name.
    pub name: String,
    /// The lock's public key (base64).
    pub public_key: String,
    /// The IQ it is attached to, if any (remote opening goes through it).
    #[serde(default)]
    pub iq_id: Option<u32>,
    /// What it last reported: battery, door, privacy mode.
    #[serde(default)]
    pub state: lock_rules::LockStateView,
}

/// `POST /api/v1/sites/{site_id}/iqs`: registers an installed IQ (hub).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateIqRequest {
    /// Name shown to people ("Ground floor IQ").
    pub name: String,
    /// The IQ's own P-256 public key (base64), read from it at install.
    pub public_key: String,
}

/// An IQ (hub).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IqView {
    /// IQ id.
    pub iq_id: u32,
    /// Its site.
    pub site_id: u32,
    /// Name.
    pub name: String,
    /// The IQ's public key (base64).
    pub public_key: String,
}

/// `PUT /api/v1/sites/{site_id}/locks/{lock_id}/iq`: attaches a lock to an IQ of its site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachIqRequest {
    /// The IQ.
    pub iq_id: u32,
}

/// `POST /api/v1/sites/{site_id}/access-groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAccessGroupRequest {
    /// Group name.
    pub name: String,
    /// Locks the group opens.
    pub lock_ids: Vec<u32>,
    /// People in the group.
    pub user_ids: Vec<u32>,
    /// When; empty means at any time.
    pub schedule: Vec<ScheduleWindow>,
}

/// `PATCH /api/v1/sites/{site_id}/access-groups/{group_id}`: what to change; a field left
/// out stays as it is. People who lose a lock or an hour lose the keys that granted it at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAccessGroupRequest {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// Replaces the locks the group opens.
    #[serde(default)]
    pub lock_ids: Option<Vec<u32>>,
    /// Replaces the weekly schedule (empty: at any time).
    #[serde(default)]
    pub schedule: Option<Vec<ScheduleWindow>>,
}

/// An access group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessGroupView {
    /// Group id.
    pub group_id: u32,
    /// Its site.
    pub site_id: u32,
    /// Name.
    pub name: String,
    /// Locks.
    pub lock_ids: Vec<u32>,
    /// People.
    pub user_ids: Vec<u32>,
    /// Windows.
    pub schedule: Vec<ScheduleWindow>,
}

/// `PUT /api/v1/sites/{site_id}/access-groups/{group_id}/members`: the group's people from
/// now on (replaces the previous set; people left out lose the group's keys at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetGroupMembersRequest {
    /// People in the group.
    pub user_ids: Vec<u32>,
}

/// `POST /api/v1/devices`: binds this phone's device key to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterDeviceRequest {
    /// The device public key (base64 of the 65-byte uncompressed P-256 point).
    pub public_key: String,
    /// A name the person recognises ("Ana's Pixel").
    pub name: String,
    /// `android`, `ios`, `cli`.
    pub platform: String,
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView {
    /// Device id.
    pub device_id: u32,
    /// Name.
    pub name: String,
    /// Platform.
    pub platform: String,
    /// When it was registered (Unix seconds).
    pub registered_at: i64,
}

/// A lock named in a digital key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockRef {
    /// Lock id.
    pub lock_id: u32,
    /// Name.
    pub name: String,
}

/// One digital key for this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DigitalKeyView {
    /// The credential id.
    pub credential_id: u64,
    /// Its site.
    pub site_id: u32,
    /// The site's name.
    pub site_name: String,
    /// The locks it opens, with names.
    pub locks: Vec<LockRef>,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// Valid until (Unix seconds).
    pub not_after: i64,
    /// The signed credential (base64).
    pub credential: String,
}

/// `GET /api/v1/devices/{device_id}/keys`: every key this device holds now. The phone
/// replaces its wallet with this set: a key missing here was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeySyncResponse {
    /// The keys.
    pub keys: Vec<DigitalKeyView>,
    /// Signed mailbox updates to carry to locks (base64).
    pub mailbox: Vec<String>,
    /// The cloud's clock (Unix seconds), to spot a phone clock that is off.
    pub server_time: i64,
}

/// `POST /api/v1/events`: lock event records the phone carried back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadEventsRequest {
    /// Signed records (base64), in any order.
    pub records: Vec<String>,
}

/// What happened to uploaded records. Uploading the same record again is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadEventsResponse {
    /// Newly stored.
    pub stored: u32,
    /// Already stored before (same lock and sequence number).
    pub duplicates: u32,
    /// Refused, with why (bad signature, unknown lock, broken chain).
    pub rejected: Vec<RejectedEvent>,
}

/// A record the cloud refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedEvent {
    /// Its position in the request.
    pub index: u32,
    /// Why, as a stable machine code.
    pub code: EventRejection,
    /// Why, in words for people.
    pub reason: String,
}

/// Why the cloud refused an uploaded lock event record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventRejection {
    /// The record is not standard base64.
    NotBase64,
    /// The bytes are not a lock event record.
    Malformed,
    /// No lock with the record's lock id is registered.
    UnknownLock,
    /// The record is not signed by its lock's key.
    BadSignature,
    /// The sequence number is 0 or larger than the cloud stores.
    SequenceOutOfRange,
    /// A different record is already stored for this lock and sequence number.
    ConflictingRecord,
    /// The record does not link to the lock's stored records before or after it.
    BrokenChain,
    /// A code this build does not know (a newer cloud).
    #[serde(other)]
    Unknown,
}

/// One verified lock event record, from
/// `GET /api/v1/sites/{site_id}/locks/{lock_id}/events?after_seq=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockEventView {
    /// Position in the lock's log (from 1).
    pub seq: u64,
    /// The lock's clock when it happened (Unix seconds).
    pub time: i64,
    /// The person, or 0 when unknown.
    pub user_id: u32,
    /// The credential, or 0 when unknown.
    pub credential_id: u64,
    /// The command code asked for.
    pub command: u8,
    /// Whether the lock granted it.
    pub granted: bool,
    /// The refusal reason code (0 when granted).
    pub reason_code: u8,
    /// The signed record as the lock wrote it (base64), to verify independently.
    pub record: String,
}

/// A token response from `POST /oauth/token` (RFC 6749 §5.1).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// The bearer access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The refresh token (rotated on every use).
    pub refresh_token: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An OAuth2 error body (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, ...
    pub error: String,
    /// A sentence for people.
    pub error_description: Option<String>,
}

impl std::fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupRequest")
            .field("email", &self.email)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for VerifyEmailRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyEmailRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
