//! Property tests of the public subordinate-id toolkit (`rootless_setup_core::subid`): the
//! parser survives any input, formatting round-trips, overlap detection and repair planning
//! agree with brute-force models, and the free block never collides with anything.

use proptest::prelude::*;
use rootless_setup_core::model::IdRange;
use rootless_setup_core::subid::parse::{self, ID_LIMIT, Located, SubidEntry};
use rootless_setup_core::subid::{self as subid, BLOCK, FIRST};

/// Owners as they appear in real files: login names and numeric uids.
fn owner() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_.-]{0,15}",
        any::<u32>().prop_map(|u| u.to_string()),
    ]
}

/// A valid entry anywhere in the id space.
fn entry() -> impl Strategy<Value = SubidEntry> {
    (owner(), 0..ID_LIMIT - 1)
        .prop_flat_map(|(owner, start)| {
            let room = ID_LIMIT - start;
            (Just(owner), Just(start), 1..=room)
        })
        .prop_map(|(owner, start, count)| {
            let (start, count) = (start as u32, count as u32);
            SubidEntry::new(owner, start, count).expect("generated entries are valid")
        })
}

/// Small entries, so a brute-force model can enumerate every id.
fn small_entries() -> impl Strategy<Value = Vec<Located>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["alice", "bob", "1000", "carol"]),
            0u32..60,
            1u32..20,
        ),
        0..12,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (owner, start, count))| Located {
                line: i + 1,
                entry: SubidEntry::new(owner, start, count).expect("valid"),
            })
            .collect()
    })
}

/// Starts that often sit exactly on a block boundary, where off-by-one mistakes hide.
fn boundary_or_any() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..3_000_000, (0u64..40).prop_map(|k| FIRST + k * BLOCK)]
}

fn shares_an_id(a: &IdRange, b: &IdRange) -> bool {
    (a.start..a.end()).any(|id| b.contains(id))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let file = parse::parse_bytes("/etc/subuid", &bytes);
        let lines = String::from_utf8_lossy(&bytes).split('\n').count();
        prop_assert!(file.entries.len() + file.malformed.len() <= lines);
        for m in &file.malformed {
            prop_assert!(m.line >= 1 && m.line <= lines);
            let _ = m.to_string();
            let _ = m.apparent_range();
        }
        for l in &file.entries {
            prop_assert!(l.entry.count > 0);
            prop_assert!(l.entry.range().end() <= ID_LIMIT);
        }
    }

    #[test]
    fn parsing_near_miss_text_never_panics(text in "[a-z0-9:# \t\r\n0x+-]{0,200}") {
        let file = parse::parse("/etc/subgid", &text);
        // Every line is exactly one of: blank/comment, entry, malformed.
        for (i, line) in text.split('\n').enumerate() {
            let blank = line.trim().is_empty() || line.trim().starts_with('#');
            let as_entry = file.entries.iter().any(|l| l.line == i + 1);
            let as_malformed = file.malformed.iter().any(|m| m.line == i + 1);
            prop_assert_eq!(u8::from(blank) + u8::from(as_entry) + u8::from(as_malformed), 1);
        }
    }

    #[test]
    fn format_then_parse_round_trips(entries in prop::collection::vec(entry(), 0..20)) {
        let text = parse::format(&entries);
        let file = parse::parse("/etc/subuid", &text);
        prop_assert!(file.malformed.is_empty(), "{:?}", file.malformed);
        prop_assert_eq!(file.plain_entries(), entries);
    }

    #[test]
    fn overlap_detection_matches_brute_force(entries in small_entries()) {
        let mut model = Vec::new();
        for i in 0..entries.len() {
            for j in i + 1..entries.len() {
                if shares_an_id(&entries[i].entry.range(), &entries[j].entry.range()) {
                    model.push((i, j));
                }
            }
        }
        prop_assert_eq!(subid::overlapping_pairs(&entries, usize::MAX), model.clone());
        // A limit keeps a subset of the pairs, of exactly that size when there are enough.
        let limited = subid::overlapping_pairs(&entries, 3);
        prop_assert_eq!(limited.len(), model.len().min(3));
        prop_assert!(limited.iter().all(|p| model.contains(p)));
    }

    #[test]
    fn own_id_detection_matches_brute_force(entries in small_entries()) {
        let ids = |owner: &str| match owner {
            "alice" => Some(5),
            "bob" => Some(30),
            _ => None,
        };
        let model: Vec<usize> = entries
            .iter()
            .filter(|l| {
                let own = l.entry.owner.parse::<u32>().ok().or_else(|| ids(&l.entry.owner));
                own.is_some_and(|id| (l.entry.start..l.entry.start + l.entry.count).contains(&id))
            })
            .map(|l| l.line)
            .collect();
        let found: Vec<usize> = subid::containing_own_id(&entries, ids).iter().map(|l| l.line).collect();
        prop_assert_eq!(found, model);
    }

    #[test]
    fn the_free_block_collides_with_nothing_and_is_the_first(
        taken in prop::collection::vec((boundary_or_any(), 1u64..400_000), 0..30),
        used in prop::collection::vec(0u32..3_000_000, 0..30),
    ) {
        let taken: Vec<IdRange> = taken.into_iter().map(|(start, count)| IdRange { start, count }).collect();
        let block = subid::free_block(taken.clone(), used.clone(), BLOCK);
        let block = block.expect("the id space is far from full");
        prop_assert_eq!(block.count, BLOCK);
        prop_assert_eq!((block.start - FIRST) % BLOCK, 0);
        let collides = |b: &IdRange| {
            taken.iter().any(|t| t.overlaps(b)) || used.iter().any(|u| b.contains(u64::from(*u)))
        };
        prop_assert!(!collides(&block));
        let mut earlier = FIRST;
        while earlier < block.start {
            prop_assert!(collides(&IdRange { start: earlier, count: BLOCK }), "{earlier} was free");
            earlier += BLOCK;
        }
        // Deterministic: the same input gives the same block, whatever the order.
        let mut reversed = taken.clone();
        reversed.reverse();
        prop_assert_eq!(subid::free_block(reversed, used, BLOCK), Some(block));
    }
}

