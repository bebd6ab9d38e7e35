//! Writing values into unit files so that systemd reads back exactly what was meant.
//!
//! Every value is written double-quoted. Inside the quotes systemd removes one level of C
//! escapes (`\\`, `\"`, `\t`), then expands `%` specifiers (so a literal `%` is `%%`); in
//! `ExecStart=` arguments (not the program path) it also expands `$VAR` at start-up (so a
//! literal `$` is `$$`). `Environment=` does no `$` expansion.
//!
//! Some values cannot be written at all, and are refused rather than mangled: NUL and other
//! control characters (tab excepted), and in a program path also quotes and backslashes, which
//! systemd rejects as "special characters" in an executable name.

use std::path::{Component, Path};

/// A value that cannot be written into a unit file as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    /// A control character (other than tab) or NUL.
    #[error("contains the control character {0:?}, which a unit file cannot carry")]
    Control(char),
    /// A path that is not valid UTF-8.
    #[error("is not valid UTF-8")]
    NotUtf8,
    /// A program path that is not absolute.
    #[error("is not an absolute path")]
    NotAbsolute,
    /// A path with `.`, `..` or empty components.
    #[error("is not a normalized path (no `.`, `..` or `//`)")]
    NotNormalized,
    /// A character systemd refuses in an executable path.
    #[error("contains {0:?}, which systemd refuses in a program path")]
    UnsafeInPath(char),
    /// An environment variable name systemd would not accept.
    #[error(
        "is not a valid environment variable name (letters, digits and `_`, not starting with a digit)"
    )]
    BadName,
    /// A directory that cannot be an entry of `PATH`.
    #[error("contains `:`, which cannot appear in a PATH entry")]
    ColonInPath,
    /// An empty value where a word is needed.
    #[error("is empty")]
    Empty,
}

fn check_controls(value: &str) -> Result<(), EscapeError> {
    match value
        .chars()
        .find(|c| c.is_control() && *c != '\t' && (*c as u32) < 0x80)
    {
        Some(c) => Err(EscapeError::Control(c)),
        None => Ok(()),
    }
}

