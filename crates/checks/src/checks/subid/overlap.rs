//! Overlap detection across subordinate id entries: every overlapping pair (in
//! `O(n log n + pairs)`, so files with tens of thousands of lines are fine), pairs of different
//! owners, and ranges that contain their own owner's id.

use crate::context::IdRange;

use super::parse::Located;

/// Two entries whose ranges share at least one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap<'a> {
    /// The entry on the earlier line.
    pub first: &'a Located,
    /// The entry on the later line.
    pub second: &'a Located,
}

/// Every pair of entries (by index, `i < j`) whose ranges overlap, whoever owns them, sorted;
/// at most `limit` pairs. Runs in `O(n log n + pairs)`, so files with tens of thousands of
/// lines are fine.
pub fn overlapping_pairs(entries: &[Located], limit: usize) -> Vec<(usize, usize)> {
    let ranges: Vec<IdRange> = entries.iter().map(|l| l.entry.range()).collect();
    let mut order: Vec<(u64, usize)> = ranges
        .iter()
        .enumerate()
        .filter(|(_, r)| r.count > 0)
        .map(|(i, r)| (r.start, i))
        .collect();
    order.sort_unstable();
    let mut pairs = Vec::new();
    // Earlier-starting ranges that still reach past the current start.
    let mut active: Vec<(u64, usize)> = Vec::new();
    'sweep: for (start, i) in order {
        active.retain(|(end, _)| *end > start);
        for (_, a) in &active {
            if pairs.len() >= limit {
                break 'sweep;
            }
            pairs.push(((*a).min(i), (*a).max(i)));
        }
        let end = ranges.get(i).map_or(start, IdRange::end);
        active.push((end, i));
    }
    pairs.sort_unstable();
    pairs
}

/// Pairs of entries with different owners (compared as written) whose ranges overlap, at most
/// `limit`. A name and the numeric uid of the same account count as different owners here;
/// callers that know the account compare with [`super::parse::owner_matches`].
pub fn overlaps(entries: &[Located], limit: usize) -> Vec<Overlap<'_>> {
    overlapping_pairs(entries, usize::MAX)
        .into_iter()
        .filter_map(|(i, j)| {
            let (first, second) = (entries.get(i)?, entries.get(j)?);
            (first.entry.owner != second.entry.owner).then_some(Overlap { first, second })
        })
        .take(limit)
        .collect()
}

/// Entries whose range contains their own owner's id: `id_of` resolves an owner to its uid
/// (numeric owners are taken as the uid itself).
pub fn containing_own_id(
    entries: &[Located],
    id_of: impl Fn(&str) -> Option<u32>,
) -> Vec<&Located> {
    entries
        .iter()
        .filter(|l| {
            let id = l
                .entry
                .owner
                .parse::<u32>()
                .ok()
                .or_else(|| id_of(&l.entry.owner));
            id.is_some_and(|id| l.entry.range().contains(u64::from(id)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::subid::parse::{IdDatabase, parse};

    #[test]
    fn overlaps_between_different_owners() {
        let file = parse(
            "/etc/subuid",
            "alice:100000:65536\nbob:165535:10\nalice:100000:1\ncarol:200000:1\n",
        );
        assert_eq!(
            overlapping_pairs(&file.entries, usize::MAX),
            vec![(0, 1), (0, 2)]
        );
        let o = overlaps(&file.entries, 10);
        assert_eq!(o.len(), 1);
        assert_eq!((o[0].first.line, o[0].second.line), (1, 2));
        assert_eq!(overlapping_pairs(&file.entries, 1).len(), 1);
    }

    #[test]
    fn ranges_containing_the_owners_own_id() {
        let file = parse(
            "/f",
            "alice:1000:65536\n70000:65536:10000\nbob:100000:65536\n",
        );
        let db = IdDatabase::parse(
            "alice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/:/bin/sh\n",
        );
        let own: Vec<usize> = containing_own_id(&file.entries, |n| db.id_of(n))
            .iter()
            .map(|l| l.line)
            .collect();
        assert_eq!(own, vec![1, 2]);
    }
}
