//! `/etc/subuid` and `/etc/subgid`: parser and formatter, plus the few fields of `/etc/passwd`
//! and `/etc/group` needed to tell which ids are in use.
//!
//! A line is `owner:start:count`, where the owner is a login name or a numeric uid. Blank lines
//! and comments (`#`) are allowed; anything else is [`Malformed`] and reported with its file,
//! line number, text and [`Problem`]. The parser is stricter than shadow-utils where the two
//! readers of these files disagree: shadow reads numbers with `strtoul(…, 0)` (so `0x…` is hex
//! and a leading `0` means octal) while rootlesskit reads them as decimal, so only plain decimal
//! numbers are accepted. Parsing never panics, whatever the input.

use std::fmt;
use std::path::PathBuf;

use crate::finding::cut;
use crate::model::IdRange;

/// One past the highest id a range may reach: the kernel rejects a map whose `start + count`
/// wraps a 32-bit id, and `4294967295` is `(uid_t) -1`, never a real id.
pub const ID_LIMIT: u64 = u32::MAX as u64;

/// Longest line text (and field value) kept in a [`Malformed`] report.
const MAX_REPORTED_TEXT: usize = 200;

/// A well-formed line: `owner:start:count`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubidEntry {
    /// Login name or numeric uid (as written).
    pub owner: String,
    /// First subordinate id.
    pub start: u32,
    /// Number of ids (at least 1).
    pub count: u32,
}

impl SubidEntry {
    /// A validated entry; the same rules as the parser.
    pub fn new(owner: impl Into<String>, start: u32, count: u32) -> Result<Self, Problem> {
        let owner = owner.into();
        check_owner(&owner)?;
        check_range(u64::from(start), u64::from(count))?;
        Ok(SubidEntry {
            owner,
            start,
            count,
        })
    }

    /// The ids as a range.
    pub fn range(&self) -> IdRange {
        IdRange {
            start: u64::from(self.start),
            count: u64::from(self.count),
        }
    }

    /// Whether this entry belongs to the account `name` with uid `uid`, the way `newuidmap`
    /// decides it: the owner is the name, or exactly the decimal uid.
    pub fn is_owned_by(&self, name: &str, uid: u32) -> bool {
        owner_matches(&self.owner, name, uid)
    }
}

impl fmt::Display for SubidEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.owner, self.start, self.count)
    }
}

/// Whether an owner field names the account `name` with uid `uid`.
pub fn owner_matches(owner: &str, name: &str, uid: u32) -> bool {
    owner == name || is_decimal_of(owner, uid)
}

/// Whether `text` is exactly the decimal form of `id` (no sign, no leading zero), compared
/// without allocating: this runs once per line of files of 100,000 lines.
fn is_decimal_of(text: &str, id: u32) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
        && (text.len() == 1 || !text.starts_with('0'))
        && text.parse::<u32>() == Ok(id)
}

/// A field of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The first field.
    Owner,
    /// The second field.
    Start,
    /// The third field.
    Count,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Owner => "owner",
            Field::Start => "start",
            Field::Count => "count",
        })
    }
}

/// What is wrong with a malformed line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not exactly three colon-separated fields.
    #[error("expected 3 colon-separated fields (owner:start:count), found {found}")]
    FieldCount {
        /// How many fields the line has.
        found: usize,
    },
    /// A field is empty.
    #[error("the {0} is empty")]
    Empty(Field),
    /// A field contains a space, tab or carriage return (shadow keeps it, so nothing matches).
    #[error("the {0} contains whitespace")]
    Whitespace(Field),
    /// A number field holds something other than decimal digits.
    #[error("the {field} `{value}` is not a decimal number")]
    NotNumeric {
        field: Field,
        /// The text found.
        value: String,
    },
    /// A number with a leading zero, which shadow reads as octal and rootlesskit as decimal.
    #[error(
        "the {field} `{value}` has a leading zero (shadow reads it as octal, rootlesskit as decimal)"
    )]
    LeadingZero {
        field: Field,
        /// The text found.
        value: String,
    },
    /// A number above 4294967295.
    #[error("the {field} `{value}` does not fit in 32 bits")]
    TooLarge {
        field: Field,
        /// The text found.
        value: String,
    },
    /// An owner that cannot be written as the first field of a line.
    #[error("the owner `{0}` contains `:` or a newline, or starts with `#`")]
    UnwritableOwner(String),
    /// A range of no ids.
    #[error("the count is 0")]
    ZeroCount,
    /// The range runs past the last valid id.
    #[error("the range {start}+{count} ends past the largest id 4294967294")]
    Overflow {
        /// First id.
        start: u64,
        /// Number of ids.
        count: u64,
    },
}

