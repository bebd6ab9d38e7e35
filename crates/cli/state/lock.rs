//! One run at a time per user: install, uninstall and `fix --apply` take an exclusive `flock`
//! on `lock` beside the install record (`$XDG_STATE_HOME/rootless-setup/lock`). A second run
//! waits up to [`WAIT`], then gives up naming the holder, whose pid and command are written
//! into the file once it holds the lock. The lock is the open file: it is released when the
//! process exits, however it exits (a SIGKILL included). Released normally with no record
//! left (after uninstall, or a rolled-back first install), it removes the lock file and the
//! then empty state directory, so nothing is left behind; a run waiting on the removed file
//! notices and locks a new one.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use crate::results::ErrorId;
use crate::style::hinted;

/// How long a second run waits for the first.
pub const WAIT: Duration = Duration::from_secs(30);
/// How often it tries meanwhile.
const POLL: Duration = Duration::from_millis(100);

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    state: PathBuf,
    /// Directories the lock created (shallowest first), removed with it when empty.
    created: Vec<PathBuf>,
    file: Option<Flock<File>>,
}

/// Where the lock lives, beside the record at `state`.
pub fn path(state: &Path) -> PathBuf {
    state.with_file_name("lock")
}

/// Takes the lock beside `state` for `command`, waiting up to `wait`; the error names the
/// holder.
pub fn acquire(state: &Path, command: &str, wait: Duration) -> anyhow::Result<Lock> {
    let path = path(state);
    refuse_foreign_tree(&path)?;
    let created = crate::state::missing_dirs(&path);
    let started = Instant::now();
    loop {
        // Inside the loop: a finishing uninstall may have removed the directory.
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("could not create {}: {e}", dir.display()))?;
        }
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && started.elapsed() < wait => {
                continue;
            }
            Err(e) => anyhow::bail!("could not open the lock {}: {e}", path.display()),
        };
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut held) => {
                // The file may have been removed (an uninstall finishing) between our open and
                // our lock: then it locks nothing; try again on the new one.
                if !same_file(&held, &path) {
                    continue;
                }
                let _ = held.set_len(0);
                let _ = held.seek(SeekFrom::Start(0));
                let _ = writeln!(held, "{} {command}", std::process::id());
                return Ok(Lock {
                    path,
                    state: state.to_path_buf(),
                    created,
                    file: Some(held),
                });
            }
            Err((file, _)) if started.elapsed() < wait => {
                drop(file);
                std::thread::sleep(POLL);
            }
            Err((mut file, _)) => {
                let mut holder = String::new();
                let _ = (&mut file).take(256).read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "another rootless-setup".to_owned()
                } else {
                    format!("rootless-setup (pid and command: {holder})")
                };
                return Err(hinted(
                    ErrorId::LockHeld,
                    format!(
                        "{holder} is changing this user's install and still holds {} after {} s",
                        path.display(),
                        wait.as_secs()
                    ),
                    &["wait for it to finish, then run this again"],
                ));
            }
        }
    }
}

/// Refuses root the lock below a directory another user owns: run as root with a user's `HOME`
/// kept (`sudo -E`, `su` without `-`), the lock and its directories would land in that user's
/// home owned by root, and their next install would fail on them. (An ordinary user cannot
/// create anything in another user's directory anyway, and may in a shared one like `/tmp`.)
fn refuse_foreign_tree(path: &Path) -> anyhow::Result<()> {
    let me = nix::unistd::geteuid().as_raw();
    let existing = path
        .ancestors()
        .skip(1)
        .find_map(|dir| std::fs::symlink_metadata(dir).ok().map(|m| (dir, m)));
    match existing {
        Some((dir, meta)) if me == 0 && meta.uid() != 0 => Err(hinted(
            ErrorId::ForeignDirectory,
            format!(
                "{} belongs to uid {}, not to this user (uid {me}): the per-user lock is not \
                 taken in another user's directory",
                dir.display(),
                meta.uid()
            ),
            &[
                "run it as the user whose engine it is, with their own environment (`su - USER`, \
               `machinectl shell USER@`)",
            ],
        )),
        _ => Ok(()),
    }
}

