//! `rootless-setup render`: the files `install` would write (the engine's user unit and its
//! drop-in), each with its target path, printed or written under a directory. Nothing is
//! installed, enabled or started.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rootless_setup_checks::{Caller, Options, RunMemo, Selection, System};

use rootless_setup_core::known_versions::KnownVersions;
use rootless_setup_core::paths::unit_dir;
use rootless_setup_core::{CheckId, Distro, Facts, Host, Report};
use rootless_setup_unit::config::{ConfigSource, Overrides, Settings, default_config_path};
use rootless_setup_unit::{Discovered, RenderedFile, plan, render};

use crate::results::ErrorId;
use crate::style::{Style, hinted, out, paint};
use crate::versions_file::VersionsFile;

/// Print the systemd user unit and drop-in that `install` would write, without installing.
///
/// The configuration is merged from defaults, `$XDG_CONFIG_HOME/rootless-setup/config.toml` (or
/// `--config FILE`) and the flags below, and checked against what is installed here (the same
/// probes as `check`): a bad value stops with its file, line and column or flag, and the
/// allowed values. Each file is printed after a `==> PATH <==` line naming where `install`
/// puts it; with `--output DIR` the files are written under DIR instead (DIR/docker.service,
/// DIR/docker.service.d/10-rootless-setup.conf), for NixOS, Ansible or image builds.
///
/// docs/config.md lists the keys; docs/unit.md explains every directive of the unit.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration.
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Write the files under this directory instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Read the host from this directory instead of `/` (fixture trees in tests; live probes
    /// are off, so versions are not known).
    #[arg(long, value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
}

/// The configuration file and the flags that override it (shared with `install`). Values are
/// taken as text and checked by the unit generator, so a flag gets the same message as the
/// same mistake in the file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Read this configuration file (it must exist) instead of
    /// `$XDG_CONFIG_HOME/rootless-setup/config.toml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The engine: docker (the default), podman or containerd (see docs/engines.md).
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,

    /// Network driver: slirp4netns, pasta, gvisor-tap-vsock, vpnkit or lxc-user-nic.
    #[arg(long, value_name = "DRIVER")]
    pub network_driver: Option<String>,

    /// Port driver: builtin, slirp4netns, implicit or gvisor-tap-vsock (must fit the network
    /// driver).
    #[arg(long, value_name = "DRIVER")]
    pub port_driver: Option<String>,

    /// MTU of the engine's network namespace (1280 to 65520).
    #[arg(long, value_name = "BYTES")]
    pub mtu: Option<String>,

    /// Let containers reach the host's loopback addresses: true or false.
    #[arg(long, value_name = "BOOL")]
    pub host_loopback: Option<String>,

    /// rootlesskit's --detach-netns: true or false (default: the engine's).
    #[arg(long, value_name = "BOOL")]
    pub detach_netns: Option<String>,

    /// The engine's data directory (absolute, or starting with ~/).
    #[arg(long, value_name = "DIR")]
    pub data_root: Option<String>,

    /// An extra dockerd argument, such as --daemon-flag=--log-level=warn (repeat; replaces the
    /// file's list).
    #[arg(long, value_name = "FLAG", allow_hyphen_values = true)]
    pub daemon_flag: Vec<String>,

    /// An extra environment variable for the engine, NAME=VALUE (repeat).
    #[arg(long, value_name = "NAME=VALUE")]
    pub env: Vec<String>,

    /// Seconds systemd waits for the engine to be ready (5 to 3600; never unlimited).
    #[arg(long, value_name = "SECONDS")]
    pub start_timeout: Option<String>,

    /// Docker only: also serve the API on tcp://ADDRESS:PORT (an IP address or localhost), with
    /// the TLS files of --tls-dir (see docs/remote.md).
    #[arg(long, value_name = "tcp://ADDRESS:PORT")]
    pub expose: Option<String>,

    /// The directory with ca.pem, server-cert.pem and server-key.pem for --expose (checked with
    /// openssl before anything is written).
    #[arg(long, value_name = "DIR")]
    pub tls_dir: Option<String>,

    /// Allow --expose without TLS, on a loopback address only (any local user can then run
    /// containers as you).
    #[arg(long)]
    pub insecure_loopback: bool,
}

