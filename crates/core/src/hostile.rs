//! Hostile inputs for the parsers' property tests (feature `testing`): text made of valid
//! sample lines with random corruption (NUL and control characters, huge and negative numbers,
//! separators, unicode), very long lines and many lines up to [`MAX_LEN`] bytes, arbitrary
//! bytes, and a time budget every parse of such an input must keep.
//!
//! Inputs are built from a short recipe (a few pieces and a target length), so a 1 MB case is
//! cheap to generate and shrinks to a small one.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The largest input: about what a bounded read of a host or configuration file lets through.
pub const MAX_LEN: usize = 1 << 20;

/// The CPU time one parse of a [`MAX_LEN`] input may take in a debug build. A linear parser
/// takes tens to a few hundred milliseconds; a quadratic one takes minutes.
pub const BUDGET: Duration = Duration::from_secs(2);

/// Fragments spliced into valid lines: what a hostile or broken file holds.
const POISON: [&str; 24] = [
    "\0",
    "\x01",
    "\x1b[31m",
    "\x7f",
    "\r",
    "\t",
    " ",
    "\n",
    ":",
    "=",
    "\"",
    "'",
    "\\",
    "\\040",
    "%",
    "#",
    ",",
    ";",
    "-1",
    "-9223372036854775809",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "\u{fffd}é\u{200b}🦀",
    "\u{202e}",
];

/// Proptest's configuration with `cases` cases, unless `PROPTEST_CASES` asks for another number.
pub fn cases(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

/// One piece of a hostile text.
#[derive(Debug, Clone)]
enum Piece {
    /// A sample line as it is.
    Valid(String),
    /// A sample line with `poison` spliced in at (a fraction of) its length, optionally
    /// replacing the rest of the line.
    Corrupt {
        line: String,
        at: f64,
        poison: String,
        cut: bool,
    },
    /// A short random line.
    Random(String),
    /// A fragment repeated into one very long line.
    Long(String, usize),
}

impl Piece {
    fn write(&self, out: &mut String) {
        match self {
            Piece::Valid(line) | Piece::Random(line) => out.push_str(line),
            Piece::Corrupt {
                line,
                at,
                poison,
                cut,
            } => {
                let mut i = (line.len() as f64 * at) as usize;
                while !line.is_char_boundary(i) {
                    i -= 1;
                }
                let (head, tail) = line.split_at(i);
                out.push_str(head);
                out.push_str(poison);
                if !cut {
                    out.push_str(tail);
                }
            }
            Piece::Long(fragment, n) => {
                for _ in 0..*n {
                    out.push_str(fragment);
                    if out.len() > MAX_LEN {
                        break;
                    }
                }
            }
        }
    }
}

fn piece(samples: &'static [&'static str]) -> impl Strategy<Value = Piece> {
    let sample = proptest::sample::select(samples).prop_map(str::to_owned);
    let poison = prop_oneof![
        proptest::sample::select(&POISON[..]).prop_map(str::to_owned),
        "\\PC{1,8}",
        "(?s).{1,4}",
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("{n}{n}")),
    ];
    prop_oneof![
        4 => sample.clone().prop_map(Piece::Valid),
        4 => (sample.clone(), 0.0..=1.0f64, poison.clone(), any::<bool>()).prop_map(
            |(line, at, poison, cut)| Piece::Corrupt { line, at, poison, cut }
        ),
        1 => "(?s).{0,40}".prop_map(Piece::Random),
        1 => (prop_oneof![sample, poison], 1..MAX_LEN).prop_map(|(f, n)| Piece::Long(f, n)),
    ]
}

/// Text near the format of `samples` (each a valid line, without its newline): pieces joined
/// by newlines (sometimes `\r\n` or none at the end), repeated until about `target` bytes, never
/// more than [`MAX_LEN`] (cut at a character boundary).
fn assemble(pieces: &[Piece], target: usize, crlf: bool) -> String {
    let mut out = String::new();
    if pieces.is_empty() {
        return out;
    }
    'fill: loop {
        for p in pieces {
            p.write(&mut out);
            out.push_str(if crlf { "\r\n" } else { "\n" });
            if out.len() >= target {
                break 'fill;
            }
        }
    }
    let mut end = out.len().min(MAX_LEN);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// Hostile text of up to a few kilobytes near the format of `samples`.
