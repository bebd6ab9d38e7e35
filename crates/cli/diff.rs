//! Unified line diffs of the files install would change, for `--dry-run` and for refusing to
//! replace a hand-edited or foreign file.

use similar::TextDiff;

use crate::style::{Style, paint};

/// A unified diff from `old` to `new` (three lines of context), labelled with `path`; an
/// absent old file diffs from `/dev/null`. Empty when the texts are equal.
pub fn unified(path: &str, old: Option<&str>, new: &str, colour: bool) -> String {
    let before = old.unwrap_or("");
    if old == Some(new) {
        return String::new();
    }
    let diff = TextDiff::from_lines(before, new);
    let old_label = if old.is_some() {
        format!("a{path}")
    } else {
        "/dev/null".to_owned()
    };
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_label, &format!("b{path}"))
        .missing_newline_hint(true)
        .to_string();
    if !colour {
        return text;
    }
    text.lines()
        .map(|l| {
            let look = if l.starts_with("+++") || l.starts_with("---") {
                Some(Style::BOLD)
            } else if l.starts_with('+') {
                Some(Style::ADDED)
            } else if l.starts_with('-') {
                Some(Style::REMOVED)
            } else if l.starts_with("@@") {
                Some(Style::COMMAND)
            } else {
                None
            };
            match look {
                Some(look) => format!("{}\n", paint(true, look, l)),
                None => format!("{l}\n"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changed_lines_with_context() {
        let old = "[Unit]\nA=1\nB=2\nC=3\n";
        let new = "[Unit]\nA=1\nB=two\nC=3\n";
        let d = unified("/u/docker.service", Some(old), new, false);
        assert_eq!(
            d,
            "--- a/u/docker.service\n+++ b/u/docker.service\n@@ -1,4 +1,4 @@\n [Unit]\n A=1\n-B=2\n+B=two\n C=3\n"
        );
    }

    #[test]
    fn a_new_file_diffs_from_dev_null_and_equal_files_not_at_all() {
        let d = unified("/u/x.conf", None, "a\nb\n", false);
        assert!(
            d.starts_with("--- /dev/null\n+++ b/u/x.conf\n@@ -0,0 +1,2 @@\n+a\n+b\n"),
            "{d}"
        );
        assert_eq!(unified("/u/x", Some("same\n"), "same\n", false), "");
        let coloured = unified("/u/x", Some("a\n"), "b\n", true);
        let red = paint(true, Style::REMOVED, "-a");
        let green = paint(true, Style::ADDED, "+b");
        assert!(
            coloured.contains(&format!("{red}\n{green}\n")),
            "{coloured:?}"
        );
    }
}
