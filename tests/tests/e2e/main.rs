//! End-to-end scenarios of the whole product (cloud, core, simulated locks and IQs) in one test
//! binary, so they link once instead of once per file: CI time and disk space.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod integration_support;
mod pods_support;
mod remote_support;
mod secrets_support;

mod cancellation;
mod cloud_flow;
mod core_log_secrets;
mod coworking_flow;
mod foreign_executor;
mod import;
mod live;
mod lock_rules;
mod lockers;
mod log_secrets;
mod offline_unlock;
mod outbox;
mod pods_admin;
mod pods_guests;
mod remote_code;
mod remote_iq_login;
mod remote_keypad_iq;
mod remote_latency;
mod remote_opening;
mod remote_unreachable;
mod scim;
mod sessions;
mod startup;
mod storage_flow;
