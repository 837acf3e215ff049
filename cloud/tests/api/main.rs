//! The cloud's HTTP API tests in one test binary, so they link once instead of once per file:
//! CI time and disk space.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod api_support;

mod accounts_verification;
mod api_access;
mod api_events;
mod api_keys;
mod api_roles;
mod connect;
mod console;
mod console_integrations;
mod console_locks;
mod endpoints;
mod group_changes;
mod import_corpus;
mod imports;
mod integration_rules;
mod integrations;
mod live;
mod lock_rules;
mod oauth;
mod people_paging;
mod pods_api;
mod pods_email;
mod pods_security;
mod profiles;
mod remote_api;
mod scim;
mod secrets_at_rest;
mod timed_access;
mod web_security;
mod webhooks;
