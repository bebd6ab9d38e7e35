//! `engine.binaries`: the engine's programs and helper scripts, found on the caller's `PATH` and
//! where distributions ship them (Debian keeps `dockerd-rootless.sh` in
//! `/usr/share/docker.io/contrib`, `dockerd` in `/usr/sbin`), each asked for its version.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::{Distro, Family, Package};
use rootless_setup_core::engine::{Program, Role};
use rootless_setup_core::finding::{Finding, Fix, Status};
use rootless_setup_core::known_versions::{Answer as Known, Identity};
use rootless_setup_core::model::{Binary, Engine, Facts};
use rootless_setup_core::process::Invocation;
use rootless_setup_core::remedy::Remedy;

use super::super::common;
use rootless_setup_core::version::{parse_version, version_at_least};

const ID: CheckId = CheckId::EngineBinaries;

/// How long one `--version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

/// Docker releases from this one on no longer need `rootlesskit-docker-proxy`.
const DOCKER_WITHOUT_PROXY: u64 = 28;

/// Where distributions put the engine's programs and scripts, after the caller's `PATH`.
const DISTRO_DIRS: &[&str] = &[
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
    "/usr/share/docker.io/contrib",
    "/usr/share/docker-ce/contrib",
    "/usr/libexec/docker",
    "/usr/lib/docker",
    // Podman's helper_binaries_dir (netavark, catatonit, rootlessport).
    "/usr/libexec/podman",
    "/usr/lib/podman",
    "/usr/libexec/lxc",
    "/usr/lib/x86_64-linux-gnu/lxc",
    "/usr/lib/lxc",
];

const V: &[&str] = &["--version"];

/// The helpers any engine may need (network drivers, fuse-overlayfs), after its own programs
/// ([`EngineSpec::programs`](rootless_setup_core::engine::EngineSpec::programs)).
const HELPERS: &[Program] = &[
    Program::new("slirp4netns", Role::Optional, V),
    Program::new("pasta", Role::Optional, V),
    Program::new("vpnkit", Role::Optional, &[]),
    Program::new("lxc-user-nic", Role::Optional, &[]),
    Program::new("fuse-overlayfs", Role::Optional, V),
];

/// What asking a found program for its version gave.
#[derive(Debug)]
enum Answer {
    /// A script, or a helper not asked.
    NotAsked,
    /// It ran; the version when one could be read.
    Version(Option<String>),
    /// It did not answer in time.
    TimedOut,
    /// It could not run or failed; the last line it printed (or the error).
    Broken(String),
}

#[derive(Debug)]
struct Found<'w> {
    wanted: &'w Program,
    path: PathBuf,
    answer: Answer,
}

impl Found<'_> {
    fn version(&self) -> Option<&str> {
        match &self.answer {
            Answer::Version(v) => v.as_deref(),
            _ => None,
        }
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("/"))
    }
}

