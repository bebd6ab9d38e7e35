//! `rootless-setup`: prepares, installs, diagnoses and removes a rootless container engine for
//! an ordinary Linux user.
//!
//! The binary is glue: argument parsing ([`cli`]), one module per subcommand under
//! [`commands`], output styling ([`style`]). The logic lives in the library crates. Errors are
//! reported once, here, as `error: …` with `help: …` lines; exit code 2 means usage or internal
//! error (clap's own usage errors exit 2 as well), 1 a command that stopped (its error says why).

mod atomic;
mod cli;
mod commands;
mod containerd;
mod diff;
mod docker_context;
/// The engine's HTTP API over its unix socket lives with the checker's probes, which ask it too.
use rootless_setup_checks::engine_api;
mod journal;
#[cfg(test)]
mod parser_props;
mod paths;
mod prompt;
mod report;
mod results;
mod state;
mod style;
mod versions_file;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let style = style::Style::detect(cli.color);
    match commands::run(&cli, &style) {
        Ok(code) => code,
        Err(err) => {
            style::report_error(&style, &err);
            ExitCode::from(style::exit_status(&err))
        }
    }
}
