//! Pods from the app: the site's owner and admins create pods and manage their members and
//! locks; members invite guests by e-mail and block, unblock or delete them; an invited person
//! accepts the code from the e-mail and gets their keys. The cloud enforces who may do what; a
//! refusal comes back as `NotAllowed`, a clash (invited twice, already used) as `InvalidInput`.
//!
//! Pods, members, guests and their statuses reach the app as keyway-api's own types
//! (re-exported here), not as copies.

use std::sync::Arc;

use keyway_api::endpoints::{
    AddPodMember, BlockGuest, CleanPod, CreatePod, DeleteGuest, DeletePod, Endpoint, GetPod,
    InviteGuest, ListGuests, ListPods, MyPods, NoBody, RedeemInvitation, RemovePodMember,
    SetPodLocks, UnblockGuest, UpdatePod,
};
use keyway_api::pods::{
    CreatePodRequest, InviteGuestRequest, RedeemInvitationRequest, SetPodLocksRequest,
    UpdatePodRequest,
};
pub use keyway_api::pods::{
    GuestView, MyPodView, PodMemberInput, PodMemberView, PodPersonStatus, PodRole, PodView,
};

use crate::client::Context;
use crate::devices::DevicesClient;
use crate::runtime::on_core_runtime;
use crate::wallet::{SyncSummary, WalletClient};
use crate::KeywayError;

/// An accepted invitation: the pod joined, this device, and the keys that arrived.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AcceptedInvitation {
    /// The pod and my rights there.
    pub pod: MyPodView,
    /// This device's id at the cloud.
    pub device_id: u32,
    /// The wallet sync that brought the keys.
    pub sync: SyncSummary,
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
    async fn pod_call<E>(&self, endpoint: E, body: E::Request) -> Result<PodView, KeywayError>
    where
        E: Endpoint<Response = PodView> + 'static,
        E::Request: 'static,
    {
        self.call(endpoint, body).await
    }

    /// Calls an endpoint answering a guest.
    async fn guest_call<E>(&self, endpoint: E) -> Result<GuestView, KeywayError>
    where
        E: Endpoint<Request = NoBody, Response = GuestView> + 'static,
    {
        self.call(endpoint, NoBody).await
    }
}

#[uniffi::export]
impl PodsClient {
    /// Creates a pod (owner and admins) with at least one member and some of the site's locks.
    pub async fn create_pod(
        &self,
        site_id: u32,
        name: String,
        members: Vec<PodMemberInput>,
        lock_ids: Vec<u32>,
    ) -> Result<PodView, KeywayError> {
        let request = CreatePodRequest {
            name,
            members,
            lock_ids,
        };
        self.pod_call(CreatePod { site_id }, request).await
    }

    /// The site's pods (owner and admins).
    pub async fn list_pods(&self, site_id: u32) -> Result<Vec<PodView>, KeywayError> {
        self.call(ListPods { site_id }, NoBody).await
    }

    /// A pod (its members, owner and admins).
    pub async fn pod(&self, pod_id: u32) -> Result<PodView, KeywayError> {
        self.pod_call(GetPod { pod_id }, NoBody).await
    }

    /// Renames a pod (owner and admins).
    pub async fn rename_pod(&self, pod_id: u32, name: String) -> Result<PodView, KeywayError> {
        let request = UpdatePodRequest { name: Some(name) };
        self.pod_call(UpdatePod { pod_id }, request).await
    }

    /// Replaces a pod's locks (owner and admins); keys for removed locks are revoked.
    pub async fn set_pod_locks(
        &self,
        pod_id: u32,
        lock_ids: Vec<u32>,
    ) -> Result<PodView, KeywayError> {
        let request = SetPodLocksRequest { lock_ids };
        self.pod_call(SetPodLocks { pod_id }, request).await
    }

    /// Adds a member (owner and admins).
    pub async fn add_member(
        &self,
        pod_id: u32,
        name: String,
        email: String,
    ) -> Result<PodView, KeywayError> {
        let request = PodMemberInput { name, email };
        self.pod_call(AddPodMember { pod_id }, request).await
    }

    /// Removes a member and the guests they invited (owner and admins).
    pub async fn remove_member(&self, pod_id: u32, member_id: u32) -> Result<PodView, KeywayError> {
        self.pod_call(RemovePodMember { pod_id, member_id }, NoBody)
            .await
    }

    /// Cleans a pod: members and guests removed, locks kept (owner and admins).
    pub async fn clean_pod(&self, pod_id: u32) -> Result<PodView, KeywayError> {
        self.pod_call(CleanPod { pod_id }, NoBody).await
    }

    /// Deletes a pod after cleaning it (owner and admins); returns it as it was.
    pub async fn delete_pod(&self, pod_id: u32) -> Result<PodView, KeywayError> {
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
    ) -> Result<GuestView, KeywayError> {
        let request = InviteGuestRequest {
            email,
            name: None,
            lock_ids,
            from,
            until,
        };
        self.call(InviteGuest { pod_id }, request).await
    }

    /// The guests I manage in a pod, with their rights (a member's own; all for admins).
    pub async fn guests(&self, pod_id: u32) -> Result<Vec<GuestView>, KeywayError> {
        self.call(ListGuests { pod_id }, NoBody).await
    }

    /// Blocks a guest: their keys are revoked at once.
    pub async fn block_guest(&self, pod_id: u32, guest_id: u32) -> Result<GuestView, KeywayError> {
        self.guest_call(BlockGuest { pod_id, guest_id }).await
    }

    /// Unblocks a guest: their next sync brings new keys.
    pub async fn unblock_guest(
        &self,
        pod_id: u32,
        guest_id: u32,
    ) -> Result<GuestView, KeywayError> {
        self.guest_call(UnblockGuest { pod_id, guest_id }).await
    }

    /// Deletes a guest (an unaccepted invitation stops working); returns them as they were.
    pub async fn delete_guest(&self, pod_id: u32, guest_id: u32) -> Result<GuestView, KeywayError> {
        self.guest_call(DeleteGuest { pod_id, guest_id }).await
    }

    /// Redeems an invitation `code` (as typed, or the `keyway://invitation?code=…` link) for
    /// the signed-in account, which must have the e-mail the invitation was sent to.
    pub async fn redeem_invitation(&self, code: String) -> Result<MyPodView, KeywayError> {
        let request = RedeemInvitationRequest { code };
        self.call(RedeemInvitation {}, request).await
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
    pub async fn my_pods(&self) -> Result<Vec<MyPodView>, KeywayError> {
        self.call(MyPods {}, NoBody).await
    }
}
