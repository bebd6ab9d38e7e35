//! Placeholder: the `storage` family of checks (being written).

use crate::context::{Context, Facts};
use crate::finding::Finding;

pub(crate) fn storage(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(crate::catalogue::CheckId::Storage, "not implemented yet")
}
