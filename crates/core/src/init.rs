//! What runs as PID 1 and what kind of host this is: systemd or not (and what instead), WSL1 or
//! WSL2 (and whether `/etc/wsl.conf` turns systemd on), a container. [`HostInit::detect`] reads
//! it all through a [`Host`], so fixture trees fake it; `host.init` reports it, the session
//! checks and `install` act on it, and [`HostInit::alternative`] is the one place the advice
//! for such a host is written.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Host;
use crate::model::Engine;

/// Exists on hosts booted with systemd (`sd_booted`'s test).
pub const SYSTEMD_BOOTED: &str = "/run/systemd/system";
/// PID 1's command name.
pub const PID1_COMM: &str = "/proc/1/comm";
/// PID 1's program (readable by root or PID 1's owner only).
pub const PID1_EXE: &str = "/proc/1/exe";
/// PID 1's environment (same); a container manager sets `container=` there.
pub const PID1_ENVIRON: &str = "/proc/1/environ";
/// The kernel release: WSL's kernels name Microsoft.
pub const OSRELEASE: &str = "/proc/sys/kernel/osrelease";
/// The kernel's version line, read when `osrelease` is not there.
pub const PROC_VERSION: &str = "/proc/version";
/// WSL's per-distribution settings.
pub const WSL_CONF: &str = "/etc/wsl.conf";
/// The variable WSL sets in every shell of a distribution.
pub const WSL_DISTRO_VAR: &str = "WSL_DISTRO_NAME";
/// Where Docker's rootless guide puts `XDG_RUNTIME_DIR` when no login manager makes one.
pub const BY_HAND_RUNTIME_DIR: &str = "$HOME/.docker/run";

/// The most bytes of `/etc/wsl.conf` read: a settings file, not a database.
const WSL_CONF_LIMIT: usize = 64 << 10;

/// Files whose presence says "a container" (with what put them there).
const CONTAINER_MARKERS: [&str; 3] = [
    "/.dockerenv",
    "/run/.containerenv",
    "/run/systemd/container",
];
const OPENRC_MARKERS: [&str; 2] = ["/run/openrc", "/sbin/openrc"];
const RUNIT_MARKERS: [&str; 2] = ["/run/runit", "/etc/runit"];
const S6_MARKERS: [&str; 2] = ["/run/s6", "/etc/s6-linux-init"];
/// PID 1 names that mean a container's minimal init (or a shell or program run as PID 1).
const CONTAINER_INITS: [&str; 10] = [
    "tini",
    "docker-init",
    "dumb-init",
    "catatonit",
    "bash",
    "sh",
    "ash",
    "dash",
    "zsh",
    "sleep",
];

/// The init system, as far as the host tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Init {
    Systemd,
    OpenRc,
    Runit,
    S6,
    /// `init` with an `/etc/inittab` and no other init's marks.
    SysVinit,
    /// WSL's own `/init` (systemd off).
    WslInit,
    /// A container's minimal init, a shell or a program run as PID 1.
    Container,
    /// Something else, by PID 1's name.
    Other(String),
    /// Nothing to tell by: no PID 1 name, no marks.
    Unknown,
}

impl Init {
    /// The name for a sentence.
    pub fn name(&self) -> &str {
        match self {
            Init::Systemd => "systemd",
            Init::OpenRc => "OpenRC",
            Init::Runit => "runit",
            Init::S6 => "s6",
            Init::SysVinit => "sysvinit",
            Init::WslInit => "WSL's init",
            Init::Container => "a container's init",
            Init::Other(name) => name,
            Init::Unknown => "unknown",
        }
    }
}

