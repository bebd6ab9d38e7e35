//! Placeholder: the `engine` family of checks (being written).

use crate::context::{Context, Facts};
use crate::finding::Finding;

pub(crate) fn binaries(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::EngineBinaries,
        "not implemented yet",
    )
}

pub(crate) fn rootful(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::EngineRootful,
        "not implemented yet",
    )
}

pub(crate) fn smoke(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::EngineSmoke,
        "not implemented yet",
    )
}

pub(crate) fn installed(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::EngineInstalled,
        "not implemented yet",
    )
}
