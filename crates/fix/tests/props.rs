//! Properties of the subordinate-id blocks of the script, over random `/etc/subuid`,
//! `/etc/subgid`, `/etc/passwd` and `/etc/group`: the block the script hands out overlaps no
//! range of either file (nor what a malformed line seems to hold) and no uid or gid in use, is
//! the same for both files, and the lines the script removes are only ever the user's own.
//! (The allocator itself is property-tested in the checker's `tests/subid_props.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use rootless_setup_core::model::{Account, IdRange};
use rootless_setup_core::subid::parse::parse;
use rootless_setup_core::{CheckId, Distro, Engine, Finding, Fix, Remedy, Report, SCHEMA_VERSION};
use rootless_setup_fix::{Command, HostFiles, Target, plan};

/// A line of a subordinate id file: alice's, another owner's, or a malformed one.
fn line() -> impl Strategy<Value = String> {
    let start = prop_oneof![
        0u64..1_500_000,
        (0u64..20).prop_map(|k| 100_000 + k * 65_536)
    ];
    (
        prop::sample::select(vec!["alice", "1000", "bob", "carol", "1001"]),
        start,
        1u64..200_000,
        0u8..10,
    )
        .prop_map(|(owner, start, count, kind)| match kind {
            0 => format!("{owner}: {start}:{count}"),
            1 => format!("{owner}:{start}:{count}x"),
            2 => "# comment".to_owned(),
            _ => format!("{owner}:{start}:{count}"),
        })
}

fn file() -> impl Strategy<Value = String> {
    prop::collection::vec(line(), 0..12).prop_map(|l| l.join("\n") + "\n")
}

fn finding(id: CheckId) -> Finding {
    Finding::fail(id, "alice's ranges are not usable")
        .fix(Fix::root(id, "repair").remedy(Remedy::RepairSubids))
}

/// Checks the plan for these files; returns how many blocks it hands out.
fn check(subuid: &str, subgid: &str, extra_ids: &[u32]) -> Result<usize, TestCaseError> {
    let (subuid, subgid) = (subuid.to_owned(), subgid.to_owned());
    let mut passwd = String::from(
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/:/bin/sh\n",
    );
    for (i, id) in extra_ids.iter().enumerate() {
        passwd.push_str(&format!("svc{i}:x:{id}:{id}::/:/bin/false\n"));
    }
    let group = "alice:x:1000:\n".to_owned();
    let target = Target::new(
        Distro::parse("ID=debian"),
        Account {
            name: "alice".into(),
            uid: 1000,
            gid: 1000,
            home: "/home/alice".into(),
            shell: "/bin/sh".into(),
        },
        HostFiles {
            subuid: Some(subuid.clone()),
            subgid: Some(subgid.clone()),
            passwd,
            group,
            usermod: true,
            ..HostFiles::default()
        },
    )
    .unwrap();
    let report = Report {
        schema_version: SCHEMA_VERSION,
        engine: Engine::Docker,
        uid: 1000,
        user: Some("alice".into()),
        distribution: "debian".into(),
        findings: vec![finding(CheckId::SubidUid), finding(CheckId::SubidGid)],
    };
    let plan = plan(&report, &target, &[]).unwrap();
    let taken: Vec<IdRange> = [parse("/etc/subuid", &subuid), parse("/etc/subgid", &subgid)]
        .iter()
        .flat_map(|f| {
            f.entries
                .iter()
                .map(|l| l.entry.range())
                .chain(f.malformed.iter().filter_map(|m| m.apparent_range()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut blocks = Vec::new();
    for step in &plan.steps {
        let text_of = |id: CheckId| {
            if id == CheckId::SubidUid {
                &subuid
            } else {
                &subgid
            }
        };
        let lines: Vec<&str> = text_of(step.checks[0].0).split('\n').collect();
        for command in &step.commands {
            let Command::Run { argv, .. } = command else {
                continue;
            };
            match argv.first().map(String::as_str) {
                Some("usermod") => {
                    let (a, b) = argv[2].split_once('-').unwrap();
                    let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
                    blocks.push(IdRange {
                        start: a,
                        count: b - a + 1,
                    });
                }
                Some("sed") => {
                    for expr in argv.windows(2).filter(|w| w[0] == "-e").map(|w| &w[1]) {
                        let n: usize = expr.trim_end_matches('d').parse().unwrap();
                        let owner = lines[n - 1].split(':').next().unwrap().trim();
                        prop_assert!(
                            owner == "alice" || owner == "1000",
                            "removes {}",
                            lines[n - 1]
                        );
                    }
                }
                _ => {}
            }
        }
    }
    for block in &blocks {
        prop_assert_eq!(block.count, 65_536);
        for t in &taken {
            prop_assert!(!block.overlaps(t), "{block:?} overlaps {t:?}");
        }
        for id in extra_ids.iter().copied().chain([0, 1000, 1001]) {
            prop_assert!(!block.contains(u64::from(id)), "{block:?} holds id {id}");
        }
    }
    if blocks.len() == 2 {
        prop_assert_eq!(blocks[0], blocks[1]);
    }
    Ok(blocks.len())
}

#[test]
fn alice_without_ranges_gets_one_block_for_both_files() {
    let blocks = check("bob:100000:65536\n", "alice:100000:10\n", &[165_600]).unwrap();
    assert_eq!(blocks, 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_block_overlaps_nothing_and_only_alices_lines_go(
        subuid in file(),
        subgid in file(),
        extra_ids in prop::collection::vec(0u32..1_500_000, 0..8),
    ) {
        check(&subuid, &subgid, &extra_ids)?;
    }
}