fn same_file(held: &File, path: &Path) -> bool {
    match (held.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if std::fs::symlink_metadata(&self.state).is_err() {
            // Removed while still held, so no one can lock the old file after us.
            let _ = std::fs::remove_file(&self.path);
            if let Some(dir) = self.path.parent() {
                crate::atomic::remove_empty_dir(dir);
            }
            for dir in self.created.iter().rev() {
                crate::atomic::remove_empty_dir(dir);
            }
        }
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_lock_is_made_in_a_directory_another_user_owns() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("alice");
        std::fs::create_dir(&home).unwrap();
        // Only root can hand a directory to another uid, and only root is refused: the tests
        // run as root in CI.
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        std::os::unix::fs::chown(&home, Some(4242), Some(4242)).unwrap();
        let state = home.join(".local/state/rootless-setup/state.json");
        let err = acquire(&state, "uninstall", WAIT).unwrap_err();
        assert!(
            err.to_string()
                .contains("belongs to uid 4242, not to this user (uid 0)"),
            "{err}"
        );
        assert!(!home.join(".local").exists(), "nothing was created");
    }

    #[test]
    fn a_symlink_in_place_of_the_lock_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("rootless-setup/state.json");
        std::fs::create_dir_all(state.parent().unwrap()).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&elsewhere, path(&state)).unwrap();
        let err = acquire(&state, "install", Duration::ZERO).unwrap_err();
        assert!(
            err.to_string().starts_with("could not open the lock"),
            "{err}"
        );
        assert!(!elsewhere.exists(), "the link's target was not created");
    }

    #[test]
    fn a_second_run_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("local/state/rootless-setup/state.json");
        let first = acquire(&state, "install", WAIT).unwrap();
        let text =
            std::fs::read_to_string(dir.path().join("local/state/rootless-setup/lock")).unwrap();
        assert_eq!(text, format!("{} install\n", std::process::id()));
        let begun = Instant::now();
        let err = acquire(&state, "uninstall", Duration::from_millis(300)).unwrap_err();
        assert!(begun.elapsed() >= Duration::from_millis(300));
        assert_eq!(
            err.to_string(),
            format!(
                "rootless-setup (pid and command: {} install) is changing this user's install and still holds {} after 0 s",
                std::process::id(),
                dir.path().join("local/state/rootless-setup/lock").display()
            )
        );
        // A record remains: the lock file stays.
        std::fs::write(&state, "{}").unwrap();
        drop(first);
        let second = acquire(&state, "uninstall", Duration::ZERO).unwrap();
        std::fs::remove_file(&state).unwrap();
        drop(second);
        assert!(!dir.path().join("local/state/rootless-setup").exists());
        assert!(
            dir.path().join("local/state").exists(),
            "not created by that run"
        );
        // A run that made the directories and leaves no record removes them all.
        let fresh = dir.path().join("other/state/rootless-setup/state.json");
        drop(acquire(&fresh, "install", WAIT).unwrap());
        assert!(!dir.path().join("other").exists());
    }

    #[test]
    fn a_lock_whose_file_was_removed_is_not_shared() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let first = acquire(&state, "uninstall", WAIT).unwrap();
        let waiter = std::thread::spawn({
            let state = state.clone();
            move || acquire(&state, "install", WAIT)
        });
        std::thread::sleep(Duration::from_millis(250));
        drop(first);
        let held = waiter.join().unwrap().unwrap();
        assert_eq!(held.path, dir.path().join("lock"));
        // The new holder locked a file that exists, so a third run waits for it.
        assert!(acquire(&state, "fix --apply", Duration::ZERO).is_err());
    }
}
