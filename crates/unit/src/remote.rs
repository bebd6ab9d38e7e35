//! The remote API: `remote.expose` (where dockerd also listens on TCP), `remote.tls-dir` (the
//! directory with Docker's `ca.pem`, `server-cert.pem` and `server-key.pem`) and
//! `remote.insecure-loopback`.
//!
//! How the address reaches the host follows Docker's rootless guide, with one difference for the
//! namespace's side. dockerd runs inside rootlesskit's network namespace unless rootlesskit
//! detaches it (`--detach-netns`, the default of the scripts that read
//! `DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS`, which then run dockerd in the host's namespace):
//! - detached: dockerd listens on the address itself (`-H tcp://ADDR:PORT`);
//! - in the namespace: rootlesskit's `builtin` port driver listens on `ADDR:PORT` on the host and
//!   connects to `127.0.0.1:PORT` inside (`-p ADDR:PORT:127.0.0.1:PORT/tcp` in
//!   `DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS`), where dockerd listens. The guide's `-H
//!   tcp://0.0.0.0:2376` inside would also let every container reach the API on the bridge's
//!   gateway address; the namespace's loopback does not.
//!
//! A TCP socket without TLS hands the engine (and whatever the user can reach) to whoever can
//! connect, so [`check`] allows one only on a loopback address and only when asked for by name.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use rootless_setup_core::Engine;

use crate::config::{ConfigError, Origin, Settings, Sourced};

/// The CA certificate in the TLS directory (Docker's name).
pub const CA: &str = "ca.pem";
/// The server's certificate, signed by [`CA`].
pub const SERVER_CERT: &str = "server-cert.pem";
/// The server's private key.
pub const SERVER_KEY: &str = "server-key.pem";
/// The three files, in the order they are checked.
pub const TLS_FILES: [&str; 3] = [CA, SERVER_CERT, SERVER_KEY];

/// dockerd flags the exposure sets: `daemon-flags` may not carry them.
pub const MANAGED_FLAGS: [&str; 7] = [
    "-H",
    "--host",
    "--tls",
    "--tlsverify",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// A TCP address for the API: `tcp://ADDR:PORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expose {
    /// The address (`localhost` is 127.0.0.1).
    pub ip: IpAddr,
    /// The port, 1 to 65535.
    pub port: u16,
}

impl Expose {
    /// Parses `tcp://ADDR:PORT`: ADDR an IPv4 literal, an IPv6 literal in brackets (no zone) or
    /// `localhost`; PORT digits from 1 to 65535. The error says what is wrong, without the value.
    pub fn parse(text: &str) -> Result<Expose, &'static str> {
        let rest = text
            .strip_prefix("tcp://")
            .ok_or("must start with `tcp://` (unix sockets and ssh:// are not exposed this way)")?;
        let (ip, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, port) = v6
                .split_once("]:")
                .ok_or("needs `[ADDRESS]:PORT` for an IPv6 address")?;
            let ip: Ipv6Addr = host
                .parse()
                .map_err(|_| "has no valid IPv6 address between `[` and `]` (no zone)")?;
            (IpAddr::V6(ip), port)
        } else {
            let (host, port) = rest
                .rsplit_once(':')
                .ok_or("needs a port: `tcp://ADDRESS:PORT`")?;
            let ip = if host == "localhost" {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                IpAddr::V4(host.parse::<Ipv4Addr>().map_err(
                    |_| "needs an IPv4 address, `[IPv6]` or `localhost` (no host names)",
                )?)
            };
            (ip, port)
        };
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
            return Err("needs a port of digits only, from 1 to 65535");
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or("needs a port from 1 to 65535")?;
        Ok(Expose { ip, port })
    }

    /// The address as it stands in a URL or a port spec (`[::1]` for IPv6).
    pub fn host(&self) -> String {
        match self.ip {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        }
    }

    /// `127.0.0.1`, `::1`.
    pub fn is_loopback(&self) -> bool {
        self.ip.is_loopback()
    }

    /// `0.0.0.0`, `::`: every address of the host.
    pub fn is_unspecified(&self) -> bool {
        self.ip.is_unspecified()
    }
}

impl fmt::Display for Expose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp://{}:{}", self.host(), self.port)
    }
}

/// The exposure a plan carries, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Where clients connect.
    pub expose: Expose,
    /// The TLS directory; `None` only for an insecure loopback address.
    pub tls_dir: Option<PathBuf>,
    /// Whether dockerd runs in the host's network namespace (rootlesskit's `--detach-netns`).
    pub detached: bool,
}

