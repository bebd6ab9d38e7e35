//! File capabilities: the `security.capability` extended attribute (`struct vfs_cap_data`,
//! revisions 1 to 3, little-endian), as `setcap` writes it. Used by `uidmap` (`cap_setuid`,
//! `cap_setgid` on the mapping helpers) and `network.ports` (`cap_net_bind_service` on the
//! port listener). The decoder survives any bytes.

/// The extended attribute that holds file capabilities.
pub(crate) const XATTR: &str = "security.capability";

pub(crate) const CAP_SETGID: u32 = 6;
pub(crate) const CAP_SETUID: u32 = 7;
pub(crate) const CAP_NET_BIND_SERVICE: u32 = 10;

/// `VFS_CAP_FLAGS_EFFECTIVE`.
const FLAGS_EFFECTIVE: u32 = 0x0000_0001;

/// A decoded `security.capability` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileCaps {
    /// `VFS_CAP_REVISION_1`, `_2` or `_3`.
    pub(crate) revision: u8,
    /// The permitted set (bit n = capability n).
    pub(crate) permitted: u64,
    /// The inheritable set.
    pub(crate) inheritable: u64,
    /// `VFS_CAP_FLAGS_EFFECTIVE`: the permitted set becomes effective at exec.
    pub(crate) effective: bool,
    /// Revision 3: the user namespace root the capabilities apply to (0 = the host).
    pub(crate) rootid: Option<u32>,
}

impl FileCaps {
    /// Whether `cap` is permitted, and on the host (not only inside some user namespace).
    pub(crate) fn permits(&self, cap: u32) -> bool {
        cap < 64 && self.permitted & (1u64 << cap) != 0 && self.rootid.unwrap_or(0) == 0
    }

    /// Whether a program that knows nothing of capabilities gets `cap` at exec: permitted on
    /// the host and raised by the effective flag (`=ep`, not only `=p`).
    pub(crate) fn raises(&self, cap: u32) -> bool {
        self.effective && self.permits(cap)
    }