#[test]
fn a_file_of_many_users_is_checked_quickly() {
    // 60,000 users laid out like useradd does, plus one overlap at the end.
    let mut text: String = (0..60_000u64)
        .map(|i| format!("user{i}:{}:{}\n", FIRST + i * BLOCK, BLOCK))
        .collect();
    text.push_str("late:100000:10\n");
    let file = parse::parse("/etc/subuid", &text);
    assert_eq!(file.entries.len(), 60_001);
    let pairs = subid::overlapping_pairs(&file.entries, usize::MAX);
    assert_eq!(pairs, vec![(0, 60_000)]);
    let taken: Vec<IdRange> = file.entries.iter().map(|l| l.entry.range()).collect();
    let block = subid::free_block(taken, [], BLOCK).expect("room above the last user");
    assert_eq!(block.start, FIRST + 60_000 * BLOCK);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The repair `rootless-setup fix` makes: it removes only alice's lines, and what alice keeps
    /// overlaps no other owner, holds neither her uid nor two copies of an id.
    #[test]
    fn the_repair_removes_only_the_users_lines_and_leaves_them_clean(entries in small_entries()) {
        let text: String = entries.iter().map(|l| format!("{}\n", l.entry)).collect();
        let file = parse::parse("/etc/subuid", &text);
        // alice is uid 5 here, so ranges from 0 can contain her own id.
        let removed = subid::lines_to_remove(&file, "alice", 5, 5);
        let kept: Vec<&Located> = file.entries.iter().filter(|l| !removed.contains(&l.line)).collect();
        for line in &removed {
            let owner = &file.entries.iter().find(|l| l.line == *line).expect("a removed line exists").entry.owner;
            prop_assert!(owner == "alice" || owner == "5", "removed {owner}'s line {line}");
        }
        let mine: Vec<&&Located> = kept.iter().filter(|l| l.entry.is_owned_by("alice", 5)).collect();
        for (i, a) in mine.iter().enumerate() {
            prop_assert!(!a.entry.range().contains(5));
            for b in &mine[i + 1..] {
                prop_assert!(!a.entry.range().overlaps(&b.entry.range()));
            }
            for other in kept.iter().filter(|l| !l.entry.is_owned_by("alice", 5)) {
                prop_assert!(!a.entry.range().overlaps(&other.entry.range()));
            }
        }
        let left: u64 = mine.iter().map(|l| u64::from(l.entry.count)).sum();
        prop_assert_eq!(subid::remaining_ids(&file, "alice", 5, &removed), left);
    }
}

