//! `engine.rootful`: a rootful daemon on the same host. Its socket (`/run/docker.sock`, or
//! containerd's `/run/containerd/containerd.sock`) is looked at, never connected to: connecting
//! could start a socket-activated daemon.

use crate::context::Context;
use crate::memo::Shared;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::host::{FileInfo, Host};
use rootless_setup_core::model::{Engine, Facts};
use rootless_setup_core::shell;

const ID: CheckId = CheckId::EngineRootful;

/// File type bits and the socket type (`S_IFMT`, `S_IFSOCK`).
const S_IFMT: u32 = 0o170_000;
const S_IFSOCK: u32 = 0o140_000;

/// A group from `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// Parses `/etc/group`; malformed lines are skipped.
fn parse_groups(text: &str) -> Vec<Group> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.trim().split(':');
            let name = fields.next()?.to_owned();
            let _password = fields.next()?;
            let gid = fields.next()?.parse().ok()?;
            let members = fields
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect();
            (!name.is_empty()).then_some(Group { name, gid, members })
        })
        .collect()
}

/// Why the caller may write to a file with `info`, or `None` when they may not.
fn write_access(info: &FileInfo, uid: u32, gids: &[u32], groups: &[Group]) -> Option<String> {
    if uid == 0 {
        return Some("you are root".to_owned());
    }
    if info.uid == uid && info.mode & 0o200 != 0 {
        return Some("you own it".to_owned());
    }
    if info.mode & 0o020 != 0 && gids.contains(&info.gid) {
        let name = groups
            .iter()
            .find(|g| g.gid == info.gid)
            .map_or_else(|| info.gid.to_string(), |g| g.name.clone());
        return Some(format!("you are in its group {name}"));
    }
    if info.mode & 0o002 != 0 {
        return Some("it is writable by everyone".to_owned());
    }
    None
}

/// Reports a rootful daemon whose socket exists, failing when the caller can reach it.
pub(crate) fn rootful(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let spec = cx.engine.spec();
    let daemon = spec.name;
    let (path, info) = match find_socket(cx.host, cx.engine, daemon) {
        Ok(found) => found,
        Err(none) => return *none,
    };
    let groups = parse_groups(cx.memo.text_or_empty(cx.host, Shared::Group));
    let (name, gids) = caller_groups(cx, facts, &groups);
    let group_name = groups
        .iter()
        .find(|g| g.gid == info.gid)
        .map_or_else(|| info.gid.to_string(), |g| g.name.clone());
    let access = write_access(&info, cx.caller.uid, &gids, &groups);

    let mut finding = Finding::pass(ID, "")
        .observe("socket", path)
        .observe("owner", info.uid)
        .observe("group", &group_name)
        .observe("mode", format!("{:04o}", info.perms()))
        .observe("writable", access.as_deref().unwrap_or("no"));
    let host_var = spec.address_variable;
    if let Some(value) = cx.caller.var(host_var) {
        finding = finding.observe(host_var.to_lowercase(), value);
    }
    let disable = match facts.without_systemd() {
        Some(host) => host.init.disable_service(spec.rootful_units),
        None => vec![format!(
            "sudo systemctl disable --now {}",
            spec.rootful_units.join(" ")
        )],
    };

    match access {
        Some(reason) => {
            finding.status = rootless_setup_core::finding::Status::Fail;
            finding.summary = format!(
                "a rootful {daemon} daemon listens on {path} and you can use it ({reason})"
            );
            let mut fix = Fix::root(
                ID,
                "stop and disable the rootful daemon (and leave the socket's group), or pass --force to `rootless-setup install` to run both",
            )
            .cmds(disable);
            if reason.starts_with("you are in its group")
                && let Some(user) = &name
            {
                fix = fix.cmd(format!(
                    "sudo gpasswd -d {} {}",
                    shell::quote(user),
                    shell::quote(&group_name)
                ));
            }
            finding
                .why(format!(
                    "install refuses to run next to a rootful daemon you can reach unless given --force, as dockerd-rootless-setuptool.sh did: two daemons answer and only {host_var} or the CLI context decides which one you get; and whoever can write to {path} is root-equivalent (a container can mount / from the host)"
                ))
                .fix(fix)
        }
        None => {
            finding.status = rootless_setup_core::finding::Status::Warn;
            finding.summary = format!(
                "a rootful {daemon} daemon listens on {path} (owner {}, group {group_name}, mode {:04o}); you cannot use it",
                info.uid,
                info.perms()
            );
            let mut note = String::from(
                "nothing to do if you want both; otherwise stop and disable the rootful daemon",
            );
            if cx.engine == Engine::Containerd {
                note.push_str(" (not while a rootful Docker still needs it)");
            }
            finding
                .why(format!(
                    "two daemons run side by side: {host_var} (or the CLI context) decides which one your commands reach, and images and containers of one are not visible to the other"
                ))
                .fix(Fix::root(ID, note).cmds(disable))
        }
    }
}

