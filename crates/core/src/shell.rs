//! POSIX shell quoting for every command the tool prints or runs: the fix commands of findings
//! and the root script of `rootless-setup fix`. One quoter, so a value is quoted the same way
//! wherever it appears.
//!
//! [`quote`] single-quotes anything that is not a plain word; inside single quotes the shell
//! interprets nothing (`$()`, backticks, `;`, globs and spaces stay inert), and a single quote
//! itself is written as `'\''`. [`quote_checked`] additionally refuses control characters
//! (newlines, carriage returns, escape sequences): they are harmless to the shell inside
//! quotes, but a script meant to be reviewed by a person must not contain text that moves the
//! cursor or splits a line on the screen.

use std::path::Path;

/// Characters that never need quoting.
const PLAIN: &[u8] = b"-_./:@%+=,";

/// Quotes `value` for a POSIX shell when it needs quoting: plain words (ASCII letters, digits
/// and `-_./:@%+=,`) stay as they are, everything else is single-quoted.
pub fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || PLAIN.contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Quotes a path (lossily decoded) with [`quote`].
pub fn quote_path(path: &Path) -> String {
    quote(&path.to_string_lossy())
}

/// A value that a reviewed script must not contain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {shown} contains a {kind}, which a reviewed root script must not contain")]
pub struct UnsafeValue {
    /// What the value is (`user name`, `path of rootlesskit`, …).
    pub what: String,
    /// The value, with control characters escaped (`"a\nb"`).
    pub shown: String,
    /// `newline`, `carriage return`, `control character U+001B`, …
    pub kind: String,
}

/// `Err` when `value` contains a control character (a newline first of all), naming `what`.
pub fn check_printable(what: &str, value: &str) -> Result<(), UnsafeValue> {
    let Some(c) = value.chars().find(|c| c.is_control()) else {
        return Ok(());
    };
    let kind = match c {
        '\n' => "newline".to_owned(),
        '\r' => "carriage return".to_owned(),
        '\0' => "NUL byte".to_owned(),
        c => format!("control character U+{:04X}", u32::from(c)),
    };
    Err(UnsafeValue {
        what: what.to_owned(),
        shown: format!("{value:?}"),
        kind,
    })
}

/// [`quote`], after [`check_printable`].
pub fn quote_checked(what: &str, value: &str) -> Result<String, UnsafeValue> {
    check_printable(what, value)?;
    Ok(quote(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_and_the_rest_is_single_quoted() {
        assert_eq!(quote("alice"), "alice");
        assert_eq!(quote("/usr/bin/x"), "/usr/bin/x");
        assert_eq!(quote("a=b,c:d@e%f+g"), "a=b,c:d@e%f+g");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(id)"), "'$(id)'");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(quote("`id`"), "'`id`'");
        assert_eq!(quote("é"), "'é'");
        assert_eq!(quote_path(Path::new("/home/a b")), "'/home/a b'");
    }

    #[test]
    fn quoted_values_come_back_verbatim_from_a_real_shell() {
        for value in [
            "a b",
            "it's",
            "$(touch /tmp/x)",
            "`id`",
            "'\"\\",
            "*",
            "~",
            "-n",
            "",
        ] {
            let out = std::process::Command::new("/bin/sh")
                .args(["-c", &format!("printf '%s' {}", quote(value))])
                .output()
                .expect("run /bin/sh");
            assert_eq!(String::from_utf8_lossy(&out.stdout), value);
        }
    }

    #[test]
    fn control_characters_are_refused_with_the_value_named() {
        let err = quote_checked("user name", "a\nb").unwrap_err();
        assert_eq!(
            err.to_string(),
            "user name \"a\\nb\" contains a newline, which a reviewed root script must not contain"
        );
        assert_eq!(
            check_printable("path", "a\u{1b}[2J").unwrap_err().kind,
            "control character U+001B"
        );
        assert_eq!(
            check_printable("path", "x\ry").unwrap_err().kind,
            "carriage return"
        );
        assert_eq!(quote_checked("name", "a b"), Ok("'a b'".to_owned()));
    }
}