impl Init {
    /// The commands that stop a rootful daemon's system service now and at boot under this
    /// init; `units` are its systemd units (`docker.service docker.socket`), whose service
    /// name the other inits share. Empty where there is no such command to name (systemd's is
    /// `systemctl`, a container's init or an unknown one has none).
    pub fn disable_service(&self, units: &[&str]) -> Vec<String> {
        let mut names: Vec<&str> = units
            .iter()
            .filter_map(|u| u.strip_suffix(".service"))
            .collect();
        names.dedup();
        names
            .into_iter()
            .flat_map(|s| match self {
                Init::OpenRc => vec![
                    format!("sudo rc-service {s} stop"),
                    format!("sudo rc-update del {s}"),
                ],
                Init::Runit => vec![format!("sudo sv down {s}")],
                Init::S6 => vec![format!("sudo s6-rc -d change {s}")],
                Init::SysVinit | Init::WslInit => vec![
                    format!("sudo service {s} stop"),
                    format!("sudo update-rc.d {s} disable"),
                ],
                Init::Systemd | Init::Container | Init::Other(_) | Init::Unknown => Vec::new(),
            })
            .collect()
    }
}

/// Which WSL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wsl {
    /// A translation layer on the Windows kernel: no user namespaces, so no rootless engine.
    One,
    /// A real Linux kernel in a VM; systemd is off unless `/etc/wsl.conf` turns it on.
    Two,
    /// `WSL_DISTRO_NAME` is set but the kernel does not say which.
    Unsure,
}

/// What `/etc/wsl.conf` says about `[boot] systemd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WslConf {
    /// No such file.
    Absent,
    /// Read: whether it has a `[boot]` section, and its `systemd` value if set.
    Read {
        boot_section: bool,
        systemd: Option<bool>,
    },
    /// Could not be read or is not what WSL reads; why (naming the line).
    Malformed(String),
}

/// PID 1 and the kind of host, as read from the host tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInit {
    /// `/run/systemd/system` exists.
    pub systemd_booted: bool,
    /// `/proc/1/comm`, when readable.
    pub pid1_comm: Option<String>,
    /// `/proc/1/exe`'s target, when readable.
    pub pid1_exe: Option<PathBuf>,
    /// The init system decided from the above and the marks of each.
    pub init: Init,
    /// What says this is a container (`/.dockerenv`, `container=docker`), if anything.
    pub container: Option<String>,
    /// Which WSL, if any.
    pub wsl: Option<Wsl>,
    /// `/etc/wsl.conf`, read on WSL only.
    pub wsl_conf: WslConf,
}

/// What works on a host where systemd does not run the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// One sentence: what to do.
    pub summary: String,
    /// The commands, in order (the WSL ones run from Windows, which `summary` says).
    pub commands: Vec<String>,
}

impl HostInit {
    /// Reads PID 1, the init's marks, WSL and container signs through `host`; `wsl_distro` is
    /// the caller's `WSL_DISTRO_NAME`.
    pub fn detect(host: &Host, wsl_distro: Option<&str>) -> HostInit {
        let systemd_booted = host.exists(SYSTEMD_BOOTED);
        let pid1_comm = host
            .read_value(PID1_COMM)
            .ok()
            .flatten()
            .filter(|c| !c.is_empty() && c.len() <= 64);
        let pid1_exe = host.read_link(PID1_EXE);
        let container = container_sign(host);
        let wsl = wsl_kind(host, wsl_distro);
        let wsl_conf = if wsl.is_some() {
            read_wsl_conf(host)
        } else {
            WslConf::Absent
        };
        let mut facts = HostInit {
            systemd_booted,
            pid1_comm,
            pid1_exe,
            init: Init::Unknown,
            container,
            wsl,
            wsl_conf,
        };
        facts.init = facts.decide(host);
        facts
    }

