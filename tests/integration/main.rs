//! Integration tests of the `rootless-setup` binary: exit codes, output formats, selection,
//! colour, `explain`, and that the generated man pages and completions in docs/ are fresh.
//! Host state comes from fixture trees (`--root`), where live probes are off.

mod check;
mod docs;
