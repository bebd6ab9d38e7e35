//! The `env.client` check: environment variables that make the client bypass the CLI context
//! install sets (`DOCKER_HOST`, `DOCKER_CONTEXT`; `CONTAINERD_ADDRESS` for containerd), and
//! where they are probably set (the user's and the system's shell start-up files).

use std::path::{Path, PathBuf};

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::model::{Engine, Facts};
use rootless_setup_core::shell;

const ID: CheckId = CheckId::EnvClient;

/// Start-up files under the home directory that commonly export variables.
const HOME_FILES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshenv",
    ".zprofile",
    ".zshrc",
    ".config/fish/config.fish",
    ".pam_environment",
];
/// Directories under the home directory whose `*.conf` files systemd and PAM read.
const HOME_DIRS: &[&str] = &[".config/environment.d"];
/// System-wide start-up files.
const SYSTEM_FILES: &[&str] = &[
    "/etc/environment",
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/bashrc",
    "/etc/zsh/zshenv",
    "/etc/zshenv",
];
/// System-wide directories of start-up snippets.
const SYSTEM_DIRS: &[&str] = &["/etc/profile.d", "/etc/environment.d"];

/// One variable that overrides the context.
#[derive(Debug)]
struct Override {
    var: &'static str,
    value: String,
    /// `file:line` where a start-up file sets it.
    set_in: Vec<String>,
}

/// `env.client`: nothing in the environment overrides the client's context.
pub(crate) fn client(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let runtime_dir = cx
        .caller
        .var("XDG_RUNTIME_DIR")
        .map_or_else(|| format!("/run/user/{}", cx.caller.uid), str::to_owned);
    let spec = cx.engine.spec();
    let expected_host = spec
        .api_socket
        .map(|socket| format!("{}{runtime_dir}/{socket}", spec.address_scheme));
    let home = super::common::home_dir(cx, facts);

    let vars = spec.client_variables;
    let mut observations = Vec::new();
    let mut overrides = Vec::new();
    let mut notes = Vec::new();
    for &var in vars {
        let key = var.to_lowercase();
        let Some(value) = cx.caller.var(var) else {
            observations.push((key, "unset".to_owned()));
            continue;
        };
        observations.push((key, value.to_owned()));
        if var == spec.address_variable && expected_host.as_deref() == Some(value) {
            notes.push(format!("{var} already points at {value}"));
            continue;
        }
        overrides.push(Override {
            var,
            value: value.to_owned(),
            set_in: find_assignments(cx, home.as_deref(), var),
        });
    }
    if let Some(expected) = expected_host {
        let key = format!("{}_expected", spec.address_variable.to_lowercase());
        observations.push((key, expected));
    }
    let mut finding = if overrides.is_empty() {
        let summary = if notes.is_empty() {
            format!(
                "nothing in the environment overrides the context ({} unset)",
                vars.join(", ")
            )
        } else {
            format!(
                "{} (harmless: the same socket the context uses)",
                notes.join("; ")
            )
        };
        Finding::pass(ID, summary)
    } else {
        let list: Vec<String> = overrides
            .iter()
            .map(|o| format!("{}={}", o.var, o.value))
            .collect();
        let verb = if list.len() == 1 {
            "overrides"
        } else {
            "override"
        };
        Finding::warn(
            ID,
            format!("{} {verb} the context install sets", list.join(" and ")),
        )
    };
    for (key, value) in observations {
        finding = finding.observe(key, value);
    }
    for o in &overrides {
        for place in &o.set_in {
            finding = finding.observe(format!("{}_set_in", o.var.to_lowercase()), place);
        }
    }
    if overrides.is_empty() {
        return finding;
    }
    finding.why(why(cx.engine, &overrides)).fix(fix(&overrides))
}

