//! `/etc/subuid` and `/etc/subgid`: the [`parse`]r and formatter, [`overlap`] detection, the
//! deterministic free-block allocator in [`alloc`], and what a [`repair`] of one user's lines
//! removes. The `subid.uid` and `subid.gid` checks judge with them and `fix` repairs with them.

pub mod alloc;
pub mod overlap;
pub mod parse;
pub mod repair;

pub use alloc::{BLOCK, FIRST, free_block};
pub use overlap::{containing_own_id, overlapping_pairs};
pub use parse::{
    IdDatabase, Located, Malformed, Problem, SubidEntry, SubidFile, format, owner_matches,
};
pub use repair::{clashes_with_others, free_block_in, lines_to_remove, remaining_ids};
