//! Rendering a check [`Report`] for people (grouped, aligned, coloured on a terminal) and for
//! programs (the versioned JSON document of docs/json.md).
//!
//! Findings quote hostile files, so every text from a report goes through [`shown`] on its way
//! to a terminal; JSON needs nothing more, as serde escapes control characters.

use std::borrow::Cow;
use std::fmt::Write as _;

use rootless_setup_core::report::Counts;
use rootless_setup_core::{Finding, Report, Status};
use serde::Serialize;

use crate::style::{Style, paint, status_label};

/// The JSON document: the report plus the verdict.
#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a Report,
    strict: bool,
    ready: bool,
    counts: Counts,
}

/// The report as pretty JSON.
pub fn to_json(report: &Report, strict: bool) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&JsonReport {
        report,
        strict,
        ready: report.ready(strict),
        counts: report.counts(),
    })
}

/// `text` with control characters (and the bidirectional overrides that reorder what a
/// terminal shows) written as escapes: `\t`, `\n`, `\r`, `\x1b`, `\u{202e}`. A hostile line
/// cannot move the cursor, recolour the terminal or fake a line of the report.
pub(crate) fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The report as aligned text; `color` adds SGR colours.
pub fn to_human(report: &Report, strict: bool, color: bool) -> String {
    let mut out = String::new();
    let who = match &report.user {
        Some(name) => format!("{} (uid {})", shown(name), report.uid),
        None => format!("uid {}", report.uid),
    };
    let _ = writeln!(
        out,
        "{} {} for {who} on {}",
        paint(color, Style::BOLD, "rootless-setup check:"),
        report.engine.as_str(),
        shown(&report.distribution)
    );
    let width = report
        .findings
        .iter()
        .map(|f| f.id.as_str().len())
        .max()
        .unwrap_or(0);
    let mut group = "";
    for finding in &report.findings {
        if finding.id.group() != group {
            group = finding.id.group();
            let _ = writeln!(out, "\n{}", paint(color, Style::BOLD, group));
        }
        write_finding(&mut out, finding, width, color);
    }
    let c = report.counts();
    let _ = writeln!(out);
    let tally = format!(
        "{} pass, {} warn, {} fail, {} skip",
        c.pass, c.warn, c.fail, c.skip
    );
    if report.ready(strict) {
        let verdict = if c.warn > 0 {
            "ready, with warnings"
        } else {
            "ready"
        };
        let _ = writeln!(out, "{tally}: {}", paint(color, Style::SUCCESS, verdict));
    } else {
        let blocking: Vec<&str> = report.blocking(strict).map(|f| f.id.as_str()).collect();
        let _ = writeln!(
            out,
            "{tally}: {} ({} blocking: {})",
            paint(color, Style::FAIL, "not ready"),
            blocking.len(),
            blocking.join(", ")
        );
        let _ = writeln!(
            out,
            "apply the fixes above and run `rootless-setup check` again; `rootless-setup explain ID` has the details"
        );
    }
    out
}