fn why(engine: Engine, overrides: &[Override]) -> String {
    match engine {
        Engine::Docker | Engine::Podman => {
            let target = overrides
                .iter()
                .map(|o| match o.var {
                    "DOCKER_HOST" => format!("the daemon at {}", o.value),
                    "CONTAINER_HOST" => format!("the Podman service at {}", o.value),
                    _ => format!("the context `{}`", o.value),
                })
                .collect::<Vec<_>>()
                .join(" and ");
            format!(
                "the docker CLI takes DOCKER_HOST and DOCKER_CONTEXT before the current context, \
                 so after install `docker` would still talk to {target} instead of the rootless \
                 engine"
            )
        }
        Engine::Containerd => "ctr and nerdctl connect to CONTAINERD_ADDRESS instead of the \
             rootless containerd, whose socket is $XDG_RUNTIME_DIR/containerd/containerd.sock"
            .to_owned(),
    }
}

fn fix(overrides: &[Override]) -> Fix {
    let names: Vec<&str> = overrides.iter().map(|o| o.var).collect();
    let places: Vec<&str> = overrides
        .iter()
        .flat_map(|o| o.set_in.iter().map(String::as_str))
        .collect();
    let it = if names.len() == 1 { "it" } else { "them" };
    let summary = if places.is_empty() {
        format!(
            "unset {} in this shell and remove {it} where it is set, probably ~/.bashrc or \
             ~/.profile (or /etc/environment)",
            names.join(" and ")
        )
    } else {
        format!(
            "unset {} in this shell and remove what sets {it}: {}",
            names.join(" and "),
            places.join(", ")
        )
    };
    let mut fix = Fix::user(ID, summary).cmd(format!("unset {}", names.join(" ")));
    if places.is_empty() {
        fix = fix.cmd(format!(
            "grep -n {} ~/.bashrc ~/.profile ~/.bash_profile ~/.zshrc ~/.config/environment.d/*.conf /etc/environment /etc/profile.d/*.sh 2>/dev/null",
            shell::quote(&names.join("\\|"))
        ));
    }
    fix
}

/// Where start-up files assign `var`, as `file:line` (home files shown as `~/…`).
fn find_assignments(cx: &Context<'_>, home: Option<&Path>, var: &str) -> Vec<String> {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    if let Some(home) = home {
        for f in HOME_FILES {
            files.push((home.join(f), format!("~/{f}")));
        }
        for d in HOME_DIRS {
            for name in conf_files(cx, &home.join(d), ".conf") {
                files.push((home.join(d).join(&name), format!("~/{d}/{name}")));
            }
        }
    }
    for f in SYSTEM_FILES {
        files.push((PathBuf::from(f), (*f).to_owned()));
    }
    for d in SYSTEM_DIRS {
        let suffix = if d.ends_with("profile.d") {
            ".sh"
        } else {
            ".conf"
        };
        for name in conf_files(cx, Path::new(d), suffix) {
            let path = Path::new(d).join(&name);
            let shown = path.display().to_string();
            files.push((path, shown));
        }
    }
    let mut found = Vec::new();
    for (path, shown) in files {
        let Ok(Some(text)) = cx.host.read(&path) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if assigns(line, var) {
                found.push(format!("{shown}:{}", n + 1));
            }
        }
    }
    found
}

fn conf_files(cx: &Context<'_>, dir: &Path, suffix: &str) -> Vec<String> {
    cx.host
        .list_dir(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.ends_with(suffix))
        .collect()
}

