//! Property tests of the public parsers of hostile host files and program output: `/etc/passwd`
//! ([`passwd`]), os-release ([`Distro::parse`]), a fixture's `/.fixture-meta` (through
//! [`Host::at`]), the D-Bus bus address the session checks read (`unix_socket_path`), and the
//! network plan's version and date parsers. Each survives any text, keeps its model (round
//! trips, orderings) on valid input, and reads a megabyte within [`hostile::BUDGET`].
//! The private parsers (mountinfo, capabilities, versions, rootlesskit output, cgroups) have
//! the same tests in their own modules.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rootless_setup_core::distro::Family;
use rootless_setup_core::hostile::{self, Large};
use rootless_setup_core::model::Account;
use rootless_setup_core::network::{self as plan, PastaAge};
use rootless_setup_core::passwd;
use rootless_setup_core::{Distro, Host};
use rootless_setup_systemd::address::{unix_address, unix_socket_path};

const PASSWD: &[&str] = &[
    "root:x:0:0:root:/root:/bin/bash",
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
    "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash",
    "+nis::::::",
    "# comment",
    "bob:x:4294967295:1001::/home/bob:/bin/sh",
];

const OS_RELEASE: &[&str] = &[
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"",
    "ID=debian",
    "ID_LIKE=\"rhel centos fedora\"",
    "VERSION_ID=\"24.04\"",
    "ID='opensuse-tumbleweed'",
    "HOME_URL=\"https://www.debian.org/\"",
];

const FIXTURE_META: &[&str] = &[
    "/usr/bin/newuidmap uid=0 gid=0 mode=4755",
    "/usr/bin/newgidmap uid=0 gid=0 mode=0755 xattr.security.capability=01000002c0000000",
    "# comment",
    "/etc/subuid mode=644",
];

const BUS_ADDRESSES: &[&str] = &[
    "unix:path=/run/user/1000/bus",
    "unix:path=/run/user/a%20b/bus,guid=0123456789abcdef",
    "unix:abstract=/tmp/dbus-x;unix:path=/run/user/1000/bus",
    "tcp:host=localhost,port=1234",
];

const VERSIONS: &[&str] = &[
    "1.2.0",
    "0.4.7-1",
    "2023_12_04.b86afe3",
    "0^20231204.b86afe3-1",
    "0.0~git20231204.b86afe3-1",
    "pasta 2023_06_25.32660ce",
];

/// An account `passwd` can hold: no `:` or newline in any field, a name that is not empty and
/// does not start with `+`, `-` or `#`.
fn account() -> impl Strategy<Value = Account> {
    let field = "[^:\n\r]{0,20}";
    (
        "[a-z_][a-z0-9_.-]{0,15}",
        any::<u32>(),
        any::<u32>(),
        field.prop_map(|s| format!("/{s}")),
        field,
    )
        .prop_map(|(name, uid, gid, home, shell)| Account {
            name,
            uid,
            gid,
            home: PathBuf::from(home),
            shell,
        })
}

fn passwd_line(a: &Account, gecos: &str) -> String {
    format!(
        "{}:x:{}:{}:{gecos}:{}:{}",
        a.name,
        a.uid,
        a.gid,
        a.home.display(),
        a.shell
    )
}

