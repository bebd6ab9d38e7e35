//! The `userns.apparmor` check: where `kernel.apparmor_restrict_unprivileged_userns` is 1
//! (Ubuntu 23.10 and later), rootlesskit needs an AppArmor profile attached to its real path
//! that grants `userns`. This module also holds the small profile scanner that finds one.

use std::path::{Path, PathBuf};

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::model::Facts;
use rootless_setup_core::remedy::{APPARMOR_DIR as PROFILES, Remedy};

const ID: CheckId = CheckId::UsernsApparmor;
const SYSCTL: &str = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";

/// A top-level profile as far as this check cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    /// The profile name (for `/path {` profiles, the path).
    pub(crate) name: String,
    /// The path it attaches to, unquoted, when it has one.
    pub(crate) attachment: Option<String>,
    /// Whether its body (not a child profile) has an `userns,` / `userns create,` rule.
    pub(crate) grants_userns: bool,
}

/// Splits a header into words, keeping quoted words whole (quotes removed).
fn words(header: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn header_profile(header: &str) -> Option<(String, Option<String>)> {
    let line = header.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let w = words(line);
    let first = w.first()?;
    let is_path = |s: &str| s.starts_with('/') || s.starts_with('@');
    if first == "profile" {
        let name = w.get(1)?.clone();
        let attachment = w
            .get(2)
            .filter(|a| is_path(a))
            .cloned()
            .or_else(|| is_path(&name).then(|| name.clone()));
        Some((name, attachment))
    } else if is_path(first) {
        Some((first.clone(), Some(first.clone())))
    } else {
        None
    }
}

fn is_userns_grant(statement: &str) -> bool {
    let Some(line) = statement.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return false;
    };
    let mut w: Vec<&str> = line.split_whitespace().collect();
    if w.first() == Some(&"audit") {
        w.remove(0);
    }
    if w.first() == Some(&"allow") {
        w.remove(0);
    }
    w.first() == Some(&"userns") && w.iter().skip(1).all(|x| *x == "create")
}

/// Finds the top-level profiles of an AppArmor policy file. Tolerates anything: braces inside
/// globs and variables (`/{usr/,}bin`, `@{HOME}`), quotes, comments and `#include`.
pub(crate) fn parse_profiles(text: &str) -> Vec<Profile> {
    let mut profiles = Vec::new();
    let mut depth = 0usize;
    let mut buffer = String::new(); // depth 0: text since the last block; depth 1: the statement
    let mut current: Option<Profile> = None;
    let mut quoted = false;
    let mut glob = 0usize; // open braces of a glob or variable
    let mut comment = false;
    let mut prev = '\n';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if comment {
            if c == '\n' {
                comment = false;
                buffer.push('\n');
                prev = '\n';
            }
            continue;
        }
        if quoted {
            quoted = c != '"';
            buffer.push(c);
            prev = c;
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                buffer.push(c);
            }
            '#' => {
                let rest: String = chars.clone().take(7).collect();
                if rest == "include" {
                    buffer.push(c);
                } else {
                    comment = true;
                }
            }
            '{' if glob > 0 || !(prev.is_whitespace() || prev == ')') => {
                glob += 1;
                buffer.push(c);
            }
            ',' if glob > 0 => buffer.push(c),
            '}' if glob > 0 => {
                glob -= 1;
                buffer.push(c);
            }
            '{' => {
                if depth == 0 {
                    current = header_profile(&buffer).map(|(name, attachment)| Profile {
                        name,
                        attachment,
                        grants_userns: false,
                    });
                }
                depth += 1;
                buffer.clear();
            }
            '}' => {
                if depth == 1 {
                    if let Some(p) = current.as_mut() {
                        p.grants_userns |= is_userns_grant(&buffer);
                    }
                    profiles.extend(current.take());
                }
                depth = depth.saturating_sub(1);
                buffer.clear();
            }
            ',' => {
                if depth == 1
                    && let Some(p) = current.as_mut()
                {
                    p.grants_userns |= is_userns_grant(&buffer);
                }
                buffer.clear();
            }
            c => buffer.push(c),
        }
        prev = c;
    }
    profiles
}

/// `/usr/local/bin/rootlesskit` → `usr.local.bin.rootlesskit`, AppArmor's file naming.
fn file_name_for(path: &str) -> String {
    path.trim_start_matches('/').replace('/', ".")
}

/// The profile text the fix writes.
pub(crate) fn profile_text(name: &str, path: &str) -> String {
    let attach = if path.chars().any(|c| c.is_whitespace() || c == '"') {
        format!("\"{}\"", path.replace('"', "\\\""))
    } else {
        path.to_owned()
    };
    format!(
        "abi <abi/4.0>,\ninclude <tunables/global>\n\n\
         profile {name} {attach} flags=(unconfined) {{\n  userns,\n\n  \
         include if exists <local/{name}>\n}}\n"
    )
}

