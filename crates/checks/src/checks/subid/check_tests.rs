//! Fixture tests of `subid.uid` and `subid.gid`: every status, by name and by uid, through the
//! files and through `getsubids`.

use super::*;
use crate::caller::Caller;
use crate::checks::common::test_support::commands;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::finding::Status;
use rootless_setup_core::model::{Facts, IdRange};
use rootless_setup_core::testing::Fixture;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                      alice:x:1000:1000:Alice:/home/alice:/bin/bash\n\
                      bob:x:1001:1001::/home/bob:/bin/sh\n";
const GROUP: &str = "root:x:0:\nalice:x:1000:\nbob:x:1001:\n";

fn fixture(subuid: &str, subgid: &str) -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file("/etc/passwd", PASSWD)
        .file("/etc/group", GROUP)
        .file("/etc/subuid", subuid)
        .file("/etc/subgid", subgid);
    fx
}

fn alice() -> Caller {
    Caller::new(1000, 1000).with_var("PATH", "/usr/local/bin:/usr/bin:/bin")
}

fn run_kind(h: &Harness, kind: Kind, facts: &mut Facts) -> Finding {
    run(&h.context(), facts, kind)
}

fn check(fx: &Fixture, kind: Kind) -> (Finding, Facts) {
    let h = Harness::new(fx, alice(), ScriptedSystem::new());
    let mut facts = Facts::default();
    let f = run_kind(&h, kind, &mut facts);
    (f, facts)
}

fn values<'a>(f: &'a Finding, key: &str) -> Vec<&'a str> {
    f.observed
        .iter()
        .filter(|o| o.key == key)
        .map(|o| o.value.as_str())
        .collect()
}

#[test]
fn pass_by_name_with_a_full_block() {
    let fx = fixture(
        "bob:165536:65536\nalice:100000:65536\n",
        "alice:100000:65536\n",
    );
    let (f, facts) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("total"), Some("65536"));
    assert_eq!(f.observed("source"), Some("files"));
    assert_eq!(
        values(&f, "range"),
        ["100000-165535 (65536 ids) at /etc/subuid:2"]
    );
    assert_eq!(
        facts.subuids,
        Some(vec![IdRange {
            start: 100000,
            count: 65536
        }])
    );
    assert_eq!(facts.subgids, None);
    let (g, facts) = check(&fx, Kind::Gid);
    assert_eq!(g.status, Status::Pass, "{g:#?}");
    assert_eq!(g.observed("path"), Some("/etc/subgid"));
    assert_eq!(
        facts.subgids,
        Some(vec![IdRange {
            start: 100000,
            count: 65536
        }])
    );
}

#[test]
fn pass_by_numeric_uid_and_split_ranges_add_up() {
    let fx = fixture("alice:100000:32768\n1000:200000:32768\n", "");
    let (f, facts) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("total"), Some("65536"));
    assert_eq!(facts.subuids.map(|r| r.len()), Some(2));
}

#[test]
fn no_range_fails_with_a_free_block_not_a_hard_coded_one() {
    // 100000 is taken in subuid, 165536 in subgid, a uid sits in 231072's block.
    let fx = fixture("bob:100000:65536\n", "bob:165536:65536\n");
    fx.file(
        "/etc/passwd",
        &format!("{PASSWD}svc:x:231100:231100::/:/bin/false\n"),
    );
    let (f, facts) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "alice (uid 1000) has no subordinate uids in /etc/subuid"
    );
    assert_eq!(
        commands(&f),
        ["sudo usermod --add-subuids 296608-362143 alice"]
    );
    assert!(f.fix.as_ref().is_some_and(|x| x.root));
    assert!(f.why.is_some());
    assert_eq!(f.observed("total"), Some("0"));
    assert_eq!(facts.subuids, None);
    let (g, _) = check(&fx, Kind::Gid);
    assert_eq!(g.status, Status::Fail);
    assert_eq!(
        commands(&g),
        ["sudo usermod --add-subgids 296608-362143 alice"],
        "the same block for both files"
    );
}

#[test]
fn a_missing_file_is_no_range() {
    let fx = fixture("", "");
    fx.remove("/etc/subuid");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("file"), Some("absent"));
    assert_eq!(
        commands(&f),
        ["sudo usermod --add-subuids 100000-165535 alice"]
    );
}

