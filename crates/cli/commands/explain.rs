//! `rootless-setup explain ID`: the long form of one check, from docs/checks.md.

use std::process::ExitCode;

use rootless_setup_checks::CheckId;

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
            .map_err(|e: rootless_setup_checks::catalogue::UnknownCheckId| {
                hinted(
                    e.to_string(),
                    &["`rootless-setup explain --list` lists every check id"],
                )
            })?;
    let Some(text) = section(id) else {
        return Err(hinted(
            format!("docs/checks.md has no section for `{id}`"),
            &["this is a bug in rootless-setup's documentation; please report it"],
        ));
    };
    out(&format!(
        "{} {}\n\n{text}\n",
        paint(style.out, "1", id.as_str()),
        paint(style.out, "2", id.title())
    ))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn sections_stop_at_the_next_heading() {
        let user = section(CheckId::User).unwrap_or_default();
        assert!(
            !user.contains("\n## "),
            "section ran into the next one: {user}"
        );
    }
}
