//! `cgroup`: the cgroup version (decided like the engine, by the filesystem at `/sys/fs/cgroup`;
//! see [`layout`]), and on cgroup v2 the controllers delegated to the user's systemd manager
//! (`user@UID.service`), found by walking up the caller's own cgroup from `/proc/self/cgroup`
//! rather than assuming a path. Without delegated controllers rootless containers run, but
//! without resource limits.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::mountinfo;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix, Status};
use rootless_setup_core::model::Facts;
use rootless_setup_core::remedy::Remedy;

mod layout;

use layout::{CGROUP_ROOT, Manager, SELF_CGROUP, UNIFIED_DIR, Version, find_manager, sysfs};

const ID: CheckId = CheckId::Cgroup;

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

/// The kernel command line change that switches to the unified hierarchy; `absent`: the
/// controllers the v2 root lacks (none on a v1 boot).
fn unified_boot_fix(cx: &Context<'_>, summary: &str, absent: &[&str]) -> Fix {
    Fix::root(ID, format!("{summary}, then reboot")).remedy(Remedy::UnifiedCgroupBoot {
        family: cx.distro.family,
        absent: absent.iter().map(|c| (*c).to_owned()).collect(),
    })
}

fn delegate_fix(uid: u32) -> Fix {
    Fix::root(
        ID,
        format!(
            "delegate the controllers to every user manager, then log out and back in (with linger on: sudo systemctl restart user@{uid}.service)"
        ),
    )
    .remedy(Remedy::DelegateControllers)
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// Checks the cgroup version and the controllers delegated to `user@UID.service`, and records
/// whether they are there (it passes only then) for `engine.binaries` and install.
pub(crate) fn cgroup(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let mut delegated = None;
    let finding = judge(cx, facts, &mut delegated);
    facts.controllers_delegated = Some(finding.status == Status::Pass);
    facts.delegated_controllers = delegated;
    finding
}

/// The finding; `delegated` gets the controllers delegated, when they could be told.
fn judge(cx: &Context<'_>, facts: &Facts, delegated: &mut Option<Vec<String>>) -> Finding {
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
    let layout = match Layout::decide(cx, &text) {
        Ok(layout) => layout,
        Err(finding) => return *finding,
    };
    let layout_seen = |f: Finding| layout.observe(f);
    if let Some(host) = facts.without_systemd() {
        return layout_seen(Finding::warn(
            ID,
            format!(
                "no systemd (PID 1 is {}): no user manager to delegate cgroup controllers to, so \
                 rootless containers get no resource limits",
                host.pid1_label()
            ),
        ))
        .observe("path", SELF_CGROUP)
        .why(
            "rootless engines get their cgroup controllers from the systemd user manager \
             (user@UID.service); started by hand without it, `docker run --memory/--cpus/\
             --pids-limit` fail and `docker stats` shows no usage, while containers still run",
        );
    }
    if layout.version != Version::V2 {
        *delegated = Some(Vec::new());
        let v1 = layout::v1_hierarchies(&text);
        let name = match layout.version {
            Version::Hybrid => "hybrid (v1 controllers, v2 for systemd)",
            _ => "v1",
        };
        return layout_seen(Finding::warn(ID, format!("cgroup {name}: rootless containers get no resource limits")))
            .observe("path", SELF_CGROUP)
            .observe("v1_hierarchies", if v1.is_empty() { "none".to_owned() } else { v1.join(" ") })
            .why("on cgroup v1 an unprivileged engine cannot create cgroups, so `docker run --memory/--cpus/--pids-limit` do not work and `docker stats` shows no usage; rootless resource control needs cgroup v2")
            .fix(unified_boot_fix(cx, "boot with the unified cgroup v2 hierarchy", &[]));
    }
    let Some(path) = layout::unified_path(&text).map(str::to_owned) else {
        return layout_seen(Finding::warn(ID, format!("cgroup v2 is mounted at {CGROUP_ROOT}, but {SELF_CGROUP} has no 0:: line: own cgroup unknown")))
            .observe("path", SELF_CGROUP)
            .observe("contents", text.trim())
            .why("without the caller's own cgroup the user manager's cgroup, and so the delegated controllers, cannot be found; resource limits may not work");
    };
    let base = |f: Finding| layout_seen(f).observe("own_cgroup", &path);
    let manager = match user_manager(cx, &path, uid, &base) {
        Ok(manager) => manager,
        Err(finding) => return *finding,
    };
    let (finding, found) = delegation(cx, uid, &manager, &base);
    *delegated = found;
    finding
}

/// How the cgroup version was decided, and from what.
struct Layout {
    version: Version,
    cgroup_fs: String,
    decided_by: &'static str,
}

impl Layout {
    /// Decided like the engine: by the filesystem at /sys/fs/cgroup. Only without a readable
    /// mountinfo by the lines of /proc/self/cgroup (`text`), which in a container can list the
    /// host's. `Err`: the finding when there is no cgroup to decide by.
    fn decide(cx: &Context<'_>, text: &str) -> Result<Layout, Box<Finding>> {
        let mounts = Some(cx.memo.mounts_or_none(cx.host)).filter(|m| !m.is_empty());
        let (version, cgroup_fs, decided_by) = match &mounts {
            Some(mounts) => match layout::from_mounts(mounts) {
                Some((version, fstype)) => (version, fstype.to_owned(), mountinfo::PATH),
                None => {
                    return Err(Box::new(Finding::warn(ID, format!("nothing is mounted at {CGROUP_ROOT}: the engine finds no cgroups"))
                    .observe("path", mountinfo::PATH)
                    .observe("cgroup_fs", "not mounted")
                    .why("the engine creates its containers' cgroups under /sys/fs/cgroup; without a cgroup filesystem there it cannot start containers with resource limits, or at all")
                    .fix(Fix::root(ID, "mount the unified cgroup hierarchy (systemd does this at boot; inside a container, give it /sys/fs/cgroup)").cmd(format!("sudo mount -t cgroup2 none {CGROUP_ROOT}")))));
                }
            },
            None => match layout::from_self_cgroup(text, cx.host.exists(UNIFIED_DIR)) {
                Some(version) => (
                    version,
                    "unknown (mountinfo unreadable)".to_owned(),
                    SELF_CGROUP,
                ),
                None => {
                    return Err(Box::new(Finding::warn(ID, format!("{SELF_CGROUP} lists no cgroup hierarchy"))
                    .observe("path", SELF_CGROUP)
                    .observe("contents", text.trim())
                    .why("without cgroups the engine cannot apply resource limits to containers")));
                }
            },
        };
        Ok(Layout {
            version,
            cgroup_fs,
            decided_by,
        })
    }

    fn observe(&self, f: Finding) -> Finding {
        f.observe("version", self.version.name())
            .observe("cgroup_fs", &self.cgroup_fs)
            .observe("decided_by", self.decided_by)
    }
}

/// The cgroup of `user@UID.service` the caller's cgroup `path` belongs to; `Err`: the finding
/// when there is none to check (`base` adds what was seen so far).
fn user_manager(
    cx: &Context<'_>,
    path: &str,
    uid: u32,
    base: &dyn Fn(Finding) -> Finding,
) -> Result<PathBuf, Box<Finding>> {
    let not_in_session = "delegation is granted to user@UID.service; from this session (su, sudo, a container, a cron job) it cannot be checked, and an engine started here would get no controllers";
    let log_in = || {
        Fix::user(
            ID,
            "log in as the user directly (ssh, console or desktop; or `machinectl shell USER@`) and run the check again",
        )
    };
    let manager = match find_manager(path, uid) {
        Manager::Ancestor(p) => p,
        Manager::Sibling(p) if cx.host.exists(sysfs(&p).join("cgroup.controllers")) => p,
        Manager::Sibling(p) => {
            return Err(Box::new(base(Finding::warn(ID, format!("the systemd user manager's cgroup {} does not exist: user@{uid}.service is not running", p.display())))
                .observe("manager_cgroup", p.display())
                .why("the engine runs as a service of the user manager and gets its controllers from it; without a running manager there is nothing to delegate to")
                .fix(Fix::root(ID, "start the user manager by logging in through a PAM session (ssh, console, desktop) or enable linger").cmd(format!("sudo loginctl enable-linger {uid}")))));
        }
        Manager::NotFound => {
            return Err(Box::new(
                base(Finding::warn(
                    ID,
                    format!(
                        "not in a systemd user session: cgroup {path} is not under user-{uid}.slice"
                    ),
                ))
                .why(not_in_session)
                .fix(log_in()),
            ));
        }
        Manager::Outside => {
            return Err(Box::new(base(Finding::warn(ID, format!("not in a systemd user session: cgroup {path} lies outside this cgroup namespace (entered from outside, as with nsenter)")))
                .why(not_in_session)
                .fix(log_in())));
        }
    };
    Ok(manager)
}

/// The controllers delegated to the user manager's cgroup `manager`, against those required.
/// Also returns them, when `cgroup.controllers` could be read.
fn delegation(
    cx: &Context<'_>,
    uid: u32,
    manager: &Path,
    base: &dyn Fn(Finding) -> Finding,
) -> (Finding, Option<Vec<String>>) {
    let controllers_path = sysfs(manager).join("cgroup.controllers");
    let delegated = match cx.host.read_value(&controllers_path) {
        Ok(Some(text)) => words(&text),
        Ok(None) | Err(_) => {
            let finding = base(Finding::warn(
                ID,
                format!("could not read {}", controllers_path.display()),
            ))
            .observe("manager_cgroup", manager.display())
            .why("without it the delegated controllers are unknown; resource limits may not work");
            return (finding, None);
        }
    };
    let finding = judge_delegation(cx, uid, manager, &controllers_path, &delegated, base);
    (finding, Some(delegated))
}

/// The delegated controllers `delegated` (read from `controllers_path`) against those required.
fn judge_delegation(
    cx: &Context<'_>,
    uid: u32,
    manager: &Path,
    controllers_path: &Path,
    delegated: &[String],
    base: &dyn Fn(Finding) -> Finding,
) -> Finding {
    let root_path = sysfs(Path::new("/")).join("cgroup.controllers");
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
            &absent_at_root,
        ));
    }
    finding(Finding::warn(ID, summary))
        .why(why)
        .fix(delegate_fix(uid))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