/// A line that is neither an entry, a comment nor blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The file (host path).
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// The line as written (cut at 200 characters).
    pub text: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl Malformed {
    /// The owner the line seems to name (its first field), if it has one.
    pub fn owner(&self) -> Option<&str> {
        let first = self.text.split(':').next()?.trim();
        (!first.is_empty()).then_some(first)
    }
}

impl Malformed {
    /// The range the line seems meant to hold, read leniently (whitespace trimmed, leading
    /// zeros read as decimal), so an allocator can stay clear of ids someone meant to give out.
    pub fn apparent_range(&self) -> Option<IdRange> {
        let mut fields = self.text.split(':').skip(1).map(str::trim);
        let start: u64 = fields.next()?.parse().ok()?;
        let count: u64 = fields.next()?.parse().ok()?;
        let count = count.min(ID_LIMIT.saturating_sub(start));
        (count > 0).then_some(IdRange { start, count })
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {} in `{}`",
            self.path.display(),
            self.line,
            self.problem,
            self.text
        )
    }
}

/// An entry and the line it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// 1-based line number.
    pub line: usize,
    pub entry: SubidEntry,
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubidFile {
    /// The file (host path).
    pub path: PathBuf,
    /// Well-formed entries in file order.
    pub entries: Vec<Located>,
    /// Malformed lines in file order.
    pub malformed: Vec<Malformed>,
}

impl SubidFile {
    /// The entries without their line numbers.
    #[cfg(any(test, feature = "testing"))]
    pub fn plain_entries(&self) -> Vec<SubidEntry> {
        self.entries.iter().map(|l| l.entry.clone()).collect()
    }

    /// The entries of the account `name` with uid `uid` (by name and by numeric uid).
    pub fn entries_of<'a>(
        &'a self,
        name: &'a str,
        uid: u32,
    ) -> impl Iterator<Item = &'a Located> + 'a {
        self.entries
            .iter()
            .filter(move |l| l.entry.is_owned_by(name, uid))
    }
}

/// Parses the text of a subordinate id file. Never fails: bad lines end up in `malformed`.
pub fn parse(path: impl Into<PathBuf>, text: &str) -> SubidFile {
    let mut file = SubidFile {
        path: path.into(),
        // One entry a line, so the vector never moves while it fills.
        entries: Vec::with_capacity(text.bytes().filter(|b| *b == b'\n').count() + 1),
        ..SubidFile::default()
    };
    for (index, raw) in text.split('\n').enumerate() {
        let line = index.saturating_add(1);
        match parse_line(raw) {
            Ok(None) => {}
            Ok(Some(entry)) => file.entries.push(Located { line, entry }),
            Err(problem) => file.malformed.push(Malformed {
                path: file.path.clone(),
                line,
                text: cut(raw, MAX_REPORTED_TEXT),
                problem,
            }),
        }
    }
    file
}

/// Parses raw bytes, decoding them lossily (invalid UTF-8 becomes U+FFFD).
#[cfg(any(test, feature = "testing"))]
pub fn parse_bytes(path: impl Into<PathBuf>, bytes: &[u8]) -> SubidFile {
    parse(path, &String::from_utf8_lossy(bytes))
}

/// Parses one line (without its `\n`): `Ok(None)` for a blank line or a comment.
///
/// Written for files of 100,000 lines: one pass over the bytes finds the colons (`:` is ASCII,
/// so the fields are cut on character boundaries) and one pass reads each number.
pub fn parse_line(line: &str) -> Result<Option<SubidEntry>, Problem> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let mut colons = [0usize; 2];
    let mut found = 0usize;
    for (at, _) in line.bytes().enumerate().filter(|(_, b)| *b == b':') {
        if let Some(slot) = colons.get_mut(found) {
            *slot = at;
        }
        found += 1;
    }
    let [first, second] = colons;
    let fields = (
        line.get(..first),
        line.get(first + 1..second),
        line.get(second + 1..),
    );
    let (2, (Some(owner), Some(start), Some(count))) = (found, fields) else {
        return Err(Problem::FieldCount { found: found + 1 });
    };
    check_owner(owner)?;
    let start = number(Field::Start, start)?;
    let count = number(Field::Count, count)?;
    check_range(u64::from(start), u64::from(count))?;
    Ok(Some(SubidEntry {
        owner: owner.to_owned(),
        start,
        count,
    }))
}

