//! `uniffi-bindgen`: the UniFFI binding generator, built from this workspace so its version
//! always matches the `uniffi` crate the core was compiled with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
