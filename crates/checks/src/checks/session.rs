//! Placeholder: the `session` family of checks (being written).

use crate::context::{Context, Facts};
use crate::finding::Finding;

pub(crate) fn runtime_dir(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::SessionRuntimeDir,
        "not implemented yet",
    )
}

pub(crate) fn bus(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(crate::catalogue::CheckId::SessionBus, "not implemented yet")
}

pub(crate) fn systemd(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::SessionSystemd,
        "not implemented yet",
    )
}

pub(crate) fn linger(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::SessionLinger,
        "not implemented yet",
    )
}