/// Formats entries as file text, one line each, that [`parse`] reads back unchanged.
pub fn format(entries: &[SubidEntry]) -> String {
    entries.iter().map(|e| format!("{e}\n")).collect()
}

/// One pass over the owner: this runs once per line of files of 100,000 lines.
fn check_owner(owner: &str) -> Result<(), Problem> {
    if owner.is_empty() {
        return Err(Problem::Empty(Field::Owner));
    }
    let mut colon = false;
    for c in owner.chars() {
        if c.is_whitespace() {
            return Err(Problem::Whitespace(Field::Owner));
        }
        colon |= c == ':';
    }
    if colon || owner.starts_with('#') {
        // Only reachable through `SubidEntry::new`: such an owner cannot be written back
        // (a newline is whitespace, caught above).
        Err(Problem::UnwritableOwner(cut(owner, MAX_REPORTED_TEXT)))
    } else {
        Ok(())
    }
}

/// A plain decimal number, read in one pass.
fn number(field: Field, text: &str) -> Result<u32, Problem> {
    let value = || cut(text, MAX_REPORTED_TEXT);
    if text.is_empty() {
        return Err(Problem::Empty(field));
    }
    let mut number: Option<u32> = Some(0);
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return Err(if text.chars().any(char::is_whitespace) {
                Problem::Whitespace(field)
            } else {
                Problem::NotNumeric {
                    field,
                    value: value(),
                }
            });
        }
        number = number
            .and_then(|n| n.checked_mul(10))
            .and_then(|n| n.checked_add(u32::from(b - b'0')));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(Problem::LeadingZero {
            field,
            value: value(),
        });
    }
    number.ok_or_else(|| Problem::TooLarge {
        field,
        value: value(),
    })
}

fn check_range(start: u64, count: u64) -> Result<(), Problem> {
    if count == 0 {
        return Err(Problem::ZeroCount);
    }
    if start.saturating_add(count) > ID_LIMIT {
        return Err(Problem::Overflow { start, count });
    }
    Ok(())
}

/// Names and numeric ids from `/etc/passwd` or `/etc/group` (the first and third fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdDatabase {
    /// `(name, id)` in file order; lines without a numeric third field are left out.
    pub entries: Vec<(String, u32)>,
}

