//! `fix --user NAME`: an admin prepares the host for another user. The checks then run with
//! that user's ids but in the admin's process, so whatever needs the user's own login session
//! or processes cannot be judged: the session and its bus, the cgroup the user's processes sit
//! in, and every probe that creates a namespace as the user. Those checks are not run and the
//! script says so; the others read files, ask logind (read-only) and at most ask root-owned
//! system programs for their version.

use std::path::{Path, PathBuf};

use rootless_setup_core::process::{Invocation, Namespace, Output, ProcessError};
use rootless_setup_core::{CheckId, Host, passwd};

use crate::system::{BusAnswer, ManagerInfo, UsernsMapOutcome, UsernsMapRequest};
use crate::{Caller, Selection, System};

/// `/etc/passwd` names no such user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no user `{0}` in /etc/passwd")]
pub struct NoSuchUser(pub String);

/// The checks that cannot run for another user, and why.
pub const NOT_COVERED: [(CheckId, &str); 8] = [
    (
        CheckId::SessionRuntimeDir,
        "reads the user's XDG_RUNTIME_DIR",
    ),
    (CheckId::SessionBus, "pings the user's D-Bus"),
    (CheckId::SessionSystemd, "asks the user's systemd manager"),
    (CheckId::UsernsProbe, "creates a user namespace as the user"),
    (
        CheckId::Cgroup,
        "reads the cgroup of the user's own processes",
    ),
    (
        CheckId::NetworkIptables,
        "runs iptables in a user namespace as the user",
    ),
    (CheckId::EngineSmoke, "runs rootlesskit as the user"),
    (CheckId::EnvClient, "reads the user's shell environment"),
];

/// Every check but [`NOT_COVERED`].
pub fn selection() -> Selection {
    let skip: Vec<CheckId> = NOT_COVERED.iter().map(|(id, _)| *id).collect();
    Selection::new(&[], &skip)
}

/// The caller the checks see for `name`: its ids from `/etc/passwd`, a system `PATH`, and its
/// home and name (no session variables: there is no session).
pub fn caller_for(host: &Host, name: &str) -> Result<Caller, NoSuchUser> {
    let passwd = host.read("/etc/passwd").ok().flatten().unwrap_or_default();
    let account = passwd::by_name(&passwd, name).ok_or_else(|| NoSuchUser(name.to_owned()))?;
    Ok(Caller::new(account.uid, account.gid)
        .with_var(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .with_var("HOME", &account.home.to_string_lossy())
        .with_var("USER", &account.name)
        .with_var("LOGNAME", &account.name))
}

/// A [`System`] for checks run on another user's behalf: logind's linger answer comes from
/// `inner`; programs run only to print their version (`--version`, `-V`), outside any
/// namespace, and only when the program and every directory above it belong to root and are
/// writable by nobody else, so no file the user controls runs in the admin's process. Buses
/// and namespaces are refused.
#[derive(Debug)]
pub struct AdminSystem<'a> {
    inner: &'a dyn System,
    host: Host,
}

impl<'a> AdminSystem<'a> {
    /// Wraps `inner`; `host` is where program paths are looked at.
    pub fn new(inner: &'a dyn System, host: Host) -> Self {
        AdminSystem { inner, host }
    }

    /// Whether `path` and its ancestors are root's and not writable by group or others.
    fn trusted(&self, path: &Path) -> bool {
        let Some(real) = self.host.canonicalize(path) else {
            return false;
        };
        let mut at: Option<PathBuf> = Some(real);
        while let Some(p) = at {
            match self.host.stat(&p) {
                Ok(Some(info)) if info.uid == 0 && info.perms() & 0o022 == 0 => {}
                _ => return false,
            }
            at = p.parent().map(Path::to_path_buf);
        }
        true
    }

    fn refuse(program: &Path, why: &str) -> ProcessError {
        ProcessError {
            program: program.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, why.to_owned()),
        }
    }
}

/// Why a refused probe was not run.
const ANOTHER_USER: &str = "not run: the checks run on another user's behalf (--user)";

impl System for AdminSystem<'_> {
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        let version_query = matches!(
            invocation
                .args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .as_slice(),
            [a] if a == "--version" || a == "-V"
        );
        if invocation.namespace != Namespace::Host || !version_query {
            return Err(Self::refuse(&invocation.program, ANOTHER_USER));
        }
        if !self.trusted(&invocation.program) {
            return Err(Self::refuse(
                &invocation.program,
                "not run as the admin: not a root-owned program in root-owned directories",
            ));
        }
        self.inner.run(invocation)
    }

    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProcessError> {
        Err(Self::refuse(&request.newuidmap, ANOTHER_USER))
    }

    fn ping_user_bus(&self, _address: &str) -> BusAnswer<()> {
        BusAnswer::Unreachable(ANOTHER_USER.to_owned())
    }

    fn user_manager(&self, _address: &str) -> BusAnswer<ManagerInfo> {
        BusAnswer::Unreachable(ANOTHER_USER.to_owned())
    }

    fn linger(&self, uid: u32) -> BusAnswer<bool> {
        self.inner.linger(uid)
    }
    fn engine_warnings(&self, _socket: &Path) -> Result<Vec<String>, String> {
        Err(ANOTHER_USER.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ScriptedSystem;
    use rootless_setup_core::testing::Fixture;

    #[test]
    fn only_version_queries_of_root_programs_run() {
        let fx = Fixture::new();
        fx.exe("/usr/bin/rootlesskit")
            .exe("/home/alice/bin/rootlesskit")
            .meta("/", "uid=0 mode=0755")
            .meta("/usr", "uid=0 mode=0755")
            .meta("/usr/bin", "uid=0 mode=0755")
            .meta("/usr/bin/rootlesskit", "uid=0 mode=0755")
            .meta("/home", "uid=0 mode=0755")
            .meta("/home/alice/bin", "uid=1000 mode=0755");
        let inner = ScriptedSystem::new().on(
            "rootlesskit",
            "",
            ScriptedSystem::ok("rootlesskit version 1.1.0\n"),
        );
        let host = fx.host();
        let sys = AdminSystem::new(&inner, host);
        let v = Invocation::new("/usr/bin/rootlesskit").args(["--version"]);
        assert!(sys.run(&v).is_ok());
        assert!(
            sys.run(&Invocation::new("/usr/bin/rootlesskit").args(["--net=slirp4netns"]))
                .is_err()
        );
        assert!(sys.run(&v.clone().in_userns()).is_err());
        let user = Invocation::new("/home/alice/bin/rootlesskit").args(["--version"]);
        assert!(
            sys.run(&user).is_err(),
            "a program in the user's home must not run"
        );
        assert_eq!(inner.calls().len(), 1);
        assert!(matches!(
            sys.ping_user_bus("unix:path=/run/user/1000/bus"),
            BusAnswer::Unreachable(_)
        ));
    }

    #[test]
    fn the_caller_comes_from_passwd() {
        let fx = Fixture::new();
        fx.file("/etc/passwd", "alice:x:1000:1001::/home/a b:/bin/sh\n");
        let c = caller_for(&fx.host(), "alice").unwrap();
        assert_eq!(
            (c.uid, c.gid, c.var("HOME")),
            (1000, 1001, Some("/home/a b"))
        );
        assert!(matches!(caller_for(&fx.host(), "bob"), Err(NoSuchUser(_))));
        let s = selection();
        assert!(s.contains(CheckId::SubidUid) && !s.contains(CheckId::SessionBus));
        // engine.installed only reads the user's unit files: an admin sees a unit the install
        // would replace.
        assert!(s.contains(CheckId::EngineInstalled));
    }
}
