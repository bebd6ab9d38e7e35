//! Small helpers shared by the xtask commands: the workspace root, running programs (in the
//! foreground, or captured to files with a deadline), timing, signals and tree removal.
//!
//! Everything is plain `std::process::Command`; signals go through the `kill` program so that
//! xtask needs no libc bindings.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// How often pollers look again. Short on purpose: waits are "poll until ready or deadline",
/// never fixed sleeps.
pub const POLL: Duration = Duration::from_millis(100);

/// The workspace root (the parent of the `xtask` package).
pub fn project_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = manifest
        .canonicalize()
        .unwrap_or_else(|_| manifest.to_path_buf());
    manifest
        .parent()
        .map_or_else(|| manifest.clone(), Path::to_path_buf)
}

/// The cargo that runs us (`$CARGO`), or `cargo` from `PATH`.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(project_root());
    cmd
}

/// A command line as a shell would read it, for messages and transcripts.
pub fn display_command(cmd: &Command) -> String {
    let mut words = vec![quote(cmd.get_program())];
    words.extend(cmd.get_args().map(quote));
    words.join(" ")
}

/// Shell-quotes one word (only when it needs it).
pub fn quote(word: impl AsRef<OsStr>) -> String {
    let word = word.as_ref().to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Runs a command with inherited stdio, echoing it first; a non-zero exit is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = display_command(cmd);
    println!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed: {status}");
    }
    Ok(())
}

/// Runs a command with its output captured; a non-zero exit is an error carrying the output.
/// Returns stdout.
pub fn run_quiet(cmd: &mut Command) -> Result<String> {
    let shown = display_command(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "`{shown}` failed ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}

/// The result of [`capture`].
#[derive(Debug, Clone)]
pub struct Captured {
    /// Exit code; `None` when killed by a signal (including our own deadline kill).
    pub code: Option<i32>,
    /// Whether the deadline passed and the process group was killed.
    pub timed_out: bool,
    /// Everything written to stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything written to stderr (lossy UTF-8).
    pub stderr: String,
    /// Wall time from spawn to exit, measured here.
    pub elapsed: Duration,
}

impl Captured {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// "exit 1", "killed by a signal", "timed out after 10s".
    pub fn describe_exit(&self) -> String {
        match (self.timed_out, self.code) {
            (true, _) => format!("timed out after {}", fmt_duration(self.elapsed)),
            (false, Some(code)) => format!("exit {code}"),
            (false, None) => "killed by a signal".to_owned(),
        }
    }
}

/// Runs `cmd` in its own process group with stdin closed and stdout/stderr sent to the two files
/// (files, not pipes: a daemon started in the background cannot hold us hostage by keeping a
/// pipe open). When `timeout` passes, the whole process group is killed.
pub fn capture(
    cmd: &mut Command,
    stdout: &Path,
    stderr: &Path,
    timeout: Duration,
) -> Result<Captured> {
    let shown = display_command(cmd);
    let out = File::create(stdout).with_context(|| format!("creating {}", stdout.display()))?;
    let err = File::create(stderr).with_context(|| format!("creating {}", stderr.display()))?;
    let start = Instant::now();
    let mut child = {
        use std::os::unix::process::CommandExt as _;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("could not start `{shown}`"))?
    };
    let pid = child.id();
    let mut timed_out = false;
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            // Negative pid: the whole group (nsenter forks for the PID namespace).
            let _ = signal_group(pid, "KILL");
            let _ = child.kill();
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    Ok(Captured {
        code: status.code(),
        timed_out,
        stdout: read_lossy(stdout),
        stderr: read_lossy(stderr),
        elapsed,
    })
}

/// Reads a file as lossy UTF-8; a missing file reads as empty.
pub fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Sends a signal (name without `SIG`) to one process, through the `kill` program.
pub fn signal(pid: u32, sig: &str) -> Result<()> {
    kill_program(&[format!("-{sig}"), "--".to_owned(), pid.to_string()])
}

/// Sends a signal to a whole process group.
pub fn signal_group(pgid: u32, sig: &str) -> Result<()> {
    kill_program(&[format!("-{sig}"), "--".to_owned(), format!("-{pgid}")])
}

fn kill_program(args: &[String]) -> Result<()> {
    let status = Command::new("kill")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("could not run kill")?;
    if !status.success() {
        bail!("kill {} failed: {status}", args.join(" "));
    }
    Ok(())
}

/// Whether a process exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    let stat = read_lossy(&PathBuf::from(format!("/proc/{pid}/stat")));
    // Field 3 (after the parenthesised comm) is the state.
    match stat.rfind(')') {
        Some(end) => !matches!(
            stat[end + 1..].trim_start().chars().next(),
            Some('Z') | None
        ),
        None => false,
    }
}