    /// `cap_setuid,cap_setgid=ep (v2)`-style text, naming the capabilities of `named` that are
    /// permitted (the raw permitted mask when none is), and a foreign rootid.
    pub(crate) fn describe(&self, named: &[(u32, &str)]) -> String {
        let names: Vec<&str> = named
            .iter()
            .filter(|(cap, _)| *cap < 64 && self.permitted & (1u64 << cap) != 0)
            .map(|(_, name)| *name)
            .collect();
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

/// Decodes `struct vfs_cap_data`. `None` when the revision is unknown or the size does not
/// match it, as the kernel rejects such an attribute too.
pub(crate) fn decode(bytes: &[u8]) -> Option<FileCaps> {
    let magic = le32(bytes, 0)?;
    let revision = u8::try_from(magic >> 24).ok()?;
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
        effective: magic & FLAGS_EFFECTIVE != 0,
        rootid,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const NAMED: [(u32, &str); 2] = [(CAP_SETGID, "cap_setgid"), (CAP_SETUID, "cap_setuid")];

    fn words(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn v2(permitted: u32, effective: bool) -> Vec<u8> {
        words(&[0x0200_0000 | u32::from(effective), permitted, 0, 0, 0])
    }

    #[test]
    fn decodes_every_revision() {
        let caps = decode(&v2(1 << CAP_SETUID, true)).unwrap();
        assert!(caps.permits(CAP_SETUID) && !caps.permits(CAP_SETGID));
        assert!(caps.raises(CAP_SETUID));
        assert_eq!(caps.describe(&NAMED), "cap_setuid=ep (v2)");

        let v1 = decode(&words(&[0x0100_0000, 1 << CAP_SETGID, 0])).unwrap();
        assert_eq!((v1.revision, v1.effective, v1.rootid), (1, false, None));
        assert!(v1.permits(CAP_SETGID) && !v1.raises(CAP_SETGID));
        assert_eq!(v1.describe(&NAMED), "cap_setgid=p (v1)");

        let mut v3 = v2(1 << CAP_SETUID, true);
        v3[3] = 3;
        v3.extend(1000u32.to_le_bytes());
        let v3 = decode(&v3).unwrap();
        assert_eq!(v3.rootid, Some(1000));
        assert!(!v3.permits(CAP_SETUID), "only inside a user namespace");
        assert!(v3.describe(&NAMED).contains("rootid 1000"));
    }

    #[test]
    fn the_high_words_and_the_inheritable_set_count() {
        let caps = decode(&words(&[0x0200_0001, 0, 1 << 3, 1, 0])).unwrap();
        assert!(caps.permits(32), "CAP_SYSLOG lives in the second word");
        assert_eq!(caps.inheritable, 1 << 3);
        assert_eq!(caps.describe(&NAMED), "permitted=0x100000000 (v2)");
        assert!(!caps.permits(64), "out of range is never permitted");
    }

    #[test]
    fn setcap_net_bind_service_ep() {
        // What `setcap cap_net_bind_service=ep FILE` writes.
        let caps = decode(&words(&[0x0200_0001, 1 << CAP_NET_BIND_SERVICE, 0, 0, 0])).unwrap();
        assert!(caps.raises(CAP_NET_BIND_SERVICE));
        let p_only = decode(&v2(1 << CAP_NET_BIND_SERVICE, false)).unwrap();
        assert!(!p_only.raises(CAP_NET_BIND_SERVICE));
    }

    #[test]
    fn rejects_bad_sizes_and_revisions() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[1, 2]), None);
        assert_eq!(decode(&[0; 20]), None, "revision 0");
        let mut long = v2(0x80, true);
        long.push(0);
        assert_eq!(decode(&long), None);
        assert_eq!(decode(&[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]), None);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_without_panic(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ) {
            if let Some(caps) = decode(&bytes) {
                let _ = caps.describe(&NAMED);
                let _ = caps.raises(CAP_NET_BIND_SERVICE);
            }
        }

        #[test]
        fn every_revision_round_trips(
            revision in 1u8..=3,
            permitted: u64,
            inheritable: u64,
            effective: bool,
            rootid: u32,
        ) {
            let high = |v: u64| u32::try_from(v >> 32).unwrap_or(0);
            let mut attr = vec![
                (u32::from(revision) << 24) | u32::from(effective),
                permitted as u32,
                inheritable as u32,
            ];
            if revision >= 2 {
                attr.extend([high(permitted), high(inheritable)]);
            }
            if revision == 3 {
                attr.push(rootid);
            }
            let caps = decode(&words(&attr)).expect("a well-formed attribute");
            let keep = |v: u64| if revision == 1 { v & 0xffff_ffff } else { v };
            proptest::prop_assert_eq!(caps, FileCaps {
                revision,
                permitted: keep(permitted),
                inheritable: keep(inheritable),
                effective,
                rootid: (revision == 3).then_some(rootid),
            });
        }

        #[test]
        fn revision_two_round_trips(low: u32, high: u32, effective: bool) {
            let caps = decode(&words(&[0x0200_0000 | u32::from(effective), low, 0, high, 0]))
                .expect("a well-formed v2 attribute");
            proptest::prop_assert_eq!(caps.permitted, u64::from(low) | (u64::from(high) << 32));
            proptest::prop_assert_eq!(caps.effective, effective);
        }
    }

    proptest::proptest! {
        #![proptest_config(rootless_setup_core::hostile::cases(32))]

        #[test]
        fn hostile_bytes_decode_in_bounded_time(bytes in rootless_setup_core::hostile::bytes()) {
            let (caps, _) = rootless_setup_core::hostile::within_budget("caps::decode", bytes.len(), || {
                decode(&bytes)
            });
            if let Some(caps) = caps {
                proptest::prop_assert!(matches!(bytes.len(), 12 | 20 | 24));
                proptest::prop_assert!(caps.describe(&NAMED).len() < 100);
            }
        }
    }
}