    fn decide(&self, host: &Host) -> Init {
        if self.systemd_booted {
            return Init::Systemd;
        }
        let marked = |marks: &[&str]| marks.iter().any(|m| host.exists(m));
        let by_marks = || {
            if marked(&OPENRC_MARKERS) {
                Some(Init::OpenRc)
            } else if marked(&RUNIT_MARKERS) {
                Some(Init::Runit)
            } else if marked(&S6_MARKERS) {
                Some(Init::S6)
            } else {
                None
            }
        };
        let Some(name) = self.pid1_name() else {
            return by_marks()
                .or_else(|| self.container.as_ref().map(|_| Init::Container))
                .or_else(|| self.wsl.map(|_| Init::WslInit))
                .unwrap_or(Init::Unknown);
        };
        match name {
            "systemd" => Init::Systemd,
            "openrc-init" | "openrc" => Init::OpenRc,
            "runit" | "runit-init" => Init::Runit,
            "s6-svscan" | "s6-linux-init" => Init::S6,
            "init" => by_marks()
                .or_else(|| self.wsl.map(|_| Init::WslInit))
                .or_else(|| host.exists("/etc/inittab").then_some(Init::SysVinit))
                .or_else(|| self.container.as_ref().map(|_| Init::Container))
                .unwrap_or_else(|| Init::Other(name.to_owned())),
            _ if CONTAINER_INITS.contains(&name) || self.container.is_some() => Init::Container,
            other => Init::Other(other.to_owned()),
        }
    }

    /// PID 1's name: its command name, else its program's file name.
    pub fn pid1_name(&self) -> Option<&str> {
        self.pid1_comm.as_deref().or_else(|| {
            self.pid1_exe
                .as_deref()
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
        })
    }

    /// PID 1 for a message: its name, else the init system's.
    pub fn pid1_label(&self) -> String {
        self.pid1_name()
            .map_or_else(|| self.init.name().to_owned(), str::to_owned)
    }

    /// The one line for a host known to run without systemd as PID 1, or WSL1 (where no
    /// rootless engine runs at all); `None` with systemd, or when nothing tells.
    pub fn summary(&self) -> Option<String> {
        if self.wsl == Some(Wsl::One) {
            return Some("WSL1: no user namespaces, so no rootless engine can run here".to_owned());
        }
        if !self.without_systemd() {
            return None;
        }
        let pid1 = self.pid1_label();
        Some(match (self.wsl, &self.container, &self.wsl_conf) {
            (
                Some(_),
                _,
                WslConf::Read {
                    systemd: Some(true),
                    ..
                },
            ) => format!(
                "WSL2 with systemd=true in /etc/wsl.conf, but systemd is not PID 1 yet (PID 1 is \
                 {pid1}): WSL has not restarted since"
            ),
            (Some(wsl), _, _) => format!(
                "{} without systemd: PID 1 is {pid1}",
                if wsl == Wsl::Unsure { "WSL" } else { "WSL2" }
            ),
            (None, Some(sign), _) => {
                format!("a container ({sign}) whose PID 1 is {pid1}, not systemd")
            }
            (None, None, _) => format!(
                "systemd is not PID 1 here: PID 1 is {pid1} ({})",
                self.init.name()
            ),
        })
    }

    /// Whether the host is known to run without systemd as PID 1: false with systemd, and
    /// false when nothing tells (the checks then judge as they would with systemd).
    pub fn without_systemd(&self) -> bool {
        !matches!(self.init, Init::Systemd | Init::Unknown)
    }

    /// What works here instead of a systemd user service for `engine`; `None` when systemd
    /// runs (or nothing tells). `script_dir` is where the engine's rootless script was found.
    pub fn alternative(&self, engine: Engine, script_dir: Option<&Path>) -> Option<Alternative> {
        if !self.without_systemd() {
            return None;
        }
        Some(match self.wsl {
            Some(Wsl::One) => Alternative {
                summary: "WSL1 has no user namespaces, so no rootless engine runs in it: from \
                          Windows, convert the distribution to WSL2, then turn systemd on in \
                          /etc/wsl.conf"
                    .to_owned(),
                commands: vec!["wsl.exe --set-version DISTRIBUTION 2".to_owned()],
            },
            Some(Wsl::Two | Wsl::Unsure) => self.wsl_systemd(),
            None => by_hand(engine, script_dir),
        })
    }

