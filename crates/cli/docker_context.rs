//! The docker CLI context `install` creates (`rootless`, pointing at the rootless socket) and
//! the decisions around it: never clobber a context of that name we did not create, remember
//! the current context before switching, and on uninstall restore it (or `default` if it has
//! gone) — DESIGN.md defect 7.
//!
//! The `docker` client is the one found on `PATH` (or where the checker found it, or in the
//! system directories: [`process::find`]), run with
//! `DOCKER_HOST` and `DOCKER_CONTEXT` cleared so the caller's environment cannot redirect it.
//! The current context is read from `config.json` (`$DOCKER_CONFIG` or `~/.docker`), which is
//! what `docker context use` writes; Docker 20.10 has no `docker context show`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rootless_setup_checks::Caller;
use rootless_setup_core::process::{self, Invocation, Output};
use rootless_setup_core::read::Limit;
use rootless_setup_core::{Engine, Host};

/// The context's name.
pub const NAME: &str = match Engine::Docker.spec().docker_context {
    Some(name) => name,
    None => panic!("Docker's description names its CLI context"),
};
/// The description we give it, so it is recognisable as ours even without the install record.
pub const DESCRIPTION: &str = "Rootless Docker (created by rootless-setup)";
/// The built-in context.
pub const DEFAULT: &str = "default";

/// A context as `docker context inspect` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextInfo {
    /// The docker endpoint's `Host`.
    pub endpoint: String,
    /// `Metadata.Description`.
    pub description: String,
}

impl ContextInfo {
    /// Whether its description says rootless-setup created it.
    pub fn looks_ours(&self) -> bool {
        self.description == DESCRIPTION
    }
}

/// What install does about the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextAction {
    /// None exists: create it.
    Create,
    /// Ours, pointing at the right socket: leave it.
    Keep,
    /// Ours, pointing elsewhere: remove and create it again.
    Recreate,
    /// Not ours but already pointing at the right socket: use it, never remove it.
    Adopt,
    /// Not ours and pointing elsewhere: refuse (unless forced, then [`ContextAction::Replace`]).
    Refuse {
        /// Where it points.
        endpoint: String,
    },
    /// Not ours, pointing elsewhere, and `--force`: replace it (it then counts as ours).
    Replace,
}

/// Decides what to do with an existing context of our name. `ours` is whether the install
/// record says we created it.
pub fn decide(
    existing: Option<&ContextInfo>,
    wanted: &str,
    ours: bool,
    force: bool,
) -> ContextAction {
    match existing {
        None => ContextAction::Create,
        Some(c) if ours || c.looks_ours() => {
            if c.endpoint == wanted {
                ContextAction::Keep
            } else {
                ContextAction::Recreate
            }
        }
        Some(c) if c.endpoint == wanted => ContextAction::Adopt,
        Some(_) if force => ContextAction::Replace,
        Some(c) => ContextAction::Refuse {
            endpoint: c.endpoint.clone(),
        },
    }
}

/// The context to make current on uninstall: the one recorded before install if it still
/// exists and is not ours, else `default`.
pub fn restore_target(previous: Option<&str>, exists: impl Fn(&str) -> bool) -> String {
    match previous {
        Some(p) if p != NAME && (p == DEFAULT || exists(p)) => p.to_owned(),
        _ => DEFAULT.to_owned(),
    }
}

/// The endpoint for a socket: `unix:///run/user/1000/docker.sock`.
pub fn endpoint(socket: &Path) -> String {
    format!("unix://{}", socket.display())
}

/// The docker client's configuration directory: `$DOCKER_CONFIG` or `~/.docker`.
pub fn config_dir(caller: &Caller, home: &Path) -> PathBuf {
    caller
        .var("DOCKER_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".docker"))
}

/// The current context recorded in `config.json` (`default` when none is set or the file is
/// missing or unreadable).
pub fn current_context(config_dir: &Path) -> String {
    rootless_setup_core::read::bytes(&config_dir.join("config.json"), Limit::CONFIG)
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("currentContext")?.as_str().map(str::to_owned))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| DEFAULT.to_owned())
}

/// Finds `docker` ([`process::find`]); `hint` is where the checker found it.
pub fn find_docker(caller: &Caller, hint: Option<&Path>) -> Option<PathBuf> {
    process::find(
        &Host::real(),
        "docker",
        caller.path_dirs(),
        hint.and_then(Path::parent),
    )
}

/// The docker client.
#[derive(Debug, Clone)]
pub struct DockerCli {
    pub path: PathBuf,
    /// Its configuration directory ([`config_dir`]), where the current context is read.
    pub config_dir: PathBuf,
}

