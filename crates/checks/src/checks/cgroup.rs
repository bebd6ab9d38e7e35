//! Placeholder: the `cgroup` family of checks (being written).

use crate::context::{Context, Facts};
use crate::finding::Finding;

pub(crate) fn cgroup(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(crate::catalogue::CheckId::Cgroup, "not implemented yet")
}