/// The first of the engine's rootful sockets that exists; else the finding that there is none
/// (or that they could not be looked at).
fn find_socket(
    host: &Host,
    engine: Engine,
    daemon: &str,
) -> Result<(&'static str, FileInfo), Box<Finding>> {
    let mut seen = Vec::new();
    let mut unreadable = Vec::new();
    for &path in engine.spec().rootful_sockets {
        match host.stat(path) {
            Ok(Some(info)) if info.mode & S_IFMT == S_IFSOCK => return Ok((path, info)),
            Ok(Some(info)) => seen.push(format!("{path} is not a socket (mode {:o})", info.mode)),
            Ok(None) => seen.push(format!("{path} absent")),
            // A socket in a directory the caller may not enter (Podman's /run/podman is root's
            // 0700) is one no client of the caller's can reach either.
            Err(e) if e.source.kind() == std::io::ErrorKind::PermissionDenied => {
                seen.push(format!(
                    "{path} is in a directory you cannot enter, so no client of yours reaches it"
                ))
            }
            Err(e) => unreadable.push(e.to_string()),
        }
    }
    let mut f = if unreadable.is_empty() {
        Finding::pass(ID, format!("no rootful {daemon} daemon socket"))
    } else {
        Finding::warn(
            ID,
            format!(
                "could not look at the rootful {daemon} socket: {}",
                unreadable.join("; ")
            ),
        )
        .why("a rootful daemon next to the rootless one cannot be ruled out")
        .fix(Fix::user(
            ID,
            format!(
                "re-run the check as a user who can see /run, or look with `ls -l {}`",
                engine.spec().rootful_sockets.first().unwrap_or(&"/run")
            ),
        ))
    };
    for s in seen {
        f = f.observe("checked", s);
    }
    Err(Box::new(f))
}

