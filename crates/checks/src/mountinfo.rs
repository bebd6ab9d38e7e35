//! `/proc/self/mountinfo`: the one parser every check uses (`storage` for the data-root's
//! filesystem, `uidmap` for `nosuid`, `cgroup` for the filesystem at `/sys/fs/cgroup`), through
//! [`RunMemo`](crate::RunMemo), which reads and parses it once per run.
//!
//! A line is `ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER_OPTIONS`
//! (proc(5)); the kernel escapes space, tab, newline and backslash in paths as `\ooo` octal.
//! Lines that do not fit are skipped, so any text parses.

use std::path::{Path, PathBuf};

/// Where the kernel lists the caller's mounts.
pub(crate) const PATH: &str = "/proc/self/mountinfo";

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Field 5: where it is mounted (unescaped).
    pub(crate) mount_point: PathBuf,
    /// Field 6: per-mount options (`rw,nosuid,…`).
    pub(crate) options: Vec<String>,
    /// The filesystem type (first field after ` - `), such as `ext4` or `cgroup2`.
    pub(crate) fstype: String,
    /// The mount source (`/dev/sda1`, `server:/export`, `tmpfs`), empty when absent.
    pub(crate) source: String,
    /// Per-superblock options (last field).
    pub(crate) super_options: Vec<String>,
}

impl Mount {
    /// Whether setuid bits and file capabilities are ignored under it.
    pub(crate) fn nosuid(&self) -> bool {
        self.options
            .iter()
            .chain(&self.super_options)
            .any(|o| o == "nosuid")
    }
}

/// Undoes the kernel's octal escapes (`\040` for a space) in mountinfo fields.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| b == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok());
        match octal {
            Some(v) => {
                out.push(v);
                i += 4;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn options(field: Option<&&str>) -> Vec<String> {
    field
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Parses mountinfo text, in order; lines that do not fit the format are skipped.
pub(crate) fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            // Fields are separated by spaces; the kernel escapes space, tab, newline and
            // backslash inside them, but not other whitespace (`\r`, U+00A0), which is part of
            // the field.
            let fields: Vec<&str> = line.split(' ').filter(|f| !f.is_empty()).collect();
            // Six fixed fields, then optional ones, then the `-` separator.
            let sep = fields.iter().skip(6).position(|f| *f == "-")? + 6;
            Some(Mount {
                mount_point: PathBuf::from(unescape(fields.get(4)?)),
                options: options(fields.get(5)),
                fstype: unescape(fields.get(sep + 1)?),
                source: fields.get(sep + 2).map(|s| unescape(s)).unwrap_or_default(),
                super_options: options(fields.get(sep + 3)),
            })
        })
        .collect()
}

/// The mount `path` (canonical) lives on: the longest mount point that is a prefix of it; of
/// several at the same point, the last (the one on top).
pub(crate) fn mount_of<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.mount_point))
        .max_by_key(|(i, m)| (m.mount_point.components().count(), *i))
        .map(|(_, m)| m)
}

/// The mount exactly at `point` (the one on top when several are stacked there).
pub(crate) fn mount_at<'a>(mounts: &'a [Mount], point: &Path) -> Option<&'a Mount> {
    mounts.iter().rev().find(|m| m.mount_point == point)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
