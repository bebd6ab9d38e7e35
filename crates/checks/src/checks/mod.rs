//! The checks themselves, one module per family. Each check is a function
//! `fn(&Context, &mut Facts) -> Finding`; [`run`] dispatches on the id.

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::Finding;
use rootless_setup_core::model::Facts;

mod cgroup;
mod common;
mod engine;
mod env;
mod host;
pub mod network;
mod session;
mod storage;
pub mod subid;
mod user;
mod userns;

/// Runs one check. Dependencies have already run; their facts are in `facts`.
pub(crate) fn run(id: CheckId, cx: &Context<'_>, facts: &mut Facts) -> Finding {
    match id {
        CheckId::HostInit => host::init(cx, facts),
        CheckId::User => user::user(cx, facts),
        CheckId::SessionRuntimeDir => session::runtime_dir(cx, facts),
        CheckId::SessionBus => session::bus(cx, facts),
        CheckId::SessionSystemd => session::systemd(cx, facts),
        CheckId::SessionLinger => session::linger(cx, facts),
        CheckId::SubidUid => subid::subuid(cx, facts),
        CheckId::SubidGid => subid::subgid(cx, facts),
        CheckId::Uidmap => userns::uidmap(cx, facts),
        CheckId::UsernsSysctl => userns::sysctl(cx, facts),
        CheckId::UsernsApparmor => userns::apparmor(cx, facts),
        CheckId::UsernsProbe => userns::probe(cx, facts),
        CheckId::Cgroup => cgroup::cgroup(cx, facts),
        CheckId::NetworkDriver => network::driver(cx, facts),
        CheckId::NetworkPorts => network::ports(cx, facts),
        CheckId::NetworkPing => network::ping(cx, facts),
        CheckId::NetworkIptables => network::iptables(cx, facts),
        CheckId::Storage => storage::storage(cx, facts),
        CheckId::EngineBinaries => engine::binaries(cx, facts),
        CheckId::EngineRootful => engine::rootful(cx, facts),
        CheckId::EngineSmoke => engine::smoke(cx, facts),
        CheckId::EngineInstalled => engine::installed(cx, facts),
        CheckId::EnvClient => env::client(cx, facts),
    }
}
