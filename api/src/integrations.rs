//! Bodies of the integration API: site API keys for connected systems (a self-storage or
//! coworking system, manuals 001 and 004) and the calls such a system makes under
//! `/api/v1/integrations/...` with a key, each honouring an `Idempotency-Key` header.

use serde::{Deserialize, Serialize};

/// What a key may do. A call needs the scope its route names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Scope {
    /// Add, update and remove people.
    #[serde(rename = "people:write")]
    PeopleWrite,
    /// Grant and revoke access-group membership.
    #[serde(rename = "access:write")]
    AccessWrite,
    /// Set people's keypad PIN policy.
    #[serde(rename = "pins:write")]
    PinsWrite,
    /// Read lock events.
    #[serde(rename = "events:read")]
    EventsRead,
    /// Manage webhook subscriptions.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 5] = [
        Self::PeopleWrite,
        Self::AccessWrite,
        Self::PinsWrite,
        Self::EventsRead,
        Self::WebhooksManage,
    ];

    /// The scope as it travels and is stored (`people:write`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PeopleWrite => "people:write",
            Self::AccessWrite => "access:write",
            Self::PinsWrite => "pins:write",
            Self::EventsRead => "events:read",
            Self::WebhooksManage => "webhooks:manage",
        }
    }

    /// The scope of a stored name, if known.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

/// `POST /api/v1/sites/{site_id}/api-keys`: a key for a connected system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiKeyRequest {
    /// What the key is for ("Storeganise").
    pub name: String,
    /// What it may do; at least one.
    pub scopes: Vec<Scope>,
}

/// A site API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    /// The key's id.
    pub key_id: u32,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When it was last used, if ever.
    pub last_used_at: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// The answer to creating a key: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKeyView,
    /// `Authorization: Bearer <secret>` for the integration calls; stored hashed, never shown
    /// again.
    pub secret: String,
}

/// `PUT /api/v1/integrations/people/{external_id}`: adds or updates the person the system
/// knows by its own id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpsertPersonRequest {
    /// Full name (manual 004: "full name as alias").
    pub name: String,
    /// E-mail: an existing Keyway person with it is matched, never duplicated; a new one is
    /// invited.
    pub email: String,
}

/// A person as the connected system sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntegrationPersonView {
    /// The system's own id for them.
    pub external_id: String,
    /// Their Keyway account id.
    pub user_id: u32,
    /// The alias the site lists them under: the name with the system's id appended
    /// (manual 001).
    pub alias: String,
    /// Whether they were added by this call (`false`: matched or updated).
    pub created: bool,
}

/// `PUT /api/v1/integrations/people/{external_id}/access-groups/{group_id}`: the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipView {
    /// The system's id for the person.
    pub external_id: String,
    /// The access group.
    pub group_id: u32,
    /// Whether the person is in it now.
    pub member: bool,
    /// The membership's start (Unix seconds), if it has one.
    #[serde(default)]
    pub from: Option<i64>,
    /// Its end (Unix seconds, exclusive), if it has one.
    #[serde(default)]
    pub until: Option<i64>,
}

/// The optional body of `PUT /api/v1/integrations/people/{external_id}/access-groups/{group_id}`:
/// a membership for a time (manual 004: "for as long as their subscription is active", "from
/// its start date until its end or cancellation date"). Left out, the membership lasts until
/// revoked. Outside the dates it gives nothing; the keys carry them, so the lock's own clock
/// enforces them. Put again with other dates to move them (a cancellation sets `until`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantAccessRequest {
    /// Start (Unix seconds); none: now.
    #[serde(default)]
    pub from: Option<i64>,
    /// End (Unix seconds, exclusive); none: until revoked.
    #[serde(default)]
    pub until: Option<i64>,
}

/// What a booking is of (manual 004): a room, for its hours; a desk, for the location's
/// opening hours that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingKind {
    /// A meeting room: `start` to `end`.
    Room,
    /// A desk: the location's schedule on `date`, `opens` to `closes`.
    Desk,
}

/// `PUT /api/v1/integrations/bookings/{booking_id}`: the booker and the invitees get the
/// room's or the desk's access group for the booking, with a 30-minute grace before and after
/// (a room booked 12:00–16:00 opens 11:30–16:30; a desk on a 9:00–19:00 day, 8:30–19:30),
/// whatever the group's weekly schedule. Put again to move it or change its people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingRequest {
    /// Room or desk.
    pub kind: BookingKind,
    /// The access group of the room or the desk.
    pub group_id: u32,
    /// The booker and the invitees: the system's ids of people it has added.
    pub people: Vec<String>,
    /// A room's start (Unix seconds).
    #[serde(default)]
    pub start: Option<i64>,
    /// A room's end (Unix seconds).
    #[serde(default)]
    pub end: Option<i64>,
    /// A desk's day, `YYYY-MM-DD` in the site's time.
    #[serde(default)]
    pub date: Option<String>,
    /// When the location opens that day, `HH:MM` in the site's time (its default schedule
    /// for location members, its public one for others).
    #[serde(default)]
    pub opens: Option<String>,
    /// When it closes that day, `HH:MM` (after `opens`; `24:00` is midnight at the end).
    #[serde(default)]
    pub closes: Option<String>,
}

