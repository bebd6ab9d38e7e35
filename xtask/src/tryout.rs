//! `cargo xtask try`: boots the e2e box and walks, as the unprivileged `dev` inside it, what a
//! newcomer does with rootless-setup: `check` → `fix --apply` → `check` → `install` → a container
//! → `status` → `uninstall` → `status`, each command at a shell prompt with its real output; then
//! the box is torn down (`--keep` leaves it running and prints how to enter and stop it).
//!
//! It is for someone who is root on a machine or VM without a logged-in user (systemd maybe not
//! even PID 1): the box brings the systemd, logind and user manager the tool needs. `dev` starts
//! the way many accounts do, without subordinate ids and without linger, so the first `check`
//! fails and `fix` has something to repair; `dev` may use sudo without a password, which
//! `fix --apply` needs. The box has no network: the container's image is imported from a tarball
//! of the box's own busybox.
//!
//! Each step runs in a login session of its own (`su -l dev` inside the box: logind opens a
//! session and starts dev's user manager, as for ssh). Unlike `e2e`, nothing is asserted beyond
//! each step's exit code ([`walk`] lists them): the output is there to be read. Each command's standard error is merged into its standard output,
//! in order, as a terminal shows them; rootless-setup gets `--color always` when this terminal
//! takes colour, and the prompt shows the command as typed, without it.

use std::fs;
use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};

use rootless_setup_core::Engine;

use crate::e2e::r#box::{BoxSpec, BoxUser, Cgroup, NspawnBox, Session};
use crate::e2e::tree::{self, Release};
use crate::util::{self, Captured, fmt_duration};

/// Usage of `cargo xtask try`.
pub const USAGE: &str = "\
usage: cargo xtask try [--release trixie|bookworm] [--engine docker|podman] [--keep]

Boots a throwaway Debian box (systemd-nspawn; needs root, systemd-nspawn and debootstrap:
apt-get install debootstrap systemd-container) and walks rootless-setup in it as the
unprivileged user dev: check, fix --apply, check, install, a container, status, uninstall,
each command with its real output. The box is removed at the end.

  --release R   Debian release of the box (default trixie: Debian's stable release,
                what a new machine gets)
  --engine E    the engine to install: docker (default) or podman
  --keep        leave the box running and print how to enter it and how to stop it
  E2E_BINARY=PATH uses that rootless-setup instead of a release build of this checkout";

/// The box's name: its machine name (so its host name), and its run directory under
/// `target/e2e/run/`.
const BOX: &str = "try";
/// The user who walks.
const USER: &str = "dev";
/// The tool, as the user types it.
const TOOL: &str = "rootless-setup";
/// The image tarball's path in the box (the box has no network to pull from).
const IMAGE_TAR: &str = "/opt/try/busybox.tar";
/// The image's name once imported.
const IMAGE: &str = "try/busybox";
/// How long one step may take before it is killed.
const STEP_DEADLINE: Duration = Duration::from_secs(300);

/// The engines the walk can install: those the docker CLI drives (containerd's client is ctr).
const ENGINES: [Engine; 2] = [Engine::Docker, Engine::Podman];

/// The engine named `text`, if the walk can install it.
fn parse_engine(text: &str) -> Result<Engine> {
    ENGINES
        .into_iter()
        .find(|e| e.as_str() == text)
        .with_context(|| {
            let known: Vec<&str> = ENGINES.iter().map(|e| e.as_str()).collect();
            format!(
                "unknown engine {text:?} (known: {})\n{USAGE}",
                known.join(", ")
            )
        })
}

/// Parsed `try` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Debian release of the box.
    pub release: Release,
    /// The engine installed.
    pub engine: Engine,
    /// Leave the box running at the end.
    pub keep: bool,
}