impl DockerCli {
    fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        let invocation = Invocation::new(&self.path)
            .args(args.iter().copied())
            .env("DOCKER_HOST", "")
            .env("DOCKER_CONTEXT", "")
            .timeout(Duration::from_secs(20));
        Ok(process::run(&invocation)?)
    }

    fn must(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = self.run(args)?;
        if out.success() {
            Ok(())
        } else {
            anyhow::bail!("`docker {}` failed: {}", args.join(" "), out.last_line())
        }
    }

    /// `docker context inspect NAME`: `None` when it does not exist.
    pub fn inspect(&self, name: &str) -> anyhow::Result<Option<ContextInfo>> {
        let out = self.run(&["context", "inspect", name])?;
        if !out.success() {
            let text = format!("{}{}", out.stdout, out.stderr);
            if text.contains("does not exist") || text.contains("not found") {
                return Ok(None);
            }
            anyhow::bail!(
                "`docker context inspect {name}` failed: {}",
                out.last_line()
            );
        }
        Ok(parse_inspect(&out.stdout))
    }

    /// `docker context create NAME --description … --docker host=ENDPOINT`.
    pub fn create(&self, name: &str, endpoint: &str) -> anyhow::Result<()> {
        self.must(&[
            "context",
            "create",
            name,
            "--description",
            DESCRIPTION,
            "--docker",
            &format!("host={endpoint}"),
        ])
    }

    /// `docker context use NAME`.
    pub fn use_context(&self, name: &str) -> anyhow::Result<()> {
        self.must(&["context", "use", name])
    }

    /// `docker context rm --force NAME`.
    pub fn remove(&self, name: &str) -> anyhow::Result<()> {
        self.must(&["context", "rm", "--force", name])
    }
}

/// The first context in `docker context inspect` output (a JSON array).
pub fn parse_inspect(stdout: &str) -> Option<ContextInfo> {
    let v: serde_json::Value = serde_json::from_str(stdout).ok()?;
    let first = v.as_array()?.first()?;
    let endpoint = first
        .pointer("/Endpoints/docker/Host")
        .and_then(|h| h.as_str())
        .unwrap_or_default()
        .to_owned();
    let description = first
        .pointer("/Metadata/Description")
        .and_then(|h| h.as_str())
        .unwrap_or_default()
        .to_owned();
    Some(ContextInfo {
        endpoint,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WANTED: &str = "unix:///run/user/1000/docker.sock";

    fn ctx(endpoint: &str, description: &str) -> ContextInfo {
        ContextInfo {
            endpoint: endpoint.into(),
            description: description.into(),
        }
    }

    #[test]
    fn install_decisions() {
        use ContextAction::*;
        assert_eq!(decide(None, WANTED, false, false), Create);
        let ours = ctx(WANTED, DESCRIPTION);
        assert_eq!(decide(Some(&ours), WANTED, false, false), Keep);
        let ours_elsewhere = ctx("unix:///old.sock", DESCRIPTION);
        assert_eq!(
            decide(Some(&ours_elsewhere), WANTED, false, false),
            Recreate
        );
        // Recorded as ours although the description was changed.
        let recorded = ctx("unix:///old.sock", "");
        assert_eq!(decide(Some(&recorded), WANTED, true, false), Recreate);
        // The old setup tool's context points at the same socket: use it, never remove it.
        let old_tool = ctx(WANTED, "");
        assert_eq!(decide(Some(&old_tool), WANTED, false, false), Adopt);
        let foreign = ctx("ssh://me@server", "my server");
        assert_eq!(
            decide(Some(&foreign), WANTED, false, false),
            Refuse {
                endpoint: "ssh://me@server".into()
            }
        );
        assert_eq!(decide(Some(&foreign), WANTED, false, true), Replace);
    }

    #[test]
    fn uninstall_restores_the_previous_context_if_it_still_exists() {
        let exists = |n: &str| n == "work";
        assert_eq!(restore_target(Some("work"), exists), "work");
        assert_eq!(restore_target(Some("gone"), exists), "default");
        assert_eq!(restore_target(Some("default"), |_| false), "default");
        assert_eq!(restore_target(Some(NAME), |_| true), "default");
        assert_eq!(restore_target(None, exists), "default");
    }

    #[test]
    fn current_context_comes_from_config_json() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(current_context(dir.path()), "default");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{},"currentContext":"work"}"#,
        )
        .unwrap();
        assert_eq!(current_context(dir.path()), "work");
        std::fs::write(dir.path().join("config.json"), r#"{"currentContext":""}"#).unwrap();
        assert_eq!(current_context(dir.path()), "default");
        std::fs::write(dir.path().join("config.json"), "not json").unwrap();
        assert_eq!(current_context(dir.path()), "default");
        let caller = Caller::new(1, 1).with_var("DOCKER_CONFIG", "/cfg");
        assert_eq!(config_dir(&caller, Path::new("/h")), PathBuf::from("/cfg"));
        assert_eq!(
            config_dir(&Caller::new(1, 1), Path::new("/h")),
            PathBuf::from("/h/.docker")
        );
    }

    #[test]
    fn inspect_output_is_parsed() {
        let out = r#"[{"Name":"rootless","Metadata":{"Description":"Rootless Docker (created by rootless-setup)"},
            "Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock","SkipTLSVerify":false}}}]"#;
        let c = parse_inspect(out).unwrap();
        assert_eq!(c.endpoint, WANTED);
        assert!(c.looks_ours());
        assert_eq!(parse_inspect("[]"), None);
        assert_eq!(parse_inspect("garbage"), None);
        assert_eq!(endpoint(Path::new("/run/user/1000/docker.sock")), WANTED);
    }

    #[test]
    fn docker_is_found_on_path_first() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("docker");
        std::fs::write(&bin, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let caller =
            Caller::new(1, 1).with_var("PATH", &format!("/nonexistent:{}", dir.path().display()));
        assert_eq!(find_docker(&caller, None), Some(bin.clone()));
        // Not executable: skipped.
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o644)).unwrap();
        let found = find_docker(&caller, Some(Path::new("/nonexistent/docker")));
        assert_ne!(found, Some(bin));
    }
}