impl Remote {
    /// Where dockerd listens: the address itself when detached, the namespace's loopback
    /// (which rootlesskit forwards to) otherwise.
    pub fn listen(&self) -> Expose {
        if self.detached {
            self.expose
        } else {
            Expose {
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port: self.expose.port,
            }
        }
    }

    /// rootlesskit's port forward (`-p` value), when dockerd is in the namespace.
    pub fn publish(&self) -> Option<String> {
        (!self.detached).then(|| {
            format!(
                "{}:{}:127.0.0.1:{}/tcp",
                self.expose.host(),
                self.expose.port,
                self.expose.port
            )
        })
    }

    /// dockerd's TCP and TLS arguments, after its `-H unix://…` (written with `%t` by the
    /// renderer): `-H tcp://…` and, with TLS, `--tlsverify` and the three files.
    pub fn daemon_args(&self) -> Vec<String> {
        let mut args = vec!["-H".to_owned(), self.listen().to_string()];
        if let Some(dir) = &self.tls_dir {
            args.push("--tlsverify".to_owned());
            for (flag, file) in [
                ("--tlscacert", CA),
                ("--tlscert", SERVER_CERT),
                ("--tlskey", SERVER_KEY),
            ] {
                args.push(format!("{flag}={}", dir.join(file).display()));
            }
        }
        args
    }
}

/// Whether `flag` (one dockerd argument) is one [`MANAGED_FLAGS`] sets.
pub fn is_managed_flag(flag: &str) -> bool {
    MANAGED_FLAGS.iter().any(|m| {
        flag == *m
            || flag.strip_prefix(m).is_some_and(|rest| rest.starts_with('='))
            // `-Htcp://…`, dockerd's short form glued to its value.
            || (*m == "-H" && flag.starts_with("-H"))
    })
}

/// The problems of the remote keys together: an exposure for an engine other than Docker, a
/// TLS directory or `insecure-loopback` without an address, and TCP without TLS anywhere but
/// on a loopback address asked for by name. Empty when fine.
pub fn check(settings: &Settings) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let Some(Sourced {
        value: expose,
        origin,
    }) = &settings.expose
    else {
        if let Some(dir) = &settings.tls_dir {
            errors.push(
                ConfigError::new(&dir.origin, "remote.tls-dir", "`remote.tls-dir` is set but `remote.expose` is not")
                    .help("set `remote.expose` (`--expose tcp://ADDRESS:2376`), or remove `remote.tls-dir`"),
            );
        }
        return errors;
    };
    let engine = settings.engine.value;
    if engine != Engine::Docker {
        errors.push(
            ConfigError::new(origin, "remote.expose", format!(
                "`remote.expose` is for Docker only: {} is not exposed over TCP by rootless-setup",
                engine.as_str()
            ))
            .help(match engine {
                Engine::Podman => "Podman's API stays on its unix socket; reach it over ssh (`podman --url ssh://USER@HOST/run/user/UID/podman/podman.sock`, or `DOCKER_HOST=ssh://USER@HOST`), see docs/remote.md",
                _ => "containerd's API is gRPC on a unix socket with no TLS listener; reach it over ssh, see docs/remote.md",
            }),
        );
        return errors;
    }
    if settings.tls_dir.is_some() {
        return errors;
    }
    let insecure = &settings.insecure_loopback;
    let refusal = if expose.is_unspecified() {
        Some(format!(
            "`{expose}` without TLS would hand the engine, and everything this user can reach, to anyone on the network"
        ))
    } else if !expose.is_loopback() {
        Some(format!(
            "`{expose}` without TLS would let anyone who reaches that address run containers as this user"
        ))
    } else if !insecure.value {
        Some(format!(
            "`{expose}` without TLS lets every local user (and every process) run containers as this user"
        ))
    } else {
        None
    };
    if let Some(message) = refusal {
        let help = if expose.is_loopback() {
            "set `remote.tls-dir` (`--tls-dir DIR`, see docs/remote.md), or accept a plain loopback socket with `remote.insecure-loopback = true` (`--insecure-loopback`)"
        } else {
            "set `remote.tls-dir` (`--tls-dir DIR` with ca.pem, server-cert.pem and server-key.pem; docs/remote.md shows how to make them), or use ssh (`DOCKER_HOST=ssh://USER@HOST`)"
        };
        let at = if insecure.value && !expose.is_loopback() {
            &insecure.origin
        } else {
            origin
        };
        errors.push(ConfigError::new(at, "remote.expose", message).help(help));
    }
    errors
}

