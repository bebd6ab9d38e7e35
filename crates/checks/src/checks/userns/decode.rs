//! Pure decoders the `uidmap` check needs: the `security.capability` extended attribute
//! (`struct vfs_cap_data`, revisions 1 to 3) and `/proc/self/mountinfo`. Both survive any input.

use std::path::{Path, PathBuf};

/// `CAP_SETGID`.
pub(crate) const CAP_SETGID: u32 = 6;
/// `CAP_SETUID`.
pub(crate) const CAP_SETUID: u32 = 7;

/// A decoded `security.capability` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileCaps {
    /// 1, 2 or 3.
    pub(crate) revision: u8,
    /// The permitted set (bit n = capability n).
    pub(crate) permitted: u64,
    /// The inheritable set.
    pub(crate) inheritable: u64,
    /// `VFS_CAP_FLAGS_EFFECTIVE`: the permitted set is raised at exec.
    pub(crate) effective: bool,
    /// Revision 3: the user namespace root the capabilities apply to (0 = the host).
    pub(crate) rootid: Option<u32>,
}

impl FileCaps {
    /// Whether `cap` is permitted, and on the host (not only inside some user namespace).
    pub(crate) fn permits(&self, cap: u32) -> bool {
        cap < 64 && self.permitted & (1u64 << cap) != 0 && self.rootid.unwrap_or(0) == 0
    }

    /// `cap_setuid=ep`-style text of the capabilities this check cares about.
    pub(crate) fn describe(&self) -> String {
        let mut names = Vec::new();
        for (cap, name) in [(CAP_SETGID, "cap_setgid"), (CAP_SETUID, "cap_setuid")] {
            if self.permitted & (1u64 << cap) != 0 {
                names.push(name);
            }
        }
        let set = if names.is_empty() {
            format!("permitted={:#x}", self.permitted)
        } else {
            format!(
                "{}={}",
                names.join(","),
                if self.effective { "ep" } else { "p" }
            )
        };
        match self.rootid {
            Some(id) if id != 0 => format!("{set} (v{}, rootid {id})", self.revision),
            _ => format!("{set} (v{})", self.revision),
        }
    }
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// Decodes `struct vfs_cap_data` (little-endian). `None` when the size does not match its
/// revision, as the kernel would reject it too.
pub(crate) fn decode_caps(bytes: &[u8]) -> Option<FileCaps> {
    let magic = le32(bytes, 0)?;
    let revision = u8::try_from(magic >> 24).ok()?;
    let effective = magic & 0x0000_0001 != 0;
    let size = match revision {
        1 => 12,
        2 => 20,
        3 => 24,
        _ => return None,
    };
    if bytes.len() != size {
        return None;
    }
    let mut permitted = u64::from(le32(bytes, 4)?);
    let mut inheritable = u64::from(le32(bytes, 8)?);
    if revision >= 2 {
        permitted |= u64::from(le32(bytes, 12)?) << 32;
        inheritable |= u64::from(le32(bytes, 16)?) << 32;
    }
    let rootid = if revision == 3 {
        Some(le32(bytes, 20)?)
    } else {
        None
    };
    Some(FileCaps {
        revision,
        permitted,
        inheritable,
        effective,
        rootid,
    })
}

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Field 5: where it is mounted (unescaped).
    pub(crate) mount_point: PathBuf,
    /// Field 6: per-mount options (`rw,nosuid,…`).
    pub(crate) options: Vec<String>,
    /// The filesystem type (first field after ` - `).
    pub(crate) fstype: String,
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

/// Undoes the kernel's octal escapes (`\040` for a space) in mountinfo paths.
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

/// Parses mountinfo text; lines that do not fit the format are skipped.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split_whitespace().collect();
            let right: Vec<&str> = right.split_whitespace().collect();
            let mount_point = PathBuf::from(unescape(left.get(4)?));
            let split = |s: Option<&&str>| -> Vec<String> {
                s.map(|s| s.split(',').map(str::to_owned).collect())
                    .unwrap_or_default()
            };
            Some(Mount {
                mount_point,
                options: split(left.get(5)),
                fstype: (*right.first()?).to_owned(),
                super_options: split(right.get(2)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn caps_v2(permitted: u32, effective: bool) -> Vec<u8> {
        let magic: u32 = 0x0200_0000 | u32::from(effective);
        [magic, permitted, 0, 0, 0]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    }

    #[test]
    fn decodes_every_revision() {
        let v2 = decode_caps(&caps_v2(1 << CAP_SETUID, true)).unwrap();
        assert!(v2.permits(CAP_SETUID) && !v2.permits(CAP_SETGID));
        assert_eq!(v2.describe(), "cap_setuid=ep (v2)");
        let v1: Vec<u8> = [0x0100_0000u32, 1 << CAP_SETGID, 0]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let v1 = decode_caps(&v1).unwrap();
        assert_eq!((v1.revision, v1.effective), (1, false));
        assert!(v1.permits(CAP_SETGID));
        let mut v3: Vec<u8> = caps_v2(1 << CAP_SETUID, true);
        v3[3] = 3;
        v3.extend(1000u32.to_le_bytes());
        let v3 = decode_caps(&v3).unwrap();
        assert_eq!(v3.rootid, Some(1000));
        assert!(!v3.permits(CAP_SETUID), "only inside a user namespace");
        assert!(v3.describe().contains("rootid 1000"));
    }

    #[test]
    fn rejects_bad_sizes_and_revisions() {
        assert_eq!(decode_caps(&[]), None);
        assert_eq!(decode_caps(&[1, 2]), None);
        let mut v2 = caps_v2(0x80, true);
        v2.push(0);
        assert_eq!(decode_caps(&v2), None);
        assert_eq!(decode_caps(&[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            let _ = decode_caps(&junk);
        }
    }

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
30 22 0:25 / /home rw,nosuid,nodev shared:5 - ext4 /dev/sda2 rw
31 22 0:26 / /usr/local rw master:3 - tmpfs tmpfs rw,nosuid
32 30 0:27 / /home/with\\040space rw - ext4 /dev/sda3 rw
33 22 0:28 / /usr rw shared:9 - ext4 /dev/sda4 rw
34 22 0:29 / /usr rw,nosuid shared:10 - ext4 /dev/sda5 rw
garbage line
";

    #[test]
    fn mountinfo_longest_prefix_and_options() {
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(mounts.len(), 6);
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
        let m = mount_of(&mounts, Path::new("/usrx/bin")).unwrap();
        assert_eq!(m.mount_point, Path::new("/"), "prefix by component");
        assert_eq!(mount_of(&[], Path::new("/x")), None);
    }

    #[test]
    fn unescape_survives_truncated_escapes() {
        assert_eq!(unescape(r"a\040b"), "a b");
        assert_eq!(unescape(r"a\04"), r"a\04");
        assert_eq!(unescape(r"\"), r"\");
        assert_eq!(unescape(r"\999"), r"\999");
    }
}