#[test]
fn a_directory_user_gets_a_line_appended_instead_of_usermod() {
    let fx = fixture("", "");
    let h = Harness::new(&fx, Caller::new(5000, 5000), ScriptedSystem::new());
    let mut facts = Facts {
        account: Some(rootless_setup_core::testing::account(
            "carol",
            5000,
            "/home/carol",
        )),
        ..Facts::default()
    };
    let f = run_kind(&h, Kind::Gid, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        commands(&f),
        ["echo carol:100000:65536 | sudo tee -a /etc/subgid >/dev/null"]
    );
}

#[test]
fn too_few_ids_fail_and_observe_the_total() {
    let fx = fixture("alice:100000:1000\n", "");
    let (f, facts) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("total"), Some("1000"));
    assert!(f.summary.contains("1000 subordinate uids") && f.summary.contains("fewer than 65536"));
    // 100000..101000 is taken, so the next aligned block is used.
    assert_eq!(
        commands(&f),
        ["sudo usermod --add-subuids 165536-231071 alice"]
    );
    assert_eq!(
        facts.subuids,
        Some(vec![IdRange {
            start: 100000,
            count: 1000
        }])
    );
}

#[test]
fn overlap_with_another_user_names_the_owner_and_line() {
    let fx = fixture("alice:100000:65536\n1001:150000:65536\n", "");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "alice's range 100000-165535 (65536 ids) at /etc/subuid:1 overlaps 1001 (bob)'s range \
         150000-215535 (65536 ids) at /etc/subuid:2"
    );
    assert_eq!(
        values(&f, "overlap"),
        ["/etc/subuid:1 with 1001 (bob) at /etc/subuid:2"]
    );
    assert_eq!(
        commands(&f),
        [
            "sudo sed -i -e '1d' /etc/subuid",
            "sudo usermod --add-subuids 231072-296607 alice"
        ]
    );
}

#[test]
fn a_range_containing_the_users_own_id_fails() {
    let fx = fixture("alice:0:65536\nalice:100000:65536\n", "alice:500:1000\n");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary.contains("contains alice's own uid 1000") && f.summary.contains("/etc/subuid:1"),
        "{}",
        f.summary
    );
    // The other range is big enough: only the bad line goes.
    assert_eq!(commands(&f), ["sudo sed -i -e '1d' /etc/subuid"]);
    let (g, _) = check(&fx, Kind::Gid);
    assert_eq!(g.status, Status::Fail);
    assert!(g.summary.contains("own gid 1000"), "{}", g.summary);
    assert_eq!(g.observed("gid"), Some("1000"));
}

#[test]
fn the_users_own_ranges_overlapping_each_other_fail() {
    let fx = fixture("alice:100000:65536\n1000:100000:65536\n", "");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("overlap each other"), "{}", f.summary);
    assert_eq!(commands(&f), ["sudo sed -i -e '2d' /etc/subuid"]);
}

#[test]
fn a_malformed_line_naming_the_user_fails() {
    let fx = fixture("bob:165536:65536\nalice:100000:65536x\n", "");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "/etc/subuid:2 names alice but is malformed: the count `65536x` is not a decimal number"
    );
    assert_eq!(
        commands(&f),
        [
            "sudo sed -i -e '2d' /etc/subuid",
            "sudo usermod --add-subuids 100000-165535 alice"
        ]
    );
}

#[test]
fn malformed_lines_of_others_warn_with_file_and_line() {
    let fx = fixture("alice:100000:65536\n# ok\nbob:165536\n\ncarol:1:0\n", "");
    let (f, facts) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(f.summary.contains("(3, 5)"), "{}", f.summary);
    assert!(f.summary.contains("/etc/subuid:3:"), "{}", f.summary);
    assert_eq!(values(&f, "malformed").len(), 2);
    assert!(f.fix.as_ref().is_some_and(|x| x.summary.contains("3, 5")));
    assert_eq!(
        facts.subuids,
        Some(vec![IdRange {
            start: 100000,
            count: 65536
        }]),
        "a warning still establishes the ranges"
    );
}

