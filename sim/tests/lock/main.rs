//! The simulated lock's tests in one test binary, so they link once instead of once per file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

mod door;
mod link;
mod refusals;
mod remote_lock;
mod tags;
mod unlock;
