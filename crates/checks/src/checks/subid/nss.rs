//! Subordinate ids from a name service: when the `subid:` line of `/etc/nsswitch.conf` names a
//! source other than `files` (such as `sss`), `newuidmap` asks it instead of reading the files,
//! so the check asks it too, through `getsubids NAME` / `getsubids -g NAME`.

use std::path::PathBuf;
use std::time::Duration;

use crate::context::Context;

use rootless_setup_core::distro::Package;
use rootless_setup_core::finding::{Finding, Fix, MAX_LISTED};
use rootless_setup_core::model::{Account, Facts, IdRange};
use rootless_setup_core::process::{Invocation, Output};
use rootless_setup_core::remedy::Remedy;

use super::check::{Kind, Mine, describe, self_overlaps, total};
use super::program_dirs;
use rootless_setup_core::subid::alloc::BLOCK;
use rootless_setup_core::subid::parse;

/// The first source of the `subid:` line of nsswitch.conf (libsubid uses exactly one).
pub(super) fn source(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default().trim();
        let rest = line.strip_prefix("subid:")?;
        rest.split_whitespace()
            .find(|w| !w.starts_with('['))
            .map(str::to_owned)
    })
}

/// Parses `getsubids` output lines such as `0: alice 100000 65536`.
pub(super) fn parse_getsubids(stdout: &str) -> Vec<IdRange> {
    stdout
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let [index, _owner, start, count] = words.as_slice() else {
                return None;
            };
            index.strip_suffix(':')?.parse::<u64>().ok()?;
            let range = IdRange {
                start: start.parse().ok()?,
                count: count.parse().ok()?,
            };
            (range.count > 0 && range.end() <= parse::ID_LIMIT).then_some(range)
        })
        .collect()
}

pub(super) fn check(
    cx: &Context<'_>,
    facts: &mut Facts,
    kind: Kind,
    account: &Account,
    own_id: u32,
    source: &str,
) -> Finding {
    let asked = Asked {
        kind,
        account,
        source,
    };
    let dirs = program_dirs(cx.caller);
    let Some(getsubids) = cx
        .host
        .find_executable("getsubids", dirs.iter().map(PathBuf::as_path))
    else {
        return asked.no_getsubids(cx);
    };
    let mut args: Vec<String> = Vec::new();
    if kind == Kind::Gid {
        args.push("-g".into());
    }
    args.push(account.name.clone());
    let invocation = Invocation::new(&getsubids)
        .args(&args)
        .timeout(Duration::from_secs(10));
    let shown = invocation.display();
    let out = match ask(cx, &invocation) {
        Ok(out) => out,
        Err(reason) => return asked.unanswered(&shown, &reason),
    };
    let ranges = parse_getsubids(&out.stdout);
    if !ranges.is_empty() {
        kind.store(facts, ranges.clone());
    }
    asked.judge(own_id, &shown, &out, &ranges)
}

