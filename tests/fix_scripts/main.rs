//! The fix script from the real checks: broken fixture hosts per distribution family through
//! `rootless_setup_checks` into `rootless_setup_fix` (snapshots, `sh -n`, `shellcheck`), hostile
//! account values, and the home block's properties. They live beside the binary because they
//! need both crates; `rootless-setup-fix` itself depends only on `rootless-setup-core`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed set-up step ends the test

mod account_props;
mod common;
mod hostile;
mod scripts;
