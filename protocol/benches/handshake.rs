//! Lock-side handshake benchmark (filled in below).
fn main() {}
