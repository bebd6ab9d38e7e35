//! One throwaway Debian box: a copy of a cached tree booted with `systemd-nspawn --boot`, so
//! systemd is PID 1 with a real logind, real `user@.service` managers and real D-Bus buses.
//!
//! Life cycle: [`NspawnBox::create`] copies the tree to `target/e2e/run/NAME/root`,
//! [`NspawnBox::prepare`] sets up the standard users (before boot, through `chroot`),
//! [`NspawnBox::boot`] starts nspawn in the background and waits (polling, with a deadline) until
//! the system and the lingering users' managers are up, and [`NspawnBox::root`] /
//! [`NspawnBox::user`] run commands inside through `nsenter`. Dropping the box SIGKILLs its init
//! (which ends the whole PID namespace at once, see DESIGN.md) and removes the copied tree, unless
//! the box is kept for debugging. Every command and its output go to
//! `target/e2e/run/NAME/transcript.log`, the box's console to `console.log` next to it.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use super::cmd::BoxCmd;
use super::tree::Release;
use crate::util::{self, Captured, POLL, fmt_duration};

/// The cgroup layout the box runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cgroup {
    /// Legacy/hybrid hierarchy (nspawn's choice on this host without the variable).
    V1,
    /// Unified hierarchy (`SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1`).
    V2,
}

impl Cgroup {
    /// Parses `v1` / `v2`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "v1" | "1" => Ok(Cgroup::V1),
            "v2" | "2" => Ok(Cgroup::V2),
            other => bail!("unknown cgroup mode {other:?} (known: v1, v2)"),
        }
    }

    /// `v1` / `v2`.
    pub fn name(self) -> &'static str {
        match self {
            Cgroup::V1 => "v1",
            Cgroup::V2 => "v2",
        }
    }
}

/// What a box is: which Debian, on which cgroup layout.
#[derive(Debug, Clone, Copy)]
pub struct BoxSpec {
    /// The Debian release of the tree.
    pub release: Release,
    /// The cgroup layout nspawn gives the box.
    pub cgroup: Cgroup,
}

/// An account inside the box.
#[derive(Debug, Clone)]
pub struct BoxUser {
    /// Login name.
    pub name: String,
    /// Numeric user id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory (a path inside the box).
    pub home: String,
}

/// How a user command is started and which environment it gets. `Login` and `Bare` use
/// `setpriv` (the process stays outside the box's cgroup tree: `/proc/self/cgroup` shows `/..`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// Like a login (ssh, `machinectl shell`): `XDG_RUNTIME_DIR` and `DBUS_SESSION_BUS_ADDRESS` set.
    Login,
    /// Like after `su USER`: neither variable set.
    Bare,
    /// A real logind session opened by `su -l USER -c` inside the box (pam_systemd): the process
    /// sits in a `session-cN.scope` and PAM sets `XDG_RUNTIME_DIR` and
    /// `DBUS_SESSION_BUS_ADDRESS`, as for a user who logged in.
    Pam,
}

/// The binary's path inside every box.
pub const BINARY_IN_BOX: &str = "/usr/local/bin/rootless-setup";

pub(super) const ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
pub(super) const USER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
const BOOT_DEADLINE: Duration = Duration::from_secs(120);

/// A booted (or about to be booted) box. See the module docs.
#[derive(Debug)]
pub struct NspawnBox {
    name: String,
    spec: BoxSpec,
    dir: PathBuf,
    root: PathBuf,
    keep: bool,
    nspawn: Option<Child>,
    init: Option<u32>,
    transcript: RefCell<File>,
    seq: Cell<u32>,
    lingering: RefCell<Vec<String>>,
}

