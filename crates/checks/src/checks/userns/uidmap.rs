//! The `uidmap` check: `newuidmap` and `newgidmap`, as rootlesskit will find them (first on the
//! caller's `PATH`, then the standard directories), root-owned regular files that are setuid or
//! carry `cap_setuid`/`cap_setgid` file capabilities, and not on a `nosuid` mount.

use std::path::{Path, PathBuf};

use crate::caps::{self, CAP_SETGID, CAP_SETUID, FileCaps};
use crate::context::Context;
use crate::mountinfo::{Mount, mount_of};
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::{Family, Package};
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::model::Facts;
use rootless_setup_core::remedy::{HELPER_DIRS, HelperFile, IdmapHelper, Remedy};
use rootless_setup_core::shell;

use super::super::common;
use super::super::subid::program_dirs;

const ID: CheckId = CheckId::Uidmap;
/// The capabilities the helpers need, by name, for observations.
const NAMED_CAPS: [(u32, &str); 2] = [(CAP_SETGID, "cap_setgid"), (CAP_SETUID, "cap_setuid")];

/// One of the two helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Helper {
    Uid,
    Gid,
}

impl Helper {
    fn name(self) -> &'static str {
        match self {
            Helper::Uid => "newuidmap",
            Helper::Gid => "newgidmap",
        }
    }

    fn cap(self) -> u32 {
        match self {
            Helper::Uid => CAP_SETUID,
            Helper::Gid => CAP_SETGID,
        }
    }

    fn cap_name(self) -> &'static str {
        match self {
            Helper::Uid => "cap_setuid",
            Helper::Gid => "cap_setgid",
        }
    }
}

/// What is wrong with a found helper.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Defect {
    NotRegular,
    NotRootOwned(u32),
    NoPrivilege,
    Nosuid(PathBuf),
}

/// What was seen of one found helper.
#[derive(Debug, Clone)]
struct Seen {
    path: PathBuf,
    real: PathBuf,
    uid: u32,
    perms: u32,
    caps: Option<FileCaps>,
    mount: Option<Mount>,
    defects: Vec<Defect>,
}

impl Seen {
    /// The helper as the fix script's repair sees it.
    fn helper_file(&self, helper: Helper) -> HelperFile {
        HelperFile {
            path: self.real.to_string_lossy().into_owned(),
            owner: self.uid,
            privileged: !self.privilege(helper).starts_with("none"),
            nosuid: self
                .mount
                .as_ref()
                .is_some_and(|m| m.options.iter().any(|o| o == "nosuid")),
        }
    }

    /// The observations about this copy, keyed by the helper's name.
    fn observations(&self, helper: Helper) -> Vec<(String, String)> {
        let name = helper.name();
        let mut out = vec![(name.to_owned(), self.path.display().to_string())];
        if self.real != self.path {
            out.push((format!("{name}_real"), self.real.display().to_string()));
        }
        out.push((format!("{name}_owner"), self.uid.to_string()));
        out.push((format!("{name}_mode"), format!("{:04o}", self.perms)));
        out.push((format!("{name}_privilege"), self.privilege(helper)));
        if let Some(m) = &self.mount {
            out.push((
                format!("{name}_mount"),
                format!("{} ({})", m.mount_point.display(), m.options.join(",")),
            ));
        }
        out
    }

    fn privilege(&self, helper: Helper) -> String {
        let setuid = self.perms & 0o4000 != 0 && self.uid == 0;
        match (&self.caps, setuid) {
            (Some(c), _) if c.permits(helper.cap()) => {
                format!("file capabilities {}", c.describe(&NAMED_CAPS))
            }
            (_, true) => "setuid root".to_owned(),
            (Some(c), false) => format!("none (file capabilities {})", c.describe(&NAMED_CAPS)),
            (None, false) => "none".to_owned(),
        }
    }
}

fn inspect(cx: &Context<'_>, mounts: &[Mount], helper: Helper, path: &Path) -> Seen {
    let real = cx
        .host
        .canonicalize(path)
        .unwrap_or_else(|| path.to_owned());
    let info = cx.host.stat(&real).ok().flatten();
    let (uid, perms, is_file) =
        info.map_or((u32::MAX, 0, false), |i| (i.uid, i.perms(), i.is_file));
    let caps = cx
        .host
        .xattr(&real, caps::XATTR)
        .and_then(|b| caps::decode(&b));
    let mount = mount_of(mounts, &real).cloned();
    let mut defects = Vec::new();
    if !is_file {
        defects.push(Defect::NotRegular);
    }
    if uid != 0 {
        defects.push(Defect::NotRootOwned(uid));
    }
    let setuid = perms & 0o4000 != 0;
    let capable = caps.is_some_and(|c| c.permits(helper.cap()));
    if !(setuid || capable) {
        defects.push(Defect::NoPrivilege);
    }
    if let Some(m) = mount.as_ref().filter(|m| m.nosuid()) {
        defects.push(Defect::Nosuid(m.mount_point.clone()));
    }
    Seen {
        path: path.to_owned(),
        real,
        uid,
        perms,
        caps,
        mount,
        defects,
    }
}