impl Options {
    /// Parses the arguments after `try`; `-h` is an error carrying the usage.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut opts = Options {
            release: Release::Trixie,
            engine: Engine::Docker,
            keep: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = arg
                .split_once('=')
                .map_or((arg.as_str(), None), |(f, v)| (f, Some(v)));
            let mut value = || -> Result<&str> {
                match inline {
                    Some(v) => Ok(v),
                    None => args
                        .next()
                        .map(String::as_str)
                        .with_context(|| format!("{flag} needs a value\n{USAGE}")),
                }
            };
            match flag {
                "--release" => {
                    opts.release =
                        Release::parse(value()?).map_err(|e| anyhow!("{e:#}\n{USAGE}"))?;
                }
                "--engine" => opts.engine = parse_engine(value()?)?,
                "--keep" if inline.is_none() => opts.keep = true,
                "-h" | "--help" => bail!("{USAGE}"),
                _ => bail!("unknown argument {arg:?}\n{USAGE}"),
            }
        }
        Ok(opts)
    }
}

/// One command of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The command as the user types it.
    pub argv: Vec<String>,
    /// The exit code it must end with.
    pub want: i32,
    /// What the step showed, one line (true when it ended with `want`).
    pub shows: String,
}

impl Step {
    fn new(argv: &[&str], want: i32, shows: impl Into<String>) -> Self {
        Step {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            want,
            shows: shows.into(),
        }
    }

    /// The prompt and the command, as on the user's terminal: `dev@try:~$ rootless-setup check`.
    pub fn typed(&self, user: &str, host: &str) -> String {
        let words: Vec<String> = self.argv.iter().map(util::quote).collect();
        format!("{user}@{host}:~$ {}", words.join(" "))
    }