pub fn small_text(samples: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(piece(samples), 0..12),
        0..4096usize,
        any::<bool>(),
    )
        .prop_map(|(pieces, target, crlf)| {
            let pieces: Vec<Piece> = pieces
                .into_iter()
                .map(|p| match p {
                    Piece::Long(f, n) => Piece::Long(f, n % 64),
                    p => p,
                })
                .collect();
            assemble(&pieces, target, crlf)
        })
}

/// A large input whose `Debug` shows its length and start only, so a failing case does not
/// print a megabyte (proptest's regression file keeps the seed that rebuilds it).
#[derive(Clone, PartialEq, Eq)]
pub struct Large<T>(pub T);

impl<T: AsRef<[u8]>> std::fmt::Debug for Large<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.0.as_ref();
        let head = String::from_utf8_lossy(bytes.get(..200).unwrap_or(bytes));
        write!(f, "Large({} bytes: {head:?}…)", bytes.len())
    }
}

impl<T> std::ops::Deref for Large<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Hostile text of [`MAX_LEN`] bytes (or a little less) near the format of `samples`: many
/// lines, very long lines, or both.
pub fn large_text(samples: &'static [&'static str]) -> impl Strategy<Value = Large<String>> {
    (
        proptest::collection::vec(piece(samples), 1..8),
        any::<bool>(),
    )
        .prop_map(|(pieces, crlf)| Large(assemble(&pieces, MAX_LEN, crlf)))
}

/// Arbitrary bytes: up to a few kilobytes, or a random block repeated to [`MAX_LEN`].
pub fn bytes() -> impl Strategy<Value = Large<Vec<u8>>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..4096),
        1 => proptest::collection::vec(any::<u8>(), 1..512).prop_map(|block| {
            let mut bytes = block.repeat(MAX_LEN / block.len() + 1);
            bytes.truncate(MAX_LEN);
            bytes
        }),
    ]
    .prop_map(Large)
}

/// Runs `parse` and fails when it takes longer than [`BUDGET`] of this thread's CPU time;
/// returns what it returned and that time. With `HOSTILE_TIMES` set, prints the time
/// (`--nocapture` shows it).
///
/// CPU time, not wall time: on a loaded machine (CI, or parallel test binaries on two cores) a
/// thread waits for a processor far longer than it works, and a wall-clock budget then fails a
/// linear parse (a 318 ms parse failed the 2 s budget at a load of 10). The thread's CPU time
/// counts only the parse's own work, which is what a budget against super-linear work is about.
pub fn within_budget<T>(what: &str, input_len: usize, parse: impl FnOnce() -> T) -> (T, Duration) {
    let start = thread_cpu_time();
    let out = parse();
    let took = thread_cpu_time().saturating_sub(start);
    if std::env::var_os("HOSTILE_TIMES").is_some() {
        eprintln!("{what}: {input_len} bytes in {took:?}");
    }
    assert!(
        took <= BUDGET,
        "{what} took {took:?} for {input_len} bytes (budget {BUDGET:?}): super-linear work"
    );
    (out, took)
}

/// The CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let spec = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .expect("every Linux kernel has a per-thread CPU clock");
    Duration::from(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_work_not_waiting() {
        let (_, slept) = within_budget("sleep", 0, || {
            std::thread::sleep(Duration::from_millis(300));
        });
        assert!(slept < Duration::from_millis(100), "{slept:?}");
        let (_, worked) = within_budget("spin", 0, || {
            let start = thread_cpu_time();
            while thread_cpu_time() - start < Duration::from_millis(50) {}
        });
        assert!(worked >= Duration::from_millis(50), "{worked:?}");
    }

    #[test]
    fn assembled_text_is_capped_and_keeps_its_pieces() {
        let pieces = [
            Piece::Valid("a:b".to_owned()),
            Piece::Corrupt {
                line: "héllo".to_owned(),
                at: 0.4,
                poison: "\0".to_owned(),
                cut: true,
            },
        ];
        assert_eq!(assemble(&pieces, 1, false), "a:b\n");
        assert_eq!(assemble(&pieces, 6, true), "a:b\r\nh\0\r\n");
        let long = [Piece::Long("é".to_owned(), MAX_LEN)];
        let text = assemble(&long, MAX_LEN, false);
        assert!(
            text.len() <= MAX_LEN && text.len() > MAX_LEN - 4,
            "{}",
            text.len()
        );
        assert_eq!(assemble(&[], MAX_LEN, false), "");
    }
}