/// Whether a shell (sh, bash, zsh, csh, fish) or environment-file line assigns `var`.
fn assigns(line: &str, var: &str) -> bool {
    let mut rest = line.trim_start();
    if rest.starts_with('#') {
        return false;
    }
    for prefix in [
        "export ",
        "declare -x ",
        "typeset -x ",
        "readonly ",
        "local ",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
            break;
        }
    }
    if let Some(r) = rest
        .strip_prefix("setenv ")
        .or_else(|| rest.strip_prefix("set -gx "))
        .or_else(|| rest.strip_prefix("set -x "))
        .or_else(|| rest.strip_prefix("set -Ux "))
    {
        return r
            .trim_start()
            .strip_prefix(var)
            .is_some_and(|after| after.starts_with(char::is_whitespace));
    }
    // `VAR=value`, and pam_environment's `VAR DEFAULT=value`.
    rest.strip_prefix(var).is_some_and(|after| {
        after.starts_with('=') || after.starts_with(" DEFAULT=") || after.starts_with(" OVERRIDE=")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::testing::Fixture;

    fn alice() -> Caller {
        Caller::new(1000, 1000)
            .with_var("XDG_RUNTIME_DIR", "/run/user/1000")
            .with_var("HOME", "/home/alice")
    }

    fn run_with(f: &Fixture, caller: Caller, engine: Engine) -> Finding {
        let mut h = Harness::new(f, caller, ScriptedSystem::new());
        h.engine = engine;
        let finding = client(&h.context(), &mut Facts::default());
        assert!(h.system.calls().is_empty(), "env.client probes nothing");
        finding
    }

    fn run(f: &Fixture, caller: Caller) -> Finding {
        run_with(f, caller, Engine::Docker)
    }

    #[test]
    fn a_clean_environment_passes() {
        let f = run(&Fixture::new(), alice());
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(f.observed("docker_host"), Some("unset"));
        assert_eq!(f.observed("docker_context"), Some("unset"));
        assert_eq!(
            f.observed("docker_host_expected"),
            Some("unix:///run/user/1000/docker.sock")
        );
        assert!(f.fix.is_none());
    }

    #[test]
    fn docker_host_at_the_rootless_socket_passes_with_a_note() {
        let f = run(
            &Fixture::new(),
            alice().with_var("DOCKER_HOST", "unix:///run/user/1000/docker.sock"),
        );
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert!(f.summary.contains("already points at"), "{}", f.summary);
        assert_eq!(
            f.observed("docker_host"),
            Some("unix:///run/user/1000/docker.sock")
        );
    }

    #[test]
    fn docker_host_elsewhere_warns_and_finds_the_line() {
        let fx = Fixture::new();
        fx.file(
            "/home/alice/.bashrc",
            "# export DOCKER_HOST=old\nalias ll='ls -l'\nexport DOCKER_HOST=unix:///var/run/docker.sock\n",
        );
        let f = run(
            &fx,
            alice().with_var("DOCKER_HOST", "unix:///var/run/docker.sock"),
        );
        assert_eq!(f.status, Status::Warn);
        assert_eq!(
            f.summary,
            "DOCKER_HOST=unix:///var/run/docker.sock overrides the context install sets"
        );
        assert_eq!(f.observed("docker_host_set_in"), Some("~/.bashrc:3"));
        assert!(
            f.why
                .as_deref()
                .unwrap_or("")
                .contains("unix:///var/run/docker.sock")
        );
        let fix = f.fix.expect("fix");
        assert!(!fix.root);
        assert_eq!(fix.commands, vec!["unset DOCKER_HOST"]);
        assert!(fix.summary.contains("~/.bashrc:3"), "{}", fix.summary);
    }

    #[test]
    fn docker_context_warns_even_with_the_right_host() {
        let fx = Fixture::new();
        fx.file(
            "/etc/environment",
            "PATH=/usr/bin\nDOCKER_CONTEXT=\"desktop-linux\"\n",
        )
        .file(
            "/etc/profile.d/docker.sh",
            "setenv DOCKER_CONTEXT desktop-linux\n",
        )
        .file("/etc/profile.d/other.txt", "DOCKER_CONTEXT=ignored\n");
        let f = run(
            &fx,
            alice()
                .with_var("DOCKER_HOST", "unix:///run/user/1000/docker.sock")
                .with_var("DOCKER_CONTEXT", "desktop-linux"),
        );
        assert_eq!(f.status, Status::Warn);
        assert_eq!(
            f.summary,
            "DOCKER_CONTEXT=desktop-linux overrides the context install sets"
        );
        let places: Vec<&str> = f
            .observed
            .iter()
            .filter(|o| o.key == "docker_context_set_in")
            .map(|o| o.value.as_str())
            .collect();
        assert_eq!(
            places,
            vec!["/etc/environment:2", "/etc/profile.d/docker.sh:1"]
        );
        assert_eq!(f.fix.expect("fix").commands, vec!["unset DOCKER_CONTEXT"]);
    }

    #[test]
    fn both_unfound_suggest_where_to_look() {
        let f = run(
            &Fixture::new(),
            alice()
                .with_var("DOCKER_HOST", "tcp://10.0.0.1:2376")
                .with_var("DOCKER_CONTEXT", "remote"),
        );
        assert_eq!(f.status, Status::Warn);
        let fix = f.fix.expect("fix");
        assert_eq!(fix.commands[0], "unset DOCKER_HOST DOCKER_CONTEXT");
        assert!(fix.commands[1].starts_with("grep -n 'DOCKER_HOST\\|DOCKER_CONTEXT' ~/.bashrc"));
        assert!(fix.summary.contains("~/.profile"), "{}", fix.summary);
    }

    #[test]
    fn the_account_home_is_searched_first() {
        let fx = Fixture::new();
        fx.file(
            "/srv/alice/.config/environment.d/10-docker.conf",
            "DOCKER_HOST=tcp://x:1\n",
        );
        let h = Harness::new(
            &fx,
            alice().with_var("DOCKER_HOST", "tcp://x:1"),
            ScriptedSystem::new(),
        );
        let mut facts = Facts {
            account: Some(rootless_setup_core::testing::account(
                "alice",
                1000,
                "/srv/alice",
            )),
            ..Facts::default()
        };
        let f = client(&h.context(), &mut facts);
        assert_eq!(
            f.observed("docker_host_set_in"),
            Some("~/.config/environment.d/10-docker.conf:1")
        );
    }

    #[test]
    fn containerd_checks_containerd_address_only() {
        let caller = alice()
            .with_var("DOCKER_HOST", "tcp://x:1")
            .with_var("CONTAINERD_ADDRESS", "/run/containerd/containerd.sock");
        let f = run_with(&Fixture::new(), caller, Engine::Containerd);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.observed("docker_host"), None);
        assert_eq!(
            f.observed("containerd_address"),
            Some("/run/containerd/containerd.sock")
        );
        assert!(f.why.as_deref().unwrap_or("").contains("nerdctl"));
        assert_eq!(f.fix.expect("fix").commands[0], "unset CONTAINERD_ADDRESS");

        let f = run_with(&Fixture::new(), alice(), Engine::Containerd);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("containerd_address"), Some("unset"));
        assert_eq!(
            f.observed("containerd_address_expected"),
            Some("/run/user/1000/containerd/containerd.sock")
        );

        // Pointing at the rootless socket (a plain path, as ctr takes it) is what is wanted.
        let caller = alice().with_var(
            "CONTAINERD_ADDRESS",
            "/run/user/1000/containerd/containerd.sock",
        );
        let f = run_with(&Fixture::new(), caller, Engine::Containerd);
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert!(f.summary.contains("harmless"), "{}", f.summary);
    }

    #[test]
    fn assignment_lines_are_recognised() {
        for line in [
            "DOCKER_HOST=x",
            "  export DOCKER_HOST=\"x\"",
            "declare -x DOCKER_HOST=x",
            "setenv DOCKER_HOST x",
            "set -gx DOCKER_HOST x",
            "DOCKER_HOST DEFAULT=x",
        ] {
            assert!(assigns(line, "DOCKER_HOST"), "{line}");
        }
        for line in [
            "# DOCKER_HOST=x",
            "DOCKER_HOSTS=x",
            "export DOCKER_HOST",
            "echo $DOCKER_HOST",
            "unset DOCKER_HOST",
            "",
            "export ",
        ] {
            assert!(!assigns(line, "DOCKER_HOST"), "{line}");
        }
    }
}
