//! What a repair of one user's lines in `/etc/subuid` or `/etc/subgid` removes, and which block
//! it adds: shared by the `subid.*` checks (for their fix text) and by `rootless-setup fix` (for
//! the root script), so the two cannot disagree.
//!
//! Only the user's own lines are ever removed: a malformed line naming the user, a range that
//! contains the user's own id, a range that overlaps another owner's range (the other owner
//! keeps theirs), and the later of two of the user's ranges that overlap each other.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::IdRange;

use super::alloc::{BLOCK, free_block};
use super::parse::{IdDatabase, Located, Malformed, SubidFile, owner_matches};

/// The 1-based line numbers of `file` that belong to the account `name` (uid `uid`) and must go
/// for its ranges to work; `own_id` is the id the engine maps to root next to the ranges (the
/// uid for `/etc/subuid`, the primary gid for `/etc/subgid`).
///
/// One pass over the user's lines in file order against two unions of ranges (other owners',
/// and the user's own earlier lines), so `O(n log n)` whatever the file holds.
pub fn lines_to_remove(file: &SubidFile, name: &str, uid: u32, own_id: u32) -> BTreeSet<usize> {
    let mut remove: BTreeSet<usize> = file
        .malformed
        .iter()
        .filter(|m| m.owner().is_some_and(|o| owner_matches(o, name, uid)))
        .map(|m| m.line)
        .collect();
    let others = Union::of(
        file.entries
            .iter()
            .filter(|l| !l.entry.is_owned_by(name, uid))
            .map(|l| l.entry.range()),
    );
    let mut earlier = Union::default();
    for l in file.entries_of(name, uid) {
        let range = l.entry.range();
        if range.contains(u64::from(own_id)) || others.overlaps(&range) || earlier.overlaps(&range)
        {
            remove.insert(l.line);
        }
        earlier.insert(range);
    }
    remove
}

/// A union of id ranges kept as disjoint intervals (start → end), for overlap queries in
/// `O(log n)`.
#[derive(Debug, Default)]
struct Union(BTreeMap<u64, u64>);

impl Union {
    fn of(ranges: impl IntoIterator<Item = IdRange>) -> Union {
        let mut union = Union::default();
        for r in ranges {
            union.insert(r);
        }
        union
    }

    /// Adds `r`, merging it with every interval it overlaps or touches.
    fn insert(&mut self, r: IdRange) {
        if r.count == 0 {
            return;
        }
        let (mut start, mut end) = (r.start, r.end());
        if let Some((&s, &e)) = self.0.range(..=start).next_back()
            && e >= start
        {
            start = s;
            end = end.max(e);
        }
        while let Some((&s, &e)) = self.0.range(start..=end).next() {
            end = end.max(e);
            self.0.remove(&s);
        }
        self.0.insert(start, end);
    }

    /// Whether `r` shares an id with the union: the last interval starting before `r` ends is
    /// the one reaching furthest, so it alone decides.
    fn overlaps(&self, r: &IdRange) -> bool {
        r.count > 0
            && self
                .0
                .range(..r.end())
                .next_back()
                .is_some_and(|(_, &end)| end > r.start)
    }
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
/// pairs), in the other entries' file order. `O(n log n + limit · n)`: each other entry that
/// meets the account's ranges adds at least one pair.
pub fn clashes_with_others<'a>(
    file: &'a SubidFile,
    name: &'a str,
    uid: u32,
    limit: usize,
) -> Vec<(&'a Located, &'a Located)> {
    let mine: Vec<&Located> = file.entries_of(name, uid).collect();
    let union = Union::of(mine.iter().map(|l| l.entry.range()));
    let mut out = Vec::new();
    for other in file
        .entries
        .iter()
        .filter(|l| !l.entry.is_owned_by(name, uid))
    {
        let r = other.entry.range();
        if !union.overlaps(&r) {
            continue;
        }
        for m in mine.iter().filter(|l| l.entry.range().overlaps(&r)) {
            if out.len() >= limit {
                return out;
            }
            out.push((*m, other));
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

    fn r(start: u64, count: u64) -> IdRange {
        IdRange { start, count }
    }

    #[test]
    fn the_union_merges_and_answers_at_the_edges() {
        let mut u = Union::of([r(10, 5), r(30, 5), r(0, 0)]);
        assert_eq!(u.0.iter().collect::<Vec<_>>(), [(&10, &15), (&30, &35)]);
        assert!(u.overlaps(&r(14, 1)) && u.overlaps(&r(5, 6)) && u.overlaps(&r(0, 100)));
        assert!(!u.overlaps(&r(15, 15)) && !u.overlaps(&r(5, 5)) && !u.overlaps(&r(35, 9)));
        // A range of no ids overlaps nothing, even inside the union.
        assert!(!u.overlaps(&r(12, 0)));
        // Touching ranges merge; one bridging two intervals swallows both.
        u.insert(r(15, 2));
        assert_eq!(u.0.iter().collect::<Vec<_>>(), [(&10, &17), (&30, &35)]);
        u.insert(r(12, 20));
        assert_eq!(u.0.iter().collect::<Vec<_>>(), [(&10, &35)]);
        u.insert(r(5, 5));
        u.insert(r(36, 1));
        assert_eq!(u.0.iter().collect::<Vec<_>>(), [(&5, &35), (&36, &37)]);
        u.insert(r(20, 0));
        assert_eq!(u.0.len(), 2);
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
