//! `cargo xtask ci | e2e | bench | dist | try`: project automation in plain Rust, in the style of
//! rust-analyzer's xtask (few dependencies, `std::process::Command`).
//!
//! - `ci`: formatting, clippy, the workspace tests, then the end-to-end suite, with timings.
//! - `e2e`: boots throwaway Debian boxes under `systemd-nspawn` and drives `rootless-setup`
//!   inside them as an unprivileged user (see `docs/testing.md`).
//! - `bench`: times `rootless-setup check` against the old `dockerd-rootless-setuptool.sh check`
//!   in one box; `bench install` times install and uninstall of both tools; `bench inputs`
//!   times large hostile inputs (subid files, configuration) on fixture trees, without a box.
//! - `dist`: release build, man pages and shell completions refreshed in docs/, then the Debian
//!   package in `target/dist/` and lintian's verdict on it.
//! - `try`: walks rootless-setup as a user in a throwaway box, for a machine without a user
//!   session (see `docs/testing.md`).

mod bench;
mod ci;
mod dist;
mod e2e;
mod tryout;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci      cargo fmt --check, clippy -D warnings, cargo test, then the e2e suite
  e2e     end-to-end scenarios in systemd-nspawn boxes (cargo xtask e2e --help)
  bench   time rootless-setup check against dockerd-rootless-setuptool.sh check
          (`bench install`: install and uninstall of both tools;
          `bench inputs`: large hostile inputs on fixture trees, no box)
  dist    release build, docs/man/ and docs/completions/ refreshed, the .deb
          in target/dist/ with lintian, cargo install, cargo package
  try     walk check, fix, install, a container, status, uninstall as a user
          in a throwaway box (cargo xtask try --help)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "ci" => ci::main(rest),
        "e2e" => e2e::main(rest),
        "bench" => bench::main(rest),
        "dist" => dist::main(rest),
        "try" => tryout::main(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask {command}: {err:#}");
            ExitCode::FAILURE
        }
    }
}