/// `value` between double quotes with `\`, `"` and tab escaped, `%` doubled and, when
/// `dollars`, `$` doubled.
fn quote(value: &str, dollars: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\t' => out.push_str("\\t"),
            '%' => out.push_str("%%"),
            '$' if dollars => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The program of an `ExecStart=` line: an absolute, normalized path, quoted.
pub fn exec_path(path: &Path) -> Result<String, EscapeError> {
    let text = path.to_str().ok_or(EscapeError::NotUtf8)?;
    check_path(path)?;
    check_controls(text)?;
    if let Some(c) = text
        .chars()
        .find(|c| matches!(c, '"' | '\'' | '\\') || c.is_control())
    {
        return Err(EscapeError::UnsafeInPath(c));
    }
    Ok(quote(text, false))
}

/// An absolute path with no `.`, `..` or empty components.
pub fn check_path(path: &Path) -> Result<(), EscapeError> {
    let text = path.to_str().ok_or(EscapeError::NotUtf8)?;
    if !path.is_absolute() {
        return Err(EscapeError::NotAbsolute);
    }
    let normal = path
        .components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !normal || text.contains("//") || (text.len() > 1 && text.ends_with('/')) {
        return Err(EscapeError::NotNormalized);
    }
    Ok(())
}

/// One argument of an `ExecStart=` line.
pub fn exec_arg(arg: &str) -> Result<String, EscapeError> {
    if arg.is_empty() {
        return Err(EscapeError::Empty);
    }
    check_controls(arg)?;
    Ok(quote(arg, true))
}

/// An `ExecStart=` argument `PREFIX%t/NAME`: systemd puts the user manager's runtime directory
/// (`$XDG_RUNTIME_DIR`) in place of `%t` when it starts the unit. `name` is one plain path
/// component.
pub fn exec_arg_under_runtime_dir(prefix: &str, name: &str) -> Result<String, EscapeError> {
    if name.is_empty() {
        return Err(EscapeError::Empty);
    }
    if name.contains('/') || name == "." || name == ".." {
        return Err(EscapeError::NotNormalized);
    }
    check_controls(prefix)?;
    check_controls(name)?;
    let before = quote(prefix, true);
    let after = quote(name, true);
    // Both halves inside one pair of quotes, with the specifier between them.
    Ok(format!("{}%t/{}", &before[..before.len() - 1], &after[1..]))
}

/// Whether `name` is a portable environment variable name.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The value of an `Environment=` line: `"NAME=value"`.
pub fn env_assignment(name: &str, value: &str) -> Result<String, EscapeError> {
    if !is_env_name(name) {
        return Err(EscapeError::BadName);
    }
    check_controls(value)?;
    Ok(quote(&format!("{name}={value}"), false))
}

/// A directory for `PATH`: absolute, normalized, without `:`.
pub fn path_entry(dir: &Path) -> Result<&str, EscapeError> {
    let text = dir.to_str().ok_or(EscapeError::NotUtf8)?;
    check_path(dir)?;
    check_controls(text)?;
    if text.contains(':') {
        return Err(EscapeError::ColonInPath);
    }
    Ok(text)
}

/// An independent model of how systemd reads a value back, for tests: systemd's
/// `extract_first_word()` with `EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE`, then `%` specifiers,
/// then (for `ExecStart=` arguments) `$` expansion at start-up.
#[cfg(test)]
pub(crate) mod model {
    /// Splits `line` into words as systemd does; `None` where systemd would reject the line
    /// (unterminated quote, bad escape).
    pub(crate) fn words(line: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut chars = line.chars().peekable();
        loop {
            while chars
                .peek()
                .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
            {
                chars.next();
            }
            if chars.peek().is_none() {
                return Some(out);
            }
            let mut word = String::new();
            let mut quote: Option<char> = None;
            while let Some(c) = chars.next() {
                match (quote, c) {
                    (None, ' ' | '\t' | '\n' | '\r') => break,
                    (None, '"' | '\'') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (Some('\''), c) => word.push(c),
                    (_, '\\') => word.push(unescape(&mut chars)?),
                    (_, c) => word.push(c),
                }
            }
            if quote.is_some() {
                return None;
            }
            out.push(word);
        }
    }

    fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
        let c = chars.next()?;
        Some(match c {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            's' => ' ',
            '\\' | '"' | '\'' => c,
            'x' => {
                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?).filter(|c| *c != '\0')?
            }
            _ => return None,
        })
    }

    /// `%%` → `%`; any other specifier is "not what we meant" (`None`).
    pub(crate) fn specifiers(word: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = word.chars();
        while let Some(c) = chars.next() {
            if c == '%' {
                match chars.next() {
                    Some('%') => out.push('%'),
                    _ => return None,
                }
            } else {
                out.push(c);
            }
        }
        Some(out)
    }

    /// `$$` → `$`; `$NAME` or `${NAME}` would be expanded from the environment (`None`).
    pub(crate) fn dollars(word: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = word.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' {
                match chars.peek() {
                    Some('$') => {
                        chars.next();
                        out.push('$');
                    }
                    Some(n) if n.is_ascii_alphanumeric() || *n == '_' || *n == '{' => return None,
                    _ => out.push('$'),
                }
            } else {
                out.push(c);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_escapes() {
        assert_eq!(
            exec_arg("--data-root=/srv/my docker").as_deref(),
            Ok("\"--data-root=/srv/my docker\"")
        );
        assert_eq!(
            exec_arg("100%$HOME\\\"").as_deref(),
            Ok("\"100%%$$HOME\\\\\\\"\"")
        );
        assert_eq!(env_assignment("A", "x y%$").as_deref(), Ok("\"A=x y%%$\""));
        assert_eq!(
            exec_path(Path::new("/opt/my apps/%d/dockerd-rootless.sh")).as_deref(),
            Ok("\"/opt/my apps/%%d/dockerd-rootless.sh\"")
        );
    }

    #[test]
    fn unrepresentable_values_are_refused() {
        assert_eq!(exec_arg("a\nb"), Err(EscapeError::Control('\n')));
        assert_eq!(exec_arg(""), Err(EscapeError::Empty));
        assert_eq!(env_assignment("1A", "x"), Err(EscapeError::BadName));
        assert_eq!(env_assignment("A-B", "x"), Err(EscapeError::BadName));
        assert_eq!(env_assignment("A", "\0"), Err(EscapeError::Control('\0')));
        assert_eq!(
            exec_path(Path::new("bin/dockerd")),
            Err(EscapeError::NotAbsolute)
        );
        assert_eq!(
            exec_path(Path::new("/usr/../bin/x")),
            Err(EscapeError::NotNormalized)
        );
        assert_eq!(
            exec_path(Path::new("/usr//bin/x")),
            Err(EscapeError::NotNormalized)
        );
        assert_eq!(
            exec_path(Path::new("/it's/x")),
            Err(EscapeError::UnsafeInPath('\''))
        );
        assert_eq!(
            exec_path(Path::new("/a\\b/x")),
            Err(EscapeError::UnsafeInPath('\\'))
        );
        assert_eq!(path_entry(Path::new("/a:b")), Err(EscapeError::ColonInPath));
        assert_eq!(path_entry(Path::new("/usr/bin")), Ok("/usr/bin"));
    }

    #[test]
    fn an_argument_under_the_runtime_dir_keeps_only_its_specifier() {
        let arg = exec_arg_under_runtime_dir("--state-dir=", "containerd-rootless").unwrap();
        assert_eq!(arg, "\"--state-dir=%t/containerd-rootless\"");
        let odd = exec_arg_under_runtime_dir("--x=$a%", "b%$\"").unwrap();
        let words = model::words(&odd).unwrap();
        assert_eq!(words.len(), 1);
        let runtime = words[0].replacen("%t", "/run/user/1000", 1);
        assert_eq!(
            model::specifiers(&runtime).and_then(|w| model::dollars(&w)),
            Some("--x=$a%/run/user/1000/b%$\"".to_owned())
        );
        for bad in ["", "a/b", "..", "a\nb"] {
            assert!(exec_arg_under_runtime_dir("--s=", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_model_reads_systemd_syntax() {
        assert_eq!(
            model::words(r#"a "b c" 'd e' f\x41"#),
            Some(vec!["a".into(), "b c".into(), "d e".into(), "fA".into()])
        );
        assert_eq!(model::words(r#""open"#), None);
        assert_eq!(model::specifiers("%h"), None);
        assert_eq!(model::dollars("$HOME"), None);
        assert_eq!(model::dollars("$$HOME $"), Some("$HOME $".into()));
    }

    /// Any text without control characters (tab allowed), heavy on the characters that matter.
    fn tricky() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    '%', '$', '"', '\'', '\\', ' ', '\t', ';', '{', '}', 'h', 'x', '=', 'é', '字'
                ]),
                any::<char>().prop_filter("no controls", |c| !c.is_control()
                    || *c == '\t'
                    || (*c as u32) >= 0x80),
            ],
            1..24,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn exec_args_read_back_exactly(args in proptest::collection::vec(tricky(), 1..5)) {
            let line: Vec<String> = args.iter().map(|a| exec_arg(a).unwrap()).collect();
            let words = model::words(&line.join(" ")).unwrap();
            let read: Vec<String> = words
                .iter()
                .map(|w| model::specifiers(w).and_then(|w| model::dollars(&w)).unwrap())
                .collect();
            prop_assert_eq!(read, args);
        }

        #[test]
        fn environment_reads_back_exactly(name in "[A-Za-z_][A-Za-z0-9_]{0,8}", value in tricky()) {
            let assignment = env_assignment(&name, &value).unwrap();
            let words = model::words(&assignment).unwrap();
            prop_assert_eq!(words.len(), 1);
            let read = model::specifiers(&words[0]).unwrap();
            prop_assert_eq!(read, format!("{name}={value}"));
        }

        #[test]
        fn escaping_never_panics_and_refuses_only_controls(value in any::<String>()) {
            let has_control = value.chars().any(|c| c.is_control() && c != '\t' && (c as u32) < 0x80);
            prop_assert_eq!(exec_arg(&value).is_err(), has_control || value.is_empty());
            prop_assert_eq!(env_assignment("K", &value).is_err(), has_control);
        }
    }
}
