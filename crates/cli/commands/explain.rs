//! `rootless-setup explain ID`: the long form of one check, from docs/checks.md, followed by
//! the block `rootless-setup fix` writes for it on each distribution family (made by the same
//! code as the script, so the two cannot drift).

use std::process::ExitCode;

use rootless_setup_core::{CheckId, Engine};

use crate::results::ErrorId;
use crate::style::{Style, hinted, out, paint};

/// The check reference, compiled in so `explain` works without the source tree.
const CHECKS_MD: &str = include_str!("../../../docs/checks.md");

/// Explain one check: what it establishes, how it probes, why it matters, and the fix per
/// distribution family.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The check id, such as `subid.uid`.
    #[arg(required_unless_present = "list")]
    pub id: Option<String>,

    /// List every check id with its title.
    #[arg(long, conflicts_with = "id")]
    pub list: bool,
}

/// The markdown section `## ID` of docs/checks.md, without its heading.
pub fn section(id: CheckId) -> Option<&'static str> {
    let heading = format!("## {}", id.as_str());
    let start = CHECKS_MD.lines().position(|l| l.trim_end() == heading)?;
    let mut offset = 0;
    let mut begin = None;
    let mut end = CHECKS_MD.len();
    for (i, line) in CHECKS_MD.split_inclusive('\n').enumerate() {
        if i == start + 1 {
            begin = Some(offset);
        } else if begin.is_some() && (line.starts_with("## ") || line.starts_with("# ")) {
            end = offset;
            break;
        }
        offset += line.len();
    }
    let text = CHECKS_MD.get(begin?..end)?.trim();
    // The next section's HTML anchor (`<a id="…"></a>`) sits just above its heading.
    let text = match text.rfind("\n<a id=") {
        Some(pos) => &text[..pos],
        None => text,
    };
    Some(text.trim())
}

/// Prints the section or the list.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    if args.list {
        let list: String = CheckId::ALL
            .iter()
            .map(|id| format!("{:<20} {}\n", id.as_str(), id.title()))
            .collect();
        out(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    let given = args.id.as_deref().unwrap_or_default();
    let id: CheckId =
        given
            .parse()
            .map_err(|e: rootless_setup_core::catalogue::UnknownCheckId| {
                hinted(
                    ErrorId::Usage,
                    e.to_string(),
                    &["`rootless-setup explain --list` lists every check id"],
                )
            })?;
    let Some(text) = section(id) else {
        return Err(hinted(
            ErrorId::Internal,
            format!("docs/checks.md has no section for `{id}`"),
            &["this is a bug in rootless-setup's documentation; please report it"],
        ));
    };
    out(&format!(
        "{} {}\n{}\n\n{text}\n{}",
        paint(style.out, Style::BOLD, id.as_str()),
        paint(style.out, Style::DIM, id.title()),
        applies_to(id),
        fix_per_family(id, style.out)?
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `applies to: docker, containerd (not podman: …)`, from the engines' descriptions.
pub fn applies_to(id: CheckId) -> String {
    let (yes, no): (Vec<Engine>, Vec<Engine>) = Engine::ALL
        .into_iter()
        .partition(|e| e.spec().not_applicable(id).is_none());
    let names: Vec<&str> = yes.iter().map(|e| e.as_str()).collect();
    let mut line = format!("applies to: {}", names.join(", "));
    for e in no {
        let why = e.spec().not_applicable(id).unwrap_or_default();
        line.push_str(&format!(" (not {}: {why})", e.as_str()));
    }
    line
}

/// What `rootless-setup fix` writes for a typical failure of `id` on each distribution family,
/// made by the same code as the script; empty for checks without a root fix.
pub fn fix_per_family(id: CheckId, colour: bool) -> anyhow::Result<String> {
    let families = rootless_setup_fix::explain::per_family(id)?;
    if families.is_empty() {
        return Ok(String::new());
    }
    let mut text = format!(
        "\n{}\n",
        paint(
            colour,
            Style::BOLD,
            "The block `rootless-setup fix` writes for it, per family\n(example: user alice, uid \
             1000, bob holding ids 100000-165535; the real script uses your host's values):"
        )
    );
    for (family, block) in families {
        text.push_str(&format!(
            "\n{}\n",
            paint(colour, Style::BOLD, &format!("fix on {family}:"))
        ));
        match block {
            Some(block) => {
                for line in block.lines() {
                    if line.is_empty() {
                        text.push('\n');
                    } else {
                        text.push_str(&format!("    {line}\n"));
                    }
                }
            }
            None => text.push_str(
                "    (no root fix on this family: the check does not apply or needs no root)\n",
            ),
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_says_which_engines_a_check_applies_to() {
        assert_eq!(
            applies_to(CheckId::SubidUid),
            "applies to: docker, podman, containerd"
        );
        assert_eq!(
            applies_to(CheckId::EngineSmoke),
            "applies to: docker, containerd (not podman: the engine does not run under rootlesskit)"
        );
    }

    #[test]
    fn every_check_has_a_documented_section() {
        let missing: Vec<&str> = CheckId::ALL
            .into_iter()
            .filter(|id| section(*id).is_none_or(str::is_empty))
            .map(CheckId::as_str)
            .collect();
        assert!(
            missing.is_empty(),
            "docs/checks.md lacks sections for {missing:?}"
        );
    }

    #[test]
    fn root_fixes_are_shown_per_family_from_the_script_code() {
        let text = fix_per_family(CheckId::Uidmap, false).unwrap_or_default();
        for family in ["Debian/Ubuntu", "Fedora/RHEL", "openSUSE", "Arch"] {
            assert!(text.contains(&format!("fix on {family}:")), "{text}");
        }
        assert!(text.contains("    chmod u+s /usr/bin/newuidmap"), "{text}");
        assert!(
            text.contains("    setcap cap_setuid=ep /usr/bin/newuidmap"),
            "{text}"
        );
        assert_eq!(
            fix_per_family(CheckId::EnvClient, false).ok(),
            Some(String::new())
        );
    }

    #[test]
    fn sections_stop_at_the_next_heading() {
        let user = section(CheckId::User).unwrap_or_default();
        assert!(
            !user.contains("\n## "),
            "section ran into the next one: {user}"
        );
    }
}