proptest! {
    #![proptest_config(hostile::cases(64))]

    #[test]
    fn passwd_entries_round_trip(
        accounts in prop::collection::vec(account(), 0..12),
        gecos in "[^:\n\r]{0,20}",
        noise in prop::collection::vec(prop::sample::select(&PASSWD[3..5]), 0..3),
    ) {
        let mut text: String = noise.iter().map(|l| format!("{l}\n")).collect();
        for a in &accounts {
            text.push_str(&passwd_line(a, &gecos));
            text.push('\n');
        }
        let parsed: Vec<Account> = passwd::entries(&text).collect();
        prop_assert_eq!(&parsed, &accounts);
        for a in &accounts {
            let first = accounts.iter().find(|b| b.uid == a.uid).cloned();
            prop_assert_eq!(passwd::by_uid(&text, a.uid), first);
            let first = accounts.iter().find(|b| b.name == a.name).cloned();
            prop_assert_eq!(passwd::by_name(&text, &a.name), first);
        }
    }

    #[test]
    fn near_valid_passwd_gives_only_well_formed_entries(text in hostile::small_text(PASSWD)) {
        for a in passwd::entries(&text) {
            prop_assert!(!a.name.is_empty() && !a.name.starts_with(['+', '-', '#']));
            prop_assert!(!a.name.contains([':', '\n']) && !a.shell.contains([':', '\n']));
            // Each entry is one line of the text, rewritten exactly (the password and GECOS
            // fields aside).
            let line = text.lines().find(|l| {
                l.starts_with(&format!("{}:", a.name))
                    && l.ends_with(&format!(":{}:{}", a.home.display(), a.shell))
            });
            prop_assert!(line.is_some(), "{a:?}");
        }
    }

    #[test]
    fn near_valid_os_release_is_read(text in hostile::small_text(OS_RELEASE)) {
        let d = Distro::parse(&text);
        prop_assert_eq!(&d.id, &d.id.to_lowercase());
        prop_assert!(d.id_like.iter().all(|l| !l.is_empty() && !l.contains(char::is_whitespace)));
        let _ = d.is_ubuntu_at_least(23, 10);
        let _ = d.install_command(&[rootless_setup_core::distro::Package::Uidmap]);
    }

    #[test]
    fn os_release_values_are_read_back(
        id in "[a-zA-Z0-9._-]{1,20}",
        like in prop::collection::vec("[a-z0-9._-]{1,12}", 0..4),
        version in "[0-9]{1,4}(\\.[0-9]{1,4})?",
        quote in prop::sample::select(vec!["", "\"", "'"]),
    ) {
        let text = format!(
            "NAME=x\nID={quote}{id}{quote}\nID_LIKE={quote}{}{quote}\nVERSION_ID={quote}{version}{quote}\n",
            like.join(" ")
        );
        let d = Distro::parse(&text);
        prop_assert_eq!(&d.id, &id.to_lowercase());
        prop_assert_eq!(&d.id_like, &like);
        prop_assert_eq!(d.version_id.as_deref(), Some(version.as_str()));
        if id.eq_ignore_ascii_case("ubuntu") {
            let (major, minor) = version.split_once('.').unwrap_or((&version, "0"));
            let have: (u32, u32) = (major.parse().unwrap_or(0), minor.parse().unwrap_or(0));
            prop_assert_eq!(d.is_ubuntu_at_least(23, 10), have >= (23, 10));
        }
        if id == "debian" {
            prop_assert_eq!(d.family, Family::Debian);
        }
    }

    #[test]
    fn fixture_meta_overrides_round_trip(
        uid: u32,
        gid: u32,
        mode in 0u32..0o10000,
        xattr in prop::collection::vec(any::<u8>(), 0..32),
        noise in hostile::small_text(FIXTURE_META),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("file"), "").expect("file");
        let hex: String = xattr.iter().map(|b| format!("{b:02x}")).collect();
        // The last line for a path wins, so the generated noise comes first.
        let meta = format!("{noise}\n/file uid={uid} gid={gid} mode={mode:o} xattr.user.x={hex}\n");
        std::fs::write(dir.path().join(".fixture-meta"), meta).expect("meta");
        let host = Host::at(dir.path());
        let info = host.stat("/file").expect("stat").expect("exists");
        prop_assert_eq!((info.uid, info.gid, info.perms()), (uid, gid, mode));
        prop_assert_eq!(host.xattr("/file", "user.x"), Some(xattr));
    }

    #[test]
    fn bus_addresses_round_trip(path in prop::collection::vec(1u8..=255, 1..64)) {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(&path)).to_path_buf();
        let address = unix_address(&path);
        prop_assert_eq!(unix_socket_path(&address), Some(path.clone()));
        let listed = format!("unix:abstract=/x,guid=1;{address},guid=0123");
        prop_assert_eq!(unix_socket_path(&listed), Some(path));
    }

    #[test]
    fn near_valid_bus_addresses_are_read(text in hostile::small_text(BUS_ADDRESSES)) {
        if let Some(path) = unix_socket_path(&text) {
            prop_assert!(!path.as_os_str().is_empty());
        }
    }

    #[test]
    fn pasta_dates_compare_as_dates(
        date in (2000u64..2100, 1u64..=12, 1u64..=31),
        spelling in 0..3usize,
        commit in "[0-9a-f]{7}",
    ) {
        let (y, m, d) = date;
        let version = match spelling {
            0 => format!("{y:04}_{m:02}_{d:02}.{commit}"),
            1 => format!("0^{y:04}{m:02}{d:02}.{commit}-1"),
            _ => format!("0.0~git{y:04}{m:02}{d:02}.{commit}-1"),
        };
        prop_assert_eq!(plan::pasta_date(&version), Some([y, m, d]));
        prop_assert_eq!(plan::show_date([y, m, d]), format!("{y:04}_{m:02}_{d:02}"));
        let want = if [y, m, d] < plan::PASTA_MIN_DATE {
            PastaAge::TooOld
        } else if [y, m, d] < plan::PASTA_RECOMMENDED_DATE {
            PastaAge::BelowRecommended
        } else {
            PastaAge::Recommended
        };
        prop_assert_eq!(plan::pasta_age(&version), Some(want));
    }

    #[test]
    fn near_valid_versions_are_read(text in hostile::small_text(VERSIONS)) {
        if let Some([_, m, d]) = plan::pasta_date(&text) {
            prop_assert!((1..=12).contains(&m) && (1..=31).contains(&d));
        }
        let _ = plan::slirp4netns_supported(&text);
        let _ = plan::validate(&text, Some(&text), Some(&text));
    }
}