impl NspawnBox {
    /// Copies `tree` to a fresh `target/e2e/run/NAME/root` (stopping and removing whatever a
    /// previous run left there). `keep` leaves the box running and its tree in place on drop.
    pub fn create(name: &str, spec: BoxSpec, tree: &Path, keep: bool) -> Result<Self> {
        let dir = util::project_root().join("target/e2e/run").join(name);
        let root = dir.join("root");
        stop_stale(&root)?;
        util::remove_tree_later(&root, &util::project_root().join("target/e2e/trash"))?;
        util::remove_tree(&dir)?;
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let transcript = File::create(dir.join("transcript.log"))?;
        let start = Instant::now();
        util::run_quiet(
            Command::new("cp")
                .args(["-a", "--reflink=auto"])
                .arg(tree)
                .arg(&root),
        )?;
        let bx = NspawnBox {
            name: name.to_owned(),
            spec,
            dir,
            root,
            keep,
            nspawn: None,
            init: None,
            transcript: RefCell::new(transcript),
            seq: Cell::new(0),
            lingering: RefCell::new(Vec::new()),
        };
        bx.note(&format!(
            "copied {} in {}",
            tree.display(),
            fmt_duration(start.elapsed())
        ));
        Ok(bx)
    }

    /// The run directory (`target/e2e/run/NAME`) with the logs next to `root/`.
    pub fn run_dir(&self) -> &Path {
        &self.dir
    }

    /// The pid of the box's init (systemd) on the host, once booted.
    pub fn init_pid(&self) -> Option<u32> {
        self.init
    }

    pub(super) fn next_seq(&self) -> u32 {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        seq
    }

    /// The host path of a path inside the box's tree (on disk: not `/run`, `/tmp` or `/proc`).
    pub fn path(&self, in_box: &str) -> PathBuf {
        self.root.join(in_box.trim_start_matches('/'))
    }

    /// The host path of a path as the running box sees it (through `/proc/INIT/root`, so tmpfs
    /// mounts like `/run` are visible); `None` before boot.
    pub fn live_path(&self, in_box: &str) -> Option<PathBuf> {
        let init = self.init?;
        Some(PathBuf::from(format!("/proc/{init}/root")).join(in_box.trim_start_matches('/')))
    }