/// Effective uid of this process, from `/proc/self/status`.
pub fn euid() -> Option<u32> {
    let status = read_lossy(Path::new("/proc/self/status"));
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Finds a program on `PATH` or in the sbin directories (which a non-login root shell may lack).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// "850ms", "3.2s", "2m05s".
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}

/// Where [`box_lock`] lives: one file for the whole machine, whatever the checkout.
const BOX_LOCK: &str = "/run/lock/rootless-setup-e2e.lock";

/// Takes the machine-wide lock that lets one suite or benchmark boot boxes at a time (nspawn
/// puts every box in one cgroup, and a box of the same name from another checkout would be
/// killed as a leftover). Waits for the holder, saying so; the lock ends with the process.
pub fn box_lock() -> Result<File> {
    let path = Path::new(BOX_LOCK);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("could not open the box lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(fs::TryLockError::WouldBlock) => {
            println!("e2e: another run holds {}; waiting for it", path.display());
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("could not lock {}", path.display()));
        }
    }
    file.lock()
        .with_context(|| format!("could not lock {}", path.display()))?;
    Ok(file)
}

/// Removes a directory tree safely: mounts below it are detached first, and `rm` never crosses
/// into another file system (a half-finished debootstrap may leave `proc` mounted).
pub fn remove_tree(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    let mountinfo = read_lossy(Path::new("/proc/self/mountinfo"));
    let mut mounts: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(&dir))
        .collect();
    // Deepest first.
    mounts.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for mount in mounts {
        let _ = Command::new("umount").arg("-l").arg(&mount).status();
    }
    let status = Command::new("rm")
        .args(["-rf", "--one-file-system", "--"])
        .arg(&dir)
        .status()
        .context("could not run rm")?;
    if !status.success() {
        bail!("rm -rf {} failed: {status}", dir.display());
    }
    Ok(())
}

/// Removals started by [`remove_tree_later`] and not yet waited for.
static PENDING_REMOVALS: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// Moves `dir` into `trash` (same file system) and removes it with a background `rm`. Deleting a
/// box tree whose blocks were already written back takes 10-20 s on these disks (ext4 mounted
/// with `discard`), so the next box does not wait for it; [`wait_for_removals`] does, at the end.
pub fn remove_tree_later(dir: &Path, trash: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    fs::create_dir_all(trash).with_context(|| format!("creating {}", trash.display()))?;
    let mut target = dir.to_path_buf();
    if dir.parent() != Some(trash) {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        target = trash.join(format!("{name}.{}", std::process::id()));
        let mut n = 0;
        while target.exists() {
            n += 1;
            target = trash.join(format!("{name}.{}.{n}", std::process::id()));
        }
        fs::rename(dir, &target)
            .with_context(|| format!("moving {} to {}", dir.display(), target.display()))?;
    }
    let child = Command::new("rm")
        .args(["-rf", "--one-file-system", "--"])
        .arg(&target)
        .stdin(Stdio::null())
        .spawn()
        .context("could not run rm")?;
    PENDING_REMOVALS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(child);
    Ok(())
}

/// Waits for every background removal; returns how long that took.
pub fn wait_for_removals() -> Duration {
    let start = Instant::now();
    let pending = std::mem::take(
        &mut *PENDING_REMOVALS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for mut child in pending {
        let _ = child.wait();
    }
    start.elapsed()
}

/// Median of a sorted slice (the mean of the middle pair for even lengths; 0 when empty).
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_only_when_needed() {
        assert_eq!(quote("plain-word_1.2/x=y"), "plain-word_1.2/x=y");
        assert_eq!(quote("two words"), "'two words'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(fmt_duration(Duration::from_millis(3240)), "3.2s");
        assert_eq!(fmt_duration(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }

    #[test]
    fn capture_kills_on_deadline_and_keeps_output() {
        let dir = std::env::temp_dir().join(format!("xtask-capture-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let (out, err) = (dir.join("out"), dir.join("err"));
        let done = capture(
            Command::new("sh").args(["-c", "echo hi; echo oops >&2; exit 3"]),
            &out,
            &err,
            Duration::from_secs(10),
        )
        .expect("sh runs");
        assert_eq!(
            (done.code, done.stdout.as_str(), done.stderr.as_str()),
            (Some(3), "hi\n", "oops\n")
        );
        let slow = capture(
            Command::new("sh").args(["-c", "echo before; sleep 30"]),
            &out,
            &err,
            Duration::from_millis(300),
        )
        .expect("sh runs");
        assert!(slow.timed_out && slow.code.is_none(), "{slow:?}");
        assert_eq!(slow.stdout, "before\n");
        assert!(slow.elapsed < Duration::from_secs(10));
        let _ = fs::remove_dir_all(&dir);
    }
}