#[test]
fn a_path_that_is_not_a_regular_file_fails_with_a_replacement() {
    let fx = fixture("", "bob:100000:65536\n");
    fx.remove("/etc/subuid").dir("/etc/subuid");
    let (f, facts) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert_eq!(f.summary, "/etc/subuid is a directory, not a regular file");
    assert_eq!(
        commands(&f),
        [
            "sudo mv -T /etc/subuid /etc/subuid.not-a-file",
            "sudo install -m 0644 /dev/null /etc/subuid",
            "sudo usermod --add-subuids 165536-231071 alice",
        ]
    );
    assert_eq!(
        f.observed("error"),
        Some("could not read /etc/subuid: it is a directory, not a regular file")
    );
    assert_eq!(
        f.why.as_deref(),
        Some(
            "newuidmap reads alice's subordinate uids from this file; as a directory it holds \
             none, so the engine cannot start"
        )
    );
    assert_eq!(facts.subuids, None);

    fx.remove("/etc/subuid").symlink("/etc/subuid", "subuid");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert_eq!(
        f.summary,
        "/etc/subuid is a symbolic link loop, not a regular file"
    );

    fx.remove("/etc/subgid");
    nix::unistd::mkfifo(
        &fx.path("/etc/subgid"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .expect("mkfifo");
    let (g, _) = check(&fx, Kind::Gid);
    assert_eq!(g.status, Status::Fail, "{g:#?}");
    assert_eq!(g.summary, "/etc/subgid is a FIFO, not a regular file");
    assert_eq!(
        commands(&g)[..2],
        [
            "sudo mv -T /etc/subgid /etc/subgid.not-a-file",
            "sudo install -m 0644 /dev/null /etc/subgid",
        ]
    );
}

#[test]
fn a_file_too_large_to_read_warns_without_a_chmod() {
    let fx = fixture("", "");
    let line = "bob:100000:65536\n";
    let too_many = (rootless_setup_core::read::Limit::HOST.0 as usize) / line.len() + 1;
    fx.file("/etc/subuid", &line.repeat(too_many));
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert_eq!(
        f.summary,
        "could not read /etc/subuid: it is larger than 16 MiB, the most this tool reads from such \
         a file"
    );
    assert!(commands(&f).is_empty());
    assert_eq!(
        f.fix.as_ref().map(|x| x.summary.as_str()),
        Some("remove unused ranges from /etc/subuid (as root, with an editor)")
    );
}

#[test]
fn twenty_thousand_copies_of_a_line_become_one_sed_range_and_bounded_lists() {
    let fx = fixture(&"alice:100000:65536\n".repeat(20_000), "");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(commands(&f), ["sudo sed -i -e '2,20000d' /etc/subuid"]);
    // 5 facts, the first 10 ranges and their count, total, required, 10 self-overlaps.
    assert_eq!(f.observed.len(), 28, "{f:#?}");
    assert_eq!(values(&f, "range").len(), 10);
    assert_eq!(f.observed("range_total"), Some("20000"));
    assert_eq!(values(&f, "self_overlap").len(), 10);
    assert_eq!(
        f.summary,
        "alice's ranges 100000-165535 (65536 ids) at /etc/subuid:1 and 100000-165535 (65536 ids) \
         at /etc/subuid:2 overlap each other"
    );
}

#[test]
fn separate_lines_become_separate_sed_expressions() {
    let fx = fixture(
        "alice:100000:65536\nbob:300000:65536\nalice:100000:1\nalice:100001:1\nbob:1:1\n\
         alice:100002:1\n",
        "",
    );
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(commands(&f), ["sudo sed -i -e '3,4d' -e '6d' /etc/subuid"]);
}

#[test]
fn no_passwd_entry_skips() {
    let fx = fixture("alice:100000:65536\n", "");
    let h = Harness::new(&fx, Caller::new(4242, 4242), ScriptedSystem::new());
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(f.status, Status::Skip);
    assert_eq!(f.observed("uid"), Some("4242"));
}

fn nss_fixture() -> Fixture {
    let fx = fixture("", "");
    fx.file(
        "/etc/nsswitch.conf",
        "passwd: files\nsubid:   sss # remote\n",
    )
    .exe("/usr/bin/getsubids");
    fx
}

#[test]
fn nss_source_is_asked_through_getsubids() {
    let fx = nss_fixture();
    // Later scripts win: `-g alice` also contains `alice`.
    let system = ScriptedSystem::new()
        .on(
            "getsubids",
            "alice",
            ScriptedSystem::ok("0: alice 100000 65536\n1: alice 400000 10\n"),
        )
        .on(
            "getsubids",
            "-g alice",
            ScriptedSystem::ok("0: alice 300000 65536\n"),
        );
    let h = Harness::new(&fx, alice(), system);
    let mut facts = Facts::default();
    let f = run_kind(&h, Kind::Uid, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("source"), Some("nss:sss"));
    assert_eq!(f.observed("total"), Some("65546"));
    let g = run_kind(&h, Kind::Gid, &mut facts);
    assert_eq!(g.status, Status::Pass, "{g:#?}");
    assert_eq!(
        h.system.calls(),
        [
            "run /usr/bin/getsubids alice",
            "run /usr/bin/getsubids -g alice"
        ]
    );
    assert_eq!(facts.subgids.map(|r| r[0].start), Some(300000));
}

#[test]
fn nss_ranges_are_listed_up_to_the_cap_with_their_count() {
    let fx = nss_fixture();
    let lines: String = (0..25u64)
        .map(|i| format!("{i}: alice {} 10000\n", 100_000 + i * 10_000))
        .collect();
    let system = ScriptedSystem::new().on("getsubids", "alice", ScriptedSystem::ok(&lines));
    let h = Harness::new(&fx, alice(), system);
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(values(&f, "range").len(), 10);
    assert_eq!(f.observed("range_total"), Some("25"));
    assert_eq!(f.observed("total"), Some("250000"));
}

#[test]
fn nss_without_ranges_fails_and_points_at_the_source() {
    let fx = nss_fixture();
    let system = ScriptedSystem::new().on(
        "getsubids",
        "",
        ScriptedSystem::failed(1, "Error fetching ranges\n"),
    );
    let h = Harness::new(&fx, alice(), system);
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "`sss` has no subordinate uids for alice (getsubids: Error fetching ranges)"
    );
    assert!(
        f.fix
            .as_ref()
            .is_some_and(|x| x.summary.contains("administrator"))
    );
}

#[test]
fn nss_with_too_few_ids_fails() {
    let fx = nss_fixture();
    let system =
        ScriptedSystem::new().on("getsubids", "", ScriptedSystem::ok("0: alice 100000 10\n"));
    let h = Harness::new(&fx, alice(), system);
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("total"), Some("10"));
}

