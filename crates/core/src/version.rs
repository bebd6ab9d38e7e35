//! Versions, for every family: what the engine's programs print when asked for their version
//! (`rootlesskit version 1.1.0`, `Docker version 20.10.24+dfsg1, build 297e128`,
//! `iptables v1.8.9 (nf_tables)`), and comparing a version with a minimum (rootlesskit and
//! slirp4netns for the network driver, Docker 28 for the port proxy, Linux 5.11 for overlay in
//! a user namespace). They take any text (lossily decoded bytes) and never panic.

/// Longest version string kept; anything longer is not a version.
const MAX_VERSION_LEN: usize = 64;

/// The bare version `program` printed for `--version` (or `-V`), such as `1.1.0` for
/// `rootlesskit version 1.1.0`; `None` when the output names no version.
///
/// The version line is the first line that starts with the program's name or has the word
/// `version` in it (so `fuse-overlayfs`' warnings before it and the library versions after it
/// are passed over); the version is that line's first word starting with a digit (or `v` and a
/// digit, as `iptables v1.8.9` and containerd 2's `v2.0.0`), without the `v` and trailing
/// punctuation. A version line without such a word (`pasta unknown version`) gives `None`.
pub fn parse_version(program: &str, output: &str) -> Option<String> {
    let line = output.lines().map(str::trim).find(|line| {
        let named = line
            .as_bytes()
            .get(..program.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(program.as_bytes()));
        (!program.is_empty() && named)
            || line.split_whitespace().any(|w| {
                w.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                    .eq_ignore_ascii_case("version")
            })
    })?;
    line.split_whitespace().find_map(version_word)
}

/// `word` as a version, if it is one.
fn version_word(word: &str) -> Option<String> {
    let word = word.trim_end_matches([',', ';', ':', ')', '.']);
    let word = match word.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => word,
    };
    let ok = word.starts_with(|c: char| c.is_ascii_digit())
        && word.len() <= MAX_VERSION_LEN
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~^_-".contains(c));
    ok.then(|| word.to_owned())
}

/// The backend `iptables -V` names in parentheses: `nf_tables` or `legacy`.
pub fn iptables_backend(output: &str) -> Option<String> {
    let line = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("iptables"))?;
    let inner = line.split_once('(')?.1.split_once(')')?.0.trim();
    let ok = !inner.is_empty()
        && inner.len() <= MAX_VERSION_LEN
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
    ok.then(|| inner.to_owned())
}

/// The leading dotted numbers of a version string: `v1.2.3-rc1` → `[1, 2, 3]`,
/// `20.10.24+dfsg1` → `[20, 10, 24]`, `6.1.0-18-amd64` → `[6, 1, 0]`, `2023_03_29.b10b983` →
/// `[2023]`. Empty when the string does not start with a number.
pub fn version_numbers(version: &str) -> Vec<u64> {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let mut out = Vec::new();
    for part in v.split('.') {
        let digits: &str = part
            .find(|c: char| !c.is_ascii_digit())
            .map_or(part, |end| part.get(..end).unwrap_or(""));
        let Ok(n) = digits.parse::<u64>() else { break };
        out.push(n);
        if digits.len() != part.len() {
            break;
        }
    }
    out
}

