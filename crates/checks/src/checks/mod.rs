//! The checks themselves, one module per family. Each check is a function
//! `fn(&Context, &mut Facts) -> Finding`, or, for a check that cannot change the facts,
//! `fn(&Context, &Facts) -> Finding` or `fn(&Context) -> Finding` ([`kind`]: the runner may run
//! those on their own threads); [`run`] dispatches on the id.

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

/// What a check may do with the facts, as its signature says: the runner may run a check that
/// cannot change them on its own thread.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Reads and writes no fact: it may start as soon as its dependencies have run.
    FactFree(fn(&Context<'_>) -> Finding),
    /// Reads the facts of its dependencies (only theirs: it may start before the checks
    /// between them and it in catalogue order) and writes none: it runs beside the checks after
    /// its dependencies, on a copy of the facts.
    ReadsFacts(fn(&Context<'_>, &Facts) -> Finding),
    /// Establishes facts for later checks: it runs in its turn, through [`run`].
    WritesFacts,
}

/// What the check `id` may do with the facts.
pub(crate) fn kind(id: CheckId) -> Kind {
    match id {
        CheckId::UsernsSysctl => Kind::FactFree(userns::sysctl),
        CheckId::NetworkIptables => Kind::FactFree(network::iptables),
        CheckId::SessionRuntimeDir => Kind::ReadsFacts(session::runtime_dir),
        CheckId::SessionBus => Kind::ReadsFacts(session::bus),
        CheckId::SessionSystemd => Kind::ReadsFacts(session::systemd),
        CheckId::SessionLinger => Kind::ReadsFacts(session::linger),
        CheckId::UsernsProbe => Kind::ReadsFacts(userns::probe),
        CheckId::EngineSmoke => Kind::ReadsFacts(engine::smoke),
        _ => Kind::WritesFacts,
    }
}

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
        CheckId::UsernsSysctl => userns::sysctl(cx),
        CheckId::UsernsApparmor => userns::apparmor(cx, facts),
        CheckId::UsernsProbe => userns::probe(cx, facts),
        CheckId::Cgroup => cgroup::cgroup(cx, facts),
        CheckId::NetworkDriver => network::driver(cx, facts),
        CheckId::NetworkPorts => network::ports(cx, facts),
        CheckId::NetworkPing => network::ping(cx, facts),
        CheckId::NetworkIptables => network::iptables(cx),
        CheckId::Storage => storage::storage(cx, facts),
        CheckId::EngineBinaries => engine::binaries(cx, facts),
        CheckId::EngineRootful => engine::rootful(cx, facts),
        CheckId::EngineSmoke => engine::smoke(cx, facts),
        CheckId::EngineInstalled => engine::installed(cx, facts),
        CheckId::EnvClient => env::client(cx, facts),
    }
}