/// A booking as the cloud holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingView {
    /// The system's id for the booking.
    pub booking_id: String,
    /// Room or desk.
    pub kind: BookingKind,
    /// The access group.
    pub group_id: u32,
    /// Its people (the system's ids).
    pub people: Vec<String>,
    /// Access from (Unix seconds): the start less the grace.
    pub access_from: i64,
    /// Access until (Unix seconds): the end plus the grace.
    pub access_until: i64,
}

/// `POST /api/v1/integrations/people/{external_id}/keypad-pin`: the person has one keypad PIN
/// for every lock of the site (manual 001: "If a customer has 2 units, they will have the
/// same access code for both units"). It goes to the person, never to the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeypadPinPolicyView {
    /// The system's id for the person.
    pub external_id: String,
    /// Whether this call made the PIN (`false`: they had one, and keep it).
    pub created: bool,
    /// How the new PIN reached them, when it was made.
    pub delivery: Option<crate::remote::PinDelivery>,
}

/// One person in a resync: who the system says they are and which of its groups they are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResyncPerson {
    /// The system's own id for them.
    pub external_id: String,
    /// Full name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// The access groups (of `ResyncRequest::groups`) they should be in.
    #[serde(default)]
    pub groups: Vec<u32>,
}

/// `POST /api/v1/integrations/resync`: the system's full list. People it added before and no
/// longer lists are removed; in the groups it names, membership becomes what it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResyncRequest {
    /// The access groups the system manages (others are left alone).
    pub groups: Vec<u32>,
    /// Everybody it knows.
    pub people: Vec<ResyncPerson>,
    /// Report the difference without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a resync changed (or, in a dry run, would change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResyncReport {
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// External ids added to the site.
    pub added: Vec<String>,
    /// External ids whose name or e-mail changed.
    pub updated: Vec<String>,
    /// External ids removed from the site.
    pub removed: Vec<String>,
    /// `(external id, group)` put in.
    pub granted: Vec<(String, u32)>,
    /// `(external id, group)` taken out.
    pub revoked: Vec<(String, u32)>,
}

/// The event types a webhook endpoint may ask for.
pub const WEBHOOK_EVENT_TYPES: [&str; 4] = [
    "lock.event",
    "lock.alert",
    "access.changed",
    "import.finished",
];

/// `POST /api/v1/integrations/webhooks`: an endpoint for the site's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateWebhookRequest {
    /// Where the messages go: `https://…` (plain http only to a loopback host, when the
    /// cloud allows it for development).
    pub url: String,
    /// Some of [`WEBHOOK_EVENT_TYPES`]; empty for all.
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// A webhook endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    /// The endpoint's id.
    pub webhook_id: u32,
    /// Its URL.
    pub url: String,
    /// The event types it gets (empty: all).
    pub event_types: Vec<String>,
    /// When it was made (Unix seconds).
    pub created_at: i64,
}

/// The answer to making an endpoint: its signing secret, shown this once (Standard Webhooks:
/// `whsec_` and the base64 of the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    /// The endpoint.
    pub webhook: WebhookView,
    /// The secret that signs every message to it.
    pub secret: String,
}

/// A message that could not be delivered within a day: kept until replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetterView {
    /// The message id (`webhook-id`), the same when replayed.
    pub message_id: String,
    /// Its event type.
    pub event_type: String,
    /// Tries made.
    pub attempts: u32,
    /// What the last try got.
    pub last_error: Option<String>,
    /// When the event happened (Unix seconds).
    pub created_at: i64,
}

/// `POST /api/v1/integrations/webhooks/{webhook_id}/replay`: how many dead letters are queued
/// again, in their order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplayView {
    /// Messages queued again.
    pub replayed: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_travel_as_their_names() {
        for scope in Scope::ALL {
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("people:read"), None);
    }
}

/// `POST /oauth/token` for a registered app: an access token that acts for one site with the
/// consented scopes until the site disconnects the app (no refresh token: it does not expire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectedAppToken {
    /// `Authorization: Bearer <access_token>` for the integration calls (a `kwk_` site key).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// The consented scopes, space-separated.
    pub scope: String,
    /// The site the token acts for.
    pub site_id: u32,
}

/// An app connected to a site, as its owner and admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectedAppView {
    /// The connection's id (what disconnecting names).
    pub connection_id: u32,
    /// The app's name.
    pub app_name: String,
    /// The app's OAuth client id (`kwa_…`).
    pub client_id: String,
    /// What the app may do on the site.
    pub scopes: Vec<Scope>,
    /// Who connected it (account id), if they still exist.
    pub connected_by: Option<u32>,
    /// Their name, if they still exist.
    pub connected_by_name: Option<String>,
    /// When it was connected (Unix seconds).
    pub connected_at: i64,
    /// When it was disconnected, if it was.
    pub disconnected_at: Option<i64>,
}