fn write_finding(out: &mut String, f: &Finding, width: usize, color: bool) {
    let label = status_label(color, f.status);
    // Labels are four letters; pad the id column so summaries line up.
    let _ = writeln!(
        out,
        "  {label}  {:<width$}  {}",
        f.id.as_str(),
        shown(&f.summary)
    );
    if matches!(f.status, Status::Pass | Status::Skip) {
        return;
    }
    let indent = " ".repeat(8);
    let key = |k: &str| paint(color, Style::DIM, &format!("{k:<5}"));
    for o in &f.observed {
        let _ = writeln!(
            out,
            "{indent}{} {}: {}",
            key("seen"),
            shown(&o.key),
            shown(&o.value)
        );
    }
    if let Some(why) = &f.why {
        let _ = writeln!(out, "{indent}{} {}", key("why"), shown(why));
    }
    if let Some(fix) = &f.fix {
        let root = if fix.root { " (as root)" } else { "" };
        let _ = writeln!(out, "{indent}{} {}{root}", key("fix"), shown(&fix.summary));
        for cmd in &fix.commands {
            // A command of several lines keeps them (a quoted newline is part of it), each
            // line escaped on its own.
            for (i, line) in cmd.lines().map(shown).enumerate() {
                let prompt = if i == 0 { "$ " } else { "  " };
                let _ = writeln!(
                    out,
                    "{indent}      {}",
                    paint(color, Style::COMMAND, &format!("{prompt}{line}"))
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "{indent}{} rootless-setup explain {}",
        key("more"),
        f.id
    );
}

#[cfg(test)]
mod tests {
    use rootless_setup_core::{CheckId, Engine, Fix};

    use super::*;

    fn sample() -> Report {
        Report {
            schema_version: rootless_setup_core::SCHEMA_VERSION,
            engine: Engine::Docker,
            uid: 1000,
            user: Some("dev".into()),
            distribution: "debian 12".into(),
            findings: vec![
                Finding::pass(CheckId::User, "dev (uid 1000), home /home/dev")
                    .observe("home", "/home/dev"),
                Finding::fail(
                    CheckId::SubidUid,
                    "no subordinate uids for dev in /etc/subuid",
                )
                .observe("file", "/etc/subuid")
                .why("rootlesskit maps 65,536 subordinate ids into the user namespace")
                .fix(
                    Fix::root(CheckId::SubidUid, "allocate a free block of 65,536 ids")
                        .cmd("sudo usermod --add-subuids 165536-231071 dev"),
                ),
                Finding::warn(CheckId::SessionLinger, "linger is off for dev"),
                Finding::skip(
                    CheckId::UsernsProbe,
                    "skipped because `subid.uid` failed; fix that first",
                ),
            ],
        }
    }

    #[test]
    fn human_output_groups_aligns_and_explains() {
        insta::assert_snapshot!(to_human(&sample(), false, false));
    }

    #[test]
    fn strict_turns_warnings_into_blockers() {
        let mut r = sample();
        r.findings.retain(|f| f.status != Status::Fail);
        assert!(to_human(&r, false, false).contains("ready, with warnings"));
        assert!(to_human(&r, true, false).contains("not ready (1 blocking: session.linger)"));
    }

    #[test]
    fn control_characters_from_files_are_escaped() {
        assert_eq!(shown("plain: ünïcode"), "plain: ünïcode");
        assert!(matches!(shown("plain"), Cow::Borrowed(_)));
        assert_eq!(
            shown("a\x1b[2Jb\tc\nd\re\x7f\u{9b}f\u{202e}g"),
            r"a\x1b[2Jb\tc\nd\re\x7f\u{9b}f\u{202e}g"
        );
        let mut r = sample();
        r.user = Some("ev\x1bil".into());
        r.findings[1] = Finding::fail(CheckId::SubidUid, "line `\x1b]0;pwned\x07`\n  pass  fake")
            .observe("malformed\t", "x\r\x1b[1A")
            .why("why\x1b")
            .fix(Fix::root(CheckId::SubidUid, "fix\x1b").cmd("echo 'a\x1bb\nc'"));
        let text = to_human(&r, false, false);
        assert!(!text.contains('\x1b') && !text.contains('\r') && !text.contains('\x07'));
        assert!(text.contains("for ev\\x1bil (uid 1000)"), "{text}");
        assert!(
            text.contains(r"fail  subid.uid       line `\x1b]0;pwned\x07`\n  pass  fake"),
            "{text}"
        );
        assert!(text.contains(r"seen  malformed\t: x\r\x1b[1A"), "{text}");
        assert!(text.contains(r"why   why\x1b"), "{text}");
        assert!(text.contains(r"fix   fix\x1b (as root)"), "{text}");
        assert!(text.contains(r"$ echo 'a\x1bb"), "{text}");
        assert!(text.contains("\n                c'\n"), "{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!to_human(&sample(), false, false).contains('\x1b'));
        let fail = paint(true, Style::FAIL, "fail");
        assert!(to_human(&sample(), false, true).contains(&fail));
    }

    #[test]
    fn json_carries_schema_verdict_and_findings() {
        let v: serde_json::Value =
            serde_json::from_str(&to_json(&sample(), false).unwrap()).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["ready"], false);
        assert_eq!(v["counts"]["fail"], 1);
        assert_eq!(v["findings"][1]["id"], "subid.uid");
        assert_eq!(v["findings"][1]["fix"]["root"], true);
        assert_eq!(v["findings"][1]["fix"]["docs"], "docs/checks.md#subid-uid");
        assert_eq!(v["findings"][0]["observed"][0]["key"], "home");
        assert!(v["findings"][0].get("why").is_none());
    }
}