/// Every executable of that name in `dirs`, in order.
fn candidates(cx: &Context<'_>, dirs: &[PathBuf], name: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if let Some(p) = cx.host.find_executable(name, [dir.as_path()]) {
            out.push(p);
        }
    }
    out
}

/// Reinstalling the helpers' package, which restores owner and bits.
pub(super) fn reinstall(cx: &Context<'_>) -> Remedy {
    Remedy::InstallPackages {
        family: cx.distro.family,
        packages: vec![Package::Uidmap],
        reinstall: true,
    }
}

/// Root commands that give the helper its bits back (owner first: chown clears both).
fn bit_commands(cx: &Context<'_>, helper: Helper, seen: &Seen) -> Vec<String> {
    let path = shell::quote_path(&seen.real);
    let mut cmds = Vec::new();
    if seen
        .defects
        .iter()
        .any(|d| matches!(d, Defect::NotRootOwned(_)))
    {
        cmds.push(format!("sudo chown root:root {path}"));
    }
    if seen
        .defects
        .iter()
        .any(|d| matches!(d, Defect::NotRootOwned(_) | Defect::NoPrivilege))
    {
        // Fedora and Arch ship the helpers with file capabilities, the others setuid.
        cmds.push(match cx.distro.family {
            Family::Fedora | Family::Arch => {
                format!("sudo setcap {}=ep {path}", helper.cap_name())
            }
            _ => format!("sudo chmod u+s {path}"),
        });
    }
    cmds
}

fn describe_defect(helper: Helper, seen: &Seen, defect: &Defect) -> String {
    let path = seen.path.display();
    match defect {
        Defect::NotRegular => format!("{path} is not a regular file"),
        Defect::NotRootOwned(uid) => format!("{path} is owned by uid {uid}, not root"),
        Defect::NoPrivilege => format!(
            "{path} is neither setuid root nor carries {} (mode {:04o})",
            helper.cap_name(),
            seen.perms
        ),
        Defect::Nosuid(mount) => format!(
            "{path} is on {}, mounted nosuid, which ignores setuid bits and file capabilities",
            mount.display()
        ),
    }
}

