//! Pods (manual 000): a small group of members managed by the site's owner and admins, a set of
//! the site's locks, and the guests members invite by e-mail for a check-in/check-out timeframe.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/v1/sites/{site_id}/pods` | owner, admins | create with a name, ≥ 1 member and locks |
//! | `GET /api/v1/sites/{site_id}/pods` | owner, admins | the pods with their counts |
//! | `GET /api/v1/pods/{pod_id}` | owner, admins, its members | details |
//! | `PATCH /api/v1/pods/{pod_id}` | owner, admins | rename |
//! | `DELETE /api/v1/pods/{pod_id}` | owner, admins | clean it, then delete it |
//! | `PUT /api/v1/pods/{pod_id}/locks` | owner, admins | replace its locks |
//! | `POST /api/v1/pods/{pod_id}/members` | owner, admins | add a member |
//! | `DELETE /api/v1/pods/{pod_id}/members/{member_id}` | owner, admins | remove a member (and their guests) |
//! | `POST /api/v1/pods/{pod_id}/clean` | owner, admins | remove members and guests, keep locks |
//! | `GET /api/v1/pods/{pod_id}/guests` | members (theirs), owner and admins (all) | guests and their rights |
//! | `POST /api/v1/pods/{pod_id}/guests` | members | invite a guest by e-mail |
//! | `POST /api/v1/pods/{pod_id}/guests/{guest_id}/block` | the inviting member, owner, admins | block |
//! | `POST /api/v1/pods/{pod_id}/guests/{guest_id}/unblock` | the inviting member, owner, admins | unblock |
//! | `DELETE /api/v1/pods/{pod_id}/guests/{guest_id}` | the inviting member, owner, admins | delete |
//! | `POST /api/v1/invitations/redeem` | the invited person, signed in | join the pod |
//! | `GET /api/v1/me/pods` | anyone | the caller's pods and rights there |
//!
//! Times are Unix seconds. Invitation codes travel only in the e-mail and in the redeem
//! request; the cloud stores their SHA-256.

use serde::{Deserialize, Serialize};

use super::LockRef;

/// A member to add: their name and e-mail (an account is found or invited by e-mail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PodMemberInput {
    /// Full name.
    pub name: String,
    /// E-mail: an existing account joins at once; a new one gets an invitation code.
    pub email: String,
}

/// `POST /api/v1/sites/{site_id}/pods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePodRequest {
    /// Pod name ("Apartment 201").
    pub name: String,
    /// At least one member.
    pub members: Vec<PodMemberInput>,
    /// Locks of the site the pod opens.
    pub lock_ids: Vec<u32>,
}

/// `PATCH /api/v1/pods/{pod_id}`: fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePodRequest {
    /// New name.
    pub name: Option<String>,
}

/// `PUT /api/v1/pods/{pod_id}/locks`: the pod's locks from now on (guests keep only the
/// locks still in the pod).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPodLocksRequest {
    /// Locks of the site.
    pub lock_ids: Vec<u32>,
}

/// Where a member or guest stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PodPersonStatus {
    /// Invited by e-mail; the invitation is not redeemed yet.
    Invited,
    /// Joined: has the rights.
    Active,
    /// A guest blocked by a member or an admin: no keys until unblocked.
    Blocked,
    /// A guest whose invitation expired unredeemed, or whose check-out is past.
    Expired,
}

/// A member of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PodMemberView {
    /// Id of the membership in this pod (to remove it).
    pub member_id: u32,
    /// The account, once joined.
    pub user_id: Option<u32>,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// `invited` or `active`.
    pub status: PodPersonStatus,
}

/// A pod, as its admins and members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PodView {
    /// Pod id.
    pub pod_id: u32,
    /// Its site.
    pub site_id: u32,
    /// Name.
    pub name: String,
    /// Its locks.
    pub locks: Vec<LockRef>,
    /// Its members.
    pub members: Vec<PodMemberView>,
    /// Guests invited and not joined yet.
    pub guests_invited: u32,
    /// Guests who joined and are not blocked.
    pub guests_active: u32,
}

/// `POST /api/v1/pods/{pod_id}/guests`: a check-in/check-out access for a guest, digital key
/// only, on some of the pod's locks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteGuestRequest {
    /// The guest's e-mail: the invitation goes there, and they redeem it signed in with it.
    pub email: String,
    /// The guest's name (defaults to the e-mail).
    #[serde(default)]
    pub name: Option<String>,
    /// Locks of the pod the guest may open (at least one).
    pub lock_ids: Vec<u32>,
    /// Check-in (Unix seconds): keys open nothing before.
    pub from: i64,
    /// Check-out (Unix seconds, after `from` and in the future): keys open nothing after.
    pub until: i64,
}

/// A guest and their rights, for the member who invited them and the site's admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuestView {
    /// Guest id (in this pod).
    pub guest_id: u32,
    /// The pod.
    pub pod_id: u32,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// The account, once joined.
    pub user_id: Option<u32>,
    /// The member who invited them.
    pub invited_by: Option<u32>,
    /// The locks they open.
    pub locks: Vec<LockRef>,
    /// Check-in (Unix seconds).
    pub from: i64,
    /// Check-out (Unix seconds).
    pub until: i64,
    /// Invited, active, blocked or expired.
    pub status: PodPersonStatus,
    /// Guests open with their phone (digital key): always true.
    pub digital_key: bool,
    /// Guests never open remotely: always false.
    pub remote_opening: bool,
    /// When an unredeemed invitation stops working.
    pub invitation_expires_at: Option<i64>,
}

/// `POST /api/v1/invitations/redeem`: the code from the invitation e-mail.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeemInvitationRequest {
    /// The code (`XXXX-XXXX-XXXX-XXXX`; case, spaces and dashes do not matter).
    pub code: String,
}

impl std::fmt::Debug for RedeemInvitationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedeemInvitationRequest")
            .finish_non_exhaustive()
    }
}

/// A person's part in a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PodRole {
    /// Digital key and remote opening on all the pod's locks; invites guests.
    Member,
    /// Digital key only, on some of the pod's locks, within a timeframe.
    Guest,
}

/// One pod the caller belongs to, with their rights there (`GET /api/v1/me/pods`, and the
/// answer to a redeemed invitation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyPodView {
    /// Pod id.
    pub pod_id: u32,
    /// Pod name.
    pub pod_name: String,
    /// Its site.
    pub site_id: u32,
    /// The site's name.
    pub site_name: String,
    /// Member or guest.
    pub role: PodRole,
    /// The locks the caller opens through the pod.
    pub locks: Vec<LockRef>,
    /// Opens with the phone (digital key).
    pub digital_key: bool,
    /// Opens remotely (members only).
    pub remote_opening: bool,
    /// A guest's check-in.
    pub from: Option<i64>,
    /// A guest's check-out.
    pub until: Option<i64>,
    /// Active, blocked or expired.
    pub status: PodPersonStatus,
}
