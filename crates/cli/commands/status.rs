//! `rootless-setup status`: the installed engine as it is now — the unit's load, active, sub
//! and file state and main PID, its files and who wrote them, whether the API socket answers
//! (server version, the rootless flag, cgroup driver), the docker CLI context, `DOCKER_HOST` /
//! `DOCKER_CONTEXT` that would bypass it, and linger. Reads only; changes nothing.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;

use rootless_setup_checks::Caller;
use rootless_setup_core::engine::{Readiness, Runs};
use rootless_setup_systemd::{Login, UnitState, UserManager};
use rootless_setup_unit::remote::Expose;
use rootless_setup_unit::{FileOrigin, classify};
use serde::Serialize;

use super::as_user::Prepare;
use crate::cli::Format;
use crate::docker_context::{self, DockerCli};
use crate::engine_api::{self, ServerInfo};
use crate::paths::Paths;
use crate::state::{RemoteApi, State};
use crate::style::{Prefix, Style, line, out, paint};

/// Show the installed rootless engine: unit, socket, server, context, environment, linger.
///
/// Nothing is changed. `--format json` prints one JSON document (docs/install.md describes it).
///
/// Exit status: 0 healthy (the unit is active, the socket answers and the server runs
/// rootless), 1 installed but unhealthy, 2 usage or internal error, 3 not installed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// As root: act for this user (an ordinary login user): the command runs as NAME, with
    /// NAME's environment, exactly as if NAME had run it (see docs/admin.md).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// The engine (default: the one installed; asked for when several are).
    #[arg(long, value_enum)]
    pub engine: Option<crate::cli::EngineArg>,
}

/// The version of the JSON layout.
pub const STATUS_SCHEMA_VERSION: u32 = 1;

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    /// Active, answering, rootless.
    Healthy,
    /// Installed, but something is wrong (see `problems`).
    Unhealthy,
    /// No unit file and no install record.
    NotInstalled,
}

impl Health {
    /// The exit status.
    pub fn code(self) -> u8 {
        match self {
            Health::Healthy => 0,
            Health::Unhealthy => 1,
            Health::NotInstalled => 3,
        }
    }
}

/// One of the engine's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStatus {
    /// Where.
    pub path: PathBuf,
    /// `ours`, `edited`, `foreign` or `missing`.
    pub origin: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocketStatus {
    pub path: PathBuf,
    /// Whether `GET /_ping` answered `OK`.
    pub answers: bool,
    /// Why not.
    pub error: Option<String>,
}

/// The remote API install exposed (`remote.expose`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteStatus {
    /// `tcp://ADDRESS:PORT`.
    pub address: String,
    /// `tls` or `insecure-loopback`.
    pub security: &'static str,
    /// Whether a TCP connection to it was accepted (no TLS handshake is attempted).
    pub answers: bool,
    /// Why not.
    pub error: Option<String>,
}

/// How long the remote API's TCP connect may take.
const REMOTE_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether the remote API the record names accepts a TCP connection: on its address, or on the
/// loopback address of the same family for `0.0.0.0` and `::`.
fn remote_status(remote: &RemoteApi) -> RemoteStatus {
    let answer = match Expose::parse(&remote.address) {
        Err(why) => Err(format!("the record's address {why}")),
        Ok(e) => {
            let ip = match e.ip {
                IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                ip => ip,
            };
            TcpStream::connect_timeout(&SocketAddr::new(ip, e.port), REMOTE_CONNECT_TIMEOUT)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    };
    RemoteStatus {
        address: remote.address.clone(),
        security: if remote.tls_dir.is_some() {
            "tls"
        } else {
            "insecure-loopback"
        },
        answers: answer.is_ok(),
        error: answer.err(),
    }
}

/// The CLI context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextStatus {
    /// `rootless`.
    pub name: &'static str,
    /// Whether it exists (`None`: no docker client to ask).
    pub exists: Option<bool>,
    /// Where it points.
    pub endpoint: Option<String>,
    /// The current context in the client's config.json.
    pub current: String,
}

/// Variables that override the context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvStatus {
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `DOCKER_CONTEXT`.
    pub docker_context: Option<String>,
    /// What they break, one line each.
    pub conflicts: Vec<String>,
}

