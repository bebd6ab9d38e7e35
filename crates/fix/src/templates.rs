//! The files the script writes, rendered from `crates/fix/templates/` (compiled in): the AppArmor
//! profile for rootlesskit, the sysctl drop-in, the cgroup delegation drop-in and the
//! modules-load list. The callers pass only values they validated; the templates add no
//! quoting because the script writes the text through a quoted here-document.

use rootless_setup_core::template::{self, Value, context};

use crate::error::FixError;

const APPARMOR: &str = include_str!("../templates/apparmor-rootlesskit.j2");
const SYSCTL: &str = include_str!("../templates/sysctl-rootless.conf.j2");
const DELEGATE: &str = include_str!("../templates/delegate.conf.j2");
const MODULES: &str = include_str!("../templates/modules-load.conf.j2");

fn render(name: &'static str, source: &'static str, values: Value) -> Result<String, FixError> {
    Ok(template::render(name, source, values)?)
}

/// The AppArmor profile `name` attached to `path` that grants `userns`.
pub fn apparmor_profile(name: &str, path: &str) -> Result<String, FixError> {
    render(
        "apparmor-rootlesskit",
        APPARMOR,
        context! { name => name, path => path },
    )
}

/// The sysctl drop-in with these `key = value` lines.
pub fn sysctl_dropin(settings: &[(String, String)]) -> Result<String, FixError> {
    let settings: Vec<Value> = settings
        .iter()
        .map(|(key, value)| context! { key => key, value => value })
        .collect();
    render(
        "sysctl-rootless.conf",
        SYSCTL,
        context! { settings => settings },
    )
}

/// The `user@.service` drop-in delegating `controllers`.
pub fn delegate_conf(controllers: &[&str]) -> Result<String, FixError> {
    render(
        "delegate.conf",
        DELEGATE,
        context! { controllers => controllers.iter().map(|c| (*c).to_owned()).collect::<Vec<String>>() },
    )
}

/// A modules-load.d file listing `modules`, with a comment saying `why`.
pub fn modules_load(why: &str, modules: &[String]) -> Result<String, FixError> {
    render(
        "modules-load.conf",
        MODULES,
        context! { why => why, modules => modules.to_vec() },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render() {
        let p =
            apparmor_profile("usr.local.bin.rootlesskit", "/usr/local/bin/rootlesskit").unwrap();
        assert!(p.contains(
            "profile usr.local.bin.rootlesskit /usr/local/bin/rootlesskit flags=(unconfined) {\n  userns,\n"
        ));
        assert!(p.starts_with("# Written by") && p.contains("abi <abi/4.0>,\n"));
        let s = sysctl_dropin(&[
            ("user.max_user_namespaces".into(), "15000".into()),
            ("net.ipv4.ping_group_range".into(), "0 2147483647".into()),
        ])
        .unwrap();
        assert!(s.ends_with(
            "\nuser.max_user_namespaces = 15000\nnet.ipv4.ping_group_range = 0 2147483647\n"
        ));
        let d = delegate_conf(&["cpu", "cpuset", "io", "memory", "pids"]).unwrap();
        assert!(d.ends_with("[Service]\nDelegate=cpu cpuset io memory pids\n"));
        let m = modules_load(
            "iptables in user namespaces",
            &["ip_tables".into(), "xt_MASQUERADE".into()],
        )
        .unwrap();
        assert!(m.ends_with("boot.\nip_tables\nxt_MASQUERADE\n"), "{m}");
    }
}
