//! End-to-end tests of Keyway live in `tests/`: the phone core against simulated locks now,
//! and the cloud over real HTTP on loopback as it arrives. This library is empty on purpose.
