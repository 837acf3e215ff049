//! The console's addresses, in one place: the pages link with these and the router serves
//! them (see [`super::routes`]).

/// The console's home: the sign-in form, or the site switcher.
pub(super) const HOME: &str = "/web/console";
/// The sign-in form's target.
pub(super) const LOGIN: &str = "/web/console/login";
/// The sign-out form's target.
pub(super) const LOGOUT: &str = "/web/console/logout";
/// The stylesheet.
pub(super) const STYLESHEET: &str = "/web/console/assets/console.css";
/// The import page's progress script.
pub(super) const IMPORT_SCRIPT: &str = "/web/console/assets/import.js";
/// The existing remote-opening page.
pub(super) const REMOTE_OPENING: &str = "/web/remote";

/// A site's overview.
pub(super) fn site(site_id: u32) -> String {
    format!("{HOME}/sites/{site_id}")
}

/// A site's API keys page (and the new key form's target).
pub(super) fn api_keys(site_id: u32) -> String {
    format!("{}/api-keys", site(site_id))
}

/// The form that revokes an API key.
pub(super) fn api_key_revoke(site_id: u32, key_id: u32) -> String {
    format!("{}/{key_id}/revoke", api_keys(site_id))
}

/// A site's Connected apps page.
pub(super) fn connected_apps(site_id: u32) -> String {
    format!("{}/connected-apps", site(site_id))
}

/// The form that disconnects an app.
pub(super) fn connected_app_disconnect(site_id: u32, connection_id: u32) -> String {
    format!("{}/{connection_id}/disconnect", connected_apps(site_id))
}

/// A site's Webhooks page (and the new endpoint form's target).
pub(super) fn webhooks(site_id: u32) -> String {
    format!("{}/webhooks", site(site_id))
}

/// A webhook endpoint's page.
pub(super) fn webhook(site_id: u32, webhook_id: u32) -> String {
    format!("{}/{webhook_id}", webhooks(site_id))
}

/// One of a webhook endpoint's forms (`replay`, `delete`).
pub(super) fn webhook_action(site_id: u32, webhook_id: u32, action: &str) -> String {
    format!("{}/{action}", webhook(site_id, webhook_id))
}

/// A site's People page (and the add form's target).
pub(super) fn people(site_id: u32) -> String {
    format!("{}/people", site(site_id))
}

/// The form that adds a person.
pub(super) fn new_person(site_id: u32) -> String {
    format!("{}/new", people(site_id))
}

/// A person's page.
pub(super) fn person(site_id: u32, user_id: u32) -> String {
    format!("{}/{user_id}", people(site_id))
}

/// One of a person's forms (`rights`, `pin`, `remove`).
pub(super) fn person_action(site_id: u32, user_id: u32, action: &str) -> String {
    format!("{}/{action}", person(site_id, user_id))
}

/// The import page (and the upload form's target).
pub(super) fn import(site_id: u32) -> String {
    format!("{}/import", site(site_id))
}

/// The CSV template download.
pub(super) fn import_template(site_id: u32) -> String {
    format!("{}/template", import(site_id))
}

/// An import's page (progress, then report).
pub(super) fn import_job(site_id: u32, import_id: u32) -> String {
    format!("{}/imports/{import_id}", site(site_id))
}

/// An import's status, as JSON for the progress script.
pub(super) fn import_status(site_id: u32, import_id: u32) -> String {
    format!("{}/status", import_job(site_id, import_id))
}

/// A site's Pods page.
pub(super) fn pods(site_id: u32) -> String {
    format!("{}/pods", site(site_id))
}

/// A pod's page.
pub(super) fn pod(site_id: u32, pod_id: u32) -> String {
    format!("{}/{pod_id}", pods(site_id))
}

/// One of a pod's forms (`rename`, `delete`).
pub(super) fn pod_action(site_id: u32, pod_id: u32, action: &str) -> String {
    format!("{}/{action}", pod(site_id, pod_id))
}

/// One of a pod guest's forms (`block`, `unblock`, `delete`).
pub(super) fn guest_action(site_id: u32, pod_id: u32, guest_id: u32, action: &str) -> String {
    format!("{}/guests/{guest_id}/{action}", pod(site_id, pod_id))
}

/// A site's Locks and IQs page.
pub(super) fn locks(site_id: u32) -> String {
    format!("{}/locks", site(site_id))
}

/// A site's Access groups page (and the new group form's target).
pub(super) fn groups(site_id: u32) -> String {
    format!("{}/groups", site(site_id))
}

/// The form that makes an access group.
pub(super) fn new_group(site_id: u32) -> String {
    format!("{}/new", groups(site_id))
}

/// An access group's page.
pub(super) fn group(site_id: u32, group_id: u32) -> String {
    format!("{}/{group_id}", groups(site_id))
}

/// One of an access group's forms (`members`, `remove-member`, `delete`).
pub(super) fn group_action(site_id: u32, group_id: u32, action: &str) -> String {
    format!("{}/{action}", group(site_id, group_id))
}

/// A site's Events page.
pub(super) fn events(site_id: u32) -> String {
    format!("{}/events", site(site_id))
}

/// The Events page's CSV export.
pub(super) fn events_csv(site_id: u32) -> String {
    format!("{}/events.csv", site(site_id))
}

/// A lock's page.
pub(super) fn lock(site_id: u32, lock_id: u32) -> String {
    format!("{}/{lock_id}", locks(site_id))
}

/// One of a lock's forms (`settings`, `locker`).
pub(super) fn lock_action(site_id: u32, lock_id: u32, action: &str) -> String {
    format!("{}/{action}", lock(site_id, lock_id))
}

/// The form that makes a pod (its target is [`pods`]).
pub(super) fn new_pod(site_id: u32) -> String {
    format!("{}/new", pods(site_id))
}
