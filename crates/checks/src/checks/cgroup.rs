//! `cgroup`: the cgroup version, and on cgroup v2 the controllers delegated to the user's systemd
//! manager (`user@UID.service`), found by walking up the caller's own cgroup from
//! `/proc/self/cgroup` rather than assuming a path. Without delegated controllers rootless
//! containers run, but without resource limits.

use std::path::{Path, PathBuf};

use crate::catalogue::CheckId;
use crate::context::{Context, Facts};
use crate::distro::Family;
use crate::finding::{Finding, Fix};

const ID: CheckId = CheckId::Cgroup;
const SELF_CGROUP: &str = "/proc/self/cgroup";
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const DELEGATE_CONF: &str = "/etc/systemd/system/user@.service.d/delegate.conf";

/// Controllers rootless containers need, with what is lost without each.
const REQUIRED: [(&str, &str); 3] = [
    ("cpu", "docker run --cpus/--cpu-shares"),
    ("memory", "docker run --memory"),
    ("pids", "docker run --pids-limit"),
];
/// Controllers worth having, observed but not required.
const OPTIONAL: [(&str, &str); 2] = [
    ("io", "docker run --blkio-weight/--device-read-bps"),
    ("cpuset", "docker run --cpuset-cpus"),
];

/// What `/proc/self/cgroup` says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// A single `0::/path` line.
    Unified(String),
    /// v1 hierarchies; `unified_path` is the `0::` line's path on a hybrid host.
    V1 { unified_path: Option<String> },
}

fn parse_self_cgroup(text: &str) -> Option<Layout> {
    let mut unified = None;
    let mut v1 = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            unified = Some(path.to_owned());
        } else {
            v1 = true;
        }
    }
    match (v1, unified) {
        (false, Some(path)) => Some(Layout::Unified(path)),
        (true, unified_path) => Some(Layout::V1 { unified_path }),
        (false, None) => None,
    }
}

/// Where the user manager's cgroup is, relative to the cgroup root.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Manager {
    /// The caller runs inside it (a desktop terminal, `systemd-run --user`, …).
    Ancestor(PathBuf),
    /// The caller runs in a session scope next to it (ssh, a console login).
    Sibling(PathBuf),
    /// Neither: not in the user's systemd session.
    NotFound,
}

fn find_manager(cgroup_path: &str, uid: u32) -> Manager {
    let service = format!("user@{uid}.service");
    let slice = format!("user-{uid}.slice");
    let mut prefix = PathBuf::from("/");
    let mut slice_prefix = None;
    for component in cgroup_path.split('/').filter(|c| !c.is_empty()) {
        prefix.push(component);
        if component == service {
            return Manager::Ancestor(prefix);
        }
        if component == slice {
            slice_prefix = Some(prefix.clone());
        }
    }
    match slice_prefix {
        Some(p) => Manager::Sibling(p.join(service)),
        None => Manager::NotFound,
    }
}

fn sysfs(cgroup: &Path) -> PathBuf {
    Path::new(CGROUP_ROOT).join(cgroup.strip_prefix("/").unwrap_or(cgroup))
}

/// The kernel command line change that switches to the unified hierarchy, per family.
fn unified_boot_fix(cx: &Context<'_>, summary: &str) -> Fix {
    let arg = "systemd.unified_cgroup_hierarchy=1";
    let sed = format!("sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&{arg} /' /etc/default/grub");
    let fix = Fix::root(ID, format!("{summary}, then reboot"));
    match cx.distro.family {
        Family::Debian => fix.cmd(sed).cmd("sudo update-grub"),
        Family::Fedora => fix.cmd(format!("sudo grubby --update-kernel=ALL --args={arg}")),
        Family::Suse => fix
            .cmd(sed)
            .cmd("sudo grub2-mkconfig -o /boot/grub2/grub.cfg"),
        Family::Arch | Family::Unknown => fix
            .cmd(sed)
            .cmd("sudo grub-mkconfig -o /boot/grub/grub.cfg"),
    }
}