    /// What runs in the box: the command with standard error merged into standard output, and
    /// `--color always` for rootless-setup when `colour`.
    pub fn run_argv(&self, colour: bool) -> Vec<String> {
        let mut argv: Vec<String> = ["sh", "-c", "exec \"$@\" 2>&1", "sh"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        argv.extend(self.argv.iter().cloned());
        if colour && self.argv.first().is_some_and(|p| p == TOOL) {
            argv.extend(["--color".to_owned(), "always".to_owned()]);
        }
        argv
    }

    /// Fails unless `out` ended with the step's exit code.
    pub fn verdict(&self, number: usize, of: usize, out: &Captured) -> Result<()> {
        if out.code == Some(self.want) {
            return Ok(());
        }
        bail!(
            "step {number} of {of}, `{}`, ended with {}, not exit {} — it should have shown: {}\n\
             help: every command and its output are in {}",
            self.argv.join(" "),
            out.describe_exit(),
            self.want,
            self.shows,
            util::project_root()
                .join("target/e2e/run")
                .join(BOX)
                .join("transcript.log")
                .display()
        )
    }
}

/// The walk for `engine`, with the exit code each step must end with.
pub fn walk(engine: Engine) -> Vec<Step> {
    let title = engine.spec().title;
    let tool = |args: &[&str], engine_flag: bool| -> Vec<String> {
        let mut argv = vec![TOOL.to_owned()];
        argv.extend(args.iter().map(|s| (*s).to_owned()));
        if engine_flag && engine != Engine::Docker {
            argv.extend(["--engine".to_owned(), engine.as_str().to_owned()]);
        }
        argv
    };
    let step = |argv: Vec<String>, want: i32, shows: String| Step { argv, want, shows };
    vec![
        step(
            tool(&["check"], true),
            1,
            format!(
                "{USER} has no subordinate ids and no linger: check fails (exit 1) and names the fix"
            ),
        ),
        step(
            tool(&["fix", "--apply", "--yes"], true),
            0,
            "fix showed the root script, ran it through sudo and checked again: what failed passes"
                .to_owned(),
        ),
        step(
            tool(&["check"], true),
            0,
            "no prerequisite fails now (exit 0; warnings may stay): install can go ahead"
                .to_owned(),
        ),
        step(
            tool(&["install", "--yes"], true),
            0,
            format!(
                "rootless {title} runs as a systemd user service of {USER}; the docker CLI's context points at it"
            ),
        ),
        Step::new(
            &["docker", "import", IMAGE_TAR, IMAGE],
            0,
            "the box has no network: an image is made from a tarball of the box's busybox",
        ),
        Step::new(
            &[
                "docker",
                "run",
                "--rm",
                IMAGE,
                "echo",
                "hello from a rootless container",
            ],
            0,
            format!("a container ran in {USER}'s own {title}, without root"),
        ),
        step(
            tool(&["status"], false),
            0,
            "status finds the engine healthy: unit, socket, server, context, linger".to_owned(),
        ),
        step(
            tool(&["uninstall", "--yes"], false),
            0,
            "uninstall removed what install recorded, and nothing else".to_owned(),
        ),
        step(
            tool(&["status"], false),
            3,
            "nothing is installed any more (status exits 3)".to_owned(),
        ),
    ]
}

/// Whether to colour: only when standard output is a terminal, `NO_COLOR` is unset (or empty)
/// and `TERM` is not `dumb` (the rule rootless-setup's own `--color auto` follows).
pub fn use_colour(tty: bool, no_color: Option<&str>, term: Option<&str>) -> bool {
    tty && no_color.is_none_or(str::is_empty) && term != Some("dumb")
}

/// This terminal's answer to [`use_colour`].
fn colour_here() -> bool {
    let no_color = std::env::var_os("NO_COLOR").map(|v| v.to_string_lossy().into_owned());
    let term = std::env::var("TERM").ok();
    use_colour(
        std::io::stdout().is_terminal(),
        no_color.as_deref(),
        term.as_deref(),
    )
}

/// Bold green for the prompt, cyan for the comments; nothing without colour.
fn paint(colour: bool, code: &str, text: &str) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// `cargo xtask try ARGS`.
pub fn main(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let opts = Options::parse(args)?;
    if let Some(reason) = crate::e2e::preflight() {
        bail!(
            "cannot boot the box: {reason}\n\
             help: run it as root (sudo cargo xtask try), with systemd-nspawn and debootstrap \
             installed: apt-get install debootstrap systemd-container"
        );
    }
    let start = Instant::now();
    let binary = crate::e2e::build_binary()?;
    // One box at a time on this machine; held until the box is stopped (or kept).
    let _lock = util::box_lock()?;
    let bx = boot(&opts, &binary)?;
    let result = walk_in(&bx, opts.engine, start);
    // Stops the box and moves its tree away, unless it is kept (then it says how to enter it).
    drop(bx);
    if !opts.keep {
        let removal = util::wait_for_removals();
        println!("try: box stopped and removed ({})", fmt_duration(removal));
    }
    result
}

/// Runs every step of [`walk`] as `dev`, stopping at the first one that ends otherwise.
fn walk_in(bx: &NspawnBox, engine: Engine, start: Instant) -> Result<()> {
    let dev = bx.lookup_user(USER)?;
    let colour = colour_here();
    let steps = walk(engine);
    let walked = Instant::now();
    for (index, step) in steps.iter().enumerate() {
        let out = show_step(bx, &dev, step, colour)?;
        step.verdict(index + 1, steps.len(), &out)?;
    }
    println!(
        "\ntry: {} steps as expected in {} ({} with the box's copy and boot)",
        steps.len(),
        fmt_duration(walked.elapsed()),
        fmt_duration(start.elapsed())
    );
    Ok(())
}

/// Boots a box where `dev` has no subordinate ids, no linger, passwordless sudo and an image
/// tarball.
fn boot(opts: &Options, binary: &std::path::Path) -> Result<NspawnBox> {
    let tree = tree::ensure(opts.release)?;
    // The unified hierarchy, as current distributions boot. Until the fix turns linger on, dev's
    // manager stops when each step's session ends: at once on v2, while on v1 it hangs in its
    // stop timeout (see the fix-repair scenario).
    let spec = BoxSpec {
        release: opts.release,
        cgroup: Cgroup::V2,
    };
    let mut bx = NspawnBox::create(BOX, spec, &tree, opts.keep)?;
    bx.prepare(binary)?;
    bx.strip_subids(USER)?;
    bx.disable_linger(USER)?;
    bx.allow_sudo(USER)?;
    bx.write_busybox_image(IMAGE_TAR)?;
    name_host(&bx)?;
    println!(
        "try: Debian {} box {BOX:?} (cgroup v2), engine {}: {USER} has no subordinate ids and no \
         linger, and may use sudo",
        opts.release,
        opts.engine.as_str()
    );
    let took = bx.boot()?;
    println!("try: booted in {}", fmt_duration(took));
    Ok(bx)
}

/// Names the box's host [`BOX`], as the prompt says (the cached tree carries the build host's
/// name), and lets it resolve, so that sudo does not warn it cannot.
fn name_host(bx: &NspawnBox) -> Result<()> {
    let hostname = bx.path("/etc/hostname");
    fs::write(&hostname, format!("{BOX}\n"))
        .with_context(|| format!("writing {}", hostname.display()))?;
    let hosts = bx.path("/etc/hosts");
    let mut text = fs::read_to_string(&hosts).unwrap_or_default();
    text.push_str(&format!("127.0.1.1\t{BOX}\n"));
    fs::write(&hosts, text).with_context(|| format!("writing {}", hosts.display()))?;
    bx.note(&format!("host name {BOX}"));
    Ok(())
}

/// Prints the prompt, runs the step as `dev` in a login session (`su -l`), prints its output as it
/// came, its exit code when not 0, and what it showed. Returns the result for the verdict.
fn show_step(bx: &NspawnBox, dev: &BoxUser, step: &Step, colour: bool) -> Result<Captured> {
    println!("\n{}", paint(colour, "1;32", &step.typed(USER, BOX)));
    let _ = std::io::stdout().flush();
    let argv = step.run_argv(colour);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    // A login session of its own, as ssh opens one; su sets no XDG_RUNTIME_DIR or bus address
    // for another user's session, so they are set as a login sets them.
    let runtime = format!("/run/user/{}", dev.uid);
    let out = bx
        .user(dev, Session::Pam, &argv)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            &format!("unix:path={runtime}/bus"),
        )
        .timeout(STEP_DEADLINE)
        .run()?;
    print!("{}", out.stdout);
    if !out.stdout.is_empty() && !out.stdout.ends_with('\n') {
        println!();
    }
    if out.code != Some(0) {
        println!("[{}]", out.describe_exit());
    }
    if out.code == Some(step.want) {
        let line = format!("==> {} ({})", step.shows, fmt_duration(out.elapsed));
        println!("{}", paint(colour, "36", &line));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse(&args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    fn captured(code: Option<i32>) -> Captured {
        Captured {
            code,
            timed_out: false,
            stdout: String::new(),
            stderr: String::new(),
            elapsed: Duration::from_secs(1),
        }
    }

    #[test]
    fn defaults_to_docker_on_trixie_without_keep() {
        assert_eq!(
            parse(&[]).expect("valid"),
            Options {
                release: Release::Trixie,
                engine: Engine::Docker,
                keep: false
            }
        );
    }

    #[test]
    fn parses_release_engine_and_keep() {
        let o = parse(&["--release", "bookworm", "--engine=podman", "--keep"]).expect("valid");
        assert_eq!(
            o,
            Options {
                release: Release::Bookworm,
                engine: Engine::Podman,
                keep: true
            }
        );
        assert_eq!(
            parse(&["--release=trixie", "--engine", "docker"])
                .expect("valid")
                .engine,
            Engine::Docker
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &["--release"][..],
            &["--release", "sid"],
            &["--engine", "containerd"],
            &["--engine="],
            &["--keep=yes"],
            &["--frobnicate"],
            &["bookworm"],
        ] {
            let err = parse(bad).expect_err(&format!("{bad:?}"));
            assert!(
                format!("{err:#}").contains("usage: cargo xtask try"),
                "{bad:?}"
            );
        }
        assert!(parse(&["-h"]).is_err());
    }

    #[test]
    fn the_walk_expects_check_to_fail_before_the_fix_only() {
        let steps = walk(Engine::Docker);
        let table: Vec<(String, i32)> = steps.iter().map(|s| (s.argv.join(" "), s.want)).collect();
        let want = [
            ("rootless-setup check", 1),
            ("rootless-setup fix --apply --yes", 0),
            ("rootless-setup check", 0),
            ("rootless-setup install --yes", 0),
            ("docker import /opt/try/busybox.tar try/busybox", 0),
            (
                "docker run --rm try/busybox echo hello from a rootless container",
                0,
            ),
            ("rootless-setup status", 0),
            ("rootless-setup uninstall --yes", 0),
            ("rootless-setup status", 3),
        ];
        let want: Vec<(String, i32)> = want.iter().map(|(c, w)| ((*c).to_owned(), *w)).collect();
        assert_eq!(table, want);
    }

    #[test]
    fn podman_is_named_where_the_engine_is_chosen() {
        let argvs: Vec<String> = walk(Engine::Podman)
            .iter()
            .map(|s| s.argv.join(" "))
            .collect();
        assert_eq!(argvs[0], "rootless-setup check --engine podman");
        assert_eq!(argvs[1], "rootless-setup fix --apply --yes --engine podman");
        assert_eq!(argvs[3], "rootless-setup install --yes --engine podman");
        // status and uninstall find the one engine installed.
        assert_eq!(argvs[6], "rootless-setup status");
        assert_eq!(argvs[7], "rootless-setup uninstall --yes");
        assert!(walk(Engine::Podman)[3].shows.contains("rootless Podman"));
    }

    #[test]
    fn the_prompt_shows_the_command_as_typed() {
        let steps = walk(Engine::Docker);
        assert_eq!(
            steps[0].typed("dev", "try"),
            "dev@try:~$ rootless-setup check"
        );
        assert_eq!(
            steps[5].typed("dev", "try"),
            "dev@try:~$ docker run --rm try/busybox echo 'hello from a rootless container'"
        );
    }

    #[test]
    fn colour_is_asked_of_rootless_setup_only_and_streams_are_merged() {
        let steps = walk(Engine::Docker);
        assert_eq!(
            steps[0].run_argv(true),
            [
                "sh",
                "-c",
                "exec \"$@\" 2>&1",
                "sh",
                "rootless-setup",
                "check",
                "--color",
                "always"
            ]
        );
        assert_eq!(
            steps[0].run_argv(false),
            [
                "sh",
                "-c",
                "exec \"$@\" 2>&1",
                "sh",
                "rootless-setup",
                "check"
            ]
        );
        assert!(!steps[4].run_argv(true).contains(&"--color".to_owned()));
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None, Some("xterm-256color")));
        assert!(use_colour(true, Some(""), None));
        assert!(!use_colour(false, None, Some("xterm")));
        assert!(!use_colour(true, Some("1"), Some("xterm")));
        assert!(!use_colour(true, None, Some("dumb")));
        assert_eq!(paint(false, "36", "x"), "x");
        assert_eq!(paint(true, "36", "x"), "\x1b[36mx\x1b[0m");
    }

    #[test]
    fn a_step_passes_only_with_its_exit_code() {
        let check = &walk(Engine::Docker)[0];
        assert!(check.verdict(1, 9, &captured(Some(1))).is_ok());
        let err = check
            .verdict(1, 9, &captured(Some(0)))
            .expect_err("exit 0 is not check's before the fix");
        let text = format!("{err:#}");
        assert!(
            text.starts_with("step 1 of 9, `rootless-setup check`, ended with exit 0, not exit 1"),
            "{text}"
        );
        assert!(text.contains("target/e2e/run/try/transcript.log"), "{text}");
        let killed = check.verdict(1, 9, &captured(None)).expect_err("killed");
        assert!(format!("{killed:#}").contains("killed by a signal"));
    }
}
