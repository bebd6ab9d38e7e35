//! stub
use crate::context::{Context, Facts};
use crate::finding::Finding;
pub(crate) fn installed(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::EngineInstalled,
        "not implemented yet",
    )
}