/// Runs the check.
pub(crate) fn apparmor(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let value = match cx.host.read_value(SYSCTL) {
        Ok(v) => v,
        Err(e) => {
            return Finding::warn(ID, format!("could not read {SYSCTL}: {}", e.source))
                .observe("kernel.apparmor_restrict_unprivileged_userns", "unreadable")
                .why("the checker cannot tell whether AppArmor blocks rootlesskit's user namespace")
                .fix(Fix::user(
                    ID,
                    "run `sysctl kernel.apparmor_restrict_unprivileged_userns` to see the value",
                ));
        }
    };
    let shown = value.clone().unwrap_or_else(|| "absent".to_owned());
    let base = |f: Finding| f.observe("kernel.apparmor_restrict_unprivileged_userns", &shown);
    match value.as_deref() {
        None | Some("0") => {
            return base(Finding::pass(
                ID,
                "AppArmor does not restrict unprivileged user namespaces",
            ));
        }
        Some("1") => {}
        Some(other) => {
            return base(Finding::warn(
                ID,
                format!(
                    "kernel.apparmor_restrict_unprivileged_userns has an unknown value `{other}`"
                ),
            ))
            .why("the checker cannot tell whether AppArmor blocks rootlesskit's user namespace")
            .fix(Fix::user(
                ID,
                "expected 0 or 1; check the kernel's AppArmor documentation",
            ));
        }
    }
    let Some(binary) = facts.binary("rootlesskit") else {
        return base(Finding::skip(
            ID,
            "AppArmor restricts unprivileged user namespaces, but rootlesskit was not found to \
             look for its profile (see `engine.binaries`)",
        ));
    };
    let real = cx
        .host
        .canonicalize(&binary.path)
        .unwrap_or_else(|| binary.path.clone());
    let real_s = real.to_string_lossy().into_owned();
    let (without_userns, names_in_use) = match scan_profiles(cx, &real_s) {
        Profiles::Grants { name, file } => {
            return base(Finding::pass(
                ID,
                format!(
                    "profile `{name}` in {} grants user namespaces to {real_s}",
                    file.display()
                ),
            ))
            .observe("rootlesskit", &real_s)
            .observe("profile", &name)
            .observe("profile_file", file.display());
        }
        Profiles::Missing {
            without_userns,
            names_in_use,
        } => (without_userns, names_in_use),
    };
    let mut finding = base(Finding::fail(
        ID,
        format!(
            "AppArmor restricts unprivileged user namespaces and no profile in {PROFILES} grants \
             `userns` to {real_s}"
        ),
    ))
    .observe("rootlesskit", &real_s)
    .observe(
        "distribution",
        cx.distro.pretty_name.as_deref().unwrap_or(&cx.distro.id),
    );
    if binary.path != real {
        finding = finding.observe("rootlesskit_found_as", binary.path.display());
    }
    for p in &without_userns {
        finding = finding.observe("profile_without_userns", p);
    }
    with_profile_fix(finding, &real_s, &names_in_use)
}

/// What the profile directory holds for rootlesskit's real path.
enum Profiles {
    /// A profile attached to it grants `userns`.
    Grants { name: String, file: PathBuf },
    /// None does: the profiles attached to it without the grant (`name` in file), and every
    /// profile name in use.
    Missing {
        without_userns: Vec<String>,
        names_in_use: Vec<String>,
    },
}

/// Reads every profile file in the AppArmor directory, up to the first profile attached to
/// `real` that grants `userns`.
fn scan_profiles(cx: &Context<'_>, real: &str) -> Profiles {
    let mut without_userns: Vec<String> = Vec::new();
    let mut names_in_use: Vec<String> = Vec::new();
    for file in cx.host.list_dir(PROFILES).unwrap_or_default() {
        let path = Path::new(PROFILES).join(&file);
        if !cx
            .host
            .stat(&path)
            .ok()
            .flatten()
            .is_some_and(|i| i.is_file)
        {
            continue;
        }
        let Ok(Some(text)) = cx.host.read(&path) else {
            continue;
        };
        for profile in parse_profiles(&text) {
            names_in_use.push(profile.name.clone());
            if profile.attachment.as_deref() != Some(real) {
                continue;
            }
            if profile.grants_userns {
                return Profiles::Grants {
                    name: profile.name,
                    file: path,
                };
            }
            without_userns.push(format!("`{}` in {}", profile.name, path.display()));
        }
    }
    Profiles::Missing {
        without_userns,
        names_in_use,
    }
}

/// The failure's why and fix: a profile for `real` that grants `userns`, named `rootlesskit`
/// unless another profile already has that name.
fn with_profile_fix(finding: Finding, real: &str, names_in_use: &[String]) -> Finding {
    let name = if names_in_use.iter().any(|n| n == "rootlesskit") {
        file_name_for(real)
    } else {
        "rootlesskit".to_owned()
    };
    let target = format!("{PROFILES}/{}", file_name_for(real));
    finding
        .why(
            "Ubuntu 23.10 and later block unprivileged user namespaces for programs that no \
             AppArmor profile allows them: rootlesskit's namespace gets no capabilities and the \
             engine fails with \"operation not permitted\"",
        )
        .fix(
            Fix::root(
                ID,
                format!(
                    "write a profile for {real} that allows `userns` to {target} and reload \
                     AppArmor (setting kernel.apparmor_restrict_unprivileged_userns=0 also works, \
                     but removes the protection for every program)"
                ),
            )
            .remedy(Remedy::AllowUserns {
                rootlesskit: real.to_owned(),
                file: target,
                profile: profile_text(&name, real),
            }),
        )
}

#[cfg(test)]
#[path = "apparmor_tests.rs"]
mod tests;