    /// WSL2 without systemd running: turn it on in `/etc/wsl.conf` (unless it is), then restart
    /// WSL from Windows.
    fn wsl_systemd(&self) -> Alternative {
        let restart = "wsl.exe --shutdown".to_owned();
        let (summary, mut commands) = match &self.wsl_conf {
            WslConf::Read {
                systemd: Some(true),
                ..
            } => (
                "systemd=true is set in /etc/wsl.conf, but this WSL instance started before it: \
                 stop WSL from Windows (`wsl --shutdown` in PowerShell), then open the \
                 distribution again"
                    .to_owned(),
                Vec::new(),
            ),
            WslConf::Malformed(why) => (
                format!(
                    "{WSL_CONF} cannot be read as WSL reads it ({why}): correct it so that its \
                     [boot] section says systemd=true, then stop WSL from Windows (`wsl \
                     --shutdown` in PowerShell) and open the distribution again"
                ),
                Vec::new(),
            ),
            conf => {
                let set = match conf {
                    WslConf::Read {
                        systemd: Some(false),
                        ..
                    } => format!(
                        "sudo sed -i 's/^[[:space:]]*systemd[[:space:]]*=.*/systemd=true/' {WSL_CONF}"
                    ),
                    WslConf::Read {
                        boot_section: true, ..
                    } => {
                        format!("sudo sed -i '/^[[:space:]]*\\[boot\\]/a systemd=true' {WSL_CONF}")
                    }
                    _ => format!("printf '[boot]\\nsystemd=true\\n' | sudo tee -a {WSL_CONF}"),
                };
                (
                    "turn systemd on for this distribution ([boot] systemd=true in \
                     /etc/wsl.conf), then stop WSL from Windows (`wsl --shutdown` in \
                     PowerShell) and open the distribution again"
                        .to_owned(),
                    vec![set],
                )
            }
        };
        commands.push(restart);
        Alternative { summary, commands }
    }
}

/// The directory of `engine`'s rootless script: the first of `path` (the caller's `PATH`),
/// then [`SYSTEM_PATH`](crate::SYSTEM_PATH), that has it; `None` for an engine without one or
/// when it is not installed.
pub fn script_dir(host: &Host, engine: Engine, path: Vec<PathBuf>) -> Option<PathBuf> {
    let script = engine.rootless_script()?;
    let found = crate::process::find(host, script, path, None)?;
    found.parent().map(Path::to_path_buf)
}

/// The runtime directory without a login manager, as Docker's guide makes it: the caller's
/// `XDG_RUNTIME_DIR` if set, else [`BY_HAND_RUNTIME_DIR`], made with mode 0700.
pub fn runtime_dir_commands() -> [String; 2] {
    [
        format!("export XDG_RUNTIME_DIR=\"${{XDG_RUNTIME_DIR:-{BY_HAND_RUNTIME_DIR}}}\""),
        "mkdir -p -m 0700 \"$XDG_RUNTIME_DIR\"".to_owned(),
    ]
}

/// No systemd at all: run the engine's rootless script by hand, as Docker's guide does, with a
/// runtime directory the user owns.
fn by_hand(engine: Engine, script_dir: Option<&Path>) -> Alternative {
    let spec = engine.spec();
    let mut commands = runtime_dir_commands().to_vec();
    let (summary, start) = match spec.script() {
        Some(script) => {
            let dir = script_dir.map_or_else(|| "/usr/bin".to_owned(), crate::shell::quote_path);
            (
                format!(
                    "no systemd runs here, so nothing can run the engine as a user service: start \
                     {} by hand in the user's own shell, with XDG_RUNTIME_DIR a directory the user \
                     owns (mode 0700; remove it at logout, nothing else will), as Docker's \
                     rootless guide does without systemd",
                    script.name
                ),
                format!("PATH={dir}:/sbin:/usr/sbin:$PATH {}", script.name),
            )
        }
        None => (
            format!(
                "no systemd runs here, so nothing activates {}'s socket: start its API service \
                 by hand in the user's own shell, with XDG_RUNTIME_DIR a directory the user owns \
                 (mode 0700)",
                spec.title
            ),
            format!("{} system service --time=0", spec.name),
        ),
    };
    commands.push(start);
    if let Some(socket) = spec.api_socket {
        commands.push(format!(
            "export {}={}\"$XDG_RUNTIME_DIR/{socket}\"",
            spec.address_variable, spec.address_scheme
        ));
    }
    Alternative { summary, commands }
}