    /// Linger for `name` through logind's state file (before boot), so its manager starts at
    /// boot; [`NspawnBox::boot`] waits for it.
    pub fn enable_linger(&self, name: &str) -> Result<()> {
        let dir = self.path("/var/lib/systemd/linger");
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), "")?;
        self.lingering.borrow_mut().push(name.to_owned());
        self.note(&format!("linger file for {name}"));
        Ok(())
    }

    /// Undoes [`NspawnBox::enable_linger`] before boot: no linger file, and [`NspawnBox::boot`]
    /// does not wait for `name`'s manager (it starts when something turns linger on).
    pub fn disable_linger(&self, name: &str) -> Result<()> {
        let file = self.path("/var/lib/systemd/linger").join(name);
        match fs::remove_file(&file) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err).with_context(|| format!("removing {}", file.display()));
            }
            _ => {}
        }
        self.lingering.borrow_mut().retain(|n| n != name);
        self.note(&format!("no linger file for {name}"));
        Ok(())
    }

    /// Boots the box and waits until the system is up and every lingering user's manager and
    /// bus are ready. Returns how long that took.
    pub fn boot(&mut self) -> Result<Duration> {
        ensure_tun_usable()?;
        let lingering = self
            .lingering
            .borrow()
            .iter()
            .map(|name| self.lookup_user(name))
            .collect::<Result<Vec<_>>>()?;
        let console = File::create(self.dir.join("console.log"))?;
        let mut cmd = Command::new("systemd-nspawn");
        cmd.arg("-D")
            .arg(&self.root)
            .arg(format!("--machine={}", self.name))
            .args([
                "--boot",
                "--register=no",
                "--keep-unit",
                "--private-network",
                "--console=read-only",
                "--system-call-filter=@keyring bpf",
                "--bind=/dev/net/tun",
            ])
            .env(
                "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY",
                if self.spec.cgroup == Cgroup::V2 {
                    "1"
                } else {
                    "0"
                },
            )
            .stdin(Stdio::null())
            .stdout(console.try_clone()?)
            .stderr(console);
        self.note(&format!("$ {}", util::display_command(&cmd)));
        let start = Instant::now();
        let child = cmd.spawn().context("could not start systemd-nspawn")?;
        let nspawn_pid = child.id();
        self.nspawn = Some(child);
        let deadline = start + BOOT_DEADLINE;
        let init = self.wait_for_init(nspawn_pid, deadline)?;
        self.init = Some(init);
        self.note(&format!("init is pid {init}"));
        let state = self.wait_until_running(deadline)?;
        for user in &lingering {
            self.wait_for_manager(user, deadline)?;
        }
        let took = start.elapsed();
        self.note(&format!("up in {} (system {state})", fmt_duration(took)));
        Ok(took)
    }

    fn wait_for_init(&mut self, nspawn: u32, deadline: Instant) -> Result<u32> {
        let own_ns = fs::read_link("/proc/self/ns/pid")?;
        let nspawn_exe = fs::read_link(format!("/proc/{nspawn}/exe"))?;
        loop {
            self.check_nspawn_alive()?;
            for child in children(nspawn) {
                // The box's init: in another PID namespace and already exec'd (before the exec
                // it still sees the host's mounts, and systemctl would talk to the host).
                let ns = fs::read_link(format!("/proc/{child}/ns/pid"));
                let exe = fs::read_link(format!("/proc/{child}/exe"));
                if ns.is_ok_and(|ns| ns != own_ns) && exe.is_ok_and(|exe| exe != nspawn_exe) {
                    return Ok(child);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "systemd-nspawn started no init in time{}",
                    self.console_tail()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_until_running(&mut self, deadline: Instant) -> Result<String> {
        loop {
            self.check_nspawn_alive()?;
            let out = self
                .root(&["systemctl", "is-system-running"])
                .quiet()
                .run()?;
            let state = out.stdout.trim().to_owned();
            if state == "running" || state == "degraded" {
                if state == "degraded" {
                    let failed = self
                        .root(&["systemctl", "--failed", "--no-legend", "--plain"])
                        .run()?;
                    self.note(&format!("degraded; failed units:\n{}", failed.stdout));
                }
                return Ok(state);
            }
            if Instant::now() > deadline {
                bail!(
                    "box not up after {}: is-system-running says {state:?}{}",
                    fmt_duration(BOOT_DEADLINE),
                    self.console_tail()
                );
            }
            thread::sleep(POLL);
        }
    }

    fn wait_for_manager(&mut self, user: &BoxUser, deadline: Instant) -> Result<()> {
        let unit = format!("user@{}.service", user.uid);
        let bus = format!("/run/user/{}/bus", user.uid);
        loop {
            self.check_nspawn_alive()?;
            let active = self
                .root(&["systemctl", "is-active", &unit])
                .quiet()
                .run()?;
            let bus_there = self.live_path(&bus).is_some_and(|p| p.exists());
            if active.stdout.trim() == "active" && bus_there {
                return Ok(());
            }
            if Instant::now() > deadline {
                let status = self
                    .root(&["systemctl", "status", "--no-pager", &unit])
                    .run()?;
                bail!(
                    "{unit} not ready in time (is-active {:?}, {bus} exists: {bus_there}):\n{}",
                    active.stdout.trim(),
                    status.stdout
                );
            }
            thread::sleep(POLL);
        }
    }

    fn check_nspawn_alive(&mut self) -> Result<()> {
        if let Some(child) = self.nspawn.as_mut()
            && let Some(status) = child.try_wait()?
        {
            self.nspawn = None;
            bail!(
                "systemd-nspawn exited early ({status}){}",
                self.console_tail()
            );
        }
        Ok(())
    }

    fn console_tail(&self) -> String {
        let console = util::read_lossy(&self.dir.join("console.log"));
        format!("\nlast console lines:\n{}", util::tail(&console, 25))
    }

    /// A command run as root inside the box (clean environment, root's `PATH`).
    pub fn root(&self, argv: &[&str]) -> BoxCmd<'_> {
        BoxCmd::new(self, None, argv)
    }

    /// A command run as `user` inside the box, with the environment of `session`.
    pub fn user(&self, user: &BoxUser, session: Session, argv: &[&str]) -> BoxCmd<'_> {
        BoxCmd::new(self, Some((user.clone(), session)), argv)
    }

    /// Appends a free-form line to the transcript.
    pub fn note(&self, text: &str) {
        let mut file = self.transcript.borrow_mut();
        let _ = writeln!(file, "# {text}");
    }

    pub(super) fn record(&self, shown: &str, out: &Captured) {
        let mut entry = format!(
            "\n### {shown}\n# {} in {}\n",
            out.describe_exit(),
            fmt_duration(out.elapsed)
        );
        for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if !text.is_empty() {
                let _ = write!(entry, "--- {name}\n{text}");
                if !text.ends_with('\n') {
                    entry.push('\n');
                }
            }
        }
        let _ = self.transcript.borrow_mut().write_all(entry.as_bytes());
    }

    /// Kills the box (SIGKILL to its init ends the PID namespace) and waits for nspawn to exit.
    pub fn stop(&mut self) {
        if let Some(init) = self.init.take() {
            let _ = util::signal(init, "KILL");
        }
        if let Some(mut child) = self.nspawn.take() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

impl Drop for NspawnBox {
    fn drop(&mut self) {
        if !self.keep {
            self.stop();
            let trash = util::project_root().join("target/e2e/trash");
            if let Err(err) = util::remove_tree_later(&self.root, &trash) {
                eprintln!("e2e: could not remove {}: {err:#}", self.root.display());
            }
            return;
        }
        let Some(child) = self.nspawn.take() else {
            println!(
                "e2e: kept the tree of box {} at {}",
                self.name,
                self.root.display()
            );
            return;
        };
        let init = self.init.unwrap_or(0);
        let (uid, gid) = self
            .lookup_user("dev")
            .map_or((1000, 1000), |u| (u.uid, u.gid));
        println!(
            "e2e: kept box {} running (nspawn pid {}, init pid {init}); transcript {}\n  \
             enter as root: nsenter -a -t {init} /bin/bash\n  \
             enter as dev:  nsenter -a -t {init} setpriv --reuid {uid} --regid {gid} --init-groups \
             env -i --chdir=/home/dev HOME=/home/dev USER=dev LOGNAME=dev PATH={USER_PATH} \
             XDG_RUNTIME_DIR=/run/user/{uid} DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{uid}/bus \
             /bin/bash\n  \
             stop:          kill -KILL {init}   (the next run of this scenario does it too)",
            self.name,
            child.id(),
            self.dir.join("transcript.log").display(),
        );
    }
}

/// The children of a process, from `/proc/PID/task/*/children`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .flat_map(|task| {
            util::read_lossy(&task.path().join("children"))
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Stops a box a previous run left on `root` (a kept box, or one whose xtask was interrupted):
/// otherwise the tree is "currently busy" and cannot be reused or removed.
fn stop_stale(root: &Path) -> Result<()> {
    let Ok(procs) = fs::read_dir("/proc") else {
        return Ok(());
    };
    let root = root.to_string_lossy().into_owned();
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let cmdline = util::read_lossy(&entry.path().join("cmdline"));
        let args: Vec<&str> = cmdline.split('\0').collect();
        let is_nspawn = args.first().is_some_and(|a| a.ends_with("systemd-nspawn"));
        if !is_nspawn || !args.contains(&root.as_str()) {
            continue;
        }
        println!("e2e: stopping a box left running on {root} (nspawn pid {pid})");
        for child in children(pid) {
            let _ = util::signal(child, "KILL");
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while util::alive(pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        if util::alive(pid) {
            util::signal(pid, "KILL")?;
        }
    }
    Ok(())
}

/// slirp4netns inside the box opens `/dev/net/tun` as the user: the host node must be 0666
/// (it is 0600 on these machines). Changes only the mode, and only when needed.
fn ensure_tun_usable() -> Result<()> {
    let tun = Path::new("/dev/net/tun");
    let meta = fs::metadata(tun).context("/dev/net/tun is missing on the host")?;
    if meta.permissions().mode() & 0o666 != 0o666 {
        println!("e2e: chmod 0666 /dev/net/tun on the host (slirp4netns in the box needs it)");
        fs::set_permissions(tun, fs::Permissions::from_mode(0o666))
            .context("chmod 0666 /dev/net/tun")?;
    }
    Ok(())
}
