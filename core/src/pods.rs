//! Pods from the app: the site's owner and admins create pods and manage their members and
//! locks; members invite guests by e-mail and block, unblock or delete them; an invited person
//! accepts the code from the e-mail and gets their keys. The cloud enforces who may do what; a
//! refusal comes back as `NotAllowed`, a clash (invited twice, already used) as `InvalidInput`.

use std::sync::Arc;

use keyway_api::endpoints::{
    AddPodMember, BlockGuest, CleanPod, CreatePod, DeleteGuest, DeletePod, Endpoint, GetPod,
    InviteGuest, ListGuests, ListPods, MyPods, NoBody, RedeemInvitation, RemovePodMember,
    SetPodLocks, UnblockGuest, UpdatePod,
};
use keyway_api::pods::{
    CreatePodRequest, GuestView, InviteGuestRequest, MyPodView, PodMemberInput, PodMemberView,
    PodPersonStatus, PodRole as WirePodRole, PodView, RedeemInvitationRequest, SetPodLocksRequest,
    UpdatePodRequest,
};
use keyway_api::LockRef;

use crate::client::Context;
use crate::devices::DevicesClient;
use crate::runtime::on_core_runtime;
use crate::wallet::{LockInfo, SyncSummary, WalletClient};
use crate::KeywayError;

/// A member to add to a pod.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PodMember {
    /// Full name.
    pub name: String,
    /// E-mail (an existing account joins at once; a new one gets an invitation).
    pub email: String,
}

/// Where a member or guest stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PodStatus {
    /// Invited; the invitation is not accepted yet.
    Invited,
    /// Joined: has the rights.
    Active,
    /// A blocked guest: no keys until unblocked.
    Blocked,
    /// The invitation expired unaccepted, or the guest's check-out is past.
    Expired,
}

impl From<PodPersonStatus> for PodStatus {
    fn from(status: PodPersonStatus) -> Self {
        match status {
            PodPersonStatus::Invited => Self::Invited,
            PodPersonStatus::Active => Self::Active,
            PodPersonStatus::Blocked => Self::Blocked,
            PodPersonStatus::Expired => Self::Expired,
        }
    }
}

/// Member or guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PodRole {
    /// Digital key and remote opening on all the pod's locks; invites guests.
    Member,
    /// Digital key only, on some of the pod's locks, within a timeframe.
    Guest,
}

/// A member of a pod.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PodMemberInfo {
    /// Id in the pod (to remove them).
    pub member_id: u32,
    /// Their account, once joined.
    pub user_id: Option<u32>,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Invited or active.
    pub status: PodStatus,
}

/// A pod.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PodInfo {
    /// Pod id.
    pub pod_id: u32,
    /// Its site.
    pub site_id: u32,
    /// Name.
    pub name: String,
    /// Its locks.
    pub locks: Vec<LockInfo>,
    /// Its members.
    pub members: Vec<PodMemberInfo>,
    /// Guests invited, not joined yet.
    pub guests_invited: u32,
    /// Guests joined and not blocked.
    pub guests_active: u32,
}

/// A guest and their rights.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GuestInfo {
    /// Guest id.
    pub guest_id: u32,
    /// The pod.
    pub pod_id: u32,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Their account, once joined.
    pub user_id: Option<u32>,
    /// The member who invited them.
    pub invited_by: Option<u32>,
    /// Locks they open.
    pub locks: Vec<LockInfo>,
    /// Check-in (Unix seconds).
    pub from: i64,
    /// Check-out (Unix seconds).
    pub until: i64,
    /// Invited, active, blocked or expired.
    pub status: PodStatus,
    /// Opens with the phone: always true.
    pub digital_key: bool,
    /// Opens remotely: always false for guests.
    pub remote_opening: bool,
    /// When an unaccepted invitation stops working.
    pub invitation_expires_at: Option<i64>,
}

/// One of my pods and my rights there.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MyPodInfo {
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
    /// Locks I open through the pod.
    pub locks: Vec<LockInfo>,
    /// I open with my phone.
    pub digital_key: bool,
    /// I open remotely (members).
    pub remote_opening: bool,
    /// My check-in, as a guest.
    pub from: Option<i64>,
    /// My check-out, as a guest.
    pub until: Option<i64>,
    /// Active, blocked or expired.
    pub status: PodStatus,
}

/// An accepted invitation: the pod joined, this device, and the keys that arrived.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AcceptedInvitation {
    /// The pod and my rights there.
    pub pod: MyPodInfo,
    /// This device's id at the cloud.
    pub device_id: u32,
    /// The wallet sync that brought the keys.
    pub sync: SyncSummary,
}

