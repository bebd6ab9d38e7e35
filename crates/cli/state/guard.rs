//! What a reversal may touch, decided from [`Paths`] and never from the record: files only
//! strictly below the directories install writes (the user unit directory, with its drop-in
//! directories, the docker CLI's context store and Podman's containers.conf.d), directories only those or their ancestors
//! inside the home directory, never through a symlink below those roots; and a data directory
//! only when it carries the marker install put there.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Component, Path, PathBuf};

use rootless_setup_core::read::{self, Limit};

use crate::atomic;
use crate::paths::Paths;

/// The file install writes into the data directory it uses, containing the uid.
pub const DATA_ROOT_MARKER: &str = ".rootless-setup-data-root";

/// The directories install writes below.
pub fn allowed_roots(paths: &Paths) -> [PathBuf; 3] {
    [
        paths.unit_dir.clone(),
        paths.docker_config.join("contexts"),
        paths.containers_conf_dir(),
    ]
}

/// Why `path` may not be touched as a file install wrote, or `None` when it may: absolute,
/// without `.` or `..`, strictly below an allowed root, and no component below that root a
/// symlink (the file itself included) or anything but a directory (the file: a regular file).
pub fn file_refusal(path: &Path, paths: &Paths) -> Option<String> {
    let roots = allowed_roots(paths);
    let Some(root) = roots
        .iter()
        .find(|r| path.starts_with(r) && path != r.as_path())
    else {
        return Some(format!(
            "it is not below {}, {} or {}, where install writes",
            paths.short(&roots[0]),
            paths.short(&roots[1]),
            paths.short(&roots[2])
        ));
    };
    if let Some(why) = not_plain(path) {
        return Some(why);
    }
    let below = path.strip_prefix(root).unwrap_or(path);
    let mut at = root.clone();
    let count = below.components().count();
    for (i, c) in below.components().enumerate() {
        at.push(c);
        let meta = match fs::symlink_metadata(&at) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return Some(format!("{} cannot be examined: {e}", at.display())),
        };
        let last = i + 1 == count;
        if meta.file_type().is_symlink() {
            return Some(format!(
                "{} is a symbolic link, which is never followed",
                paths.short(&at)
            ));
        }
        if !last && !meta.is_dir() {
            return Some(format!("{} is not a directory", paths.short(&at)));
        }
        if last && !meta.is_file() {
            return Some(format!("it is {}", read::describe(&meta)));
        }
    }
    None
}

/// Why `dir` may not be removed (when empty) as a directory install created: it must be inside
/// the home directory and be an allowed root, the record's directory or the data home, below
/// one, or an ancestor of one; and be a real directory, not a symlink.
pub fn dir_refusal(dir: &Path, paths: &Paths) -> Option<String> {
    if let Some(why) = not_plain(dir) {
        return Some(why);
    }
    let state_dir = paths.state.parent().unwrap_or(&paths.state).to_path_buf();
    let related = allowed_roots(paths)
        .iter()
        .chain([&state_dir, &paths.data_home])
        .any(|r| dir.starts_with(r) || r.starts_with(dir));
    if !related || !dir.starts_with(&paths.home) || dir == paths.home {
        return Some("it is not a directory install creates".into());
    }
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Some("it is a symbolic link".into()),
        _ => None,
    }
}

fn not_plain(path: &Path) -> Option<String> {
    if !path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Some("it is not a plain absolute path".into());
    }
    None
}

/// Writes the marker into `dir` (created, mode 0700, when missing); returns whether `dir` was
/// created.
pub fn mark_data_root(dir: &Path, uid: u32) -> anyhow::Result<bool> {
    let created = fs::symlink_metadata(dir).is_err();
    if created {
        use std::os::unix::fs::DirBuilderExt as _;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| anyhow::anyhow!("could not create {}: {e}", dir.display()))?;
    }
    atomic::write_mode(
        &dir.join(DATA_ROOT_MARKER),
        format!("{uid}\n").as_bytes(),
        0o600,
    )?;
    Ok(created)
}

/// Why `dir` may not be purged, or `None` when it carries our marker: a real directory (not a
/// symlink), the marker a regular file of the caller containing the caller's uid.
pub fn data_root_refusal(dir: &Path, uid: u32) -> Option<String> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => return Some("it is a symbolic link".into()),
        Ok(m) if !m.is_dir() => return Some(format!("it is {}", read::describe(&m))),
        Ok(_) => {}
        Err(e) => return Some(format!("it cannot be examined: {e}")),
    }
    let marker = dir.join(DATA_ROOT_MARKER);
    let no_marker = || {
        Some(format!(
            "it does not carry the marker {DATA_ROOT_MARKER} install puts in the data directory it uses"
        ))
    };
    match fs::symlink_metadata(&marker) {
        Ok(m) if m.is_file() && m.uid() == uid => {}
        _ => return no_marker(),
    }
    match read::text(&marker, Limit(64)) {
        Ok(Some(t)) if t.trim() == uid.to_string() => None,
        _ => no_marker(),
    }
}

/// Removes the marker and, if then empty, `dir` (rolling back a run that created it).
pub fn unmark_data_root(dir: &Path, created: bool, uid: u32) -> anyhow::Result<()> {
    if data_root_refusal(dir, uid).is_some() {
        return Ok(());
    }
    atomic::remove(&dir.join(DATA_ROOT_MARKER))?;
    if created {
        atomic::remove_empty_dir(dir);
    }
    Ok(())
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