impl IdDatabase {
    /// Parses `/etc/passwd` or `/etc/group` text. Never fails.
    pub fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| {
                let mut fields = l.split(':');
                let name = fields.next()?.trim();
                let id = fields.nth(1)?.trim().parse::<u32>().ok()?;
                (!name.is_empty()).then(|| (name.to_owned(), id))
            })
            .collect();
        IdDatabase { entries }
    }

    /// The id of `name`.
    pub fn id_of(&self, name: &str) -> Option<u32> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    /// The first name with id `id`.
    pub fn name_of(&self, id: u32) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, i)| *i == id)
            .map(|(n, _)| n.as_str())
    }

    /// Every id in use.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.iter().map(|(_, id)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(line: &str) -> Problem {
        parse_line(line).unwrap_err()
    }

    #[test]
    fn entries_comments_and_blank_lines() {
        let file = parse(
            "/etc/subuid",
            "# comment\n\n   \nalice:100000:65536\n1001:165536:65536\n",
        );
        assert!(file.malformed.is_empty(), "{:?}", file.malformed);
        // Room for one entry a line from the start (six pieces between newlines here), so a
        // file of 100,000 lines never moves its entries while it is read.
        assert!(file.entries.capacity() >= 6, "{}", file.entries.capacity());
        assert_eq!(
            file.entries,
            vec![
                Located {
                    line: 4,
                    entry: SubidEntry::new("alice", 100000, 65536).unwrap()
                },
                Located {
                    line: 5,
                    entry: SubidEntry::new("1001", 165536, 65536).unwrap()
                },
            ]
        );
        assert_eq!(file.entries_of("bob", 1001).count(), 1);
        assert_eq!(file.entries_of("alice", 5).count(), 1);
        assert_eq!(file.entries_of("alic", 1000).count(), 0);
        // Only the exact decimal form of the uid names the account.
        assert!(owner_matches("1000", "alice", 1000));
        assert!(owner_matches("0", "root", 0));
        assert!(!owner_matches("01000", "alice", 1000));
        assert!(!owner_matches("+1000", "alice", 1000));
        assert!(!owner_matches("1000 ", "alice", 1000));
        assert!(!owner_matches("", "alice", 0));
        assert!(!owner_matches("1001", "alice", 1000));
        assert!(!owner_matches("99999999999", "alice", 1000));
    }

    #[test]
    fn every_kind_of_malformed_line_is_named() {
        assert_eq!(problem("alice:100000"), Problem::FieldCount { found: 2 });
        assert_eq!(problem("alice:1:2:3"), Problem::FieldCount { found: 4 });
        assert_eq!(problem(":1:2"), Problem::Empty(Field::Owner));
        assert_eq!(problem("alice::2"), Problem::Empty(Field::Start));
        assert_eq!(problem(" alice:1:2"), Problem::Whitespace(Field::Owner));
        assert_eq!(problem("alice:1:2\r"), Problem::Whitespace(Field::Count));
        assert_eq!(
            problem("alice:abc:2"),
            Problem::NotNumeric {
                field: Field::Start,
                value: "abc".into()
            }
        );
        assert!(matches!(
            problem("alice:0x10:2"),
            Problem::NotNumeric { .. }
        ));
        assert!(matches!(problem("alice:-1:2"), Problem::NotNumeric { .. }));
        assert!(matches!(
            problem("alice:0100000:2"),
            Problem::LeadingZero { .. }
        ));
        assert!(matches!(
            problem("alice:4294967296:2"),
            Problem::TooLarge { .. }
        ));
        assert_eq!(problem("alice:100000:0"), Problem::ZeroCount);
        assert_eq!(
            problem("alice:4294967290:10"),
            Problem::Overflow {
                start: 4294967290,
                count: 10
            }
        );
        assert_eq!(
            parse_line("alice:4294967290:5").unwrap().unwrap().count,
            5,
            "the last valid id is 4294967294"
        );
        assert!(parse_line("alice:0:1").unwrap().is_some());
    }

    #[test]
    fn malformed_lines_carry_path_line_and_text() {
        let file = parse("/etc/subgid", "alice:1:2\nbob:x:65536\n");
        let bad = &file.malformed[0];
        assert_eq!((bad.line, bad.owner()), (2, Some("bob")));
        assert_eq!(bad.apparent_range(), None);
        let lenient = parse("/f", "carol: 0300000 :10\r\ndave:1:2:3\n");
        assert_eq!(
            lenient.malformed[0].apparent_range(),
            Some(IdRange {
                start: 300000,
                count: 10
            })
        );
        assert_eq!(
            lenient.malformed[1].apparent_range(),
            Some(IdRange { start: 1, count: 2 })
        );
        assert_eq!(
            bad.to_string(),
            "/etc/subgid:2: the start `x` is not a decimal number in `bob:x:65536`"
        );
        let long = parse("/f", &"x".repeat(10_000));
        assert_eq!(long.malformed[0].text, format!("{}…", "x".repeat(200)));
        // A 10 MB field is quoted cut, in the problem as in the line.
        let huge = parse("/f", &format!("alice:{}:1", "y".repeat(10_000_000)));
        let cut_field = format!("{}…", "y".repeat(200));
        assert_eq!(
            huge.malformed[0].problem,
            Problem::NotNumeric {
                field: Field::Start,
                value: cut_field
            }
        );
        assert!(huge.malformed[0].to_string().len() < 1_000);
    }

    #[test]
    fn format_round_trips() {
        let entries = vec![
            SubidEntry::new("alice", 100000, 65536).unwrap(),
            SubidEntry::new("1000", 0, 1).unwrap(),
        ];
        let text = format(&entries);
        assert_eq!(text, "alice:100000:65536\n1000:0:1\n");
        assert_eq!(parse("/f", &text).plain_entries(), entries);
        let unwritable = |o: &str| Err(Problem::UnwritableOwner(o.to_owned()));
        assert_eq!(SubidEntry::new("a:b", 1, 1), unwritable("a:b"));
        assert_eq!(SubidEntry::new("#a", 1, 1), unwritable("#a"));
        assert_eq!(
            SubidEntry::new("a:b c", 1, 1),
            Err(Problem::Whitespace(Field::Owner))
        );
        assert_eq!(
            SubidEntry::new("a\nb", 1, 1),
            Err(Problem::Whitespace(Field::Owner))
        );
        assert_eq!(SubidEntry::new("", 1, 1), Err(Problem::Empty(Field::Owner)));
    }

    #[test]
    fn id_database_skips_junk() {
        let db = IdDatabase::parse(
            "root:x:0:0::/root:/bin/sh\n# c\nbroken\nx:y:z\nalice:x:1000:1000:::\n",
        );
        assert_eq!(db.ids().collect::<Vec<_>>(), vec![0, 1000]);
        assert_eq!(db.name_of(1000), Some("alice"));
        assert_eq!(db.id_of("root"), Some(0));
    }
}