#[test]
fn nss_without_getsubids_warns_with_the_package_to_install() {
    let fx = nss_fixture();
    fx.remove("/usr/bin/getsubids");
    let h = Harness::new(&fx, alice(), ScriptedSystem::new());
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(f.status, Status::Warn);
    assert_eq!(commands(&f), ["sudo apt-get install -y uidmap"]);
    assert!(h.system.calls().is_empty());
    fx.file("/etc/os-release", "ID=fedora\n");
    let h = Harness::new(&fx, alice(), ScriptedSystem::new());
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(commands(&f), ["sudo dnf install -y shadow-utils-subid"]);
}

#[test]
fn nss_when_getsubids_cannot_run_warns() {
    let fx = nss_fixture();
    let h = Harness::new(&fx, alice(), ScriptedSystem::new());
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(
        f.summary.starts_with("could not ask `sss`"),
        "{}",
        f.summary
    );
    assert_eq!(h.system.calls().len(), 1, "asked once");
}

#[test]
fn nsswitch_files_reads_the_file() {
    let fx = fixture("alice:100000:65536\n", "");
    fx.file("/etc/nsswitch.conf", "subid: files\n")
        .exe("/usr/bin/getsubids");
    let h = Harness::new(&fx, alice(), ScriptedSystem::new());
    let f = run_kind(&h, Kind::Uid, &mut Facts::default());
    assert_eq!(f.status, Status::Pass);
    assert!(h.system.calls().is_empty());
}

#[test]
fn nsswitch_subid_line_parsing() {
    assert_eq!(
        super::super::nss::source("subid: sss\n").as_deref(),
        Some("sss")
    );
    assert_eq!(
        super::super::nss::source("#subid: sss\npasswd: files\n"),
        None
    );
    assert_eq!(super::super::nss::source("subid:\n"), None);
    assert_eq!(
        super::super::nss::source("subid: [NOTFOUND=return] files").as_deref(),
        Some("files")
    );
}

#[test]
fn getsubids_output_parsing_ignores_junk() {
    assert_eq!(
        super::super::nss::parse_getsubids(
            "0: alice 100000 65536\nError\n1: alice x 5\n2: alice 5 0\n"
        ),
        vec![IdRange {
            start: 100000,
            count: 65536
        }]
    );
}

#[test]
fn the_free_block_avoids_ranges_of_malformed_lines() {
    // Shadow ignores bob's line (trailing blank), but bob surely means to own those ids.
    let fx = fixture("bob:100000:65536 \n", "");
    let (f, _) = check(&fx, Kind::Uid);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        commands(&f),
        ["sudo usermod --add-subuids 165536-231071 alice"]
    );
    assert!(values(&f, "malformed")[0].starts_with("/etc/subuid:1: the count contains whitespace"));
}