30 22 0:25 / /home rw,nosuid,nodev shared:5 - ext4 /dev/sda2 rw
31 22 0:26 / /usr/local rw master:3 - tmpfs tmpfs rw,nosuid
32 30 0:27 / /home/with\\040space rw - ext4 /dev/sda3 rw
33 22 0:28 / /usr rw shared:9 - ext4 /dev/sda4 rw
34 22 0:29 / /usr rw,nosuid shared:10 - ext4 /dev/sda5 rw
35 22 0:30 / /srv rw shared:11 propagate_from:2 - nfs4 fileserver:/export rw,vers=4.2
garbage line
1 2 3 4 - x y z
";

    #[test]
    fn fields_are_parsed() {
        let mounts = parse(MOUNTINFO);
        assert_eq!(mounts.len(), 7, "{mounts:#?}");
        let srv = &mounts[6];
        assert_eq!(srv.mount_point, Path::new("/srv"));
        assert_eq!(srv.options, ["rw"]);
        assert_eq!(srv.fstype, "nfs4");
        assert_eq!(srv.source, "fileserver:/export");
        assert_eq!(srv.super_options, ["rw", "vers=4.2"]);
    }

    #[test]
    fn longest_prefix_and_options() {
        let mounts = parse(MOUNTINFO);
        let m = mount_of(&mounts, Path::new("/home/alice/bin/newuidmap")).unwrap();
        assert_eq!(m.mount_point, Path::new("/home"));
        assert!(m.nosuid());
        let m = mount_of(&mounts, Path::new("/usr/local/bin/newuidmap")).unwrap();
        assert!(m.nosuid(), "nosuid in the super options counts");
        let m = mount_of(&mounts, Path::new("/home/with space/x")).unwrap();
        assert_eq!(m.mount_point, Path::new("/home/with space"));
        assert!(!m.nosuid());
        let m = mount_of(&mounts, Path::new("/usr/bin/newuidmap")).unwrap();
        assert!(m.nosuid(), "the last mount on /usr is on top");
        assert_eq!(m.fstype, "ext4");
        assert_eq!(m.source, "/dev/sda5");
        let m = mount_of(&mounts, Path::new("/usrx/bin")).unwrap();
        assert_eq!(m.mount_point, Path::new("/"), "prefix by component");
        assert_eq!(mount_of(&[], Path::new("/x")), None);
    }

    #[test]
    fn mount_at_wants_the_exact_point() {
        let mounts = parse(MOUNTINFO);
        assert_eq!(
            mount_at(&mounts, Path::new("/usr")).unwrap().source,
            "/dev/sda5"
        );
        assert_eq!(mount_at(&mounts, Path::new("/usr/bin")), None);
    }

    #[test]
    fn unescape_survives_truncated_escapes() {
        assert_eq!(unescape(r"a\040b"), "a b");
        assert_eq!(unescape(r"a\04"), r"a\04");
        assert_eq!(unescape(r"\"), r"\");
        assert_eq!(unescape(r"\999"), r"\999");
    }

    /// Lines as the kernel writes them, for the hostile generator.
    const SAMPLES: &[&str] = &[
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro",
        "32 30 0:27 / /home/with\\040space rw - ext4 /dev/sda3 rw",
        "35 22 0:30 / /srv rw shared:11 propagate_from:2 - nfs4 fileserver:/export rw,vers=4.2",
        "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate",
    ];

    /// The kernel's escaping of a path field (`mangle` in fs/proc_namespace.c).
    fn escape(field: &str) -> String {
        field
            .chars()
            .map(|c| match c {
                ' ' | '\t' | '\n' | '\\' => format!("\\{:03o}", u32::from(c)),
                c => c.to_string(),
            })
            .collect()
    }

    #[test]
    fn unicode_whitespace_is_part_of_a_path() {
        // Found by `written_mounts_parse_back`: the kernel separates fields with single spaces
        // and escapes only space, tab, newline and backslash, so a no-break space (or a
        // carriage return) is part of the mount point, not a field separator.
        let mounts = parse("36 22 0:31 / /mnt/a\u{a0}b\rc rw,nosuid - ext4 /dev/sdb\u{2003}1 rw\n");
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].mount_point, Path::new("/mnt/a\u{a0}b\rc"));
        assert_eq!(mounts[0].options, ["rw", "nosuid"]);
        assert_eq!(mounts[0].source, "/dev/sdb\u{2003}1");
    }

    proptest::proptest! {
        #![proptest_config(rootless_setup_core::hostile::cases(64))]

        #[test]
        fn written_mounts_parse_back(
            points in proptest::collection::vec("/[^\\x00]{0,30}", 1..8),
            options in proptest::collection::vec("[a-z0-9=_]{1,8}", 1..4),
            fstype in "[a-z0-9.]{1,10}",
            source in "[^\\x00]{1,20}",
        ) {
            let text: String = points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    format!(
                        "{i} 1 0:{i} / {} {} shared:{i} - {fstype} {} {}\n",
                        escape(p),
                        options.join(","),
                        escape(&source),
                        options.join(","),
                    )
                })
                .collect();
            let mounts = parse(&text);
            proptest::prop_assert_eq!(mounts.len(), points.len());
            for (m, p) in mounts.iter().zip(&points) {
                proptest::prop_assert_eq!(&m.mount_point, Path::new(p));
                proptest::prop_assert_eq!(&m.options, &options);
                proptest::prop_assert_eq!(&m.fstype, &fstype);
                proptest::prop_assert_eq!(&m.source, &source);
                proptest::prop_assert_eq!(&m.super_options, &options);
            }
        }

        #[test]
        fn near_valid_text_parses(text in rootless_setup_core::hostile::small_text(SAMPLES)) {
            let mounts = parse(&text);
            proptest::prop_assert!(mounts.len() <= text.split('\n').count());
            let _ = mount_of(&mounts, Path::new("/home/alice"));
        }
    }

    proptest::proptest! {
        #![proptest_config(rootless_setup_core::hostile::cases(3))]

        #[test]
        fn a_megabyte_parses_in_bounded_time(text in rootless_setup_core::hostile::large_text(SAMPLES)) {
            rootless_setup_core::hostile::within_budget("mountinfo::parse", text.len(), || {
                let mounts = parse(&text);
                mount_of(&mounts, Path::new("/home/alice/x")).map(|m| m.nosuid())
            });
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses(text in "\\PC*") {
            let mounts = parse(&text);
            if let Some(m) = mount_of(&mounts, Path::new("/home/alice")) {
                proptest::prop_assert!(Path::new("/home/alice").starts_with(&m.mount_point));
            }
            if let Some(m) = mount_at(&mounts, Path::new("/sys/fs/cgroup")) {
                proptest::prop_assert_eq!(&m.mount_point, Path::new("/sys/fs/cgroup"));
            }
        }

        #[test]
        fn unescape_never_lengthens_and_leaves_text_without_backslashes(
            text in "(\\\\[0-9]{0,3}|\\PC)*"
        ) {
            let out = unescape(&text);
            proptest::prop_assert!(out.len() <= text.len(), "{text:?} became {out:?}");
            if !text.contains('\\') {
                proptest::prop_assert_eq!(out, text);
            }
        }
    }
}