/// Everything `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// [`STATUS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `docker`, `podman`, `containerd`.
    pub engine: &'static str,
    /// The unit install starts (`docker.service`, `podman.socket`).
    pub unit_name: &'static str,
    /// The distribution ships the unit (Podman's socket): it exists without any install, so
    /// only the record says the engine is installed.
    #[serde(skip)]
    pub shipped_unit: bool,
    /// The verdict.
    pub health: Health,
    /// Always false: status only reads (the field the command results of install, uninstall
    /// and `fix --apply` have, so one check of `changed` fits every command).
    pub changed: bool,
    /// Why it is not healthy.
    pub problems: Vec<String>,
    /// Worth knowing, but healthy.
    pub warnings: Vec<String>,
    pub user: String,
    pub uid: u32,
    /// The unit as the user manager reports it.
    pub unit: Option<UnitState>,
    /// Why the manager could not be asked.
    pub unit_error: Option<String>,
    /// The unit file and our drop-in.
    pub files: Vec<FileStatus>,
    /// The install record, if any.
    pub record: Option<PathBuf>,
    /// Why the install record at the usual place cannot be used (not the caller's, not 0600,
    /// unparseable); uninstall and install refuse it.
    pub record_error: Option<String>,
    /// When the record says it was installed.
    pub installed_at: Option<String>,
    pub socket: SocketStatus,
    /// The server, when it answered.
    pub server: Option<ServerInfo>,
    /// The remote API, when install exposed one.
    pub remote: Option<RemoteStatus>,
    /// The CLI context.
    pub context: ContextStatus,
    pub environment: EnvStatus,
    /// Linger (`None`: logind could not be asked).
    pub linger: Option<bool>,
}

/// The engine's files (its standard unit and drop-in, where it has them, and every file the
/// record lists), each with who wrote it.
fn files(paths: &Paths, record: Option<&State>) -> Vec<FileStatus> {
    let mut file_paths = match paths.spec().runs {
        Runs::Rootlesskit(_) => [Some(paths.unit_file()), paths.drop_in()]
            .into_iter()
            .flatten()
            .collect(),
        Runs::SocketActivated { .. } => Vec::new(),
    };
    if let Some(r) = record {
        for f in r.files() {
            if !file_paths.iter().any(|p| p == f) {
                file_paths.push(f.to_path_buf());
            }
        }
    }
    file_paths
        .into_iter()
        .map(|path| {
            let origin = match crate::atomic::read_optional(&path).ok().flatten() {
                None => "missing",
                Some(text) => match classify(&text) {
                    FileOrigin::Ours { edited: false } => "ours",
                    FileOrigin::Ours { edited: true } => "edited",
                    FileOrigin::Foreign => "foreign",
                },
            };
            FileStatus { path, origin }
        })
        .collect()
}

/// Whether the engine answers on `socket`, and what it says about itself (only the Docker API
/// describes the server; containerd's `ctr version` only says it answers).
fn ask_engine(
    caller: &Caller,
    paths: &Paths,
    socket: &std::path::Path,
) -> (Result<(), engine_api::ApiError>, Option<ServerInfo>) {
    let readiness = paths.spec().readiness;
    let ping = match crate::state::ops::probe(readiness, None, caller) {
        Some(engine) => engine.ping(socket, engine_api::REQUEST_TIMEOUT),
        None => Err(engine_api::ApiError::NotReady(
            "ctr was not found to ask the engine".to_owned(),
        )),
    };
    let server = (ping.is_ok() && readiness == Readiness::Ping)
        .then(|| engine_api::server_info(socket).ok())
        .flatten();
    (ping, server)
}

