//! Placeholder: the `subid` family of checks (being written).

use crate::context::{Context, Facts};
use crate::finding::Finding;

pub(crate) fn subuid(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(crate::catalogue::CheckId::SubidUid, "not implemented yet")
}

pub(crate) fn subgid(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(crate::catalogue::CheckId::SubidGid, "not implemented yet")
}
