//! Pure parsers of what a rootlesskit run prints: the uid map and links the shell inside
//! reports, and rootlesskit's own errors, classified by cause. They take any text and never
//! panic.

/// One line of `/proc/self/uid_map`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MapLine {
    pub(super) inside: u64,
    pub(super) outside: u64,
    pub(super) count: u64,
}

/// The uid map lines of the output: lines of exactly three numbers.
pub(super) fn parse_uid_map(out: &str) -> Vec<MapLine> {
    out.lines()
        .filter_map(|line| {
            let n: Vec<u64> = line
                .split_whitespace()
                .map(|w| w.parse().ok())
                .collect::<Option<_>>()?;
            match n.as_slice() {
                [inside, outside, count] => Some(MapLine {
                    inside: *inside,
                    outside: *outside,
                    count: *count,
                }),
                _ => None,
            }
        })
        .collect()
}

/// The line the smoke's shell prints once rootlesskit's `child_pid` exists, before the pid.
pub(super) const READY: &str = "rootlesskit ready, child pid ";

/// What the smoke's shell says on stderr, after `rootless-setup: ` on a line of its own, when
/// `child_pid` never appeared. Only the whole line counts: rootlesskit repeats the failed
/// command, script and all, in its own error line.
pub(super) const NOT_READY: &str = "rootlesskit wrote no child_pid within 10 s";

fn says_not_ready(stderr: &str) -> bool {
    stderr
        .lines()
        .any(|l| l.trim().strip_prefix("rootless-setup: ") == Some(NOT_READY))
}

/// The pid from the [`READY`] line: the whole line, a positive decimal pid.
pub(super) fn parse_ready(out: &str) -> Option<u32> {
    out.lines()
        .find_map(|line| line.strip_prefix(READY))
        .and_then(|pid| pid.parse().ok())
        .filter(|pid| *pid > 0)
}

/// One network interface seen inside the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    pub(super) name: String,
    pub(super) mtu: Option<u32>,
}

/// The links of `ip -o link show` (`2: tap0: <…> mtu 65520 …`) or of `/proc/net/dev`
/// (`  tap0: 0 0 …`, no MTU).
pub(super) fn parse_links(out: &str) -> Vec<Link> {
    let mut links = Vec::new();
    for line in out.lines().map(str::trim) {
        let Some((head, rest)) = line.split_once(':') else {
            continue;
        };
        if line.contains('|') {
            continue; // the /proc/net/dev header
        }
        if !head.is_empty() && head.chars().all(|c| c.is_ascii_digit()) {
            let Some((name, rest)) = rest.trim_start().split_once(':') else {
                continue;
            };
            let name = name.split('@').next().unwrap_or(name).trim();
            let mut words = rest.split_whitespace();
            let mtu = words
                .by_ref()
                .find(|w| *w == "mtu")
                .and_then(|_| words.next()?.parse().ok());
            if !name.is_empty() {
                links.push(Link {
                    name: name.to_owned(),
                    mtu,
                });
            }
        } else if !head.is_empty()
            && !head.contains(char::is_whitespace)
            && rest
                .split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<u64>().is_ok())
        {
            links.push(Link {
                name: head.to_owned(),
                mtu: None,
            });
        }
    }
    links
}

/// What went wrong, from rootlesskit's stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cause {
    /// newuidmap/newgidmap or the subordinate ranges.
    IdMap,
    /// slirp4netns (or rootlesskit 1's `ip tuntap add`) could not open `/dev/net/tun`.
    Tun,
    /// A program rootlesskit runs by name is not on `PATH`.
    NotOnPath(String),
    /// This rootlesskit does not know the network or port driver.
    Unsupported,
    /// The kernel or a security profile denied a namespace operation.
    Denied,
    /// The shell inside never saw rootlesskit's `child_pid` ([`NOT_READY`]).
    NotReady,
    /// Something else.
    Other,
}

pub(super) fn classify(stderr: &str) -> Cause {
    let lower = stderr.to_lowercase();
    if says_not_ready(stderr) {
        Cause::NotReady
    } else if lower.contains("failed to setup uid/gid map")
        || lower.contains("no subuid ranges")
        || lower.contains("no subgid ranges")
    {
        Cause::IdMap
    } else if lower.contains("/dev/net/tun")
        || lower.contains("setting up tap")
        || lower.contains("ip tuntap")
    {
        Cause::Tun
    } else if lower.contains("unknown network mode")
        || lower.contains("unknown port driver")
        || lower.contains("not supported in this")
    {
        Cause::Unsupported
    } else if let Some(name) = not_on_path(stderr) {
        Cause::NotOnPath(name)
    } else if lower.contains("operation not permitted") || lower.contains("permission denied") {
        Cause::Denied
    } else {
        Cause::Other
    }
}

