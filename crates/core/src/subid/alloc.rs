//! Finding a free block of subordinate ids for a user, deterministically, the way `useradd`
//! lays them out: blocks of 65,536 starting at 100000 (`100000`, `165536`, `231072`, …), taking
//! the first one that overlaps no range in `/etc/subuid` or `/etc/subgid` and no uid or gid in
//! use. Using the same free block for both files keeps the two ranges identical.

use crate::model::IdRange;

use super::parse::ID_LIMIT;

/// The size of one block, and the number of subordinate ids rootless engines need.
pub const BLOCK: u64 = 65_536;

/// Where allocation starts (shadow's default `SUB_UID_MIN`).
pub const FIRST: u64 = 100_000;

/// The first block of `size` ids at `FIRST + k * BLOCK` (k = 0, 1, …) that overlaps none of
/// `taken` and contains none of `used_ids`; `None` when the id space below 4294967295 is full.
/// A `size` of 0 is treated as 1.
pub fn free_block(
    taken: impl IntoIterator<Item = IdRange>,
    used_ids: impl IntoIterator<Item = u32>,
    size: u64,
) -> Option<IdRange> {
    let size = size.max(1);
    let mut busy: Vec<(u64, u64)> = taken
        .into_iter()
        .filter(|r| r.count > 0)
        .map(|r| (r.start, r.end()))
        .chain(used_ids.into_iter().map(|id| {
            let id = u64::from(id);
            (id, id.saturating_add(1))
        }))
        .collect();
    busy.sort_unstable();
    let mut candidate = FIRST;
    for (start, end) in busy {
        if end <= candidate {
            continue;
        }
        if start >= candidate.saturating_add(size) {
            break;
        }
        // Overlaps the candidate: move to the first aligned start at or after `end`.
        let steps = (end - FIRST).div_ceil(BLOCK);
        candidate = FIRST.saturating_add(steps.saturating_mul(BLOCK));
        if candidate.saturating_add(size) > ID_LIMIT {
            return None;
        }
    }
    (candidate.saturating_add(size) <= ID_LIMIT).then_some(IdRange {
        start: candidate,
        count: size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, count: u64) -> IdRange {
        IdRange { start, count }
    }

    #[test]
    fn empty_files_give_the_first_block() {
        assert_eq!(free_block([], [], BLOCK), Some(r(100_000, BLOCK)));
    }

    #[test]
    fn skips_taken_ranges_and_used_ids() {
        let taken = [r(100_000, BLOCK), r(231_000, 100)];
        assert_eq!(free_block(taken, [], BLOCK), Some(r(296_608, BLOCK)));
        assert_eq!(free_block([], [165_535], BLOCK), Some(r(165_536, BLOCK)));
        // A range ending exactly at a block start leaves that block free.
        assert_eq!(
            free_block([r(0, 165_536)], [], BLOCK),
            Some(r(165_536, BLOCK))
        );
        // A range starting right after a block leaves that block free.
        assert_eq!(
            free_block([r(165_536, 10)], [], BLOCK),
            Some(r(100_000, BLOCK))
        );
        // Unsorted input and ranges below FIRST do not matter.
        assert_eq!(
            free_block(
                [r(165_536, 1), r(5, 5), r(100_000, 1)],
                [1000, 65534],
                BLOCK
            ),
            Some(r(231_072, BLOCK))
        );
    }

    #[test]
    fn full_id_space_gives_none() {
        assert_eq!(free_block([r(0, ID_LIMIT)], [], BLOCK), None);
        let last = FIRST + (ID_LIMIT - FIRST - BLOCK) / BLOCK * BLOCK;
        assert_eq!(free_block([r(0, last)], [], BLOCK), Some(r(last, BLOCK)));
        assert_eq!(free_block([r(0, last + 1)], [], BLOCK), None);
    }
}
