//! The `subid.uid` and `subid.gid` checks: the caller's subordinate ranges, found by login name
//! and by numeric uid in `/etc/subuid` / `/etc/subgid` (or through `getsubids` when
//! `/etc/nsswitch.conf` names another `subid:` source, see [`super::nss`]), at least 65,536 ids,
//! not overlapping another user's range nor the caller's own id, and malformed lines reported
//! with file:line.

use std::collections::BTreeSet;

use crate::context::Context;
use crate::memo::Shared;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix, MAX_LISTED, list};
use rootless_setup_core::model::{Account, Facts, IdRange};
use rootless_setup_core::remedy::Remedy;
use rootless_setup_core::shell;

use rootless_setup_core::subid::alloc::BLOCK;
use rootless_setup_core::subid::parse::{
    self, IdDatabase, Located, Malformed, SubidFile, owner_matches,
};
use rootless_setup_core::subid::repair::{
    clashes_with_others, free_block_in, lines_to_remove, remaining_ids,
};

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

    fn file(self) -> Shared {
        match self {
            Kind::Uid => Shared::Subuid,
            Kind::Gid => Shared::Subgid,
        }
    }

    pub(super) fn path(self) -> &'static str {
        self.file().path()
    }

    /// The file parsed, once per run.
    fn parsed<'c>(self, cx: &Context<'c>) -> &'c SubidFile {
        match self {
            Kind::Uid => cx.memo.subuid(cx.host),
            Kind::Gid => cx.memo.subgid(cx.host),
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
    let source = super::nss::source(cx.memo.text_or_empty(cx.host, Shared::Nsswitch));
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
    rootless_setup_core::subid::overlap::overlapping_pairs(&located, MAX_LISTED)
}

/// What the files say, as this run read them. The other file is parsed only when a free block
/// is needed.
struct Files<'c> {
    cx: &'c Context<'c>,
    kind: Kind,
    file: &'c SubidFile,
    passwd: &'c IdDatabase,
    group: &'c IdDatabase,
}

impl<'c> Files<'c> {
    fn read(cx: &'c Context<'c>, kind: Kind) -> Files<'c> {
        Files {
            cx,
            kind,
            file: kind.parsed(cx),
            passwd: cx.memo.passwd(cx.host),
            group: cx.memo.group(cx.host),
        }
    }

    /// A block free in both files (including what malformed lines seem to hold) and of every
    /// uid and gid in use.
    fn free_block(&self) -> Option<IdRange> {
        let other = self.kind.other().parsed(self.cx);
        let (subuid, subgid) = match self.kind {
            Kind::Uid => (self.file, other),
            Kind::Gid => (other, self.file),
        };
        free_block_in(subuid, subgid, self.passwd, self.group)
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

/// What the files say about the caller, gathered once for the observations and the verdict.
struct Seen<'a> {
    kind: Kind,
    account: &'a Account,
    own_id: u32,
    present: bool,
    files: &'a Files<'a>,
    /// The caller's entries, in file order.
    located: Vec<&'a Located>,
    mine: Vec<Mine>,
    sum: u64,
    malformed_mine: Vec<&'a Malformed>,
    malformed_other: Vec<&'a Malformed>,
    /// The caller's entries that overlap another owner's (the first [`MAX_LISTED`]).
    clashes: Vec<(&'a Located, &'a Located)>,
    /// Pairs of the caller's own ranges that overlap (the first [`MAX_LISTED`]).
    doubles: Vec<(usize, usize)>,
}