fn delegate_fix(uid: u32) -> Fix {
    Fix::root(
        ID,
        format!(
            "delegate the controllers to every user manager, then log out and back in (with linger on: sudo systemctl restart user@{uid}.service)"
        ),
    )
    .cmd("sudo mkdir -p /etc/systemd/system/user@.service.d")
    .cmd(format!(
        "printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee {DELEGATE_CONF}"
    ))
    .cmd("sudo systemctl daemon-reload")
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// Checks the cgroup version and the controllers delegated to `user@UID.service`.
pub(crate) fn cgroup(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let uid = facts.account.as_ref().map_or(cx.caller.uid, |a| a.uid);
    let text = match cx.host.read(SELF_CGROUP) {
        Ok(Some(text)) => text,
        Ok(None) => {
            return Finding::warn(
                ID,
                format!("{SELF_CGROUP} does not exist: cannot tell the cgroup version"),
            )
            .observe("path", SELF_CGROUP)
            .why("without cgroups the engine cannot apply resource limits to containers");
        }
        Err(e) => {
            return Finding::warn(ID, format!("could not read {SELF_CGROUP}: {}", e.source))
                .observe("path", SELF_CGROUP)
                .why("without it the cgroup version and delegation are unknown; resource limits may not work");
        }
    };
    let Some(layout) = parse_self_cgroup(&text) else {
        return Finding::warn(ID, format!("{SELF_CGROUP} lists no cgroup hierarchy"))
            .observe("path", SELF_CGROUP)
            .observe("contents", text.trim())
            .why("without cgroups the engine cannot apply resource limits to containers");
    };
    let path = match layout {
        Layout::V1 { unified_path } => {
            let hybrid = unified_path.is_some() && cx.host.exists("/sys/fs/cgroup/unified");
            let version = if hybrid {
                "hybrid (v1 controllers, v2 for systemd)"
            } else {
                "v1"
            };
            let controllers: Vec<&str> = text
                .lines()
                .filter_map(|l| l.split(':').nth(1))
                .filter(|c| !c.is_empty())
                .collect();
            return Finding::warn(ID, format!("cgroup {version}: rootless containers get no resource limits"))
                .observe("version", if hybrid { "hybrid" } else { "v1" })
                .observe("path", SELF_CGROUP)
                .observe("v1_hierarchies", controllers.join(" "))
                .why("on cgroup v1 an unprivileged engine cannot create cgroups, so `docker run --memory/--cpus/--pids-limit` do not work and `docker stats` shows no usage; rootless resource control needs cgroup v2")
                .fix(unified_boot_fix(cx, "boot with the unified cgroup v2 hierarchy"));
        }
        Layout::Unified(path) => path,
    };
    let base = |f: Finding| f.observe("version", "v2").observe("own_cgroup", &path);
    let manager = match find_manager(&path, uid) {
        Manager::Ancestor(p) => p,
        Manager::Sibling(p) if cx.host.exists(sysfs(&p).join("cgroup.controllers")) => p,
        Manager::Sibling(p) => {
            return base(Finding::warn(ID, format!("the systemd user manager's cgroup {} does not exist: user@{uid}.service is not running", p.display())))
                .observe("manager_cgroup", p.display())
                .why("the engine runs as a service of the user manager and gets its controllers from it; without a running manager there is nothing to delegate to")
                .fix(Fix::root(ID, "start the user manager by logging in through a PAM session (ssh, console, desktop) or enable linger").cmd(format!("sudo loginctl enable-linger {uid}")));
        }
        Manager::NotFound => {
            return base(Finding::warn(ID, format!("not in a systemd user session: cgroup {path} is not under user-{uid}.slice")))
                .why("delegation is granted to user@UID.service; from this session (su, sudo, a container, a cron job) it cannot be checked, and an engine started here would get no controllers")
                .fix(Fix::user(ID, "log in as the user directly (ssh, console or desktop; or `machinectl shell USER@`) and run the check again"));
        }
    };
    let controllers_path = sysfs(&manager).join("cgroup.controllers");
    let root_path = sysfs(Path::new("/")).join("cgroup.controllers");
    let delegated = match cx.host.read_value(&controllers_path) {
        Ok(Some(text)) => words(&text),
        Ok(None) | Err(_) => {
            return base(Finding::warn(
                ID,
                format!("could not read {}", controllers_path.display()),
            ))
            .observe("manager_cgroup", manager.display())
            .why("without it the delegated controllers are unknown; resource limits may not work");
        }
    };
    let available = cx
        .host
        .read_value(&root_path)
        .ok()
        .flatten()
        .map(|t| words(&t));
    let has = |name: &str| delegated.iter().any(|c| c == name);
    let missing: Vec<(&str, &str)> = REQUIRED.into_iter().filter(|(c, _)| !has(c)).collect();
    let missing_optional: Vec<&str> = OPTIONAL
        .into_iter()
        .filter(|(c, _)| !has(c))
        .map(|(c, _)| c)
        .collect();
    let finding = |f: Finding| {
        let f = base(f)
            .observe("manager_cgroup", manager.display())
            .observe("controllers_file", controllers_path.display())
            .observe("delegated", delegated.join(" "))
            .observe(
                "kernel_controllers",
                available
                    .as_ref()
                    .map_or_else(|| "unknown".to_owned(), |a| a.join(" ")),
            );
        if missing_optional.is_empty() {
            f
        } else {
            f.observe("missing_optional", missing_optional.join(" "))
        }
    };
    if missing.is_empty() {
        return finding(Finding::pass(
            ID,
            format!(
                "cgroup v2 with {} delegated to user@{uid}.service",
                delegated.join(" ")
            ),
        ));
    }
    let names: Vec<&str> = missing.iter().map(|(c, _)| *c).collect();
    let lost: Vec<&str> = missing.iter().map(|(_, l)| *l).collect();
    let summary = format!(
        "cgroup v2, but {} not delegated to user@{uid}.service",
        names.join(", ")
    );
    let why = format!(
        "without these controllers {} do not work in rootless containers",
        lost.join(", ")
    );
    // A controller the root does not offer cannot be delegated: it is bound to a v1 hierarchy
    // (hybrid boot) or missing from the kernel.
    let absent_at_root: Vec<&str> = match &available {
        Some(a) => names
            .iter()
            .copied()
            .filter(|n| !a.iter().any(|c| c == n))
            .collect(),
        None => Vec::new(),
    };
    if !absent_at_root.is_empty() {
        return finding(Finding::warn(
            ID,
            format!(
                "{summary}; the kernel's cgroup v2 root does not offer {} at all",
                absent_at_root.join(", ")
            ),
        ))
        .why(format!(
            "{why}; a controller still bound to a cgroup v1 hierarchy cannot be delegated"
        ))
        .fix(unified_boot_fix(
            cx,
            "boot with every controller on the unified hierarchy",
        ));
    }
    finding(Finding::warn(ID, summary))
        .why(why)
        .fix(delegate_fix(uid))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::finding::Status;
    use crate::testing::{Fixture, Harness, ScriptedSystem};

    const HYBRID: &str = "12:pids:/user.slice/user-1000.slice/session-2.scope\n4:memory:/user.slice/user-1000.slice/session-2.scope\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n0::/user.slice/user-1000.slice/session-2.scope\n";

    fn fixture(os: &str) -> Fixture {
        let fx = Fixture::new();
        fx.file("/etc/os-release", os);
        fx
    }

    fn run(fx: &Fixture) -> Finding {
        let h = Harness::new(fx, Caller::new(1000, 1000), ScriptedSystem::new());
        cgroup(&h.context(), &mut Facts::default())
    }

    fn v2(fx: &Fixture, own: &str, root: &str, manager: Option<&str>) {
        fx.file(SELF_CGROUP, &format!("0::{own}\n"))
            .file("/sys/fs/cgroup/cgroup.controllers", &format!("{root}\n"));
        if let Some(m) = manager {
            fx.file(
                "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers",
                &format!("{m}\n"),
            );
        }
    }

    #[test]
    fn delegated_controllers_pass() {
        let fx = fixture("ID=debian\n");
        v2(
            &fx,
            "/user.slice/user-1000.slice/user@1000.service/app.slice/app-term.scope",
            "cpuset cpu io memory hugetlb pids rdma misc",
            Some("cpuset cpu io memory pids"),
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(f.observed("version"), Some("v2"));
        assert_eq!(
            f.observed("manager_cgroup"),
            Some("/user.slice/user-1000.slice/user@1000.service")
        );
        assert_eq!(f.observed("delegated"), Some("cpuset cpu io memory pids"));
        assert_eq!(f.observed("missing_optional"), None);
    }

    #[test]
    fn an_ssh_session_finds_the_manager_next_to_it_and_warns_on_missing_cpu() {
        let fx = fixture("ID=debian\n");
        v2(
            &fx,
            "/user.slice/user-1000.slice/session-3.scope",
            "cpuset cpu io memory pids",
            Some("memory pids"),
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(
            f.summary,
            "cgroup v2, but cpu not delegated to user@1000.service"
        );
        assert!(f.why.as_ref().unwrap().contains("--cpus"));
        assert_eq!(f.observed("missing_optional"), Some("io cpuset"));
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(
            fix.commands[1],
            "printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf"
        );
        assert_eq!(fix.commands[2], "sudo systemctl daemon-reload");
        assert!(fix.summary.contains("log out and back in"));
    }

    #[test]
    fn optional_controllers_alone_do_not_warn() {
        let fx = fixture("ID=debian\n");
        v2(
            &fx,
            "/user.slice/user-1000.slice/user@1000.service/init.scope",
            "cpuset cpu io memory pids",
            Some("cpu memory pids"),
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("missing_optional"), Some("io cpuset"));
    }

    #[test]
    fn controllers_the_root_lacks_need_a_unified_boot() {
        let fx = fixture("ID=fedora\n");
        v2(
            &fx,
            "/user.slice/user-1000.slice/user@1000.service/init.scope",
            "",
            Some(""),
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("cpu, memory, pids not delegated"));
        assert!(
            f.summary
                .contains("does not offer cpu, memory, pids at all")
        );
        assert_eq!(
            f.fix.unwrap().commands,
            vec!["sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1"]
        );
    }

    #[test]
    fn cgroup_v1_warns_with_the_grub_change() {
        let fx = fixture("ID=debian\n");
        fx.file(
            SELF_CGROUP,
            "4:memory:/user.slice\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n",
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.observed("version"), Some("v1"));
        assert_eq!(f.observed("v1_hierarchies"), Some("memory name=systemd"));
        assert!(f.summary.contains("no resource limits"));
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(
            fix.commands,
            vec![
                "sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub",
                "sudo update-grub"
            ]
        );
        assert!(fix.summary.ends_with("then reboot"));
    }

    #[test]
    fn a_hybrid_host_is_named_as_such() {
        let fx = fixture("ID=opensuse-tumbleweed\n");
        fx.file(SELF_CGROUP, HYBRID).dir("/sys/fs/cgroup/unified");
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.observed("version"), Some("hybrid"));
        assert!(f.fix.unwrap().commands[1].contains("grub2-mkconfig"));
    }

    #[test]
    fn outside_a_user_session_warns() {
        let fx = fixture("ID=debian\n");
        v2(&fx, "/system.slice/cron.service", "cpu memory pids", None);
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("not in a systemd user session"));
        assert!(f.fix.unwrap().summary.contains("machinectl shell"));
    }

    #[test]
    fn a_session_without_a_running_manager_warns() {
        let fx = fixture("ID=debian\n");
        v2(
            &fx,
            "/user.slice/user-1000.slice/session-4.scope",
            "cpu memory pids",
            None,
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("user@1000.service is not running"));
        assert_eq!(
            f.fix.unwrap().commands,
            vec!["sudo loginctl enable-linger 1000"]
        );
    }

    #[test]
    fn a_missing_proc_file_warns() {
        let fx = fixture("ID=debian\n");
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.observed("path"), Some(SELF_CGROUP));
        fx.file(SELF_CGROUP, "garbage\n");
        assert!(run(&fx).summary.contains("lists no cgroup hierarchy"));
    }

    #[test]
    fn the_manager_is_found_by_walking_up() {
        assert_eq!(
            find_manager(
                "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
                1000
            ),
            Manager::Ancestor("/user.slice/user-1000.slice/user@1000.service".into())
        );
        assert_eq!(
            find_manager("/user.slice/user-1000.slice/user@1000.service", 1001),
            Manager::NotFound
        );
        assert_eq!(find_manager("/", 0), Manager::NotFound);
    }

    proptest::proptest! {
        #[test]
        fn self_cgroup_parses_any_text(text in "\\PC*") {
            if let Some(Layout::Unified(path)) = parse_self_cgroup(&text) {
                let _ = find_manager(&path, 1000);
            }
        }
    }
}
