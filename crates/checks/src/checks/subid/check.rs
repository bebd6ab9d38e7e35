//! The `subid.uid` and `subid.gid` checks: the caller's subordinate ranges, found by login name
//! and by numeric uid in `/etc/subuid` / `/etc/subgid` (or through `getsubids` when
//! `/etc/nsswitch.conf` names another `subid:` source, see [`super::nss`]), at least 65,536 ids,
//! not overlapping another user's range nor the caller's own id, and malformed lines reported
//! with file:line.

use std::collections::BTreeSet;

use crate::catalogue::CheckId;
use crate::context::{Account, Context, Facts, IdRange};
use crate::finding::{Finding, Fix};

use super::alloc::BLOCK;
use super::parse::{self, IdDatabase, Located, Malformed, SubidFile, owner_matches};
use super::repair::{clashes_with_others, free_block_in, lines_to_remove, remaining_ids};
use super::sh_quote;

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `/etc/subuid`.
    Uid,
    /// `/etc/subgid`.
    Gid,
}

impl Kind {
    pub(super) fn id(self) -> CheckId {
        match self {
            Kind::Uid => CheckId::SubidUid,
            Kind::Gid => CheckId::SubidGid,
        }
    }

    pub(super) fn path(self) -> &'static str {
        match self {
            Kind::Uid => "/etc/subuid",
            Kind::Gid => "/etc/subgid",
        }
    }

    fn other(self) -> Kind {
        match self {
            Kind::Uid => Kind::Gid,
            Kind::Gid => Kind::Uid,
        }
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            Kind::Uid => "uid",
            Kind::Gid => "gid",
        }
    }

    pub(super) fn helper(self) -> &'static str {
        match self {
            Kind::Uid => "newuidmap",
            Kind::Gid => "newgidmap",
        }
    }

    pub(super) fn store(self, facts: &mut Facts, ranges: Vec<IdRange>) {
        match self {
            Kind::Uid => facts.subuids = Some(ranges),
            Kind::Gid => facts.subgids = Some(ranges),
        }
    }
}

/// Runs the check for one file.
pub(super) fn run(cx: &Context<'_>, facts: &mut Facts, kind: Kind) -> Finding {
    let Some(account) = super::super::user::caller_account(cx, facts) else {
        return Finding::skip(
            kind.id(),
            format!(
                "no passwd entry for uid {}, so there is no name to look up (see `user`)",
                cx.caller.uid
            ),
        )
        .observe("uid", cx.caller.uid);
    };
    // The id rootlesskit maps to root inside the namespace, next to the subordinate range.
    let own_id = match kind {
        Kind::Uid => account.uid,
        Kind::Gid => cx.caller.gid,
    };
    let source = cx
        .host
        .read("/etc/nsswitch.conf")
        .ok()
        .flatten()
        .and_then(|t| super::nss::source(&t));
    match source {
        Some(source) if source != "files" => {
            super::nss::check(cx, facts, kind, &account, own_id, &source)
        }
        _ => files_check(cx, facts, kind, &account, own_id),
    }
}

/// One of the caller's ranges and where it came from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mine {
    pub(super) range: IdRange,
    pub(super) line: Option<usize>,
}

pub(super) fn describe(range: &IdRange) -> String {
    format!(
        "{}-{} ({} ids)",
        range.start,
        range.end().saturating_sub(1),
        range.count
    )
}

pub(super) fn describe_mine(path: &str, mine: &Mine) -> String {
    match mine.line {
        Some(line) => format!("{} at {path}:{line}", describe(&mine.range)),
        None => describe(&mine.range),
    }
}

pub(super) fn total(mine: &[Mine]) -> u64 {
    mine.iter()
        .map(|m| m.range.count)
        .fold(0u64, u64::saturating_add)
}