/// Lines of a small file: entries of alice (uid 5, also written `5`) and of others, and
/// malformed lines naming either.
fn small_file() -> impl Strategy<Value = String> {
    let owner = || prop::sample::select(vec!["alice", "5", "bob", "carol"]);
    let line = prop_oneof![
        4 => (owner(), 0u32..60, 1u32..20).prop_map(|(o, s, c)| format!("{o}:{s}:{c}")),
        1 => (owner(), prop::sample::select(vec!["x", "", "1:2", "07"]))
            .prop_map(|(o, junk)| format!("{o}:{junk}:1")),
    ];
    prop::collection::vec(line, 0..14).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// `lines_to_remove` is exactly its rule, checked id by id: alice's malformed lines, and each
    /// of her ranges that holds her id, shares an id with another owner's range or with one of
    /// her ranges on an earlier line. `clashes_with_others` lists every (hers, theirs) pair that
    /// shares an id, in the other line's order.
    #[test]
    fn repair_planning_matches_brute_force(text in small_file()) {
        let file = parse::parse("/etc/subuid", &text);
        let alices = |l: &Located| l.entry.owner == "alice" || l.entry.owner == "5";
        let mut model: Vec<usize> = file
            .malformed
            .iter()
            .filter(|m| matches!(m.owner(), Some("alice" | "5")))
            .map(|m| m.line)
            .collect();
        for l in file.entries.iter().filter(|l| alices(l)) {
            let r = l.entry.range();
            let others = file.entries.iter().filter(|o| !alices(o));
            let earlier = file.entries.iter().filter(|o| alices(o) && o.line < l.line);
            if r.contains(5)
                || others.chain(earlier).any(|o| shares_an_id(&r, &o.entry.range()))
            {
                model.push(l.line);
            }
        }
        model.sort_unstable();
        let removed: Vec<usize> = subid::lines_to_remove(&file, "alice", 5, 5).into_iter().collect();
        prop_assert_eq!(removed, model);

        let mut clashes = Vec::new();
        for other in file.entries.iter().filter(|o| !alices(o)) {
            for mine in file.entries.iter().filter(|l| alices(l)) {
                if shares_an_id(&mine.entry.range(), &other.entry.range()) {
                    clashes.push((mine.line, other.line));
                }
            }
        }
        let found: Vec<(usize, usize)> = subid::clashes_with_others(&file, "alice", 5, usize::MAX)
            .iter()
            .map(|(m, o)| (m.line, o.line))
            .collect();
        prop_assert_eq!(&found, &clashes);
        let limited = subid::clashes_with_others(&file, "alice", 5, 2);
        prop_assert_eq!(limited.len(), clashes.len().min(2));
    }
}

#[test]
fn repair_planning_of_20000_copies_is_quick_and_keeps_the_first() {
    let file = parse::parse("/etc/subuid", &"alice:100000:65536\n".repeat(20_000));
    let removed = subid::lines_to_remove(&file, "alice", 1000, 1000);
    assert_eq!(removed.len(), 19_999);
    assert_eq!(removed.first(), Some(&2));
    assert_eq!(removed.last(), Some(&20_000));
    assert_eq!(subid::remaining_ids(&file, "alice", 1000, &removed), BLOCK);
}