/// Runs `getsubids`; why it gave no answer when it did not.
fn ask(cx: &Context<'_>, invocation: &Invocation) -> Result<Output, String> {
    match cx.system.run(invocation) {
        Ok(out) if !out.timed_out => Ok(out),
        Ok(_) => Err("timed out".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Whose ranges are asked, of which kind, from which name service.
struct Asked<'a> {
    kind: Kind,
    account: &'a Account,
    source: &'a str,
}

impl Asked<'_> {
    /// The observations every finding of this check carries.
    fn base(&self, f: Finding) -> Finding {
        f.observe("source", format!("nss:{}", self.source))
            .observe("nsswitch", format!("subid: {}", self.source))
            .observe("user", self.account.name.as_str())
            .observe("uid", self.account.uid)
    }

    fn no_getsubids(&self, cx: &Context<'_>) -> Finding {
        let Self { kind, source, .. } = *self;
        let id = kind.id();
        let name = self.account.name.as_str();
        self.base(Finding::warn(
            id,
            format!(
                "/etc/nsswitch.conf takes subordinate ids from `{source}`, but getsubids is not \
                 installed to ask it"
            ),
        ))
        .observe("getsubids", "not found")
        .why(format!(
            "{} asks `{source}`, not {}, so the checker cannot see {name}'s ranges without getsubids",
            kind.helper(),
            kind.path()
        ))
        .fix(
            Fix::root(id, "install getsubids so the ranges can be checked")
                .remedy(Remedy::install(cx.distro.family, &[Package::Getsubids])),
        )
    }

    fn unanswered(&self, shown: &str, reason: &str) -> Finding {
        let Self { kind, source, .. } = *self;
        let id = kind.id();
        let noun = kind.noun();
        let name = self.account.name.as_str();
        self.base(Finding::warn(
            id,
            format!("could not ask `{source}` for {name}'s subordinate {noun}s: {reason}"),
        ))
        .observe("command", shown)
        .why(format!(
            "{} takes the ranges from `{source}`; without its answer the checker cannot tell \
             whether {name} has any",
            kind.helper()
        ))
        .fix(Fix::user(
            id,
            format!("check that `{source}` answers: run `{shown}` and read its error"),
        ))
    }

    /// The fix when the name service's ranges are wrong: only its administrator can change them.
    fn ask_admin(&self, own_id: u32) -> Fix {
        let Self { kind, source, .. } = *self;
        let noun = kind.noun();
        Fix::root(
            kind.id(),
            format!(
                "subordinate ids come from `{source}`, not {}: ask its administrator to allocate \
                 {BLOCK} subordinate {noun}s to {} that overlap no other user and not {noun} \
                 {own_id}",
                kind.path(),
                self.account.name
            ),
        )
    }

    /// Decides whether the ranges `getsubids` gave are enough and clear of the user's own id.
    fn judge(&self, own_id: u32, shown: &str, out: &Output, ranges: &[IdRange]) -> Finding {
        let Self { kind, source, .. } = *self;
        let id = kind.id();
        let noun = kind.noun();
        let name = self.account.name.as_str();
        let mine: Vec<Mine> = ranges
            .iter()
            .map(|r| Mine {
                range: *r,
                line: None,
            })
            .collect();
        let sum = total(&mine);
        let observe = |mut f: Finding| {
            f = self.base(f).observe("command", shown).observe(
                "exit_code",
                out.code.map_or("none".into(), |c| c.to_string()),
            );
            for r in ranges.iter().take(MAX_LISTED) {
                f = f.observe("range", describe(r));
            }
            if ranges.len() > MAX_LISTED {
                f = f.observe("range_total", ranges.len());
            }
            f.observe("total", sum).observe("required", BLOCK)
        };
        let ask_admin = self.ask_admin(own_id);
        let fail = |summary: String, why: String| {
            observe(Finding::fail(id, summary))
                .why(why)
                .fix(ask_admin.clone())
        };
        if mine.is_empty() {
            let said = out.last_line();
            return fail(
                format!(
                    "`{source}` has no subordinate {noun}s for {name}{}",
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(" (getsubids: {said})")
                    }
                ),
                format!(
                    "rootlesskit maps the container's {noun}s onto the user's subordinate {noun}s with \
                     {}; without a range the engine cannot start",
                    kind.helper()
                ),
            );
        }
        if let Some(r) = ranges.iter().find(|r| r.contains(u64::from(own_id))) {
            return fail(
                format!(
                    "the range {} from `{source}` contains {name}'s own {noun} {own_id}",
                    describe(r)
                ),
                format!(
                    "the kernel refuses a map in which {noun} {own_id} appears twice, so {} fails",
                    kind.helper()
                ),
            );
        }
        if let Some((a, b)) = self_overlaps(&mine).first() {
            let show = |i: &usize| mine.get(*i).map(|m| describe(&m.range)).unwrap_or_default();
            return fail(
                format!(
                    "{name}'s ranges {} and {} from `{source}` overlap each other",
                    show(a),
                    show(b)
                ),
                "the kernel rejects a map whose ranges overlap".to_owned(),
            );
        }
        if sum < BLOCK {
            return fail(
                format!("`{source}` gives {name} {sum} subordinate {noun}s, fewer than {BLOCK}"),
                format!(
                    "container images use {noun}s up to 65535; files owned by an unmapped {noun} \
                     cannot be extracted with fewer than {BLOCK} ids"
                ),
            );
        }
        observe(Finding::pass(
            id,
            format!(
                "{name} has {sum} subordinate {noun}s from `{source}` (overlap with other users \
                 cannot be checked through getsubids)"
            ),
        ))
    }
}