/// Gathers the report.
pub fn gather(caller: &Caller, paths: &Paths) -> StatusReport {
    let (record, record_error) = match State::load(&paths.state, paths.uid, paths.engine) {
        Ok(r) => (r, None),
        Err(e) => (None, Some(format!("{e}; {}", e.help()))),
    };
    let (unit, unit_error) =
        match UserManager::connect_session().and_then(|m| m.unit_state(paths.started_unit())) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e.to_string())),
        };
    let files = files(paths, record.as_ref());
    let socket_path = record
        .as_ref()
        .map(|r| r.socket.clone())
        .unwrap_or_else(|| paths.socket());
    let (ping, server) = ask_engine(caller, paths, &socket_path);
    let endpoint = docker_context::endpoint(&socket_path);
    let docker = docker_context::find_docker(caller, None).map(|path| DockerCli {
        path,
        config_dir: paths.docker_config.clone(),
    });
    let name = paths.context().unwrap_or_default();
    let existing = docker
        .as_ref()
        .filter(|_| !name.is_empty())
        .map(|d| d.inspect(name).ok().flatten());
    let context = ContextStatus {
        name,
        exists: existing.as_ref().map(Option::is_some),
        endpoint: existing.flatten().map(|c| c.endpoint),
        current: docker_context::current_context(&paths.docker_config),
    };
    let environment = env_status(
        caller.var("DOCKER_HOST"),
        caller.var("DOCKER_CONTEXT"),
        &endpoint,
        name,
    );
    let linger = Login::connect_system()
        .and_then(|l| l.linger(paths.uid))
        .ok();
    let mut report = StatusReport {
        schema_version: STATUS_SCHEMA_VERSION,
        engine: paths.engine.as_str(),
        unit_name: paths.started_unit(),
        shipped_unit: matches!(paths.spec().runs, Runs::SocketActivated { .. }),
        health: Health::NotInstalled,
        changed: false,
        problems: Vec::new(),
        warnings: Vec::new(),
        user: paths.user.clone(),
        uid: paths.uid,
        unit,
        unit_error,
        files,
        installed_at: record.as_ref().map(|r| r.installed_at.clone()),
        record: record.as_ref().map(|_| paths.state.clone()),
        record_error,
        socket: SocketStatus {
            path: socket_path,
            answers: ping.is_ok(),
            error: ping.err().map(|e| e.to_string()),
        },
        server,
        remote: record
            .as_ref()
            .and_then(|r| r.remote.as_ref())
            .map(remote_status),
        context,
        environment,
        linger,
    };
    judge(&mut report, &endpoint);
    report
}

/// `DOCKER_HOST` / `DOCKER_CONTEXT` that send the client elsewhere than `endpoint` and the
/// engine's context `ours`.
pub fn env_status(
    host: Option<&str>,
    context: Option<&str>,
    endpoint: &str,
    ours: &str,
) -> EnvStatus {
    let mut conflicts = Vec::new();
    if let Some(h) = host.filter(|h| *h != endpoint) {
        conflicts.push(format!(
            "DOCKER_HOST={h} overrides every context: docker talks to {h}, not the rootless engine (unset it, or set it to {endpoint})"
        ));
    }
    if let Some(c) = context.filter(|c| *c != ours) {
        conflicts.push(format!(
            "DOCKER_CONTEXT={c} overrides the current context: docker uses {c}, not {ours}"
        ));
    }
    EnvStatus {
        docker_host: host.map(str::to_owned),
        docker_context: context.map(str::to_owned),
        conflicts,
    }
}

/// Fills in the verdict, problems and warnings.
pub fn judge(r: &mut StatusReport, endpoint: &str) {
    let unit_file = !r.shipped_unit
        && (r.unit.as_ref().is_some_and(UnitState::exists)
            || r.files.first().is_some_and(|f| f.origin != "missing"));
    if !unit_file && r.record.is_none() && r.record_error.is_none() {
        r.health = Health::NotInstalled;
        if r.socket.answers {
            r.warnings.push(format!(
                "no unit is installed, but something answers on {}",
                r.socket.path.display()
            ));
        }
        return;
    }
    let mut problems = Vec::new();
    if let Some(e) = &r.record_error {
        problems.push(e.clone());
    }
    problems.extend(unit_problem(r));
    r.warnings.extend(unit_warnings(r));
    if !r.socket.answers {
        problems.push(format!(
            "{} does not answer: {}",
            r.socket.path.display(),
            r.socket.error.as_deref().unwrap_or("no answer")
        ));
    }
    if let Some(remote) = r.remote.as_ref().filter(|_| r.socket.answers)
        && !remote.answers
    {
        problems.push(format!(
            "the remote API {} does not answer: {}",
            remote.address,
            remote.error.as_deref().unwrap_or("no answer")
        ));
    }
    if let Some(s) = &r.server {
        if s.rootless == Some(false) {
            problems.push("the engine on the socket does not run rootless".into());
        }
        r.warnings
            .extend(s.warnings.iter().map(|w| format!("the engine says: {w}")));
    }
    for f in &r.files {
        if f.origin == "edited" {
            r.warnings.push(format!(
                "{} was edited by hand; install will not replace it without --force",
                f.path.display()
            ));
        }
    }
    r.warnings.extend(context_warnings(&r.context, endpoint));
    r.warnings.extend(r.environment.conflicts.iter().cloned());
    if r.linger == Some(false) {
        r.warnings.push(format!(
            "linger is off: the engine stops when your last session ends (`sudo loginctl enable-linger {}`)",
            r.user
        ));
    }
    r.health = if problems.is_empty() {
        Health::Healthy
    } else {
        Health::Unhealthy
    };
    r.problems = problems;
}