/// Whether `version` is at least `min` (missing components count as 0); `None` when `version`
/// has no leading number to compare.
pub fn version_at_least(version: &str, min: &[u64]) -> Option<bool> {
    let have = version_numbers(version);
    if have.is_empty() {
        return None;
    }
    let len = have.len().max(min.len());
    let pad =
        |v: &[u64]| -> Vec<u64> { (0..len).map(|i| v.get(i).copied().unwrap_or(0)).collect() };
    Some(pad(&have) >= pad(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(program: &str, output: &str) -> Option<String> {
        parse_version(program, output)
    }

    #[test]
    fn docker_and_dockerd() {
        assert_eq!(
            v("dockerd", "Docker version 20.10.24+dfsg1, build 5d6db84\n").as_deref(),
            Some("20.10.24+dfsg1")
        );
        assert_eq!(
            v("docker", "Docker version 28.2.2, build e6534b4\n").as_deref(),
            Some("28.2.2")
        );
    }

    #[test]
    fn rootlesskit_slirp4netns_runc_nerdctl() {
        assert_eq!(
            v("rootlesskit", "rootlesskit version 1.1.0\n").as_deref(),
            Some("1.1.0")
        );
        assert_eq!(
            v(
                "slirp4netns",
                "slirp4netns version 1.2.0\ncommit: 656041d45cfca7a4176f6b7eed9e4fe6c11e8383\nlibslirp: 4.7.0\nSLIRP_CONFIG_VERSION_MAX: 4\nlibseccomp: 2.5.4\n"
            )
            .as_deref(),
            Some("1.2.0")
        );
        assert_eq!(
            v(
                "runc",
                "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n"
            )
            .as_deref(),
            Some("1.1.5+ds1")
        );
        assert_eq!(
            v("nerdctl", "nerdctl version 1.7.6\n").as_deref(),
            Some("1.7.6")
        );
    }

    #[test]
    fn pasta_dates_and_unknown_versions() {
        assert_eq!(
            v("pasta", "pasta 2023_03_29.b10b983\n").as_deref(),
            Some("2023_03_29.b10b983")
        );
        assert_eq!(
            v(
                "pasta",
                "pasta 0^20230329.b10b983-1\nCopyright Red Hat\nGNU General Public License, version 2 or later\n"
            )
            .as_deref(),
            Some("0^20230329.b10b983-1")
        );
        // Debian 12's passt; the licence line's "version 3" must not be taken.
        assert_eq!(
            v(
                "pasta",
                "pasta unknown version\nCopyright Red Hat\nGNU Affero GPL version 3 or later <https://www.gnu.org/licenses/agpl-3.0.html>\n"
            ),
            None
        );
    }

    #[test]
    fn containerd_one_and_two() {
        assert_eq!(
            v(
                "containerd",
                "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n"
            )
            .as_deref(),
            Some("1.6.20~ds1")
        );
        assert_eq!(
            v(
                "containerd",
                "containerd containerd.io 1.6.28 ae07eda36dd25f8a1b98dfbf587313b99c0190bb\n"
            )
            .as_deref(),
            Some("1.6.28")
        );
        assert_eq!(
            v(
                "containerd",
                "containerd github.com/containerd/containerd/v2 v2.0.0 207ad711eabd375a01713109a8a197d197ff6542\n"
            )
            .as_deref(),
            Some("2.0.0")
        );
    }

    #[test]
    fn fuse_overlayfs_skips_its_warning() {
        assert_eq!(
            v(
                "fuse-overlayfs",
                "unknown argument ignored: lazytime\nfuse-overlayfs: version 1.10\nFUSE library version 3.14.0\nusing FUSE kernel interface version 7.31\n"
            )
            .as_deref(),
            Some("1.10")
        );
    }

    #[test]
    fn iptables_version_and_backend() {
        let out = "iptables v1.8.9 (nf_tables)\n";
        assert_eq!(v("iptables", out).as_deref(), Some("1.8.9"));
        assert_eq!(iptables_backend(out).as_deref(), Some("nf_tables"));
        assert_eq!(
            iptables_backend("iptables v1.8.7 (legacy)").as_deref(),
            Some("legacy")
        );
        assert_eq!(iptables_backend("iptables v1.4.21"), None);
        assert_eq!(iptables_backend("iptables v1 (x$(rm))"), None);
    }

    #[test]
    fn errors_and_garbage_give_no_version() {
        assert_eq!(
            v(
                "slirp4netns",
                "slirp4netns: error while loading shared libraries: libslirp.so.0: cannot open shared object file: No such file or directory\n"
            ),
            None
        );
        assert_eq!(v("dockerd", ""), None);
        assert_eq!(v("dockerd", "Docker version dev, build unknown"), None);
        assert_eq!(v("", "\u{0}\u{fffd}version \u{1b}[31m1"), None);
        let long = format!("x version 1{}", "0".repeat(100));
        assert_eq!(v("x", &long), None);
    }

    #[test]
    fn versions_parse_leading_dotted_numbers() {
        assert_eq!(version_numbers("1.1.0"), vec![1, 1, 0]);
        assert_eq!(version_numbers("v2.3.4-rc.1"), vec![2, 3, 4]);
        assert_eq!(version_numbers("20.10.24+dfsg1"), vec![20, 10, 24]);
        assert_eq!(version_numbers("6.1.0-18-amd64"), vec![6, 1, 0]);
        assert_eq!(version_numbers("2023_03_29.b10b983"), vec![2023]);
        assert_eq!(version_numbers("garbage"), Vec::<u64>::new());
        assert_eq!(version_numbers(""), Vec::<u64>::new());
        assert_eq!(
            version_numbers("99999999999999999999999.1"),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn versions_compare_with_padding() {
        assert_eq!(version_at_least("2.0", &[2, 0]), Some(true));
        assert_eq!(version_at_least("2", &[2, 0, 0]), Some(true));
        assert_eq!(version_at_least("1.1.1", &[2, 0]), Some(false));
        assert_eq!(version_at_least("2.3.0", &[2, 3]), Some(true));
        assert_eq!(version_at_least("2.2.9", &[2, 3]), Some(false));
        assert_eq!(version_at_least("0.4.0", &[0, 4]), Some(true));
        assert_eq!(version_at_least("0.3.9", &[0, 4]), Some(false));
        assert_eq!(version_at_least("20.10.24+dfsg1", &[28]), Some(false));
        assert_eq!(version_at_least("28.2.2", &[28]), Some(true));
        assert_eq!(version_at_least("unknown", &[0, 4]), None);
    }

    mod prop {
        use super::super::*;
        use crate::hostile;
        use proptest::prelude::*;

        /// What the programs print for `--version`.
        const SAMPLES: &[&str] = &[
            "Docker version 20.10.24+dfsg1, build 5d6db84",
            "rootlesskit version 1.1.0",
            "iptables v1.8.9 (nf_tables)",
            "containerd github.com/containerd/containerd/v2 v2.0.0 207ad711eabd",
            "fuse-overlayfs: version 1.10",
            "pasta 0^20230329.b10b983-1",
            "libslirp: 4.7.0",
        ];

        /// `numbers` padded with zeros to `len`, the order a version comparison must follow.
        fn padded(numbers: &[u64], len: usize) -> Vec<u64> {
            (0..len)
                .map(|i| numbers.get(i).copied().unwrap_or(0))
                .collect()
        }

        fn dotted(numbers: &[u64]) -> String {
            numbers
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(".")
        }

        proptest! {
            #![proptest_config(hostile::cases(128))]

            #[test]
            fn comparison_follows_the_padded_numeric_tuple(
                a in prop::collection::vec(any::<u64>(), 1..6),
                b in prop::collection::vec(0u64..4, 0..6),
                suffix in prop_oneof![Just(""), Just("-rc1"), Just("+dfsg1"), Just("~ds1")],
                v in prop::bool::ANY,
            ) {
                let version = format!("{}{}{suffix}", if v { "v" } else { "" }, dotted(&a));
                prop_assert_eq!(version_numbers(&version), a.clone());
                let len = a.len().max(b.len());
                let at_least = version_at_least(&version, &b);
                prop_assert_eq!(at_least, Some(padded(&a, len) >= padded(&b, len)));
                // A total order: of two versions, one is at least the other, and both are at
                // least each other only when they are equal once padded.
                let other = dotted(&b);
                if let (Some(ab), Some(ba)) = (at_least, version_at_least(&other, &a)) {
                    prop_assert!(ab || ba);
                    prop_assert_eq!(ab && ba, padded(&a, len) == padded(&b, len));
                }
            }

            #[test]
            fn printed_versions_are_found(
                // Not `v` and a digit, which reads as a version itself.
                name in "[a-uw-z][a-z0-9-]{0,12}",
                numbers in prop::collection::vec(0u64..100_000, 1..5),
                noise in "[a-z ]{0,20}",
            ) {
                let version = dotted(&numbers);
                let out = format!("{noise}\n{name} version {version}\ncommit: 1.2.3\n");
                let want = (version.len() <= MAX_VERSION_LEN).then_some(version);
                let noise_names_it = noise.trim_start().starts_with(&name)
                    || noise.split_whitespace().any(|w| w == "version");
                if !noise_names_it {
                    prop_assert_eq!(parse_version(&name, &out), want);
                }
            }

            #[test]
            fn near_valid_output_gives_clean_versions(
                out in hostile::small_text(SAMPLES),
                name in prop::sample::select(vec!["docker", "iptables", "pasta", "", "v"]),
            ) {
                if let Some(found) = parse_version(name, &out) {
                    prop_assert!(found.len() <= MAX_VERSION_LEN);
                    prop_assert!(found.starts_with(|c: char| c.is_ascii_digit()), "{found:?}");
                }
                if let Some(backend) = iptables_backend(&out) {
                    prop_assert!(backend.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)));
                }
            }
        }

        proptest! {
            #![proptest_config(hostile::cases(3))]

            #[test]
            fn a_megabyte_parses_in_bounded_time(out in hostile::large_text(SAMPLES)) {
                hostile::within_budget("parse_version", out.len(), || parse_version("docker", &out));
                hostile::within_budget("iptables_backend", out.len(), || iptables_backend(&out));
                hostile::within_budget("version_at_least", out.len(), || {
                    version_at_least(&out, &[5, 11])
                });
            }
        }

        proptest! {
            #[test]
            fn never_panics_and_yields_clean_versions(name in ".{0,12}", out in "(?s).{0,300}") {
                if let Some(found) = parse_version(&name, &out) {
                    prop_assert!(found.len() <= MAX_VERSION_LEN);
                    prop_assert!(found.starts_with(|c: char| c.is_ascii_digit()));
                }
                let _ = iptables_backend(&out);
                let _ = version_at_least(&out, &[5, 11]);
            }
        }
    }
}