proptest! {
    #![proptest_config(hostile::cases(3))]

    #[test]
    fn a_megabyte_of_passwd_is_read_in_bounded_time(text in hostile::large_text(PASSWD)) {
        hostile::within_budget("passwd::entries", text.len(), || passwd::entries(&text).count());
        hostile::within_budget("passwd::by_uid", text.len(), || passwd::by_uid(&text, 1000));
    }

    #[test]
    fn a_megabyte_of_os_release_is_read_in_bounded_time(text in hostile::large_text(OS_RELEASE)) {
        hostile::within_budget("os-release", text.len(), || Distro::parse(&text));
    }

    #[test]
    fn a_megabyte_of_fixture_meta_is_read_in_bounded_time(text in hostile::large_text(FIXTURE_META)) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".fixture-meta"), text.as_bytes()).expect("meta");
        hostile::within_budget(".fixture-meta", text.len(), || {
            let host = Host::at(dir.path());
            (host.stat("/usr/bin/newuidmap").ok(), host.xattr("/usr/bin/newgidmap", "security.capability"))
        });
    }

    #[test]
    fn a_megabyte_of_bus_address_is_read_in_bounded_time(text in hostile::large_text(BUS_ADDRESSES)) {
        hostile::within_budget("bus address", text.len(), || unix_socket_path(&text));
    }

    #[test]
    fn a_megabyte_of_version_text_is_read_in_bounded_time(text in hostile::large_text(VERSIONS)) {
        hostile::within_budget("network_plan::pasta_age", text.len(), || plan::pasta_age(&text));
        hostile::within_budget("network_plan::slirp4netns_supported", text.len(), || {
            plan::slirp4netns_supported(&text)
        });
        hostile::within_budget("network_plan::validate", text.len(), || {
            plan::validate(&text, Some(&text), Some(&text)).is_ok()
        });
    }

    #[test]
    fn arbitrary_bytes_are_read_in_bounded_time(bytes in hostile::bytes()) {
        let text = Large(String::from_utf8_lossy(&bytes).into_owned());
        hostile::within_budget("passwd::entries (bytes)", text.len(), || passwd::entries(&text).count());
        hostile::within_budget("Distro::parse (bytes)", text.len(), || Distro::parse(&text));
        hostile::within_budget("unix_socket_path (bytes)", text.len(), || unix_socket_path(&text));
        hostile::within_budget("pasta_date (bytes)", text.len(), || plan::pasta_date(&text));
    }
}