/// The observation key for a program: `dockerd-rootless.sh` → `dockerd_rootless_sh`.
pub(super) fn key(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

/// The directories searched, in order: `PATH`, the distributions' places, `~/bin`,
/// `~/.local/bin`; relative `PATH` entries are ignored.
fn search_dirs(cx: &Context<'_>, facts: &Facts) -> Vec<PathBuf> {
    let home = common::home_dir(cx, facts);
    let mut dirs = common::path_then(cx.caller, DISTRO_DIRS);
    dirs.extend(
        home.iter()
            .flat_map(|h| [h.join("bin"), h.join(".local/bin")]),
    );
    common::search_dirs(dirs)
}

fn ask_version(cx: &Context<'_>, wanted: &Program, path: &Path) -> Answer {
    if wanted.version_args.is_empty() {
        return Answer::NotAsked;
    }
    let invocation = Invocation::new(path)
        .args(wanted.version_args.iter().copied())
        .timeout(VERSION_TIMEOUT);
    match cx.system.run(&invocation) {
        Err(e) => Answer::Broken(e.to_string()),
        Ok(out) if out.timed_out => Answer::TimedOut,
        Ok(out) if !out.success() => {
            let line = match out.last_line() {
                "" => format!("exit code {:?}", out.code),
                line => line.to_owned(),
            };
            Answer::Broken(line)
        }
        Ok(out) => Answer::Version(
            parse_version(wanted.name, &out.stdout)
                .or_else(|| parse_version(wanted.name, &out.stderr)),
        ),
    }
}

/// Asks every found program for its version at the same time: each answer is mostly a wait on
/// a child process, so a dozen of them one after the other add up. A program whose answer is
/// remembered for the very same file ([`KnownVersions`](rootless_setup_core::known_versions::KnownVersions)) is not asked again. The answers come
/// back in the order of `located`, so the finding does not depend on which program answers
/// first; with them, the fresh answers worth remembering.
fn ask_versions(cx: &Context<'_>, located: &[(&Program, PathBuf)]) -> (Vec<Answer>, Vec<Known>) {
    let (answers, fresh): (Vec<Answer>, Vec<Option<Known>>) = std::thread::scope(|scope| {
        let pending: Vec<Pending<'_>> = located
            .iter()
            .map(|(wanted, path)| {
                if wanted.version_args.is_empty() {
                    return Pending::Done(Answer::NotAsked, None);
                }
                let identity = identity(cx, path);
                if let Some(version) = identity.as_ref().and_then(|id| {
                    cx.options
                        .known_versions
                        .lookup(path, wanted.version_args, id)
                }) {
                    return Pending::Done(Answer::Version(version.map(str::to_owned)), None);
                }
                let ask = move || ask_afresh(cx, wanted, path, identity);
                // Without a thread (the system refused one) the probe runs here instead.
                match std::thread::Builder::new().spawn_scoped(scope, ask) {
                    Ok(handle) => Pending::Running(handle),
                    Err(_) => {
                        let (answer, known) = ask_afresh(cx, wanted, path, identity);
                        Pending::Done(answer, known)
                    }
                }
            })
            .collect();
        pending
            .into_iter()
            .map(|p| match p {
                Pending::Done(answer, known) => (answer, known),
                Pending::Running(handle) => handle.join().unwrap_or_else(|_| {
                    (
                        Answer::Broken("the version probe panicked".to_owned()),
                        None,
                    )
                }),
            })
            .unzip()
    });
    (answers, fresh.into_iter().flatten().collect())
}

/// The file at the host path `path` (a fixture's file in tests).
fn identity(cx: &Context<'_>, path: &Path) -> Option<Identity> {
    Identity::of(&cx.host.path(path))
}

/// Asks `path` for its version, and says what to remember: a version answer, when the file was
/// the same before and after asking.
fn ask_afresh(
    cx: &Context<'_>,
    wanted: &Program,
    path: &Path,
    before: Option<Identity>,
) -> (Answer, Option<Known>) {
    let answer = ask_version(cx, wanted, path);
    let known = match (&answer, before) {
        (Answer::Version(version), Some(before)) if identity(cx, path) == Some(before) => {
            Some(Known {
                path: path.to_path_buf(),
                args: wanted
                    .version_args
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
                identity: before,
                version: version.clone(),
                variant: None,
            })
        }
        _ => None,
    };
    (answer, known)
}

/// A version probe that has finished or still runs on its own thread, with what to remember.
enum Pending<'scope> {
    Done(Answer, Option<Known>),
    Running(std::thread::ScopedJoinHandle<'scope, (Answer, Option<Known>)>),
}

/// Checks that the engine's programs are installed and run, and records them in `facts.binaries`.
pub(crate) fn binaries(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let dirs = search_dirs(cx, facts);
    let on_path: BTreeSet<PathBuf> = cx.caller.path_dirs().into_iter().collect();
    let engine_list = cx.engine.spec().programs;
    let (found, missing, fresh) = locate(cx, engine_list, &dirs);
    facts.fresh_versions.extend(fresh);
    for f in &found {
        facts.binaries.insert(
            f.wanted.name.to_owned(),
            Binary {
                name: f.wanted.name.to_owned(),
                path: f.path.clone(),
                version: f.version().map(str::to_owned),
            },
        );
    }
    let proxy_needed = cx.engine == Engine::Docker && proxy_needed(&found);
    let outside: Vec<String> = found
        .iter()
        .filter(|f| f.wanted.role != Role::Optional && !on_path.contains(f.dir()))
        .map(|f| format!("{} in {}", f.wanted.name, f.dir().display()))
        .collect();
    let finding = observed(&found, &missing, &outside, &dirs);

    let missing_required: Vec<&str> = missing
        .iter()
        .filter(|w| w.role == Role::Required)
        .map(|w| w.name)
        .collect();
    let broken_required: Vec<&Found<'_>> = found
        .iter()
        .filter(|f| f.wanted.role == Role::Required && matches!(f.answer, Answer::Broken(_)))
        .collect();

    if !missing_required.is_empty() || !broken_required.is_empty() || proxy_needed {
        return fail_missing(
            cx,
            finding,
            &missing_required,
            &broken_required,
            proxy_needed,
        );
    }
    if let Some(problem) = runtime_problem(engine_list, &found, facts.controllers_delegated) {
        return fail_runtime(cx, finding, &problem);
    }
    warn_or_pass(cx, engine_list, &found, &missing, &outside, finding)
}

/// Looks for each wanted program and asks the ones found for their versions; the rest are
/// missing. Also returns the fresh answers to remember.
fn locate<'w>(
    cx: &Context<'_>,
    engine_list: &'w [Program],
    dirs: &[PathBuf],
) -> (Vec<Found<'w>>, Vec<&'w Program>, Vec<Known>) {
    let mut located: Vec<(&Program, PathBuf)> = Vec::new();
    let mut missing: Vec<&Program> = Vec::new();
    for wanted in engine_list.iter().chain(HELPERS) {
        match cx
            .host
            .find_executable(wanted.name, dirs.iter().map(PathBuf::as_path))
        {
            Some(path) => located.push((wanted, path)),
            None => missing.push(wanted),
        }
    }
    let (answers, fresh) = ask_versions(cx, &located);
    let found = located
        .into_iter()
        .zip(answers)
        .map(|((wanted, path), answer)| Found {
            wanted,
            path,
            answer,
        })
        .collect();
    (found, missing, fresh)
}

