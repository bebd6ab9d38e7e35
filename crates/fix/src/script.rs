//! Renders a [`Plan`] as a POSIX `sh` script: a header, the helper functions the blocks call,
//! and a `main` function holding the preflight guards and the blocks, called with standard input
//! from `/dev/null`. Wrapping everything in `main` makes the shell read the whole script before
//! running any of it (it arrives on standard input with `sudo sh -s`), and keeps every command
//! (`apt-get` included) from reading the rest of the script as its input.
//!
//! Every value is quoted with [`rootless_setup_core::shell::quote_checked`]; comments escape
//! control characters, so a value cannot end a comment early either.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use rootless_setup_core::distro::Family;
use rootless_setup_core::shell::{check_printable, quote_checked};

use crate::error::FixError;
use crate::model::{Command, Helper, Plan, Step};

/// The here-document delimiter of [`Command::Write`].
pub const DELIMITER: &str = "ROOTLESS_SETUP_EOF";

/// Longest comment line before wrapping.
const WIDTH: usize = 98;

/// The definition of each helper (fixed text, no interpolation).
fn helper_source(helper: Helper) -> &'static str {
    match helper {
        Helper::ExpectUser => {
            "# expect_user NAME UID: NAME still has uid UID.
expect_user() {
	[ \"$(id -u \"$1\" 2>/dev/null)\" = \"$2\" ] || stale \"user $1 no longer has uid $2\"
}
"
        }
        Helper::ExpectHome => {
            "# expect_home BASE HOME: HOME lies directly below BASE, and no directory from / down to HOME
# is a symbolic link (root must not create or hand over a home through one).
expect_home() {
	[ \"${2%/*}\" = \"$1\" ] || stale \"$2 is not directly below $1\"
	path=
	rest=${2#/}
	while [ -n \"$rest\" ]; do
		path=$path/${rest%%/*}
		case $rest in
		*/*) rest=${rest#*/} ;;
		*) rest= ;;
		esac
		[ ! -L \"$path\" ] || stale \"$path is a symbolic link\"
	done
}
"
        }
        Helper::ExpectLine => {
            "# expect_line FILE NUMBER TEXT: line NUMBER of FILE is still TEXT.
expect_line() {
	[ \"$(sed -n \"${2}p\" \"$1\")\" = \"$3\" ] || stale \"line $2 of $1 changed\"
}
"
        }
        Helper::ExpectFree => {
            "# expect_free START COUNT: no line of /etc/subuid or /etc/subgid holds an id from START to
# START+COUNT-1.
expect_free() {
	for file in /etc/subuid /etc/subgid; do
		[ -e \"$file\" ] || continue
		if awk -F: -v start=\"$1\" -v count=\"$2\" '
			$1 !~ /^[[:space:]]*#/ && NF >= 3 && $2 + 0 < start + count && $2 + $3 > start { found = 1 }
			END { exit !found }' \"$file\"; then
			stale \"ids $1 to $(($1 + $2 - 1)) are no longer free in $file\"
		fi
	done
}
"
        }
        Helper::KeepOriginal => {
            "# keep_original FILE: keep a copy of FILE as FILE.rootless-setup-orig (once) before replacing it.
keep_original() {
	if [ -e \"$1\" ] && [ ! -e \"$1.rootless-setup-orig\" ]; then
		cp -p \"$1\" \"$1.rootless-setup-orig\"
	fi
}
"
        }
        Helper::CheckSysctl => {
            "# check_sysctl KEY VALUE DROPIN: the kernel has KEY = VALUE now.
check_sysctl() {
	now=$(sysctl -n \"$1\" | tr -s '[:space:]' ' ')
	now=${now% }
	if [ \"$now\" != \"$2\" ]; then
		echo \"rootless-setup: $1 is '$now' after sysctl --system, not '$2': a file that sorts after $3 sets it\" >&2
		exit 1
	fi
}
"
        }
    }
}

/// Always defined: how a guard stops the script.
const STALE: &str =
    "# stale MESSAGE: the host changed since this script was generated; stop before changing
# anything.
stale() {
	echo \"rootless-setup: $1; nothing was changed: run rootless-setup fix again\" >&2
	exit 1
}
";

/// The first lines of `main`.
const ROOT_CHECK: &str = "\tif [ \"$(id -u)\" -ne 0 ]; then
\t\techo 'rootless-setup: run this script as root (sudo sh FILE)' >&2
\t\texit 1
\tfi
";

/// Escapes control characters so a comment stays one line.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Wraps `text` into comment lines: `prefix` on the first, spaces of the same width after.
pub(crate) fn comment(out: &mut String, indent: &str, prefix: &str, text: &str) {
    let text = printable(text);
    let pad = " ".repeat(prefix.chars().count());
    let mut line = String::new();
    let mut first = true;
    let mut flush = |line: &mut String, first: &mut bool| {
        let lead = if *first { prefix } else { pad.as_str() };
        let _ = writeln!(out, "{indent}# {lead}{}", line.trim_end());
        line.clear();
        *first = false;
    };
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + word.chars().count() + prefix.len() > WIDTH {
            flush(&mut line, &mut first);
        }
        line.push_str(word);
        line.push(' ');
    }
    if !line.trim().is_empty() || first {
        flush(&mut line, &mut first);
    }
}

/// How an unsafe value is named in [`FixError::Unsafe`].
const VALUE: &str = "value in the script";

/// State carried through rendering.
struct Renderer {
    family: Family,
    indent: &'static str,
    package_index_fresh: bool,
    /// A value with `$` or a backtick was single-quoted (shellcheck's SC2016 asks whether that
    /// was meant; it was).
    quoted_expansion: bool,
    /// A value with a backslash was single-quoted (shellcheck's SC1003 asks whether it was meant
    /// to escape the closing quote; it was not).
    quoted_backslash: bool,
}

impl Renderer {
    fn new(family: Family, indent: &'static str) -> Renderer {
        Renderer {
            family,
            indent,
            package_index_fresh: false,
            quoted_expansion: false,
            quoted_backslash: false,
        }
    }

    fn words(&mut self, values: &[String]) -> Result<String, FixError> {
        Ok(values
            .iter()
            .map(|v| self.quote_checked(v))
            .collect::<Result<Vec<_>, _>>()?
            .join(" "))
    }

    fn quote_checked(&mut self, value: &str) -> Result<String, FixError> {
        self.note_quoted(value);
        Ok(quote_checked(VALUE, value)?)
    }

    fn note_quoted(&mut self, value: &str) {
        self.quoted_expansion |= value.contains(['$', '`']);
        self.quoted_backslash |= value.contains('\\');
    }

    /// The shellcheck directive for what was quoted on purpose, if anything.
    fn directive(&self) -> Option<String> {
        let codes: Vec<&str> = [
            (self.quoted_expansion, "SC2016"),
            (self.quoted_backslash, "SC1003"),
        ]
        .into_iter()
        .filter_map(|(on, code)| on.then_some(code))
        .collect();
        (!codes.is_empty()).then(|| {
            format!(
                "# shellcheck disable={} # values are single-quoted on purpose: no `$`, backtick \
                 or backslash in them may act\n",
                codes.join(",")
            )
        })
    }
}

impl Renderer {
    fn command(&mut self, out: &mut String, command: &Command) -> Result<(), FixError> {
        let indent = self.indent;
        match command {
            Command::Run { argv, append_to } => {
                let _ = write!(out, "{indent}{}", self.words(argv)?);
                if let Some(path) = append_to {
                    let _ = write!(out, " >>{}", self.quote_checked(path)?);
                }
                out.push('\n');
            }
            Command::Call { helper, args } => {
                let _ = writeln!(out, "{indent}{} {}", helper.name(), self.words(args)?);
            }
            Command::Write { path, text } => {
                check_printable(&format!("text for {path}"), &text.replace('\n', ""))?;
                if text.lines().any(|l| l == DELIMITER) {
                    return Err(FixError::Delimiter {
                        path: path.clone(),
                        delimiter: DELIMITER,
                    });
                }
                let quoted = self.quote_checked(path)?;
                let _ = writeln!(out, "{indent}cat >{quoted} <<'{DELIMITER}'");
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
                let _ = writeln!(out, "{DELIMITER}");
                let _ = writeln!(out, "{indent}chmod 0644 {quoted}");
            }
            Command::Fixed(text) => {
                for line in text.lines() {
                    let _ = writeln!(out, "{indent}{line}");
                }
            }
            Command::Install {
                packages,
                reinstall,
            } => {
                let Some(pm) = self.family.package_manager() else {
                    let _ = writeln!(
                        out,
                        "{indent}echo 'rootless-setup: install with your package manager:' {} >&2",
                        self.words(packages)?
                    );
                    let _ = writeln!(out, "{indent}exit 1");
                    return Ok(());
                };
                if self.family == Family::Debian && !self.package_index_fresh {
                    let _ = writeln!(out, "{indent}apt-get update");
                    self.package_index_fresh = true;
                }
                let install = if *reinstall {
                    pm.script_reinstall
                } else {
                    pm.script_install
                };
                let _ = writeln!(out, "{indent}{install} {}", self.words(packages)?);
            }
        }
        Ok(())
    }
}

/// The helpers the plan's commands call.
fn helpers_used(plan: &Plan) -> BTreeSet<Helper> {
    plan.steps
        .iter()
        .flat_map(|s| s.guards.iter().chain(&s.commands))
        .filter_map(|c| match c {
            Command::Call { helper, .. } => Some(*helper),
            _ => None,
        })
        .collect()
}

/// The title line of a block: `subid.uid (fail)` or `userns.sysctl (fail), network.ping (warn)`.
pub fn title(step: &Step) -> String {
    step.checks
        .iter()
        .map(|(id, status)| format!("{id} ({})", status.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders one block (comments, then `guards` when given, then commands) at `indent`.
fn block(
    r: &mut Renderer,
    out: &mut String,
    step: &Step,
    guards: &[Command],
) -> Result<(), FixError> {
    let indent = r.indent;
    let mut title = title(step);
    if step.is_manual() {
        title.push_str(" [by hand]");
    }
    let rule = "-".repeat(WIDTH.saturating_sub(title.len() + 8).max(3));
    let _ = writeln!(out, "{indent}# --- {title} {rule}");
    for note in &step.notes {
        comment(out, indent, &format!("{}: ", note.label), &note.text);
    }
    if !step.by_hand.is_empty() {
        comment(
            out,
            indent,
            "",
            "not run by this script; by hand, after reading the above:",
        );
        for line in step.by_hand.iter().flat_map(|c| c.split('\n')) {
            let _ = writeln!(out, "{indent}#   {}", printable(line));
        }
    }
    if !guards.is_empty() {
        comment(
            out,
            indent,
            "",
            "preflight (the script runs these before any block):",
        );
        for guard in guards {
            r.command(out, guard)?;
        }
    }
    for command in &step.commands {
        r.command(out, command)?;
    }
    Ok(())
}

/// One command as the script writes it (a here-document and its `chmod` for
/// [`Command::Write`]), without indentation; for tests that take the quoting apart.
pub fn command_text(command: &Command, family: Family) -> Result<String, FixError> {
    let mut r = Renderer::new(family, "");
    r.package_index_fresh = true;
    let mut out = String::new();
    r.command(&mut out, command)?;
    Ok(out)
}

/// Renders a block on its own, for `explain`: its guards and commands, without the preamble.
pub fn fragment(step: &Step, family: Family) -> Result<String, FixError> {
    let mut r = Renderer::new(family, "");
    let mut out = String::new();
    block(&mut r, &mut out, step, &step.guards)?;
    Ok(out)
}

/// Renders the whole script.
pub fn render(plan: &Plan) -> Result<String, FixError> {
    let mut out = String::from("#!/bin/sh\n");
    header(&mut out, plan);
    out.push_str("\nset -eu\n\n");
    out.push_str(STALE);
    for helper in helpers_used(plan) {
        out.push('\n');
        out.push_str(helper_source(helper));
    }
    out.push_str("\nmain() {\n");
    out.push_str(ROOT_CHECK);
    let mut r = Renderer::new(plan.distro.family, "\t");
    preflight(&mut r, &mut out, plan)?;
    for step in &plan.steps {
        out.push('\n');
        block(&mut r, &mut out, step, &[])?;
    }
    out.push_str("}\n\n");
    comment(
        &mut out,
        "",
        "",
        "main reads the whole script before it runs anything; no command reads the terminal",
    );
    out.push_str("main </dev/null\n");
    if let Some(directive) = r.directive() {
        // Before the first command, so it holds for the whole script.
        out.insert_str("#!/bin/sh\n".len(), &directive);
    }
    if !plan.after.is_empty() {
        out.push('\n');
        comment(&mut out, "", "", "after running this script:");
        for note in &plan.after {
            comment(&mut out, "", "- ", &note.line());
        }
    }
    Ok(out)
}

/// The comments at the top: what the script is for and whom, and the checks it leaves out.
fn header(out: &mut String, plan: &Plan) {
    let distro = plan
        .distro
        .pretty_name
        .clone()
        .unwrap_or_else(|| plan.distro.id.clone());
    comment(
        out,
        "",
        "",
        &format!(
            "rootless-setup fix: the root commands that repair what `rootless-setup check` found for \
             user {} (uid {}) on {distro}. Generated by rootless-setup {}; review it, then run it \
             as root: `sudo sh FILE`, or let `rootless-setup fix --apply` do that. It changes \
             only what the blocks below name, never another user's ranges, and quotes every value.",
            plan.user,
            plan.uid,
            env!("CARGO_PKG_VERSION"),
        ),
    );
    if !plan.not_covered.is_empty() {
        out.push_str("#\n");
        comment(
            out,
            "",
            "",
            &format!(
                "not covered, because these checks need {}'s own login session (run `rootless-setup \
                 check` as {} afterwards):",
                plan.user, plan.user
            ),
        );
        for (id, why) in &plan.not_covered {
            comment(out, "", "  ", &format!("{id}: {why}"));
        }
    }
    if !plan.skipped.is_empty() {
        out.push_str("#\n");
        let ids: Vec<&str> = plan.skipped.iter().map(|id| id.as_str()).collect();
        comment(
            out,
            "",
            "",
            &format!(
                "skipped until the checks they depend on pass (run `rootless-setup fix` again \
                 afterwards): {}",
                ids.join(", ")
            ),
        );
    }
}

/// Every step's guards, each once and in order, before any block changes anything.
fn preflight(r: &mut Renderer, out: &mut String, plan: &Plan) -> Result<(), FixError> {
    let mut seen_guards: Vec<&Command> = Vec::new();
    let guards: Vec<&Command> = plan
        .steps
        .iter()
        .flat_map(|s| &s.guards)
        .filter(|g| {
            let new = !seen_guards.contains(g);
            if new {
                seen_guards.push(g);
            }
            new
        })
        .collect();
    if guards.is_empty() {
        return Ok(());
    }
    out.push('\n');
    comment(
        out,
        "\t",
        "",
        "preflight: stop before changing anything if the host changed since this script was \
         generated",
    );
    for guard in guards {
        r.command(out, guard)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `expect_home BASE HOME` in a real `sh`; the error output when it stops.
    fn expect_home(base: &std::path::Path, home: &std::path::Path) -> Result<(), String> {
        let script = format!(
            "{STALE}{}expect_home \"$1\" \"$2\"",
            helper_source(Helper::ExpectHome)
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script, "sh"])
            .arg(base)
            .arg(home)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    #[test]
    fn the_home_guard_stops_at_a_link_anywhere_on_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let base = root.join("home");
        std::fs::create_dir_all(base.join("alice")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::os::unix::fs::symlink("../etc", base.join("dev")).unwrap();
        std::os::unix::fs::symlink("home", root.join("linked")).unwrap();
        assert_eq!(expect_home(&base, &base.join("alice")), Ok(()));
        // A home that does not exist yet is fine (the block creates it).
        assert_eq!(expect_home(&base, &base.join("new")), Ok(()));
        let stale = |what: String| {
            Err(format!(
                "rootless-setup: {what}; nothing was changed: run rootless-setup fix again\n"
            ))
        };
        let dev = base.join("dev");
        assert_eq!(
            expect_home(&base, &dev),
            stale(format!("{} is a symbolic link", dev.display()))
        );
        let linked = root.join("linked");
        assert_eq!(
            expect_home(&linked, &linked.join("alice")),
            stale(format!("{} is a symbolic link", linked.display()))
        );
        assert_eq!(
            expect_home(&base, &base.join("alice/x")),
            stale(format!(
                "{} is not directly below {}",
                base.join("alice/x").display(),
                base.display()
            ))
        );
    }

    #[test]
    fn comments_wrap_and_never_contain_a_raw_newline() {
        let mut out = String::new();
        comment(&mut out, "\t", "seen: ", "a\nb $(id)\r\u{1b}[2J end");
        assert_eq!(out, "\t# seen: a\\nb $(id)\\r\\u{1b}[2J end\n");
        let mut out = String::new();
        comment(&mut out, "", "why: ", &"word ".repeat(40));
        assert!(out.lines().count() > 1);
        assert!(
            out.lines()
                .all(|l| l.starts_with("# ") && l.len() <= WIDTH + 10)
        );
        assert!(out.lines().nth(1).unwrap().starts_with("#      word"));
    }
}