/// Pairs (by index) of the caller's ranges that overlap each other.
pub(super) fn self_overlaps(mine: &[Mine]) -> Vec<(usize, usize)> {
    let located: Vec<Located> = mine
        .iter()
        .filter_map(|m| {
            let entry = parse::SubidEntry::new(
                "self",
                u32::try_from(m.range.start).ok()?,
                u32::try_from(m.range.count).ok()?,
            )
            .ok()?;
            Some(Located { line: 0, entry })
        })
        .collect();
    super::overlap::overlapping_pairs(&located, 20)
}

/// What the files say, read once.
struct Files {
    file: SubidFile,
    other: SubidFile,
    passwd: IdDatabase,
    group: IdDatabase,
}

impl Files {
    fn read(cx: &Context<'_>, kind: Kind, text: &str) -> Files {
        let read = |p: &str| cx.host.read(p).ok().flatten().unwrap_or_default();
        Files {
            file: parse::parse(kind.path(), text),
            other: parse::parse(kind.other().path(), &read(kind.other().path())),
            passwd: IdDatabase::parse(&read("/etc/passwd")),
            group: IdDatabase::parse(&read("/etc/group")),
        }
    }

    /// A block free in both files (including what malformed lines seem to hold) and of every
    /// uid and gid in use.
    fn free_block(&self) -> Option<IdRange> {
        free_block_in(&self.file, &self.other, &self.passwd, &self.group)
    }

    fn owner_label(&self, owner: &str) -> String {
        match owner
            .parse::<u32>()
            .ok()
            .and_then(|u| self.passwd.name_of(u))
        {
            Some(name) => format!("{owner} ({name})"),
            None => owner.to_owned(),
        }
    }
}