fn locks(refs: Vec<LockRef>) -> Vec<LockInfo> {
    refs.into_iter()
        .map(|lock| LockInfo {
            lock_id: lock.lock_id,
            name: lock.name,
        })
        .collect()
}

fn member_info(view: PodMemberView) -> PodMemberInfo {
    PodMemberInfo {
        member_id: view.member_id,
        user_id: view.user_id,
        email: view.email,
        name: view.name,
        status: view.status.into(),
    }
}

fn pod_info(view: PodView) -> PodInfo {
    PodInfo {
        pod_id: view.pod_id,
        site_id: view.site_id,
        name: view.name,
        locks: locks(view.locks),
        members: view.members.into_iter().map(member_info).collect(),
        guests_invited: view.guests_invited,
        guests_active: view.guests_active,
    }
}

fn guest_info(view: GuestView) -> GuestInfo {
    GuestInfo {
        guest_id: view.guest_id,
        pod_id: view.pod_id,
        email: view.email,
        name: view.name,
        user_id: view.user_id,
        invited_by: view.invited_by,
        locks: locks(view.locks),
        from: view.from,
        until: view.until,
        status: view.status.into(),
        digital_key: view.digital_key,
        remote_opening: view.remote_opening,
        invitation_expires_at: view.invitation_expires_at,
    }
}

fn my_pod_info(view: MyPodView) -> MyPodInfo {
    MyPodInfo {
        pod_id: view.pod_id,
        pod_name: view.pod_name,
        site_id: view.site_id,
        site_name: view.site_name,
        role: match view.role {
            WirePodRole::Member => PodRole::Member,
            WirePodRole::Guest => PodRole::Guest,
        },
        locks: locks(view.locks),
        digital_key: view.digital_key,
        remote_opening: view.remote_opening,
        from: view.from,
        until: view.until,
        status: view.status.into(),
    }
}

/// Pods, their members and guests, and invitations.
#[derive(uniffi::Object)]
pub struct PodsClient {
    context: Arc<Context>,
}

impl std::fmt::Debug for PodsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PodsClient(..)")
    }
}

impl PodsClient {
    pub(crate) fn new(context: Arc<Context>) -> Self {
        Self { context }
    }

    /// Calls `endpoint` with `body` on the core's runtime.
    async fn call<E: Endpoint + 'static>(
        &self,
        endpoint: E,
        body: E::Request,
    ) -> Result<E::Response, KeywayError>
    where
        E::Request: 'static,
        E::Response: 'static,
    {
        let context = Arc::clone(&self.context);
        tracing::debug!(route = E::ROUTE.path, "pods call");
        on_core_runtime(async move { context.call(&endpoint, &body).await })
            .await
            .inspect_err(|error| crate::logging::error("pods call", error))
    }

    /// Calls an endpoint answering a pod.
    async fn pod_call<E>(&self, endpoint: E, body: E::Request) -> Result<PodInfo, KeywayError>
    where
        E: Endpoint<Response = PodView> + 'static,
        E::Request: 'static,
    {
        self.call(endpoint, body).await.map(pod_info)
    }

    /// Calls an endpoint answering a guest.
    async fn guest_call<E>(&self, endpoint: E) -> Result<GuestInfo, KeywayError>
    where
        E: Endpoint<Request = NoBody, Response = GuestView> + 'static,
    {
        self.call(endpoint, NoBody).await.map(guest_info)
    }
}

#[uniffi::export]
impl PodsClient {
    /// Creates a pod (owner and admins) with at least one member and some of the site's locks.
    pub async fn create_pod(
        &self,
        site_id: u32,
        name: String,
        members: Vec<PodMember>,
        lock_ids: Vec<u32>,
    ) -> Result<PodInfo, KeywayError> {
        let request = CreatePodRequest {
            name,
            members: members
                .into_iter()
                .map(|m| PodMemberInput {
                    name: m.name,
                    email: m.email,
                })
                .collect(),
            lock_ids,
        };
        self.pod_call(CreatePod { site_id }, request).await
    }

    /// The site's pods (owner and admins).
    pub async fn list_pods(&self, site_id: u32) -> Result<Vec<PodInfo>, KeywayError> {
        let pods = self.call(ListPods { site_id }, NoBody).await?;
        Ok(pods.into_iter().map(pod_info).collect())
    }

    /// A pod (its members, owner and admins).
    pub async fn pod(&self, pod_id: u32) -> Result<PodInfo, KeywayError> {
        self.pod_call(GetPod { pod_id }, NoBody).await
    }

    /// Renames a pod (owner and admins).
    pub async fn rename_pod(&self, pod_id: u32, name: String) -> Result<PodInfo, KeywayError> {
        let request = UpdatePodRequest { name: Some(name) };
        self.pod_call(UpdatePod { pod_id }, request).await
    }