/// rootlesskit's own error line (`[rootlesskit:parent] error: …`), the last one; the lines after
/// it are usually the tail of a helper's output. The parent's error wins over the child's: when the parent fails, the child only reports the
/// broken pipe (`parsing message from fd 3: EOF`).
pub(super) fn error_line(stderr: &str) -> Option<&str> {
    let errors = || {
        stderr
            .lines()
            .rev()
            .map(str::trim)
            .filter(|l| l.starts_with("[rootlesskit:") && l.contains("] error:"))
    };
    errors()
        .find(|l| l.starts_with("[rootlesskit:parent]"))
        .or_else(|| errors().next())
}

/// Replaces Go's `&{field:value …}` struct dumps in an error line with `&{…}`.
pub(super) fn elide_go_structs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("&{") {
        // `start` comes from `find`, so it is a character boundary and split_at cannot panic.
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in from.char_indices().skip(1) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        match end.and_then(|e| from.get(e..)) {
            Some(after) => {
                out.push_str("&{…}");
                rest = after;
            }
            None => {
                out.push_str(from);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `slirp4netns` from `exec: "slirp4netns": executable file not found in $PATH`.
pub(super) fn not_on_path(stderr: &str) -> Option<String> {
    let line = stderr
        .lines()
        .find(|l| l.contains("executable file not found"))?;
    let name = line.split('"').nth(1)?;
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    ok.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_struct_dumps_are_elided() {
        assert_eq!(
            elide_go_structs("a &{x:1 y:{z:2}}: b &{c}"),
            "a &{…}: b &{…}"
        );
        assert_eq!(elide_go_structs("open &{x"), "open &{x");
        assert_eq!(elide_go_structs("plain"), "plain");
        assert_eq!(elide_go_structs("é&{ü}ö"), "é&{…}ö");
    }

    #[test]
    fn the_parents_error_wins_over_the_childs() {
        let stderr = "[rootlesskit:parent] error: a\n[rootlesskit:child ] error: parsing message from fd 3: EOF\n";
        assert_eq!(error_line(stderr), Some("[rootlesskit:parent] error: a"));
        assert_eq!(
            error_line("[rootlesskit:child ] error: b\nnoise\n"),
            Some("[rootlesskit:child ] error: b")
        );
        assert_eq!(error_line("nothing"), None);
    }

    #[test]
    fn causes_are_told_apart() {
        assert_eq!(
            classify(
                "[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap: write to uid_map failed: Operation not permitted"
            ),
            Cause::IdMap
        );
        assert_eq!(
            classify("open(\"/dev/net/tun\"): No such file or directory"),
            Cause::Tun
        );
        assert_eq!(
            classify("error: unknown port driver: implicit"),
            Cause::Unsupported
        );
        assert_eq!(
            classify("error: exec: \"nsenter\": executable file not found in $PATH"),
            Cause::NotOnPath("nsenter".to_owned())
        );
        assert_eq!(
            classify("fork/exec /proc/self/exe: operation not permitted"),
            Cause::Denied
        );
        assert_eq!(classify(""), Cause::Other);
    }

    #[test]
    fn the_ready_line_gives_the_child_pid() {
        assert_eq!(
            parse_ready("rootlesskit ready, child pid 4242\n0 1000 1\n"),
            Some(4242)
        );
        assert_eq!(parse_ready("rootlesskit ready, child pid \n"), None);
        assert_eq!(parse_ready("rootlesskit ready, child pid 0\n"), None);
        assert_eq!(parse_ready("rootlesskit ready, child pid 12 \n"), None);
        assert_eq!(
            parse_ready("rootlesskit ready, child pid 99999999999\n"),
            None
        );
        assert_eq!(parse_ready(" rootlesskit ready, child pid 7\n"), None);
        assert_eq!(parse_ready("0 1000 1\n"), None);
    }

    /// The ready line is neither a uid map line nor a link.
    #[test]
    fn the_ready_line_is_no_map_or_link() {
        let out = "rootlesskit ready, child pid 4242\n";
        assert!(parse_uid_map(out).is_empty());
        assert!(parse_links(out).is_empty());
    }

    #[test]
    fn only_the_shells_own_line_means_not_ready() {
        assert_eq!(
            classify(
                "rootless-setup: rootlesskit wrote no child_pid within 10 s\n[rootlesskit:child ] error: command [/bin/sh -c x] exited: exit status 1\n"
            ),
            Cause::NotReady
        );
        // rootlesskit quotes the script, message included, when any command in it fails.
        assert_eq!(
            classify(
                "[rootlesskit:child ] error: command [/bin/sh -c echo 'rootless-setup: rootlesskit wrote no child_pid within 10 s'] exited: exit status 2\n"
            ),
            Cause::Other
        );
        assert_eq!(
            classify("rootlesskit wrote no child_pid within 10 s\n"),
            Cause::Other
        );
    }

    /// The `.bp.sock` race (issue 8) as rootlesskit 1.1.0 reported it: nothing to blame on the
    /// host, so it is `Other`, and the parent's line is the one shown.
    #[test]
    fn the_port_driver_reset_is_shown_as_the_parent_said_it() {
        let stderr = "[rootlesskit:parent] error: read unix @->/run/user/1000/rootless-setup-smoke-1415/.bp.sock: read: connection reset by peer\n";
        assert_eq!(classify(stderr), Cause::Other);
        assert_eq!(
            error_line(stderr),
            Some(
                "[rootlesskit:parent] error: read unix @->/run/user/1000/rootless-setup-smoke-1415/.bp.sock: read: connection reset by peer"
            )
        );
    }

    proptest::proptest! {
        #[test]
        fn nothing_panics_on_arbitrary_output(out in "(?s).{0,400}") {
            let _ = parse_uid_map(&out);
            let _ = parse_links(&out);
            let _ = classify(&out);
            let _ = error_line(&out);
            let _ = not_on_path(&out);
            let _ = parse_ready(&out);
            let elided = elide_go_structs(&out);
            proptest::prop_assert!(elided.len() <= out.len() + 8);
        }
    }

    /// What a smoke run prints, on stdout and stderr.
    const SAMPLES: &[&str] = &[
        "         0       1000          1",
        "         1     100000      65536",
        "2: tap0: <BROADCAST,UP,LOWER_UP> mtu 65520 qdisc fq_codel state UNKNOWN",
        "7: veth0@if3: <UP> mtu 1500",
        "  tap0: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
        "Inter-|   Receive                                                |  Transmit",
        "[rootlesskit:parent] error: failed to setup UID/GID map: &{Path:/usr/bin/newuidmap Args:[{x}]}",
        "[rootlesskit:child ] error: parsing message from fd 3: EOF",
        "exec: \"slirp4netns\": executable file not found in $PATH",
    ];

    /// Every parser of the output, each within the time budget.
    fn run_all(out: &str) {
        use rootless_setup_core::hostile::within_budget;
        within_budget("parse_uid_map", out.len(), || parse_uid_map(out));
        within_budget("parse_links", out.len(), || parse_links(out));
        within_budget("classify", out.len(), || classify(out));
        within_budget("error_line", out.len(), || error_line(out));
        within_budget("not_on_path", out.len(), || not_on_path(out));
        within_budget("elide_go_structs", out.len(), || elide_go_structs(out));
    }

    proptest::proptest! {
        #![proptest_config(rootless_setup_core::hostile::cases(64))]

        #[test]
        fn uid_map_lines_round_trip(
            lines in proptest::collection::vec((proptest::num::u64::ANY, proptest::num::u64::ANY, proptest::num::u64::ANY), 0..8),
            noise in "[a-z:<> ]{0,30}",
        ) {
            let mut out = format!("{noise}\n");
            for (inside, outside, count) in &lines {
                out.push_str(&format!("{inside:>10} {outside:>10} {count:>10}\n"));
            }
            let want: Vec<MapLine> = lines
                .iter()
                .map(|&(inside, outside, count)| MapLine { inside, outside, count })
                .collect();
            proptest::prop_assert_eq!(parse_uid_map(&out), want);
        }

        #[test]
        fn near_valid_output_is_read(out in rootless_setup_core::hostile::small_text(SAMPLES)) {
            run_all(&out);
            let elided = elide_go_structs(&out);
            proptest::prop_assert!(elided.len() <= out.len() + 8);
            if let Some(name) = not_on_path(&out) {
                proptest::prop_assert!(name.len() <= 64 && !name.contains(char::is_whitespace));
            }
            if let Some(line) = error_line(&out) {
                proptest::prop_assert!(line.starts_with("[rootlesskit:") && !line.contains('\n'));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(rootless_setup_core::hostile::cases(3))]

        #[test]
        fn a_megabyte_is_read_in_bounded_time(out in rootless_setup_core::hostile::large_text(SAMPLES)) {
            run_all(&out);
        }
    }

    #[test]
    fn nested_and_unclosed_go_structs_are_linear() {
        // Every `&{` opens a dump that never closes: one scan, not one per opening.
        let open = "&{".repeat(300_000);
        let (elided, _) =
            rootless_setup_core::hostile::within_budget("elide_go_structs", open.len(), || {
                elide_go_structs(&open)
            });
        assert_eq!(elided, open);
        let closed = format!("{}{}", "&{".repeat(200_000), "}".repeat(200_000));
        let (elided, _) =
            rootless_setup_core::hostile::within_budget("elide_go_structs", closed.len(), || {
                elide_go_structs(&closed)
            });
        assert_eq!(elided, "&{…}");
    }

    #[test]
    fn parsers_survive_garbage() {
        assert!(parse_uid_map("a b c\n1 2\n1 2 3 4\n-1 2 3\n").is_empty());
        assert_eq!(
            parse_uid_map("         0       1000          1\n         1     100000      65536\n")
                .len(),
            2
        );
        assert!(parse_links(":\n1:\n1: :\n: 5\n\u{0}: x").is_empty());
        assert_eq!(
            parse_links("7: veth0@if3: <UP> mtu x\n"),
            vec![Link {
                name: "veth0".to_owned(),
                mtu: None
            }]
        );
        assert_eq!(
            not_on_path("exec: \"a b\": executable file not found"),
            None
        );
    }
}
