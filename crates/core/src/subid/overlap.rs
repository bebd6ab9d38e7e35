//! Overlap detection across subordinate id entries: every overlapping pair (in
//! `O(n log n + pairs)`, so a small `limit` keeps any file fast) and ranges that contain their
//! own owner's id. Overlaps of one account with other owners are
//! [`super::repair::clashes_with_others`], which knows the account's name and uid.

use crate::model::IdRange;

use super::parse::Located;

/// Every pair of entries (by index, `i < j`) whose ranges overlap, whoever owns them, sorted;
/// at most `limit` pairs. Runs in `O(n log n + limit)`: every range still open when another
/// starts overlaps it, so each step of the sweep adds a pair or closes a range.
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
    use crate::subid::parse::{IdDatabase, parse};

    #[test]
    fn overlapping_pairs_whoever_owns_them() {
        let file = parse(
            "/etc/subuid",
            "alice:100000:65536\nbob:165535:10\nalice:100000:1\ncarol:200000:1\n",
        );
        assert_eq!(
            overlapping_pairs(&file.entries, usize::MAX),
            vec![(0, 1), (0, 2)]
        );
        assert_eq!(overlapping_pairs(&file.entries, 1), vec![(0, 2)]);
        // A range of no ids (only constructible by hand) overlaps nothing, even at a shared start.
        let zero = Located {
            line: 9,
            entry: crate::subid::parse::SubidEntry {
                owner: "z".into(),
                start: 100_000,
                count: 0,
            },
        };
        assert_eq!(
            overlapping_pairs(&[file.entries[0].clone(), zero], usize::MAX),
            vec![]
        );
        // 20,000 copies of one range stop at the limit.
        let copies = parse("/f", &"alice:100000:65536\n".repeat(20_000));
        assert_eq!(
            overlapping_pairs(&copies.entries, 3),
            vec![(0, 1), (0, 2), (1, 2)]
        );
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