    /// Replaces a pod's locks (owner and admins); keys for removed locks are revoked.
    pub async fn set_pod_locks(
        &self,
        pod_id: u32,
        lock_ids: Vec<u32>,
    ) -> Result<PodInfo, KeywayError> {
        let request = SetPodLocksRequest { lock_ids };
        self.pod_call(SetPodLocks { pod_id }, request).await
    }

    /// Adds a member (owner and admins).
    pub async fn add_member(
        &self,
        pod_id: u32,
        name: String,
        email: String,
    ) -> Result<PodInfo, KeywayError> {
        let request = PodMemberInput { name, email };
        self.pod_call(AddPodMember { pod_id }, request).await
    }

    /// Removes a member and the guests they invited (owner and admins).
    pub async fn remove_member(&self, pod_id: u32, member_id: u32) -> Result<PodInfo, KeywayError> {
        self.pod_call(RemovePodMember { pod_id, member_id }, NoBody)
            .await
    }

    /// Cleans a pod: members and guests removed, locks kept (owner and admins).
    pub async fn clean_pod(&self, pod_id: u32) -> Result<PodInfo, KeywayError> {
        self.pod_call(CleanPod { pod_id }, NoBody).await
    }

    /// Deletes a pod after cleaning it (owner and admins); returns it as it was.
    pub async fn delete_pod(&self, pod_id: u32) -> Result<PodInfo, KeywayError> {
        self.pod_call(DeletePod { pod_id }, NoBody).await
    }

    /// Invites a guest by e-mail (pod members): digital key only on `lock_ids` (some of the
    /// pod's locks), from check-in `from` to check-out `until` (Unix seconds).
    pub async fn invite_guest(
        &self,
        pod_id: u32,
        email: String,
        lock_ids: Vec<u32>,
        from: i64,
        until: i64,
    ) -> Result<GuestInfo, KeywayError> {
        let request = InviteGuestRequest {
            email,
            name: None,
            lock_ids,
            from,
            until,
        };
        self.call(InviteGuest { pod_id }, request)
            .await
            .map(guest_info)
    }

    /// The guests I manage in a pod, with their rights (a member's own; all for admins).
    pub async fn guests(&self, pod_id: u32) -> Result<Vec<GuestInfo>, KeywayError> {
        let guests = self.call(ListGuests { pod_id }, NoBody).await?;
        Ok(guests.into_iter().map(guest_info).collect())
    }

    /// Blocks a guest: their keys are revoked at once.
    pub async fn block_guest(&self, pod_id: u32, guest_id: u32) -> Result<GuestInfo, KeywayError> {
        self.guest_call(BlockGuest { pod_id, guest_id }).await
    }

    /// Unblocks a guest: their next sync brings new keys.
    pub async fn unblock_guest(
        &self,
        pod_id: u32,
        guest_id: u32,
    ) -> Result<GuestInfo, KeywayError> {
        self.guest_call(UnblockGuest { pod_id, guest_id }).await
    }

    /// Deletes a guest (an unaccepted invitation stops working); returns them as they were.
    pub async fn delete_guest(&self, pod_id: u32, guest_id: u32) -> Result<GuestInfo, KeywayError> {
        self.guest_call(DeleteGuest { pod_id, guest_id }).await
    }

    /// Redeems an invitation `code` (as typed, or the `keyway://invitation?code=…` link) for
    /// the signed-in account, which must have the e-mail the invitation was sent to.
    pub async fn redeem_invitation(&self, code: String) -> Result<MyPodInfo, KeywayError> {
        let request = RedeemInvitationRequest { code };
        self.call(RedeemInvitation {}, request)
            .await
            .map(my_pod_info)
    }

    /// Everything after signing in, in one call: redeems the code, registers this device if it
    /// is not yet, and syncs the wallet, so the keys are ready to open doors.
    pub async fn accept_invitation(&self, code: String) -> Result<AcceptedInvitation, KeywayError> {
        let pod = self.redeem_invitation(code).await?;
        tracing::info!(
            pod_id = pod.pod_id,
            site_id = pod.site_id,
            "invitation redeemed"
        );
        let devices = DevicesClient::new(Arc::clone(&self.context));
        let device_id = match devices.current_device_id().await? {
            Some(device_id) => device_id,
            None => devices.register().await?.device_id,
        };
        let sync = WalletClient::new(Arc::clone(&self.context)).sync().await?;
        Ok(AcceptedInvitation {
            pod,
            device_id,
            sync,
        })
    }

    /// The pods I joined and my rights in each.
    pub async fn my_pods(&self) -> Result<Vec<MyPodInfo>, KeywayError> {
        let pods = self.call(MyPods {}, NoBody).await?;
        Ok(pods.into_iter().map(my_pod_info).collect())
    }
}