/// The exposure for a plan: `detached` is whether dockerd will run in the host's namespace.
/// `None` without `remote.expose`.
pub fn remote(settings: &Settings, detached: bool) -> Option<Remote> {
    settings.expose.as_ref().map(|e| Remote {
        expose: e.value,
        tls_dir: settings.tls_dir.as_ref().map(|d| d.value.clone()),
        detached,
    })
}

/// Where the exposure came from, for errors about how it is forwarded.
pub fn origin(settings: &Settings) -> Origin {
    settings
        .expose
        .as_ref()
        .map_or(Origin::Default, |e| e.origin.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_strictly() {
        let ok = |s: &str| Expose::parse(s).unwrap().to_string();
        assert_eq!(ok("tcp://127.0.0.1:2376"), "tcp://127.0.0.1:2376");
        assert_eq!(ok("tcp://localhost:2376"), "tcp://127.0.0.1:2376");
        assert_eq!(ok("tcp://0.0.0.0:1"), "tcp://0.0.0.0:1");
        assert_eq!(ok("tcp://[::1]:65535"), "tcp://[::1]:65535");
        assert_eq!(ok("tcp://[::]:2376"), "tcp://[::]:2376");
        for bad in [
            "127.0.0.1:2376",
            "unix:///run/docker.sock",
            "ssh://u@h",
            "tcp://127.0.0.1",
            "tcp://127.0.0.1:",
            "tcp://127.0.0.1:0",
            "tcp://127.0.0.1:65536",
            "tcp://127.0.0.1:+80",
            "tcp://127.0.0.1:02376x",
            "tcp://127.0.0.1:2376\n",
            "tcp://127.0.0.1 :2376",
            "tcp://example.com:2376",
            "tcp://::1:2376",
            "tcp://[fe80::1%eth0]:2376",
            "tcp://[::1]2376",
            "tcp://$HOST:2376",
            "tcp://127.0.0.1:2376/path",
            "tcp://:2376",
            "tcp://127.0.0.1:123456",
        ] {
            assert!(Expose::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let e = Expose::parse("tcp://[::1]:2376").unwrap();
        assert!(e.is_loopback() && !e.is_unspecified());
        assert!(
            Expose::parse("tcp://0.0.0.0:2375")
                .unwrap()
                .is_unspecified()
        );
        assert!(!Expose::parse("tcp://10.0.0.1:2375").unwrap().is_loopback());
    }

    fn remote(addr: &str, tls: bool, detached: bool) -> Remote {
        Remote {
            expose: Expose::parse(addr).unwrap(),
            tls_dir: tls.then(|| PathBuf::from("/home/u/.docker/tls")),
            detached,
        }
    }

    #[test]
    fn in_the_namespace_rootlesskit_forwards_to_its_loopback() {
        let r = remote("tcp://0.0.0.0:2376", true, false);
        assert_eq!(
            r.publish().as_deref(),
            Some("0.0.0.0:2376:127.0.0.1:2376/tcp")
        );
        assert_eq!(
            r.daemon_args(),
            [
                "-H",
                "tcp://127.0.0.1:2376",
                "--tlsverify",
                "--tlscacert=/home/u/.docker/tls/ca.pem",
                "--tlscert=/home/u/.docker/tls/server-cert.pem",
                "--tlskey=/home/u/.docker/tls/server-key.pem",
            ]
        );
        assert_eq!(
            remote("tcp://[::1]:2376", true, false).publish().as_deref(),
            Some("[::1]:2376:127.0.0.1:2376/tcp")
        );
    }

    #[test]
    fn detached_dockerd_listens_on_the_address_itself() {
        let r = remote("tcp://192.0.2.7:2376", false, true);
        assert_eq!(r.publish(), None);
        assert_eq!(r.daemon_args(), ["-H", "tcp://192.0.2.7:2376"]);
    }

    #[test]
    fn the_exposures_flags_are_managed() {
        for f in [
            "-H",
            "-Htcp://0.0.0.0:2375",
            "--host",
            "--host=tcp://x:1",
            "--tlsverify",
            "--tlsverify=false",
            "--tls",
            "--tlskey=/k",
            "--tlscacert",
        ] {
            assert!(is_managed_flag(f), "{f}");
        }
        for f in [
            "--hosts-file",
            "--tlsfoo",
            "--log-level=warn",
            "--host-gateway-ip=1.2.3.4",
        ] {
            assert!(!is_managed_flag(f), "{f}");
        }
    }
}
