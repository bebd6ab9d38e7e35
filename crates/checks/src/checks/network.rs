//! Placeholder: the `network` family of checks (being written).

use crate::context::{Context, Facts};
use crate::finding::Finding;

pub(crate) fn driver(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::NetworkDriver,
        "not implemented yet",
    )
}

pub(crate) fn ports(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::NetworkPorts,
        "not implemented yet",
    )
}

pub(crate) fn ping(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::NetworkPing,
        "not implemented yet",
    )
}

pub(crate) fn iptables(_cx: &Context<'_>, _facts: &mut Facts) -> Finding {
    Finding::skip(
        crate::catalogue::CheckId::NetworkIptables,
        "not implemented yet",
    )
}
