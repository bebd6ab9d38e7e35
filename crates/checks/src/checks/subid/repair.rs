//! What a repair of one user's lines in `/etc/subuid` or `/etc/subgid` removes, and which block
//! it adds: shared by the `subid.*` checks (for their fix text) and by `rootless-setup fix` (for
//! the root script), so the two cannot disagree.
//!
//! Only the user's own lines are ever removed: a malformed line naming the user, a range that
//! contains the user's own id, a range that overlaps another owner's range (the other owner
//! keeps theirs), and the later of two of the user's ranges that overlap each other.

use std::collections::BTreeSet;

use crate::context::IdRange;

use super::alloc::{BLOCK, free_block};
use super::overlap::overlapping_pairs;
use super::parse::{IdDatabase, Located, Malformed, SubidFile, owner_matches};

/// The 1-based line numbers of `file` that belong to the account `name` (uid `uid`) and must go
/// for its ranges to work; `own_id` is the id the engine maps to root next to the ranges (the
/// uid for `/etc/subuid`, the primary gid for `/etc/subgid`).
pub fn lines_to_remove(file: &SubidFile, name: &str, uid: u32, own_id: u32) -> BTreeSet<usize> {
    let mine: Vec<&Located> = file.entries_of(name, uid).collect();
    let mut remove: BTreeSet<usize> = file
        .malformed
        .iter()
        .filter(|m| m.owner().is_some_and(|o| owner_matches(o, name, uid)))
        .map(|m| m.line)
        .collect();
    remove.extend(
        mine.iter()
            .filter(|l| l.entry.range().contains(u64::from(own_id)))
            .map(|l| l.line),
    );
    remove.extend(
        clashes_with_others(file, name, uid, &mine, usize::MAX)
            .into_iter()
            .map(|(m, _)| m.line),
    );
    let owned: Vec<Located> = mine.iter().map(|l| (*l).clone()).collect();
    remove.extend(
        overlapping_pairs(&owned, usize::MAX)
            .into_iter()
            .filter_map(|(_, later)| owned.get(later).map(|l| l.line)),
    );
    remove
}

/// How many ids the account keeps in `file` once `removed` lines are gone.
pub fn remaining_ids(file: &SubidFile, name: &str, uid: u32, removed: &BTreeSet<usize>) -> u64 {
    file.entries_of(name, uid)
        .filter(|l| !removed.contains(&l.line))
        .map(|l| u64::from(l.entry.count))
        .fold(0, u64::saturating_add)
}

/// The first block of [`BLOCK`] ids free in both files (including what their malformed lines
/// seem to hold) and of every uid and gid in use; the same block serves both files.
pub fn free_block_in(
    subuid: &SubidFile,
    subgid: &SubidFile,
    passwd: &IdDatabase,
    group: &IdDatabase,
) -> Option<IdRange> {
    free_block(
        subuid
            .entries
            .iter()
            .chain(&subgid.entries)
            .map(|l| l.entry.range())
            .chain(
                subuid
                    .malformed
                    .iter()
                    .chain(&subgid.malformed)
                    .filter_map(Malformed::apparent_range),
            ),
        passwd.ids().chain(group.ids()),
        BLOCK,
    )
}

/// The account's entries paired with other owners' entries they overlap (at most `limit`
/// pairs), in the other entries' file order.
pub(super) fn clashes_with_others<'a>(
    file: &'a SubidFile,
    name: &str,
    uid: u32,
    located: &[&'a Located],
    limit: usize,
) -> Vec<(&'a Located, &'a Located)> {
    // The union of the account's ranges, sorted and merged, for a binary search per line.
    let mut union: Vec<(u64, u64)> = located
        .iter()
        .map(|l| (l.entry.range().start, l.entry.range().end()))
        .collect();
    union.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, e) in union {
        match merged.last_mut() {
            Some((_, last_end)) if s <= *last_end => *last_end = (*last_end).max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = Vec::new();
    for other in file
        .entries
        .iter()
        .filter(|l| !l.entry.is_owned_by(name, uid))
    {
        let r = other.entry.range();
        // The first merged interval ending after r.start; it overlaps r if it starts before r's end.
        let at = merged.partition_point(|(_, e)| *e <= r.start);
        if merged.get(at).is_none_or(|(s, _)| *s >= r.end()) {
            continue;
        }
        for mine in located.iter().filter(|l| l.entry.range().overlaps(&r)) {
            if out.len() >= limit {
                return out;
            }
            out.push((*mine, other));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    const PASSWD: &str = "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";

    #[test]
    fn only_the_users_bad_lines_go() {
        let file = parse(
            "/etc/subuid",
            "bob:100000:65536\nalice:150000:65536\nalice:0:65536\nalice:300000:65536x\n\
             1000:400000:65536\nalice:400000:10\n",
        );
        let remove = lines_to_remove(&file, "alice", 1000, 1000);
        // 2 overlaps bob, 3 contains uid 1000, 4 is malformed, 6 overlaps 5 (the earlier stays).
        assert_eq!(remove.into_iter().collect::<Vec<_>>(), [2, 3, 4, 6]);
        let removed = lines_to_remove(&file, "alice", 1000, 1000);
        assert_eq!(remaining_ids(&file, "alice", 1000, &removed), 65536);
    }

    #[test]
    fn the_free_block_is_free_in_both_files_and_of_ids_in_use() {
        let subuid = parse("/etc/subuid", "bob:100000:65536\n");
        let subgid = parse("/etc/subgid", "carol:165536:65536\nbad:231072:x\n");
        let passwd = IdDatabase::parse(&format!("{PASSWD}svc:x:231100:231100::/:/bin/false\n"));
        let group = IdDatabase::parse("");
        assert_eq!(
            free_block_in(&subuid, &subgid, &passwd, &group),
            Some(IdRange {
                start: 296_608,
                count: BLOCK
            })
        );
    }
}