/// Why the engine's OCI runtimes cannot run its containers, for an engine that names runtimes
/// ([`Role::Runtime`], the one that runs without delegated controllers first).
#[derive(Debug, Clone, PartialEq, Eq)]
enum RuntimeProblem {
    /// None of them is installed.
    None { wanted: Vec<&'static str> },
    /// No delegated controllers, and the runtime that copes with that is missing.
    NeedsFirst {
        first: &'static str,
        found: Vec<&'static str>,
    },
}

fn runtime_problem(
    engine_list: &[Program],
    found: &[Found<'_>],
    delegated: Option<bool>,
) -> Option<RuntimeProblem> {
    let wanted: Vec<&'static str> = engine_list
        .iter()
        .filter(|p| p.role == Role::Runtime)
        .map(|p| p.name)
        .collect();
    let first = *wanted.first()?;
    let present: Vec<&'static str> = wanted
        .iter()
        .copied()
        .filter(|w| get(found, w).is_some())
        .collect();
    if present.is_empty() {
        return Some(RuntimeProblem::None { wanted });
    }
    if delegated == Some(false) && !present.contains(&first) {
        return Some(RuntimeProblem::NeedsFirst {
            first,
            found: present,
        });
    }
    None
}

fn fail_runtime(cx: &Context<'_>, finding: Finding, problem: &RuntimeProblem) -> Finding {
    let engine = cx.engine.as_str();
    let (summary, why) = match problem {
        RuntimeProblem::None { wanted } => (
            format!("no OCI runtime: none of {} found", wanted.join(", ")),
            format!("{engine} starts every container through an OCI runtime"),
        ),
        RuntimeProblem::NeedsFirst { first, found } => (
            format!(
                "{} found, but without delegated cgroup controllers {engine} needs {first}",
                found.join(", ")
            ),
            format!(
                "without delegated controllers install turns {engine}'s cgroups off, and only {first} runs containers that way (runc refuses); see the `cgroup` check"
            ),
        ),
    };
    Finding {
        status: Status::Fail,
        summary,
        ..finding
    }
    .why(why)
    .fix(Fix::root(ID, "install crun").remedy(Remedy::install(cx.distro.family, &[Package::Crun])))
}

fn get<'f, 'w>(found: &'f [Found<'w>], name: &str) -> Option<&'f Found<'w>> {
    found.iter().find(|f| f.wanted.name == name)
}

/// Docker before 28 refuses to start under rootlesskit without rootlesskit-docker-proxy.
fn proxy_needed(found: &[Found<'_>]) -> bool {
    get(found, "rootlesskit-docker-proxy").is_none()
        && get(found, "dockerd").is_some_and(|d| {
            d.version()
                .and_then(|v| version_at_least(v, &[DOCKER_WITHOUT_PROXY]))
                != Some(true)
        })
}

/// A passing finding that observes where each program is, what it answered, and what is missing.
fn observed(
    found: &[Found<'_>],
    missing: &[&Program],
    outside: &[String],
    dirs: &[PathBuf],
) -> Finding {
    let mut finding = Finding::pass(ID, "");
    for f in found {
        finding = finding.observe(key(f.wanted.name), f.path.display());
        match &f.answer {
            Answer::NotAsked => {}
            Answer::Version(v) => {
                finding = finding.observe(
                    format!("{}_version", key(f.wanted.name)),
                    v.as_deref().unwrap_or("unknown"),
                );
            }
            Answer::TimedOut => {
                finding = finding.observe(format!("{}_version", key(f.wanted.name)), "timed out");
            }
            Answer::Broken(line) => {
                finding = finding.observe(format!("{}_error", key(f.wanted.name)), line);
            }
        }
    }
    if !outside.is_empty() {
        finding = finding.observe("outside_path", outside.join(", "));
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|w| w.name).collect();
        finding = finding.observe("not_found", names.join(", "));
    }
    finding.observe("searched", common::joined(dirs))
}

/// With every required program running: a warning for a missing or broken client or a slow
/// program, else the pass listing what was found.
fn warn_or_pass(
    cx: &Context<'_>,
    engine_list: &[Program],
    found: &[Found<'_>],
    missing: &[&Program],
    outside: &[String],
    mut finding: Finding,
) -> Finding {
    let client = engine_list.iter().find(|w| w.role == Role::Client);
    let client_missing = client.filter(|c| missing.iter().any(|m| m.name == c.name));
    let client_broken = client
        .and_then(|c| get(found, c.name))
        .filter(|f| matches!(f.answer, Answer::Broken(_)));
    let slow: Vec<&str> = found
        .iter()
        .filter(|f| f.wanted.role != Role::Optional && matches!(f.answer, Answer::TimedOut))
        .map(|f| f.wanted.name)
        .collect();

    if let Some(client) = client_missing {
        return warn_client(cx, finding, client.name, None);
    }
    if let Some(f) = client_broken {
        let line = match &f.answer {
            Answer::Broken(line) => line.as_str(),
            _ => "",
        };
        return warn_client(cx, finding, f.wanted.name, Some((f.path.as_path(), line)));
    }
    if !slow.is_empty() {
        finding.status = Status::Warn;
        finding.summary = format!(
            "{} did not answer --version within {} s",
            slow.join(", "),
            VERSION_TIMEOUT.as_secs()
        );
        return finding
            .why("a program that hangs on --version is likely to hang when the engine starts it; the machine may also just be overloaded")
            .fix(Fix::user(ID, "run the program by hand with --version to see where it hangs, then re-run the check"));
    }

    let mut parts: Vec<String> = engine_list
        .iter()
        .filter(|w| w.role != Role::Optional)
        .filter_map(|w| get(found, w.name))
        .map(|f| match f.version() {
            Some(v) => format!("{} {v}", f.wanted.name),
            None => f.wanted.name.to_owned(),
        })
        .collect();
    let helpers: Vec<&str> = found
        .iter()
        .filter(|f| f.wanted.role == Role::Optional)
        .map(|f| f.wanted.name)
        .collect();
    if !helpers.is_empty() {
        parts.push(format!("helpers: {}", helpers.join(", ")));
    }
    finding.summary = parts.join(", ");
    if !outside.is_empty() {
        finding.summary = format!(
            "{}; outside PATH: {} (install puts these directories on the unit's PATH)",
            finding.summary,
            outside.join(", ")
        );
    }
    finding
}

/// Debian's major release, when this is Debian itself.
fn debian_release(distro: &Distro) -> Option<u32> {
    (distro.id == "debian")
        .then(|| {
            distro
                .version_id
                .as_deref()?
                .split('.')
                .next()?
                .parse()
                .ok()
        })
        .flatten()
}

fn fail_missing(
    cx: &Context<'_>,
    finding: Finding,
    missing: &[&str],
    broken: &[&Found<'_>],
    proxy_needed: bool,
) -> Finding {
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {}", missing.join(", ")));
    }
    for f in broken {
        if let Answer::Broken(line) = &f.answer {
            problems.push(format!(
                "{} at {} does not run: {line}",
                f.wanted.name,
                f.path.display()
            ));
        }
    }
    if proxy_needed {
        problems.push(
            "missing rootlesskit-docker-proxy, which dockerd before 28 needs under rootlesskit"
                .to_owned(),
        );
    }
    let affected: Vec<&str> = missing
        .iter()
        .copied()
        .chain(broken.iter().map(|f| f.wanted.name))
        .collect();
    let (packages, notes) = install_advice(cx, &affected, proxy_needed, !broken.is_empty());
    let engine = cx.engine.as_str();
    let mut summary = format!("install the {engine} engine's rootless programs");
    if !notes.is_empty() {
        summary = format!("{summary}; {}", notes.join("; "));
    }
    let mut fix = Fix::root(ID, summary);
    if !packages.is_empty() {
        fix = fix.remedy(Remedy::install(cx.distro.family, &packages));
    }
    let mut finding = Finding {
        status: Status::Fail,
        summary: problems.join("; "),
        ..finding
    };
    if let Some(release) = debian_release(cx.distro) {
        finding = finding.observe("debian_release", release);
    }
    finding
        .why(match cx.engine.spec().script() {
            Some(_) => format!(
                "install runs the {engine} daemon through its rootless script under rootlesskit; without these programs the daemon cannot start"
            ),
            None => format!("without these programs {engine} cannot run containers"),
        })
        .fix(fix)
}

/// What to install for the missing or broken programs (`affected`), and the notes the fix
/// carries: the packages the distribution has, then the ones it ships apart.
fn install_advice(
    cx: &Context<'_>,
    affected: &[&str],
    proxy_needed: bool,
    any_broken: bool,
) -> (Vec<Package>, Vec<&'static str>) {
    let needs = |names: &[&str]| affected.iter().any(|a| names.contains(a));
    let mut packages = Vec::new();
    let mut extra = Vec::new();
    let mut notes = Vec::new();
    let distro = cx.distro;
    let script = cx.engine.rootless_script().unwrap_or_default();
    match cx.engine {
        Engine::Docker => {
            // Fedora's moby-engine has no rootless scripts; installing it cannot help there.
            let script_from_engine = needs(&[script]) && distro.family != Family::Fedora;
            if needs(&["dockerd", "containerd", "runc"]) || script_from_engine {
                packages.push(Package::DockerEngine);
            }
            if needs(&["rootlesskit"]) || proxy_needed {
                packages.push(Package::Rootlesskit);
            }
            if needs(&[script]) {
                match distro.family {
                    Family::Debian => notes.push(
                        "Debian's docker.io ships dockerd-rootless.sh in /usr/share/docker.io/contrib, which is searched, so nothing has to be copied onto PATH",
                    ),
                    Family::Suse => extra.push(Package::DockerRootlessExtras),
                    Family::Arch => notes.push(
                        "Arch's docker package has no rootless scripts: install docker-rootless-extras from the AUR",
                    ),
                    Family::Fedora => notes.push(
                        "Fedora's moby-engine has no rootless scripts: use Docker's repository (docker-ce)",
                    ),
                    Family::Unknown => {}
                }
                notes.push("with Docker's own repository, install docker-ce-rootless-extras instead (it ships the scripts and rootlesskit)");
            }
            if proxy_needed {
                notes.push("rootlesskit-docker-proxy comes with rootlesskit (or docker-ce-rootless-extras); Docker 28 and later no longer need it");
            }
        }
        Engine::Podman => {
            if needs(&["podman"]) {
                packages.push(Package::Podman);
            }
            if needs(&["conmon"]) {
                packages.push(Package::Conmon);
            }
        }
        // The unit runs the steps of containerd-rootless.sh itself: neither the script nor
        // nerdctl is needed.
        Engine::Containerd => {
            if needs(&["containerd", "runc"]) {
                packages.push(Package::Containerd);
            }
            if needs(&["rootlesskit"]) {
                packages.push(Package::Rootlesskit);
            }
        }
    }
    if any_broken {
        notes.push("reinstall the packages of the programs that do not run");
    }
    packages.extend(extra);
    (packages, notes)
}

fn warn_client(
    cx: &Context<'_>,
    finding: Finding,
    name: &str,
    broken: Option<(&Path, &str)>,
) -> Finding {
    let summary = match broken {
        Some((path, line)) => format!(
            "the {name} client at {} does not run: {line}",
            path.display()
        ),
        None => format!("the {name} client is not installed"),
    };
    let finding = Finding {
        status: Status::Warn,
        summary,
        ..finding
    };
    match cx.engine {
        Engine::Docker => {
            // Debian 12 and older (and Ubuntu) ship the client in docker.io; Debian 13 split it
            // into docker-cli.
            let debian = cx.distro.family == Family::Debian;
            let split = debian_release(cx.distro).is_none_or(|r| r >= 13) && cx.distro.id == "debian";
            let package = if debian && !split {
                Package::DockerEngine
            } else {
                Package::DockerCli
            };
            let mut note = String::from("install the docker client");
            if debian {
                note.push_str("; on Debian 13 and later it is the docker-cli package, before that it is part of docker.io");
            }
            finding
                .why("without the docker client the `rootless` CLI context cannot be created and nothing talks to the daemon from the command line")
                .fix(Fix::root(ID, note).remedy(Remedy::install(cx.distro.family, &[package])))
        }
        Engine::Podman => finding
            .why("without the docker client the `rootless-podman` CLI context cannot be created, so `docker` and `docker compose` cannot talk to Podman; podman itself works")
            .fix(Fix::root(ID, "install the docker client").remedy(Remedy::install(cx.distro.family, &[Package::DockerCli]))),
        Engine::Containerd => finding
            .why("without ctr nothing talks to rootless containerd from the command line, and install cannot ask containerd whether it is ready")
            .fix(Fix::root(ID, "install containerd's ctr client (it comes with the containerd package); nerdctl, where the distribution has it or from nerdctl's release bundle, works too")
                .remedy(Remedy::install(cx.distro.family, &[Package::Containerd]))),
    }
}

#[cfg(test)]
#[path = "binaries_tests.rs"]
mod tests;
