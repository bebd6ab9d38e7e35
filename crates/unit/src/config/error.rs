//! Where a setting came from ([`Origin`]) and what is wrong with one ([`ConfigError`]): the
//! file, line and column (or the flag), the key, the problem, the allowed values and, for a
//! misspelt key or value, the closest correct one.

use std::fmt;
use std::path::PathBuf;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// A configuration file, at a 1-based line and column.
    File {
        /// The file.
        path: PathBuf,
        /// Line, from 1.
        line: usize,
        /// Column in characters, from 1.
        column: usize,
    },
    /// A command-line flag such as `--mtu`.
    Flag(String),
    /// Found on this host (a discovered binary).
    Discovered,
}

impl Origin {
    /// The origin of byte `offset` of `text`, the contents of `path`. For many offsets of one
    /// file, build [`Positions`] once instead.
    #[cfg(test)]
    pub fn in_file(path: &std::path::Path, text: &str, offset: usize) -> Origin {
        Positions::new(path, text).origin(offset)
    }
}

/// Line and column lookups in one file, prepared in one pass over its text: each lookup is then
/// a binary search, however many values the file holds (100,000 daemon flags on one line
/// included).
#[derive(Debug)]
pub struct Positions<'a> {
    path: &'a std::path::Path,
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// Each character of more than one byte: its offset and the extra bytes (beyond one per
    /// character) up to and including it, so a column is a byte distance minus extra bytes.
    wide: Vec<(usize, usize)>,
}

impl<'a> Positions<'a> {
    /// Indexes `text`, the contents of `path`.
    pub fn new(path: &'a std::path::Path, text: &'a str) -> Positions<'a> {
        let mut line_starts = vec![0];
        let mut wide = Vec::new();
        let mut extra = 0;
        for (at, c) in text.char_indices() {
            if c == '\n' {
                line_starts.push(at + 1);
            }
            if c.len_utf8() > 1 {
                extra += c.len_utf8() - 1;
                wide.push((at, extra));
            }
        }
        Positions {
            path,
            text,
            line_starts,
            wide,
        }
    }

    /// The origin of byte `offset` (clamped to the text, moved back to a character boundary).
    pub fn origin(&self, offset: usize) -> Origin {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The last line starting at or before `offset`; the first entry is 0, so it exists.
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let line_start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        let extra_before = |at: usize| {
            let i = self.wide.partition_point(|&(w, _)| w < at);
            i.checked_sub(1)
                .and_then(|i| self.wide.get(i))
                .map_or(0, |&(_, e)| e)
        };
        let chars = offset - line_start - (extra_before(offset) - extra_before(line_start));
        Origin::File {
            path: self.path.to_path_buf(),
            line,
            column: chars + 1,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Origin::Flag(flag) => f.write_str(flag),
            Origin::Discovered => f.write_str("this host"),
        }
    }
}

/// A value with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub origin: Origin,
}

impl<T> Sourced<T> {
    /// A value from `origin`.
    pub fn new(value: T, origin: Origin) -> Self {
        Sourced { value, origin }
    }

    /// A built-in default.
    pub fn default_value(value: T) -> Self {
        Sourced {
            value,
            origin: Origin::Default,
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    /// Where the bad value (or key) is.
    pub origin: Origin,
    /// The dotted key (`network.mtu`), empty for a file that is not TOML at all.
    pub key: String,
    /// What is wrong (lowercase, no trailing period).
    pub message: String,
    /// What would be accepted.
    pub allowed: Option<String>,
    /// The closest accepted key or value, for a misspelling.
    pub suggestion: Option<String>,
    /// What to do about it, when that is not just "use an allowed value".
    pub help: Option<String>,
}

impl ConfigError {
    /// An error about `key` at `origin`.
    pub fn new(origin: &Origin, key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            origin: origin.clone(),
            key: key.to_owned(),
            message: message.into(),
            allowed: None,
            suggestion: None,
            help: None,
        }
    }

    /// Says what is allowed.
    #[must_use]
    pub fn allowed(mut self, allowed: impl Into<String>) -> Self {
        self.allowed = Some(allowed.into());
        self
    }

    /// Says what to do about it.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Suggests the closest of `candidates` to `given`, if one is close.
    #[must_use]
    pub fn suggest<'a>(
        mut self,
        given: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        self.suggestion = closest(given, candidates).map(str::to_owned);
        self
    }

    fn render(&self) -> String {
        let mut out = format!("{}: {}", self.origin, self.message);
        if let Some(s) = &self.suggestion {
            out.push_str(&format!("\n  did you mean `{s}`?"));
        }
        if let Some(a) = &self.allowed {
            out.push_str(&format!("\n  allowed: {a}"));
        }
        if let Some(h) = &self.help {
            out.push_str(&format!("\n  help: {h}"));
        }
        out
    }
}

/// Every problem found, in file order; at least one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

/// The candidate closest to `given` by edit distance, when close enough to be a typo
/// (at most a third of the length, and at most 3 edits); ties go to the first.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (given.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&given.to_lowercase(), c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `a`, `b` or `c` with backticks, for "allowed" lines.
pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<String> = values.into_iter().map(|s| format!("`{s}`")).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} or {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\n[network]\nmtü = 2\n";
        let at = |o| match Origin::in_file(Path::new("c.toml"), text, o) {
            Origin::File { line, column, .. } => (line, column),
            _ => unreachable!(),
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(4), (1, 5));
        assert_eq!(at(6), (2, 1));
        // Columns count characters, not bytes: `=` after `mtü ` is column 5.
        assert_eq!(at(text.find("= 2").unwrap_or(0)), (3, 5));
        // Past the end or inside a character: clamped, no panic.
        assert_eq!(at(1000).0, 4);
        assert_eq!(at(text.find('ü').unwrap_or(0) + 1), (3, 3));
    }

    /// The scan `Positions` replaced: count newlines and characters before the offset.
    fn rescanned(text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        )
    }

    proptest::proptest! {
        #[test]
        fn positions_agree_with_a_rescan(text in "[a=ü€😀\n\r ]{0,60}", offsets in proptest::collection::vec(0usize..80, 1..10)) {
            let positions = Positions::new(Path::new("c.toml"), &text);
            for offset in offsets {
                let Origin::File { line, column, .. } = positions.origin(offset) else {
                    panic!("a file origin");
                };
                proptest::prop_assert_eq!((line, column), rescanned(&text, offset));
            }
        }
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let keys = ["driver", "port-driver", "mtu"];
        assert_eq!(closest("drvier", keys), Some("driver"));
        assert_eq!(closest("port_driver", keys), Some("port-driver"));
        assert_eq!(closest("MTU", keys), Some("mtu"));
        assert_eq!(closest("bandwidth", keys), None);
        assert_eq!(closest("x", keys), None);
        assert_eq!(one_of(["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(one_of(["a"]), "`a`");
    }

    #[test]
    fn rendering() {
        let e = ConfigError::new(
            &Origin::File {
                path: "/c.toml".into(),
                line: 3,
                column: 1,
            },
            "network.drvier",
            "unknown key `network.drvier`",
        )
        .suggest("drvier", ["driver"])
        .allowed("`driver` or `mtu`");
        assert_eq!(
            e.to_string(),
            "/c.toml:3:1: unknown key `network.drvier`\n  did you mean `driver`?\n  allowed: `driver` or `mtu`"
        );
    }
}