fn container_sign(host: &Host) -> Option<String> {
    if let Some(marker) = CONTAINER_MARKERS.iter().find(|m| host.exists(m)) {
        return Some((*marker).to_owned());
    }
    let environ = host.read(PID1_ENVIRON).ok().flatten()?;
    environ
        .split('\0')
        .find_map(|kv| kv.strip_prefix("container="))
        .filter(|v| !v.is_empty())
        .map(|v| format!("container={}", v.chars().take(64).collect::<String>()))
}

fn wsl_kind(host: &Host, wsl_distro: Option<&str>) -> Option<Wsl> {
    let kernel = host
        .read_value(OSRELEASE)
        .ok()
        .flatten()
        .or_else(|| host.read_value(PROC_VERSION).ok().flatten())
        .unwrap_or_default();
    wsl_from_kernel(&kernel).or_else(|| wsl_distro.map(|_| Wsl::Unsure))
}

/// WSL from a kernel release or version line: WSL2's kernels say `microsoft-standard` (and
/// `-WSL2` since 5.10), WSL1's `Microsoft` with a capital M.
pub fn wsl_from_kernel(kernel: &str) -> Option<Wsl> {
    if kernel.contains("microsoft-standard") || kernel.contains("WSL2") {
        Some(Wsl::Two)
    } else if kernel.contains("Microsoft") {
        Some(Wsl::One)
    } else if kernel.to_ascii_lowercase().contains("microsoft") {
        Some(Wsl::Two)
    } else {
        None
    }
}

fn read_wsl_conf(host: &Host) -> WslConf {
    match host.read(WSL_CONF) {
        Ok(None) => WslConf::Absent,
        Ok(Some(text)) if text.len() > WSL_CONF_LIMIT => {
            WslConf::Malformed(format!("it is larger than {} KiB", WSL_CONF_LIMIT >> 10))
        }
        Ok(Some(text)) => parse_wsl_conf(&text),
        Err(e) => WslConf::Malformed(e.to_string()),
    }
}

/// The `[boot] systemd` setting of a `wsl.conf`: sections in brackets, `key = value` lines,
/// `#` and `;` comments. Any other line, or a `systemd` value that is not a boolean, is
/// malformed (naming the line); other keys are not looked at.
pub fn parse_wsl_conf(text: &str) -> WslConf {
    let mut section = String::new();
    let mut boot_section = false;
    let mut systemd = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return WslConf::Malformed(format!("line {}: a section without `]`", n + 1));
            };
            section = name.trim().to_ascii_lowercase();
            boot_section |= section == "boot";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return WslConf::Malformed(format!("line {}: neither a section nor key=value", n + 1));
        };
        if section != "boot" || !key.trim().eq_ignore_ascii_case("systemd") {
            continue;
        }
        let value = value.split(['#', ';']).next().unwrap_or("").trim();
        systemd = Some(match value.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return WslConf::Malformed(format!(
                    "line {}: systemd={} is neither true nor false",
                    n + 1,
                    value.chars().take(32).collect::<String>()
                ));
            }
        });
    }
    WslConf::Read {
        boot_section,
        systemd,
    }
}

impl fmt::Display for WslConf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WslConf::Absent => f.write_str("absent"),
            WslConf::Read {
                systemd: Some(on), ..
            } => write!(f, "systemd={on}"),
            WslConf::Read { .. } => f.write_str("no systemd setting"),
            WslConf::Malformed(why) => write!(f, "malformed: {why}"),
        }
    }
}

impl Wsl {
    /// `WSL1`, `WSL2`, `WSL`.
    pub fn name(self) -> &'static str {
        match self {
            Wsl::One => "WSL1",
            Wsl::Two => "WSL2",
            Wsl::Unsure => "WSL",
        }
    }
}

#[cfg(test)]
#[path = "init_tests.rs"]
mod tests;
