//! The full-range probe behind [`System::map_userns`](crate::system::System::map_userns) (live): mapping the caller's
//! subordinate ranges into a fresh user namespace through `newuidmap`/`newgidmap`, as rootlesskit
//! does. It only affects the child; the programs run through [`rootless_setup_core::process`],
//! which also starts them in their namespaces.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rootless_setup_core::process::{self, Invocation, ProcessError};
use rootless_setup_core::read::{self, Limit};

use crate::system::{UsernsMapOutcome, UsernsMapRequest};

/// Builds the helper arguments `PID 0 OWN 1 1 START COUNT [NEXT START COUNT …]`.
pub(crate) fn helper_args(pid: u32, own: u32, ranges: &[(u64, u64)]) -> Vec<String> {
    let mut args = vec![pid.to_string(), "0".into(), own.to_string(), "1".into()];
    let mut inside = 1u64;
    for (start, count) in ranges {
        args.extend([inside.to_string(), start.to_string(), count.to_string()]);
        inside = inside.saturating_add(*count);
    }
    args
}

/// The deadline of each helper; the child in the namespace waits for both and gets one more.
const HELPER_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a map may have: 340 lines of three numbers (the kernel's limit).
const MAP_LIMIT: Limit = Limit(16 << 10);

/// Creates a user namespace in a child, maps the caller and the full subordinate ranges into it
/// with the setuid helpers (what rootlesskit does; here both at once), and reads the maps
/// back. They are read from here, in the parent namespace, which sees the same numbers the child
/// would: a map shows ids of the reader's namespace, and this is the namespace they map from.
pub(crate) fn map_full_ranges(
    request: &UsernsMapRequest,
) -> Result<UsernsMapOutcome, ProcessError> {
    let holder = Invocation::new("/bin/sh")
        .args(["-c", "read _"])
        .in_unmapped_userns()
        .timeout(HELPER_TIMEOUT * 3);
    let child = match process::start(&holder) {
        Ok(child) => child,
        Err(e)
            if e.source.raw_os_error().is_some()
                && e.source.kind() != std::io::ErrorKind::NotFound =>
        {
            return Ok(UsernsMapOutcome::UnshareFailed(e.source.to_string()));
        }
        Err(e) => return Err(e),
    };
    let pid = child.pid();
    let helper = |path: &Path, own: u32, ranges: &[(u64, u64)]| {
        let invocation = Invocation::new(path)
            .args(helper_args(pid, own, ranges))
            .timeout(HELPER_TIMEOUT);
        (path.to_owned(), process::run(&invocation))
    };
    let (uid, gid) = crate::together::both(
        || helper(&request.newuidmap, request.uid, &request.subuids),
        || helper(&request.newgidmap, request.gid, &request.subgids),
    );
    for (helper, result) in [uid, gid] {
        match result {
            Ok(out) if out.success() => {}
            // Dropping the child kills it.
            Ok(output) => return Ok(UsernsMapOutcome::HelperFailed { helper, output }),
            Err(e) => return Err(e),
        }
    }
    let map = |name: &str| {
        let path = PathBuf::from(format!("/proc/{pid}/{name}"));
        read::text(&path, MAP_LIMIT).map_err(|source| ProcessError {
            program: path,
            source,
        })
    };
    let (uid_map, gid_map) = (map("uid_map")?, map("gid_map")?);
    child.finish(b"")?;
    Ok(UsernsMapOutcome::Mapped {
        uid_map: uid_map.unwrap_or_default(),
        gid_map: gid_map.unwrap_or_default(),
    })
}

/// Total number of ids a `/proc/PID/uid_map` text maps.
pub fn mapped_count(map: &str) -> u64 {
    map.lines()
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
        .fold(0u64, u64::saturating_add)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    /// A stand-in helper: records its arguments in `NAME.args` beside it, says `stderr` and
    /// exits with `code` (it maps nothing).
    fn helper(dir: &Path, name: &str, code: i32, stderr: &str) -> PathBuf {
        let path = dir.join(name);
        let args = dir.join(format!("{name}.args"));
        let script = format!(
            "#!/bin/sh\necho \"$@\" > '{}'\necho '{stderr}' >&2\nexit {code}\n",
            args.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn request(newuidmap: PathBuf, newgidmap: PathBuf) -> UsernsMapRequest {
        UsernsMapRequest {
            newuidmap,
            newgidmap,
            uid: 1000,
            gid: 1001,
            subuids: vec![(100000, 65536)],
            subgids: vec![(200000, 65536), (400000, 10)],
        }
    }

    /// Both helpers get the child's pid and their ranges; what they mapped (here nothing) is
    /// read back from the child's maps.
    #[test]
    fn the_helpers_get_the_child_and_the_ranges_and_the_maps_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let uid = helper(dir.path(), "newuidmap", 0, "");
        let gid = helper(dir.path(), "newgidmap", 0, "");
        let outcome = map_full_ranges(&request(uid, gid)).unwrap();
        let UsernsMapOutcome::Mapped { uid_map, gid_map } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(
            (uid_map.as_str(), gid_map.as_str()),
            ("", ""),
            "nothing mapped"
        );
        let args = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        let (uid_args, gid_args) = (args("newuidmap.args"), args("newgidmap.args"));
        let pid = uid_args.split_whitespace().next().unwrap();
        assert!(pid.parse::<u32>().is_ok(), "{uid_args}");
        assert_eq!(uid_args, format!("{pid} 0 1000 1 1 100000 65536\n"));
        assert_eq!(
            gid_args,
            format!("{pid} 0 1001 1 1 200000 65536 65537 400000 10\n"),
            "the same child"
        );
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "the child is gone"
        );
    }

    #[test]
    fn a_failing_helper_is_named_with_its_output_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let uid = helper(dir.path(), "newuidmap", 0, "");
        let gid = helper(
            dir.path(),
            "newgidmap",
            3,
            "newgidmap: gid range not allowed",
        );
        let outcome = map_full_ranges(&request(uid.clone(), gid.clone())).unwrap();
        let UsernsMapOutcome::HelperFailed {
            helper: failed,
            output,
        } = outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!(failed, gid);
        assert_eq!(output.code, Some(3));
        assert_eq!(output.stderr, "newgidmap: gid range not allowed\n");

        let missing = dir.path().join("no-such-helper");
        let err = map_full_ranges(&request(missing.clone(), uid)).unwrap_err();
        assert_eq!(err.program, missing);
        assert_eq!(err.source.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn helper_arguments_stack_ranges_after_the_own_id() {
        assert_eq!(
            helper_args(42, 1000, &[(100000, 65536), (300000, 10)]).join(" "),
            "42 0 1000 1 1 100000 65536 65537 300000 10"
        );
    }

    #[test]
    fn mapped_count_sums_the_third_column() {
        assert_eq!(
            mapped_count("         0       1000          1\n         1     100000      65536\n"),
            65537
        );
        assert_eq!(mapped_count(""), 0);
    }
}