fn files_check(
    cx: &Context<'_>,
    facts: &mut Facts,
    kind: Kind,
    account: &Account,
    own_id: u32,
) -> Finding {
    let id = kind.id();
    let path = kind.path();
    let noun = kind.noun();
    let text =
        match cx.host.read(path) {
            Ok(text) => text,
            Err(e) => {
                return Finding::warn(id, format!("could not read {path}: {}", e.source))
                .observe("path", path)
                .observe("error", &e)
                .why(format!(
                    "{} reads this file as root, but without reading it the checker cannot tell \
                     whether {} has subordinate {noun}s",
                    kind.helper(),
                    account.name
                ))
                .fix(
                    Fix::root(id, format!("make {path} readable as it is by default (0644)"))
                        .cmd(format!("sudo chmod 0644 {path}")),
                );
            }
        };
    let files = Files::read(cx, kind, text.as_deref().unwrap_or_default());
    let (name, uid) = (account.name.as_str(), account.uid);
    let located: Vec<&Located> = files.file.entries_of(name, uid).collect();
    let mine: Vec<Mine> = located
        .iter()
        .map(|l| Mine {
            range: l.entry.range(),
            line: Some(l.line),
        })
        .collect();
    if !mine.is_empty() {
        kind.store(facts, mine.iter().map(|m| m.range).collect());
    }
    let sum = total(&mine);

    let mut f_obs: Vec<(String, String)> = vec![
        ("path".into(), path.into()),
        (
            "file".into(),
            if text.is_some() { "present" } else { "absent" }.into(),
        ),
        ("source".into(), "files".into()),
        ("user".into(), name.into()),
        ("uid".into(), uid.to_string()),
    ];
    if kind == Kind::Gid {
        f_obs.push(("gid".into(), own_id.to_string()));
    }
    for m in &mine {
        f_obs.push(("range".into(), describe_mine(path, m)));
    }
    f_obs.push(("total".into(), sum.to_string()));
    f_obs.push(("required".into(), BLOCK.to_string()));

    let (malformed_mine, malformed_other): (Vec<&Malformed>, Vec<&Malformed>) = files
        .file
        .malformed
        .iter()
        .partition(|m| m.owner().is_some_and(|o| owner_matches(o, name, uid)));
    for m in files.file.malformed.iter().take(20) {
        f_obs.push(("malformed".into(), m.to_string()));
    }
    if files.file.malformed.len() > 20 {
        f_obs.push((
            "malformed_total".into(),
            files.file.malformed.len().to_string(),
        ));
    }

    // Lines of the caller that must go (shared with `rootless-setup fix`), and why (first
    // reason wins the summary).
    let delete: BTreeSet<usize> = lines_to_remove(&files.file, name, uid, own_id);
    let mut problems: Vec<(String, String)> = Vec::new();
    if let Some(m) = malformed_mine.first() {
        problems.push((
            format!(
                "{path}:{} names {name} but is malformed: {}",
                m.line, m.problem
            ),
            format!(
                "{} skips lines it cannot parse, so this line gives {name} no ids; and a hand-edited \
                 line that is wrong is likely meant to be the range the engine should use",
                kind.helper()
            ),
        ));
    }
    if mine.is_empty() {
        problems.push((
            format!("{name} (uid {uid}) has no subordinate {noun}s in {path}"),
            format!(
                "rootlesskit maps the container's {noun}s 1-65535 onto the user's subordinate \
                 {noun}s with {}; without a range the engine cannot start",
                kind.helper()
            ),
        ));
    }
    for l in located
        .iter()
        .filter(|l| l.entry.range().contains(u64::from(own_id)))
    {
        f_obs.push(("contains_own_id".into(), format!("{path}:{}", l.line)));
        if problems.len() < 8 {
            problems.push((
                format!(
                    "the range {} at {path}:{} contains {name}'s own {noun} {own_id}",
                    describe(&l.entry.range()),
                    l.line
                ),
                format!(
                    "the kernel refuses a map in which {noun} {own_id} appears twice (once as \
                     root of the namespace, once inside the range), so {} fails",
                    kind.helper()
                ),
            ));
        }
    }
    let clashes = clashes_with_others(&files.file, name, uid, &located, 20);
    for (mine_l, other) in &clashes {
        f_obs.push((
            "overlap".into(),
            format!(
                "{path}:{} with {} at {path}:{}",
                mine_l.line,
                files.owner_label(&other.entry.owner),
                other.line
            ),
        ));
    }
    if let Some((mine_l, other)) = clashes.first() {
        problems.push((
            format!(
                "{name}'s range {} at {path}:{} overlaps {}'s range {} at {path}:{}",
                describe(&mine_l.entry.range()),
                mine_l.line,
                files.owner_label(&other.entry.owner),
                describe(&other.entry.range()),
                other.line
            ),
            "two users whose subordinate ids overlap share file ownership inside their \
             containers: one user's container root can read and change the other's files"
                .to_owned(),
        ));
    }
    let doubles = self_overlaps(&mine);
    for (a, b) in &doubles {
        if let (Some(x), Some(y)) = (mine.get(*a), mine.get(*b)) {
            f_obs.push((
                "self_overlap".into(),
                format!("{} and {}", describe_mine(path, x), describe_mine(path, y)),
            ));
        }
    }
    if let Some((a, b)) = doubles.first() {
        if let (Some(x), Some(y)) = (mine.get(*a), mine.get(*b)) {
            problems.push((
                format!(
                    "{name}'s ranges {} and {} overlap each other",
                    describe_mine(path, x),
                    describe_mine(path, y)
                ),
                format!(
                    "rootlesskit passes every range to {}, and the kernel rejects a map whose \
                     ranges overlap",
                    kind.helper()
                ),
            ));
        }
    }
    if !mine.is_empty() && sum < BLOCK {
        problems.push((
            format!("{name} has {sum} subordinate {noun}s in {path}, fewer than {BLOCK}"),
            format!(
                "container images use {noun}s up to 65535; files owned by an unmapped {noun} \
                 cannot be extracted (\"lchown: invalid argument\") with fewer than {BLOCK} ids"
            ),
        ));
    }

    if let Some((summary, why)) = problems.first() {
        let remaining = remaining_ids(&files.file, name, uid, &delete);
        let fix = repair(kind, account, &files, &delete, remaining);
        let mut finding = Finding::fail(id, summary.clone()).why(why.clone()).fix(fix);
        for (k, v) in f_obs {
            finding = finding.observe(k, v);
        }
        return finding;
    }

    if let Some(first) = malformed_other.first() {
        let lines: Vec<String> = malformed_other.iter().map(|m| m.line.to_string()).collect();
        let mut finding = Finding::warn(
            id,
            format!(
                "{name} has {sum} subordinate {noun}s, but {path} has {} malformed line(s) of other \
                 users ({}): {}",
                malformed_other.len(),
                lines.join(", "),
                first
            ),
        )
        .why(format!(
            "{} and usermod skip lines they cannot parse, so the owners of these lines have no \
             ids from them, and an allocator may hand their ids out again",
            kind.helper()
        ))
        .fix(Fix::root(
            id,
            format!(
                "correct or remove line(s) {} of {path} (as root, with an editor)",
                lines.join(", ")
            ),
        ));
        for (k, v) in f_obs {
            finding = finding.observe(k, v);
        }
        return finding;
    }

    let mut finding = Finding::pass(
        id,
        format!(
            "{name} has {sum} subordinate {noun}s in {path} ({}), overlapping no other user",
            mine.iter()
                .map(|m| describe(&m.range))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    for (k, v) in f_obs {
        finding = finding.observe(k, v);
    }
    finding
}

/// The root commands that remove the caller's bad lines and, when what is left is too small,
/// add a free block.
fn repair(
    kind: Kind,
    account: &Account,
    files: &Files,
    delete: &BTreeSet<usize>,
    remaining: u64,
) -> Fix {
    let id = kind.id();
    let path = kind.path();
    let mut steps: Vec<String> = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    if !delete.is_empty() {
        let lines: Vec<String> = delete.iter().map(ToString::to_string).collect();
        steps.push(format!("remove line(s) {} of {path}", lines.join(", ")));
        let exprs: Vec<String> = delete.iter().map(|l| format!("-e '{l}d'")).collect();
        commands.push(format!("sudo sed -i {} {path}", exprs.join(" ")));
    }
    if remaining < BLOCK {
        match files.free_block() {
            Some(block) => {
                steps.push(format!(
                    "give {} the free block {} (it overlaps nothing in /etc/subuid, /etc/subgid, \
                     /etc/passwd or /etc/group)",
                    account.name,
                    describe(&block)
                ));
                commands.push(add_command(kind, account, files, &block));
            }
            None => steps.push(format!(
                "no free block of {BLOCK} ids is left below 4294967295: remove unused ranges \
                 from {path} first"
            )),
        }
    }
    if !delete.is_empty() {
        steps.push(
            "then remove data the engine created with the old ids (`rootless-setup uninstall \
             --purge`), because its files are owned by ids the user no longer has"
                .to_owned(),
        );
    }
    Fix::root(id, steps.join("; ")).cmds(commands)
}

/// `usermod --add-subuids` for a local account, else appending the line.
fn add_command(kind: Kind, account: &Account, files: &Files, block: &IdRange) -> String {
    let name = sh_quote(&account.name);
    let last = block.end().saturating_sub(1);
    if files.passwd.id_of(&account.name).is_some() {
        format!(
            "sudo usermod --add-sub{}s {}-{last} {name}",
            kind.noun(),
            block.start
        )
    } else {
        // usermod only edits accounts of /etc/passwd; a directory (LDAP, sssd) user gets a line.
        let line = format!("{}:{}:{}", account.name, block.start, block.count);
        format!(
            "echo {} | sudo tee -a {} >/dev/null",
            sh_quote(&line),
            kind.path()
        )
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
