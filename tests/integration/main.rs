//! Integration tests of the `rootless-setup` binary: exit codes, output formats, selection,
//! colour, `explain`, `--version`, hosts without systemd, and that the generated man pages and
//! completions in docs/ are fresh.
//! Host state comes from fixture trees (`--root`), where live probes are off.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed set-up step ends the test

mod check;
mod docs;
mod fix;
mod hostile;
mod no_systemd;
mod results;
mod version;