impl ConfigArgs {
    /// The flags, for the unit generator.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            engine: self.engine.clone(),
            network_driver: self.network_driver.clone(),
            port_driver: self.port_driver.clone(),
            mtu: self.mtu.clone(),
            host_loopback: self.host_loopback.clone(),
            detach_netns: self.detach_netns.clone(),
            data_root: self.data_root.clone(),
            daemon_flags: self.daemon_flag.clone(),
            environment: self.env.clone(),
            start_timeout: self.start_timeout.clone(),
            expose: self.expose.clone(),
            tls_dir: self.tls_dir.clone(),
            insecure_loopback: self.insecure_loopback.then(|| "true".to_owned()),
        }
    }

    /// Where the configuration file is read from.
    pub fn source(&self, caller: &Caller, home: &Path) -> ConfigSource {
        match &self.config {
            Some(file) => ConfigSource::Explicit(file.clone()),
            None => ConfigSource::Default(default_config_path(caller.var("XDG_CONFIG_HOME"), home)),
        }
    }

    /// Loads and checks the configuration (defaults ← file ← flags).
    pub fn load(&self, caller: &Caller) -> anyhow::Result<(Settings, PathBuf)> {
        let home = home(caller)?;
        let settings = Settings::load(&self.source(caller, &home), &self.overrides(), &home)?;
        Ok((settings, home))
    }
}

fn home(caller: &Caller) -> anyhow::Result<PathBuf> {
    match caller.var("HOME") {
        Some(h) if h.starts_with('/') => Ok(PathBuf::from(h)),
        _ => Err(hinted(
            ErrorId::HomeUnset,
            "HOME is not set to an absolute path; it is needed to find the configuration and the unit directory",
            &["log in as the user (ssh, or `machinectl shell USER@`) rather than through `su`"],
        )),
    }
}

/// The install options that change what the checks look for, from the merged configuration.
fn check_options(settings: &Settings) -> Options {
    Options {
        network_driver: settings
            .network_driver
            .as_ref()
            .map(|d| d.value.to_string()),
        port_driver: settings.port_driver.as_ref().map(|p| p.value.to_string()),
        data_root: settings.data_root.as_ref().map(|d| d.value.clone()),
        known_versions: KnownVersions::default(),
    }
}

/// Runs `selection` of the checks on `host` for the configured engine, drivers and data-root
/// (shared with `install`, which runs them all).
pub fn check_configured(
    host: &Host,
    caller: &Caller,
    system: &dyn System,
    settings: &Settings,
    selection: &Selection,
) -> (Report, Facts) {
    let distro = Distro::detect(host);
    let (versions, known) = VersionsFile::open(caller, host, false);
    let options = Options {
        known_versions: known,
        ..check_options(settings)
    };
    let cx = rootless_setup_checks::Context {
        host,
        caller,
        system,
        distro: &distro,
        engine: settings.engine.value,
        options: &options,
        memo: &RunMemo::default(),
    };
    let (report, facts) = rootless_setup_checks::check_with_facts(&cx, selection);
    if let Some(versions) = versions {
        versions.save(options.known_versions, facts.fresh_versions.clone());
    }
    (report, facts)
}

/// What the unit generator needs from the checks' `facts`: the engine's binaries with their
/// versions, `newuidmap`, the choice of network driver, and the text of `dockerd-rootless.sh`
/// (the configured one, else the one found).
pub fn discovered(host: &Host, settings: &Settings, facts: &Facts) -> Discovered {
    let script_path = settings
        .binaries
        .get("dockerd-rootless")
        .map(|b| b.value.clone())
        .or_else(|| {
            let script = settings.engine.value.rootless_script()?;
            facts.binary(script).map(|b| b.path.clone())
        });
    let script = script_path.and_then(|p| host.read(&p).ok().flatten());
    Discovered::from_facts(facts, script)
}

