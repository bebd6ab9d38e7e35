//! The tail of the engine unit's journal, shown when a start fails. `journalctl --user` reads
//! the user's own journal; where journald keeps one journal for everyone (volatile storage),
//! an ordinary user may not read it, and we say so instead of printing nothing.

use std::time::Duration;

use rootless_setup_core::process::{self, Invocation, ProcessError};

/// Why the journal's tail could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// journalctl ran and printed nothing for the unit.
    #[error(
        "the journal has no entries for {unit} that this user may read (journald may keep a single system journal; members of the systemd-journal group can read it)"
    )]
    Empty { unit: String },
    /// journalctl ran and failed.
    #[error("journalctl failed: {last_line}")]
    Failed { last_line: String },
    /// journalctl could not be run.
    #[error(transparent)]
    Run(#[from] ProcessError),
}

/// Up to `lines` lines of `unit`'s user journal, or why they could not be read.
pub fn tail(unit: &str, lines: u32) -> Result<String, JournalError> {
    let invocation = Invocation::new("/usr/bin/journalctl")
        .args([
            "--user",
            "--unit",
            unit,
            "--lines",
            &lines.to_string(),
            "--no-pager",
            "--output",
            "short-precise",
            "--quiet",
        ])
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .timeout(Duration::from_secs(10));
    match process::run(&invocation) {
        Ok(out) if out.success() && !out.stdout.trim().is_empty() => Ok(out.stdout),
        Ok(out) if out.success() => Err(JournalError::Empty {
            unit: unit.to_owned(),
        }),
        Ok(out) => Err(JournalError::Failed {
            last_line: out.last_line().to_owned(),
        }),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_reads_as_it_did_as_text() {
        let empty = JournalError::Empty {
            unit: "docker.service".into(),
        };
        assert_eq!(
            empty.to_string(),
            "the journal has no entries for docker.service that this user may read (journald may \
             keep a single system journal; members of the systemd-journal group can read it)"
        );
        let failed = JournalError::Failed {
            last_line: "No journal files were found.".into(),
        };
        assert_eq!(
            failed.to_string(),
            "journalctl failed: No journal files were found."
        );
    }
}
