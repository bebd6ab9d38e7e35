//! `rootless-setup check`: runs the prerequisite checks and prints a report.

use std::path::PathBuf;
use std::process::ExitCode;

use rootless_setup_checks::{Caller, Options, RunMemo, Selection};

use rootless_setup_core::{CheckId, Distro, Engine};

use super::as_user::Prepare;
use crate::cli::{EngineArg, Format};
use crate::report;
use crate::results::ErrorId;
use crate::style::{Style, hinted, out};
use crate::versions_file::VersionsFile;

/// Check that this host and user are ready for a rootless container engine.
///
/// Every check probes the real thing where it can (it creates a user namespace with your
/// subordinate ids, runs iptables and rootlesskit the way the engine would) and never changes the
/// host. Each finding says what was seen, why it matters and how to fix it; `rootless-setup
/// explain ID` has the long form.
///
/// Exit status: 0 ready (warnings allowed), 1 a prerequisite fails (or, with --strict, warns),
/// 2 usage or internal error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The engine to check for.
    #[arg(long, value_enum, default_value_t = EngineArg::Docker)]
    pub engine: EngineArg,
    /// As root: act for this user (an ordinary login user): the command runs as NAME, with
    /// NAME's environment, exactly as if NAME had run it (see docs/admin.md).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Output format; `json` is documented in docs/json.md and versioned.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Treat warnings as failures (exit 1).
    #[arg(long)]
    pub strict: bool,

    /// Run only these checks (ids or groups such as `session`; repeat or separate with commas).
    #[arg(long, value_name = "ID", value_delimiter = ',', value_parser = parse_selector)]
    pub only: Vec<Vec<CheckId>>,

    /// Do not run these checks (ids or groups; repeat or separate with commas).
    #[arg(long, value_name = "ID", value_delimiter = ',', value_parser = parse_selector)]
    pub skip: Vec<Vec<CheckId>>,

    /// Network driver install would use (default: the best one available).
    #[arg(long, value_name = "DRIVER")]
    pub network_driver: Option<String>,

    /// Port driver install would use (default: fits the network driver).
    #[arg(long, value_name = "DRIVER")]
    pub port_driver: Option<String>,

    /// The engine's data directory (default: ~/.local/share/docker).
    #[arg(long, value_name = "DIR")]
    pub data_root: Option<PathBuf>,

    /// Ask every program for its version, ignoring the versions remembered in
    /// ~/.cache/rootless-setup/versions.json (the answers are remembered again).
    #[arg(long)]
    pub no_cache: bool,

    /// Read the host from this directory instead of `/` (fixture trees in tests; live probes
    /// are off).
    #[arg(long, value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
}

/// A check id or group given on the command line.
fn parse_selector(value: &str) -> Result<Vec<CheckId>, String> {
    let value = value.trim();
    let ids = CheckId::matching(value);
    if !ids.is_empty() {
        return Ok(ids);
    }
    match value.parse::<CheckId>() {
        Ok(id) => Ok(vec![id]),
        Err(e) => Err(format!(
            "{e}; `rootless-setup explain --list` lists the ids"
        )),
    }
}

impl From<EngineArg> for Engine {
    fn from(engine: EngineArg) -> Engine {
        match engine {
            EngineArg::Docker => Engine::Docker,
            EngineArg::Podman => Engine::Podman,
            EngineArg::Containerd => Engine::Containerd,
        }
    }
}

/// The checks `--only` and `--skip` select; none at all is a usage error, as a report of
/// nothing could never fail.
fn selection(args: &Args) -> anyhow::Result<Selection> {
    let only: Vec<CheckId> = args.only.iter().flatten().copied().collect();
    let skip: Vec<CheckId> = args.skip.iter().flatten().copied().collect();
    let selection = Selection::new(&only, &skip);
    if !selection.is_empty() {
        return Ok(selection);
    }
    let ids = |ids: &[CheckId]| {
        ids.iter()
            .map(|id| id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let given = if only.is_empty() {
        format!("--skip {}", ids(&skip))
    } else {
        format!("--only {} --skip {}", ids(&only), ids(&skip))
    };
    Err(hinted(
        ErrorId::Usage,
        format!("`{given}` selects no check, so there would be nothing to report"),
        &[
            "skip fewer checks, or name more with `--only`",
            "`rootless-setup explain --list` lists the ids and groups",
        ],
    ))
}

/// Runs the checks and prints the report.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.user {
        return super::as_user::act(name, "check", Prepare::Nothing, style);
    }
    let host = super::host(args.root.as_deref());
    let caller = Caller::from_process();
    let distro = Distro::detect(&host);
    let (versions, known) = VersionsFile::open(&caller, &host, args.no_cache);
    let options = Options {
        network_driver: args.network_driver.clone(),
        port_driver: args.port_driver.clone(),
        data_root: args.data_root.clone(),
        known_versions: known.clone(),
    };
    let cx = rootless_setup_checks::Context {
        host: &host,
        caller: &caller,
        system: super::system_for(&host),
        distro: &distro,
        engine: args.engine.into(),
        options: &options,
        memo: &RunMemo::default(),
    };
    let selection = selection(args)?;
    let (report, facts) = rootless_setup_checks::check_with_facts(&cx, &selection);
    if let Some(versions) = versions {
        versions.save(known, facts.fresh_versions);
    }
    match args.format {
        Format::Json => out(&format!("{}\n", report::to_json(&report, args.strict)?))?,
        Format::Human => out(&report::to_human(&report, args.strict, style.out))?,
    }
    Ok(if report.ready(args.strict) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
