//! Placeholder: the `userns` family of checks (being written).

use crate::context::{Context, Facts};
use crate::finding::Finding;

pub(crate) fn uidmap(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(crate::catalogue::CheckId::Uidmap, "not implemented yet")
}

pub(crate) fn sysctl(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::UsernsSysctl,
        "not implemented yet",
    )
}

pub(crate) fn apparmor(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::UsernsApparmor,
        "not implemented yet",
    )
}

pub(crate) fn probe(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::UsernsProbe,
        "not implemented yet",
    )
}