/// What is wrong with the unit: not reachable, not found, not active.
fn unit_problem(r: &StatusReport) -> Option<String> {
    match &r.unit {
        None => Some(format!(
            "the user manager could not be asked: {}",
            r.unit_error.as_deref().unwrap_or("unknown error")
        )),
        Some(u) if !u.exists() => Some(format!("{} is not found by the user manager", r.unit_name)),
        Some(u) if !u.is_active() => {
            let mut p = format!("{} is {}/{}", r.unit_name, u.active, u.sub);
            if let Some(res) = u.result.as_deref().filter(|r| *r != "success") {
                let _ = write!(p, " (result {res})");
            }
            Some(p)
        }
        Some(_) => None,
    }
}

/// What is odd about the unit: files changed since the last reload, not enabled.
fn unit_warnings(r: &StatusReport) -> Vec<String> {
    let mut warnings = Vec::new();
    let Some(u) = &r.unit else {
        return warnings;
    };
    if u.need_daemon_reload {
        warnings.push(format!(
            "a file of {} changed since the manager last read it (`systemctl --user daemon-reload`, or run install again)",
            r.unit_name
        ));
    }
    if u.exists() && u.unit_file_state != "enabled" {
        warnings.push(format!(
            "{} is {}: it will not start at login or boot",
            r.unit_name,
            if u.unit_file_state.is_empty() {
                "not enabled"
            } else {
                u.unit_file_state.as_str()
            }
        ));
    }
    warnings
}

/// What is odd about the CLI context: missing, pointing elsewhere, not current.
fn context_warnings(c: &ContextStatus, endpoint: &str) -> Vec<String> {
    let name = c.name;
    let mut warnings = Vec::new();
    match (c.exists, c.endpoint.as_deref()) {
        (Some(false), _) => warnings.push(format!("there is no docker context {name}")),
        (Some(true), Some(e)) if e != endpoint => warnings.push(format!(
            "the docker context {name} points at {e}, not {endpoint}"
        )),
        _ => {}
    }
    if c.exists == Some(true) && c.current != name {
        warnings.push(format!(
            "the current docker context is {}, not {name} (`docker context use {name}`)",
            c.current
        ));
    }
    warnings
}

/// The report for people.
pub fn to_human(r: &StatusReport, paths: &Paths, colour: bool) -> String {
    let mut s = String::new();
    let verdict = match r.health {
        Health::Healthy => paint(colour, Style::SUCCESS, "healthy"),
        Health::Unhealthy => paint(colour, Style::FAIL, "unhealthy"),
        Health::NotInstalled => paint(colour, Style::BOLD, "not installed"),
    };
    let _ = writeln!(s, "rootless {} for {}: {verdict}", r.engine, r.user);
    for (k, v) in rows(r, paths) {
        let _ = writeln!(s, "  {:<9} {v}", paint(colour, Style::DIM, k));
    }
    for p in &r.problems {
        let _ = writeln!(s, "{} {p}", paint(colour, Style::FAIL, "problem:"));
    }
    for w in &r.warnings {
        let _ = writeln!(s, "{}", line(colour, Prefix::Warning, w));
    }
    if r.health == Health::NotInstalled {
        let _ = writeln!(s, "install it with `rootless-setup install`");
    }
    s
}