/// The caller's name (when known) and the groups they are in: the process's group, the
/// account's primary group and every group of `/etc/group` that lists them.
fn caller_groups(cx: &Context<'_>, facts: &Facts, groups: &[Group]) -> (Option<String>, Vec<u32>) {
    let account = super::super::user::caller_account(cx, facts);
    let (name, primary) = (
        account.as_ref().map(|a| a.name.clone()),
        account.map(|a| a.gid),
    );
    let mut gids: Vec<u32> = vec![cx.caller.gid];
    gids.extend(primary);
    if let Some(name) = &name {
        gids.extend(
            groups
                .iter()
                .filter(|g| g.members.contains(name))
                .map(|g| g.gid),
        );
    }
    (name, gids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::testing::Fixture;
    use std::os::unix::net::UnixListener;

    const GROUPS: &str = "root:x:0:\ndocker:x:998:bob,alice\nalice:x:1000:\nbob:x:1001:\n";

    /// A fixture with a real socket at `path` (as the fixture's `/.fixture-meta` cannot make
    /// one) whose owner and mode are overridden to `attrs`.
    fn with_socket(path: &str, attrs: &str) -> Fixture {
        let fx = Fixture::new();
        fx.file("/etc/group", GROUPS)
            .file("/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/bash\n")
            .dir("/run/containerd");
        let real = fx.path(path);
        let _listener = UnixListener::bind(&real).expect("bind a fixture socket");
        fx.meta(path, attrs);
        fx
    }

    fn run(fx: &Fixture, caller: Caller, engine: Engine) -> Finding {
        let mut h = Harness::new(fx, caller, ScriptedSystem::new());
        h.engine = engine;
        rootful(&h.context(), &mut Facts::default())
    }

    fn alice() -> Caller {
        Caller::new(1000, 1000)
    }

    #[test]
    fn no_socket_passes() {
        let fx = Fixture::new();
        fx.dir("/run");
        let f = run(&fx, alice(), Engine::Docker);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.summary, "no rootful docker daemon socket");
        assert!(
            f.observed
                .iter()
                .any(|o| o.value == "/run/docker.sock absent")
        );
    }

    #[test]
    fn sockets_that_cannot_be_looked_at_are_named_for_the_engine() {
        for (engine, socket) in [
            (Engine::Docker, "/run/docker.sock"),
            (Engine::Containerd, "/run/containerd/containerd.sock"),
        ] {
            let fx = Fixture::new();
            // A file where /run should be: looking below it fails (not a directory).
            fx.file("/run", "");
            let f = run(&fx, alice(), engine);
            assert_eq!(f.status, Status::Warn, "{f:#?}");
            let fix = f.fix.expect("a fix");
            assert_eq!(
                fix.summary,
                format!(
                    "re-run the check as a user who can see /run, or look with `ls -l {socket}`"
                )
            );
        }
    }

    #[test]
    fn a_directory_where_the_socket_should_be_is_no_daemon() {
        let fx = Fixture::new();
        fx.dir("/run/docker.sock");
        let f = run(&fx, alice(), Engine::Docker);
        assert_eq!(f.status, Status::Pass);
        assert!(
            f.observed
                .iter()
                .any(|o| o.value.contains("is not a socket"))
        );
    }

    #[test]
    fn docker_group_member_fails_and_is_told_to_leave_the_group() {
        let fx = with_socket("/run/docker.sock", "uid=0 gid=998 mode=0660");
        let f = run(
            &fx,
            alice().with_var("DOCKER_HOST", "unix:///run/docker.sock"),
            Engine::Docker,
        );
        assert_eq!(f.status, Status::Fail, "{f:#?}");
        assert_eq!(
            f.summary,
            "a rootful docker daemon listens on /run/docker.sock and you can use it (you are in its group docker)"
        );
        assert_eq!(f.observed("group"), Some("docker"));
        assert_eq!(f.observed("mode"), Some("0660"));
        assert_eq!(f.observed("owner"), Some("0"));
        assert_eq!(f.observed("docker_host"), Some("unix:///run/docker.sock"));
        let fix = f.fix.expect("a fix");
        assert!(fix.root);
        assert!(fix.summary.contains("--force"));
        assert_eq!(
            fix.commands,
            vec![
                "sudo systemctl disable --now docker.service docker.socket".to_owned(),
                "sudo gpasswd -d alice docker".to_owned()
            ]
        );
        assert!(f.why.unwrap_or_default().contains("root-equivalent"));
    }

    #[test]
    fn membership_comes_from_the_account_when_known() {
        let fx = with_socket("/run/docker.sock", "uid=0 gid=998 mode=0660");
        // The passwd file says nothing; the account from `user` names bob, a member.
        fx.file("/etc/passwd", "");
        let mut h = Harness::new(&fx, Caller::new(1001, 1001), ScriptedSystem::new());
        h.engine = Engine::Docker;
        let mut facts = Facts {
            account: Some(rootless_setup_core::testing::account(
                "bob",
                1001,
                "/home/bob",
            )),
            ..Facts::default()
        };
        let f = rootful(&h.context(), &mut facts);
        assert_eq!(f.status, Status::Fail);
    }

    #[test]
    fn a_socket_owned_by_the_caller_or_open_to_all_fails() {
        let fx = with_socket("/run/docker.sock", "uid=1000 gid=0 mode=0600");
        assert_eq!(run(&fx, alice(), Engine::Docker).status, Status::Fail);
        let fx = with_socket("/run/docker.sock", "uid=0 gid=0 mode=0666");
        let f = run(&fx, Caller::new(1234, 1234), Engine::Docker);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("writable"), Some("it is writable by everyone"));
        // No group to leave.
        assert_eq!(f.fix.map(|x| x.commands.len()), Some(1));
    }

    #[test]
    fn a_socket_the_caller_cannot_use_warns() {
        let fx = with_socket("/run/docker.sock", "uid=0 gid=998 mode=0660");
        let f = run(&fx, Caller::new(1002, 1002), Engine::Docker);
        assert_eq!(f.status, Status::Warn, "{f:#?}");
        assert!(f.summary.contains("you cannot use it"), "{}", f.summary);
        assert_eq!(f.observed("writable"), Some("no"));
        assert!(f.why.unwrap_or_default().contains("DOCKER_HOST"));
        assert_eq!(
            f.fix.map(|x| x.commands),
            Some(vec![
                "sudo systemctl disable --now docker.service docker.socket".to_owned()
            ])
        );
    }

    #[test]
    fn the_primary_group_counts() {
        let fx = with_socket("/run/docker.sock", "uid=0 gid=998 mode=0660");
        let f = run(&fx, Caller::new(1002, 998), Engine::Docker);
        assert_eq!(f.status, Status::Fail);
    }

    #[test]
    fn containerd_looks_at_its_own_socket() {
        let fx = with_socket("/run/containerd/containerd.sock", "uid=0 gid=0 mode=0660");
        let f = run(&fx, alice(), Engine::Containerd);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(
            f.observed("socket"),
            Some("/run/containerd/containerd.sock")
        );
        assert_eq!(
            f.fix.map(|x| x.commands),
            Some(vec![
                "sudo systemctl disable --now containerd.service".to_owned()
            ])
        );
        // The docker engine does not care about containerd's socket.
        assert_eq!(run(&fx, alice(), Engine::Docker).status, Status::Pass);
    }

    proptest::proptest! {
        #[test]
        fn group_parsing_never_panics(text in "(?s).{0,300}") {
            let _ = parse_groups(&text);
        }
    }

    #[test]
    fn group_file_parsing_survives_garbage() {
        let groups = parse_groups("docker:x:998:a, b\nbad\n::1:\nx:x:notanumber:\n\u{0}:x:5:");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].members, vec!["a", "b"]);
    }
}