/// The fix for every broken helper: remove a copy that shadows a working one, else restore
/// owner and bits (and remount a nosuid mount).
fn repair(
    cx: &Context<'_>,
    broken: &[(Helper, Seen, Option<PathBuf>)],
    helpers: Vec<IdmapHelper>,
) -> Fix {
    let mut text: Vec<String> = Vec::new();
    let mut cmds: Vec<String> = Vec::new();
    let mut root = false;
    let mut restore = false;
    let mut nosuid_mounts: Vec<String> = Vec::new();
    for (helper, seen, alternative) in broken {
        if let Some(alt) = alternative {
            let path = shell::quote_path(&seen.path);
            if seen.uid == cx.caller.uid {
                cmds.push(format!("rm {path}"));
            } else {
                cmds.push(format!("sudo rm {path}"));
                root = true;
            }
            text.push(format!(
                "{} shadows the working {} on PATH: remove it (or put {} first on PATH)",
                seen.path.display(),
                alt.display(),
                alt.parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
            continue;
        }
        restore = true;
        root = true;
        // Making a file setuid root that its owner can rewrite hands root to that owner: only
        // the distribution's own helper (root-owned, or in a system directory) gets its bits back.
        let system_dir = seen
            .real
            .parent()
            .is_some_and(|d| HELPER_DIRS.iter().any(|s| d == Path::new(s)));
        if seen.uid != 0 && !system_dir {
            let path = shell::quote_path(&seen.path);
            text.push(format!(
                "{} is neither root's nor in a system directory, so it must not be made setuid                  (its owner could replace it and get root): remove it and install the package",
                seen.path.display()
            ));
            cmds.push(format!("sudo rm {path}"));
            cmds.push(cx.distro.install_command(&[Package::Uidmap]));
            continue;
        }
        cmds.extend(bit_commands(cx, *helper, seen));
        for d in &seen.defects {
            if let Defect::Nosuid(m) = d {
                let m = m.display().to_string();
                if !nosuid_mounts.contains(&m) {
                    nosuid_mounts.push(m);
                }
            }
        }
    }
    if restore {
        text.push(format!(
            "reinstalling the package is the clean fix (`{}`); or restore owner and bits by hand",
            cx.distro.family.install_command(&[Package::Uidmap], true)
        ));
    }
    for m in &nosuid_mounts {
        text.push(format!(
            "{m} is mounted nosuid: remount it with suid and drop nosuid from its /etc/fstab \
             entry, or use the helpers the package installs under /usr/bin"
        ));
        cmds.push(format!("sudo mount -o remount,suid {}", shell::quote(m)));
    }
    let text = text.join("; ");
    let fix = if root {
        Fix::root(ID, text)
    } else {
        Fix::user(ID, text)
    };
    fix.cmds(cmds).remedy(Remedy::IdmapHelpers(helpers))
}

/// The helpers as rootlesskit would find them: what to show, which are missing, which are
/// broken (with a working copy shadowed by each) and which work.
#[derive(Default)]
struct Survey {
    observed: Vec<(String, String)>,
    missing: Vec<&'static str>,
    broken: Vec<(Helper, Seen, Option<PathBuf>)>,
    good: Vec<String>,
    helpers: Vec<IdmapHelper>,
}

/// Looks at the first copy of each helper on the search path, and records the working ones in
/// `facts`.
fn survey(cx: &Context<'_>, facts: &mut Facts, dirs: &[PathBuf], mounts: &[Mount]) -> Survey {
    let mut out = Survey::default();
    for helper in [Helper::Uid, Helper::Gid] {
        let name = helper.name();
        let found = candidates(cx, dirs, name);
        let Some(first) = found.first() else {
            out.missing.push(name);
            out.observed.push((name.to_owned(), "not found".to_owned()));
            out.helpers.push(IdmapHelper {
                name,
                cap: helper.cap_name(),
                found: None,
            });
            continue;
        };
        let seen = inspect(cx, mounts, helper, first);
        out.helpers.push(IdmapHelper {
            name,
            cap: helper.cap_name(),
            found: Some(seen.helper_file(helper)),
        });
        out.observed.extend(seen.observations(helper));
        if seen.defects.is_empty() {
            match helper {
                Helper::Uid => facts.newuidmap = Some(seen.path.clone()),
                Helper::Gid => facts.newgidmap = Some(seen.path.clone()),
            }
            out.good.push(format!(
                "{name} ({}, {})",
                seen.path.display(),
                seen.privilege(helper)
            ));
        } else {
            // A working copy later on the search path, shadowed by this one.
            let alternative = found
                .iter()
                .skip(1)
                .map(|p| inspect(cx, mounts, helper, p))
                .find(|s| s.defects.is_empty())
                .map(|s| s.path);
            out.broken.push((helper, seen, alternative));
        }
    }
    out
}

/// Runs the check.
pub(crate) fn uidmap(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let dirs = program_dirs(cx.caller);
    let mounts = cx.memo.mounts_or_none(cx.host);
    let searched = common::joined(&dirs);
    let Survey {
        mut observed,
        missing,
        broken,
        good,
        helpers,
    } = survey(cx, facts, &dirs, mounts);
    if mounts.is_empty() {
        observed.push(("mountinfo".to_owned(), "unavailable".to_owned()));
    }
    let with_obs = |mut f: Finding| {
        f = f.observe("searched", &searched);
        for (k, v) in &observed {
            f = f.observe(k.clone(), v);
        }
        f
    };

    if !missing.is_empty() {
        return with_obs(Finding::fail(
            ID,
            format!(
                "{} not found on PATH or in /usr/bin, /usr/sbin, /bin, /sbin",
                missing.join(" and ")
            ),
        ))
        .why(
            "rootlesskit maps the subordinate ids into the engine's user namespace with the \
             setuid helpers newuidmap and newgidmap; without them only one id can be mapped and \
             no container image unpacks",
        )
        .fix(
            Fix::root(
                ID,
                format!("install the {} package", cx.distro.package(Package::Uidmap)),
            )
            .remedy(Remedy::install(cx.distro.family, &[Package::Uidmap]))
            .remedy(Remedy::IdmapHelpers(helpers)),
        );
    }

    if !broken.is_empty() {
        let problems: Vec<String> = broken
            .iter()
            .flat_map(|(h, s, _)| s.defects.iter().map(move |d| describe_defect(*h, s, d)))
            .collect();
        let nosuid = broken
            .iter()
            .any(|(_, s, _)| s.defects.iter().any(|d| matches!(d, Defect::Nosuid(_))));
        let why = if nosuid {
            "on a nosuid mount the kernel ignores setuid bits and file capabilities, so the \
             helper runs without privilege and writing uid_map fails with \"operation not \
             permitted\""
        } else {
            "the helpers must run with root's CAP_SETUID/CAP_SETGID to write another process's \
             uid_map and gid_map; without it rootlesskit fails with \"newuidmap: write to \
             uid_map failed: operation not permitted\""
        };
        return with_obs(Finding::fail(ID, problems.join("; ")))
            .why(why)
            .fix(repair(cx, &broken, helpers));
    }

    with_obs(Finding::pass(
        ID,
        format!("{} can map subordinate ids", good.join(" and ")),
    ))
}

#[cfg(test)]
#[path = "uidmap_tests.rs"]
mod tests;