impl<'a> Seen<'a> {
    fn gather(
        kind: Kind,
        account: &'a Account,
        own_id: u32,
        present: bool,
        files: &'a Files<'a>,
    ) -> Seen<'a> {
        let (name, uid) = (account.name.as_str(), account.uid);
        let located: Vec<&Located> = files.file.entries_of(name, uid).collect();
        let mine: Vec<Mine> = located
            .iter()
            .map(|l| Mine {
                range: l.entry.range(),
                line: Some(l.line),
            })
            .collect();
        let (malformed_mine, malformed_other) = files
            .file
            .malformed
            .iter()
            .partition(|m| m.owner().is_some_and(|o| owner_matches(o, name, uid)));
        Seen {
            kind,
            account,
            own_id,
            present,
            files,
            sum: total(&mine),
            clashes: clashes_with_others(files.file, name, uid, MAX_LISTED),
            doubles: self_overlaps(&mine),
            located,
            mine,
            malformed_mine,
            malformed_other,
        }
    }

    /// The caller's entries whose range contains the caller's own id.
    fn containing_own_id(&self) -> impl Iterator<Item = &&'a Located> + '_ {
        self.located
            .iter()
            .filter(|l| l.entry.range().contains(u64::from(self.own_id)))
    }

    /// The observed values; every list of lines is cut at [`MAX_LISTED`], with its length.
    fn observations(&self) -> Vec<(String, String)> {
        let path = self.kind.path();
        let files = self.files;
        let mut obs: Vec<(String, String)> = vec![
            ("path".into(), path.into()),
            (
                "file".into(),
                if self.present { "present" } else { "absent" }.into(),
            ),
            ("source".into(), "files".into()),
            ("user".into(), self.account.name.clone()),
            ("uid".into(), self.account.uid.to_string()),
        ];
        if self.kind == Kind::Gid {
            obs.push(("gid".into(), self.own_id.to_string()));
        }
        let mut listed = |key: &str, total_key: &str, values: Vec<String>, total: usize| {
            obs.extend(values.into_iter().map(|v| (key.to_owned(), v)));
            if total > MAX_LISTED {
                obs.push((total_key.to_owned(), total.to_string()));
            }
        };
        listed(
            "range",
            "range_total",
            self.mine
                .iter()
                .take(MAX_LISTED)
                .map(|m| describe_mine(path, m))
                .collect(),
            self.mine.len(),
        );
        obs.push(("total".into(), self.sum.to_string()));
        obs.push(("required".into(), BLOCK.to_string()));
        let malformed = &files.file.malformed;
        let shown = malformed.iter().take(MAX_LISTED).map(ToString::to_string);
        obs.extend(shown.map(|m| ("malformed".to_owned(), m)));
        if malformed.len() > MAX_LISTED {
            obs.push(("malformed_total".into(), malformed.len().to_string()));
        }
        let own: Vec<String> = self
            .containing_own_id()
            .take(MAX_LISTED)
            .map(|l| format!("{path}:{}", l.line))
            .collect();
        obs.extend(own.into_iter().map(|v| ("contains_own_id".to_owned(), v)));
        for (mine_l, other) in &self.clashes {
            obs.push((
                "overlap".into(),
                format!(
                    "{path}:{} with {} at {path}:{}",
                    mine_l.line,
                    files.owner_label(&other.entry.owner),
                    other.line
                ),
            ));
        }
        for (a, b) in &self.doubles {
            if let (Some(x), Some(y)) = (self.mine.get(*a), self.mine.get(*b)) {
                obs.push((
                    "self_overlap".into(),
                    format!("{} and {}", describe_mine(path, x), describe_mine(path, y)),
                ));
            }
        }
        obs
    }

    /// What is wrong with the caller's ranges, as (summary, why), the gravest first.
    fn problems(&self) -> Vec<(String, String)> {
        let (kind, path, noun) = (self.kind, self.kind.path(), self.kind.noun());
        let (name, uid, own_id) = (&self.account.name, self.account.uid, self.own_id);
        let mut problems: Vec<(String, String)> = Vec::new();
        if let Some(m) = self.malformed_mine.first() {
            problems.push((
                format!(
                    "{path}:{} names {name} but is malformed: {}",
                    m.line, m.problem
                ),
                format!(
                    "{} skips lines it cannot parse, so this line gives {name} no ids; and a \
                     hand-edited line that is wrong is likely meant to be the range the engine \
                     should use",
                    kind.helper()
                ),
            ));
        }
        if self.mine.is_empty() {
            problems.push((
                format!("{name} (uid {uid}) has no subordinate {noun}s in {path}"),
                format!(
                    "rootlesskit maps the container's {noun}s 1-65535 onto the user's subordinate \
                     {noun}s with {}; without a range the engine cannot start",
                    kind.helper()
                ),
            ));
        }
        if let Some(l) = self.containing_own_id().next() {
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
        if let Some((mine_l, other)) = self.clashes.first() {
            let owner = self.files.owner_label(&other.entry.owner);
            problems.push((
                format!(
                    "{name}'s range {} at {path}:{} overlaps {owner}'s range {} at {path}:{}",
                    describe(&mine_l.entry.range()),
                    mine_l.line,
                    describe(&other.entry.range()),
                    other.line
                ),
                "two users whose subordinate ids overlap share file ownership inside their \
                 containers: one user's container root can read and change the other's files"
                    .to_owned(),
            ));
        }
        let double = self.doubles.first();
        if let Some((Some(x), Some(y))) =
            double.map(|(a, b)| (self.mine.get(*a), self.mine.get(*b)))
        {
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
        let sum = self.sum;
        if !self.mine.is_empty() && sum < BLOCK {
            problems.push((
                format!("{name} has {sum} subordinate {noun}s in {path}, fewer than {BLOCK}"),
                format!(
                    "container images use {noun}s up to 65535; files owned by an unmapped {noun} \
                     cannot be extracted (\"lchown: invalid argument\") with fewer than {BLOCK} ids"
                ),
            ));
        }
        problems
    }
}

fn files_check(
    cx: &Context<'_>,
    facts: &mut Facts,
    kind: Kind,
    account: &Account,
    own_id: u32,
) -> Finding {
    let (id, path, noun) = (kind.id(), kind.path(), kind.noun());
    let text = match cx.memo.text(cx.host, kind.file()) {
        Ok(text) => text,
        Err(e) => return unreadable(cx, kind, account, e),
    };
    let files = Files::read(cx, kind);
    let seen = Seen::gather(kind, account, own_id, text.is_some(), &files);
    if !seen.mine.is_empty() {
        kind.store(facts, seen.mine.iter().map(|m| m.range).collect());
    }
    let (name, uid, sum) = (&account.name, account.uid, seen.sum);
    let observe = |mut finding: Finding| {
        for (k, v) in seen.observations() {
            finding = finding.observe(k, v);
        }
        finding
    };

    if let Some((summary, why)) = seen.problems().into_iter().next() {
        // The caller's lines that must go (shared with `rootless-setup fix`).
        let delete = lines_to_remove(files.file, name, uid, own_id);
        let remaining = remaining_ids(files.file, name, uid, &delete);
        let fix = repair(kind, account, &files, &delete, remaining);
        return observe(Finding::fail(id, summary).why(why).fix(fix));
    }
    if let Some(first) = seen.malformed_other.first() {
        let lines = list(seen.malformed_other.iter().map(|m| m.line));
        return observe(
            Finding::warn(
                id,
                format!(
                    "{name} has {sum} subordinate {noun}s, but {path} has {} malformed line(s) of \
                     other users ({lines}): {first}",
                    seen.malformed_other.len(),
                ),
            )
            .why(format!(
                "{} and usermod skip lines they cannot parse, so the owners of these lines have \
                 no ids from them, and an allocator may hand their ids out again",
                kind.helper()
            ))
            .fix(
                Fix::root(
                    id,
                    format!(
                        "correct or remove line(s) {lines} of {path} (as root, with an editor)"
                    ),
                )
                .remedy(Remedy::OthersSubidLines),
            ),
        );
    }
    observe(Finding::pass(
        id,
        format!(
            "{name} has {sum} subordinate {noun}s in {path} ({}), overlapping no other user",
            list(seen.mine.iter().map(|m| describe(&m.range)))
        ),
    ))
}

/// The root commands that remove the caller's bad lines and, when what is left is too small,
/// add a free block.
fn repair(
    kind: Kind,
    account: &Account,
    files: &Files<'_>,
    delete: &BTreeSet<usize>,
    remaining: u64,
) -> Fix {
    let id = kind.id();
    let path = kind.path();
    let mut steps: Vec<String> = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    if !delete.is_empty() {
        steps.push(format!("remove line(s) {} of {path}", list(delete)));
        let exprs: Vec<String> = runs(delete)
            .into_iter()
            .map(|(first, last)| {
                if first == last {
                    format!("-e '{first}d'")
                } else {
                    format!("-e '{first},{last}d'")
                }
            })
            .collect();
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
    Fix::root(id, steps.join("; "))
        .cmds(commands)
        .remedy(Remedy::RepairSubids)
}

/// Runs of consecutive line numbers as `(first, last)`, so deleting 20,000 adjacent lines is one
/// `sed` expression.
fn runs(lines: &BTreeSet<usize>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &line in lines {
        match out.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(line) => *last = line,
            _ => out.push((line, line)),
        }
    }
    out
}

/// The file could not be read. Something other than a regular file (a directory, a FIFO, a
/// symlink loop) holds no ranges, so newuidmap finds none: a failure, with the commands that
/// put a regular file there and give the user a block. Any other error (permissions, a file
/// too large to read) leaves the question open: a warning.
fn unreadable(
    cx: &Context<'_>,
    kind: Kind,
    account: &Account,
    e: &rootless_setup_core::host::HostError,
) -> Finding {
    let (id, path, noun, name) = (kind.id(), kind.path(), kind.noun(), &account.name);
    let not_regular = match rootless_setup_core::read::refusal(&e.source) {
        Some(rootless_setup_core::read::Refusal::NotRegular(what)) => Some(*what),
        _ if e.source.raw_os_error() == Some(nix::libc::ELOOP) => Some("a symbolic link loop"),
        _ => None,
    };
    if let Some(what) = not_regular {
        let files = Files::read(cx, kind);
        let mut fix = Fix::root(
            id,
            format!("move {path} aside, put an empty regular file (0644) in its place and give {name} a free block"),
        )
        .cmd(format!("sudo mv -T {path} {path}.not-a-file"))
        .cmd(format!("sudo install -m 0644 /dev/null {path}"));
        if let Some(block) = files.free_block() {
            fix = fix.cmd(add_command(kind, account, &files, &block));
        }
        return Finding::fail(id, format!("{path} is {what}, not a regular file"))
            .observe("path", path)
            .observe("error", e)
            .why(format!(
                "{} reads {name}'s subordinate {noun}s from this file; as {what} it holds none, \
                 so the engine cannot start",
                kind.helper()
            ))
            .fix(fix);
    }
    let too_large = matches!(
        rootless_setup_core::read::refusal(&e.source),
        Some(rootless_setup_core::read::Refusal::TooLarge(_))
    );
    let fix = if too_large {
        Fix::root(
            id,
            format!("remove unused ranges from {path} (as root, with an editor)"),
        )
    } else {
        Fix::root(
            id,
            format!("make {path} readable as it is by default (0644)"),
        )
        .cmd(format!("sudo chmod 0644 {path}"))
    };
    Finding::warn(id, format!("could not read {path}: {}", e.source))
        .observe("path", path)
        .observe("error", e)
        .why(format!(
            "{} reads this file as root, but without reading it the checker cannot tell whether \
             {name} has subordinate {noun}s",
            kind.helper(),
        ))
        .fix(fix)
}

/// `usermod --add-subuids` for a local account, else appending the line.
fn add_command(kind: Kind, account: &Account, files: &Files<'_>, block: &IdRange) -> String {
    let name = shell::quote(&account.name);
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
            shell::quote(&line),
            kind.path()
        )
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