/// The labelled rows under the verdict: unit, files, engine, context, env, linger, record.
fn rows(r: &StatusReport, paths: &Paths) -> Vec<(&'static str, String)> {
    let mut rows = vec![("unit", unit_row(r))];
    for f in &r.files {
        rows.push(("file", format!("{} ({})", paths.short(&f.path), f.origin)));
    }
    rows.push(("engine", engine_row(r)));
    if let Some(remote) = &r.remote {
        rows.push((
            "remote",
            format!(
                "{} ({}) {}",
                remote.address,
                match remote.security {
                    "tls" => "TLS",
                    _ => "no TLS, loopback only",
                },
                if remote.answers {
                    "answers"
                } else {
                    "does not answer"
                }
            ),
        ));
    }
    rows.push(("context", context_row(&r.context)));
    rows.push((
        "env",
        format!(
            "DOCKER_HOST {}, DOCKER_CONTEXT {}",
            r.environment.docker_host.as_deref().unwrap_or("unset"),
            r.environment.docker_context.as_deref().unwrap_or("unset")
        ),
    ));
    rows.push((
        "linger",
        match r.linger {
            Some(true) => "on".into(),
            Some(false) => "off".into(),
            None => "unknown (logind could not be asked)".into(),
        },
    ));
    if r.record_error.is_some() {
        rows.push((
            "record",
            format!("{} (unusable: see below)", paths.short(&paths.state)),
        ));
    }
    if let Some(p) = &r.record {
        rows.push((
            "record",
            format!(
                "{} (installed {})",
                paths.short(p),
                r.installed_at.as_deref().unwrap_or("?")
            ),
        ));
    }
    rows
}

/// `docker.service: loaded active/running, enabled, main PID 42`.
fn unit_row(r: &StatusReport) -> String {
    let Some(u) = &r.unit else {
        return format!("unknown: {}", r.unit_error.as_deref().unwrap_or(""));
    };
    let mut v = format!("{}: {} {}/{}", r.unit_name, u.load, u.active, u.sub);
    if !u.unit_file_state.is_empty() {
        let _ = write!(v, ", {}", u.unit_file_state);
    }
    if let Some(pid) = u.main_pid {
        let _ = write!(v, ", main PID {pid}");
    }
    v
}

/// Whether the socket answers and what the engine says about itself.
fn engine_row(r: &StatusReport) -> String {
    if !r.socket.answers {
        return format!("{} does not answer", r.socket.path.display());
    }
    let mut v = format!("{} answers", r.socket.path.display());
    if let Some(sv) = &r.server {
        let _ = write!(
            v,
            ": Docker {} (API {}), {}, cgroup driver {}",
            sv.version.as_deref().unwrap_or("?"),
            sv.api_version.as_deref().unwrap_or("?"),
            match sv.rootless {
                Some(true) => "rootless",
                Some(false) => "NOT rootless",
                None => "rootless unknown",
            },
            sv.cgroup_driver.as_deref().unwrap_or("?")
        );
        if let Some(cv) = &sv.cgroup_version {
            let _ = write!(v, " (cgroup v{cv})");
        }
    }
    v
}

/// The `rootless` context, its endpoint and the current one.
fn context_row(c: &ContextStatus) -> String {
    match (c.exists, &c.endpoint) {
        (None, _) => format!("no docker client found; current {}", c.current),
        (Some(false), _) => format!("no {} context; current {}", c.name, c.current),
        (Some(true), e) => format!(
            "{} ({}){}",
            c.name,
            e.as_deref().unwrap_or("?"),
            if c.current == c.name {
                ", current".to_owned()
            } else {
                format!("; current is {}", c.current)
            }
        ),
    }
}

/// Prints the status and exits 0, 1 or 3.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    let caller = Caller::from_process();
    let engine = args.engine.map(Into::into);
    super::refuse_without_systemd(
        &rootless_setup_core::Host::real(),
        &caller,
        engine.unwrap_or_default(),
    )?;
    if let Some(name) = &args.user {
        return super::as_user::act(name, "status", Prepare::Manager, style);
    }
    let paths = Paths::of_installed(&caller, engine, "status")?;
    let report = gather(&caller, &paths);
    match args.format {
        Format::Json => out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
        Format::Human => out(&to_human(&report, &paths, style.out))?,
    }
    Ok(ExitCode::from(report.health.code()))
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