/// What the checker finds here: only the checks whose facts the unit generator uses.
fn discover(host: &Host, caller: &Caller, system: &dyn System, settings: &Settings) -> Discovered {
    let selection = Selection::new(
        &[
            CheckId::EngineBinaries,
            CheckId::Uidmap,
            CheckId::NetworkDriver,
        ],
        &[],
    );
    let (_report, facts) = check_configured(host, caller, system, settings, &selection);
    discovered(host, settings, &facts)
}

/// Renders the files, then prints or writes them.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    let caller = Caller::from_process();
    let (settings, home) = args.config.load(&caller)?;
    let host = super::host(args.root.as_deref());
    let found = discover(&host, &caller, super::system_for(&host), &settings);
    let plan = plan(&settings, &found)?;
    for warning in &plan.warnings {
        style.warning(warning);
    }
    let dir = match &args.output {
        Some(dir) => dir.clone(),
        None => unit_dir(caller.var("XDG_CONFIG_HOME"), &home),
    };
    let files = render(&plan, &dir)?;
    match &args.output {
        Some(_) => {
            for file in &files {
                crate::atomic::write(&file.path, file.contents.as_bytes())?;
                out(&format!("wrote {}\n", file.path.display()))?;
            }
        }
        None => out(&show(&files, style.out))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Each file after a `==> PATH <==` line, separated by a blank line.
pub fn show(files: &[RenderedFile], colour: bool) -> String {
    files
        .iter()
        .map(|f| {
            format!(
                "{}\n{}",
                paint(
                    colour,
                    Style::BOLD,
                    &format!("==> {} <==", f.path.display())
                ),
                f.contents
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootless_setup_unit::FileKind;

    #[test]
    fn flags_become_overrides() {
        let args = ConfigArgs {
            mtu: Some("1500".into()),
            daemon_flag: vec!["--debug".into()],
            env: vec!["A=b".into()],
            ..ConfigArgs::default()
        };
        let o = args.overrides();
        assert_eq!(o.mtu.as_deref(), Some("1500"));
        assert_eq!(o.daemon_flags, ["--debug"]);
        assert_eq!(o.environment, ["A=b"]);
    }

    #[test]
    fn the_config_file_follows_xdg_unless_given() {
        let caller = Caller::new(1000, 1000).with_var("XDG_CONFIG_HOME", "/x");
        let home = Path::new("/home/u");
        assert_eq!(
            ConfigArgs::default().source(&caller, home),
            ConfigSource::Default("/x/rootless-setup/config.toml".into())
        );
        let given = ConfigArgs {
            config: Some("/etc/rs.toml".into()),
            ..ConfigArgs::default()
        };
        assert_eq!(
            given.source(&caller, home),
            ConfigSource::Explicit("/etc/rs.toml".into())
        );
    }

    #[test]
    fn a_missing_home_is_a_hinted_error() {
        let err = home(&Caller::new(1000, 1000)).unwrap_err();
        assert!(err.to_string().starts_with("HOME is not set"), "{err}");
        assert_eq!(
            home(&Caller::new(1, 1).with_var("HOME", "/h")).unwrap(),
            PathBuf::from("/h")
        );
    }

    #[test]
    fn files_are_shown_with_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            RenderedFile {
                path: dir.path().join("docker.service"),
                kind: FileKind::Unit,
                contents: "[Unit]\n".into(),
            },
            RenderedFile {
                path: dir.path().join("docker.service.d/10-rootless-setup.conf"),
                kind: FileKind::DropIn,
                contents: "[Service]\n".into(),
            },
        ];
        let shown = show(&files, false);
        assert_eq!(
            shown,
            format!(
                "==> {}/docker.service <==\n[Unit]\n\n==> {}/docker.service.d/10-rootless-setup.conf <==\n[Service]\n",
                dir.path().display(),
                dir.path().display()
            )
        );
    }
}
