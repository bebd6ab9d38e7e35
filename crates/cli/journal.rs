//! The tail of the engine unit's journal, shown when a start fails. `journalctl --user` reads
//! the user's own journal; where journald keeps one journal for everyone (volatile storage),
//! an ordinary user may not read it, and we say so instead of printing nothing.

use std::time::Duration;

use rootless_setup_core::process::{self, Invocation};

/// Up to `lines` lines of `unit`'s user journal, or why they could not be read.
pub fn tail(unit: &str, lines: u32) -> Result<String, String> {
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
        Ok(out) if out.success() => Err(format!(
            "the journal has no entries for {unit} that this user may read (journald may keep a single system journal; members of the systemd-journal group can read it)"
        )),
        Ok(out) => Err(format!("journalctl failed: {}", out.last_line())),
        Err(e) => Err(e.to_string()),
    }
}
