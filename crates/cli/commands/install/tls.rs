//! `remote.tls-dir`, checked before install writes anything: the three files Docker names
//! (`ca.pem`, `server-cert.pem`, `server-key.pem`) are regular files of the caller's (no
//! symbolic links), the key is not readable by group or others, and `openssl` (run through
//! `core::process`; no crypto library in the tool) says the certificates parse, have not
//! expired, the server's is signed by the CA and matches the key. Each problem names the file
//! and comes with the command that makes a good one (docs/remote.md). Key material is never
//! shown: openssl's output about the key is not passed on.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rootless_setup_checks::Caller;
use rootless_setup_core::Host;
use rootless_setup_core::distro::{Distro, Package};
use rootless_setup_core::process::{self, Invocation, Output};
use rootless_setup_core::read::{self, Limit};
use rootless_setup_unit::Settings;
use rootless_setup_unit::remote::{CA, Expose, SERVER_CERT, SERVER_KEY, TLS_FILES};

use crate::results::ErrorId;
use crate::style::hinted;

/// The most read of one PEM file (a certificate chain of a few certificates fits easily).
const PEM_LIMIT: Limit = Limit(64 << 10);

/// How long one openssl run may take.
const OPENSSL_TIMEOUT: Duration = Duration::from_secs(10);

/// What is wrong with the TLS directory, and what to run about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsProblem {
    /// The result document's error id: `tls-invalid`, or `client-not-found` without openssl.
    pub id: ErrorId,
    /// What was seen (lowercase, names the file).
    pub what: String,
    /// The command or step that fixes it.
    pub help: String,
}

fn problem(what: impl Into<String>, help: impl Into<String>) -> TlsProblem {
    TlsProblem {
        id: ErrorId::TlsInvalid,
        what: what.into(),
        help: help.into(),
    }
}

/// How to make the CA.
const CA_HELP: &str = "make a CA in that directory: `openssl genrsa -out ca-key.pem 4096 && openssl req -new -x509 -days 365 -sha256 -key ca-key.pem -subj /CN=docker-ca -out ca.pem` (docs/remote.md)";

/// How to make the server key.
const KEY_HELP: &str = "make a key: `openssl genrsa -out server-key.pem 4096 && chmod 600 server-key.pem`, then its certificate (docs/remote.md)";

/// How to make the server certificate for `expose`.
fn cert_help(expose: &Expose) -> String {
    let san = if expose.is_unspecified() {
        "IP:ADDRESS,DNS:HOSTNAME (each address clients use)".to_owned()
    } else {
        format!("IP:{}", expose.ip)
    };
    format!(
        "make one signed by ca.pem: `openssl req -new -key server-key.pem -subj /CN=docker -out server.csr && printf 'subjectAltName=%s\\nextendedKeyUsage=serverAuth\\n' '{san}' > extfile.cnf && openssl x509 -req -days 365 -sha256 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -extfile extfile.cnf -out server-cert.pem` (docs/remote.md)"
    )
}

/// The help for `name`, one of [`TLS_FILES`].
fn help_for(name: &str, expose: &Expose) -> String {
    match name {
        CA => CA_HELP.to_owned(),
        SERVER_KEY => KEY_HELP.to_owned(),
        _ => cert_help(expose),
    }
}

/// One of the three files: there, a regular file (not a link), the caller's, the key private,
/// PEM text within [`PEM_LIMIT`].
fn file(dir: &Path, name: &str, uid: u32, expose: &Expose) -> Result<PathBuf, TlsProblem> {
    let path = dir.join(name);
    let shown = path.display();
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(problem(
                format!("{shown} is missing"),
                help_for(name, expose),
            ));
        }
        Err(e) => {
            return Err(problem(
                format!("{shown} cannot be examined: {e}"),
                "make the directory readable by you",
            ));
        }
    };
    if meta.file_type().is_symlink() {
        return Err(problem(
            format!(
                "{shown} is a symbolic link: the engine would read whatever it points to later"
            ),
            format!("put the file itself in {}", dir.display()),
        ));
    }
    if !meta.is_file() {
        return Err(problem(
            format!("{shown} is {}, not a regular file", read::describe(&meta)),
            help_for(name, expose),
        ));
    }
    if meta.uid() != uid {
        return Err(problem(
            format!(
                "{shown} belongs to uid {}, not to you (uid {uid}): its owner could swap the engine's TLS identity",
                meta.uid()
            ),
            format!(
                "copy it into a directory of yours and point `remote.tls-dir` there: `cp {shown} DIR/`"
            ),
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if name == SERVER_KEY && mode & 0o077 != 0 {
        return Err(problem(
            format!(
                "{shown} has mode {mode:04o}: others may read or change the engine's private key"
            ),
            format!("chmod 600 {shown}"),
        ));
    }
    let text = match read::bytes(&path, PEM_LIMIT) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(problem(
                format!("{shown} is missing"),
                help_for(name, expose),
            ));
        }
        Err(e) => {
            return Err(problem(
                format!("{shown} cannot be read: {e}"),
                help_for(name, expose),
            ));
        }
    };
    if !text.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(problem(
            format!("{shown} is not PEM text (no `-----BEGIN` line)"),
            help_for(name, expose),
        ));
    }
    Ok(path)
}

/// Runs `openssl ARGS FILES` (the files as they are, whatever bytes their paths hold); a
/// program that could not run is a problem of its own.
fn openssl(program: &Path, args: &[&str], files: &[&Path]) -> Result<Output, TlsProblem> {
    let invocation = Invocation::new(program)
        .args(args.iter().copied())
        .args(files.iter().map(|f| f.as_os_str()))
        .timeout(OPENSSL_TIMEOUT);
    process::run(&invocation).map_err(|e| {
        problem(
            format!("the certificates could not be checked: {e}"),
            "check that `openssl version` runs",
        )
    })
}

/// Checks the TLS directory `dir` for exposing `expose`, as user `uid`, with the `openssl`
/// found (`None`: not installed; `install_openssl` is the command that installs it).
pub fn check(
    dir: &Path,
    uid: u32,
    expose: &Expose,
    openssl_program: Option<&Path>,
    install_openssl: &str,
) -> Result<(), TlsProblem> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(m) => {
            return Err(problem(
                format!(
                    "`remote.tls-dir` {} is {}, not a directory",
                    dir.display(),
                    read::describe(&m)
                ),
                "point `remote.tls-dir` (`--tls-dir`) at the directory holding ca.pem, server-cert.pem and server-key.pem",
            ));
        }
        Err(e) => {
            return Err(problem(
                format!("`remote.tls-dir` {}: {e}", dir.display()),
                format!(
                    "make the directory and its files: `mkdir -p {0} && cd {0}`, then docs/remote.md",
                    dir.display()
                ),
            ));
        }
    }
    let [ca, cert, key] = TLS_FILES.map(|name| file(dir, name, uid, expose));
    let (ca, cert, key) = (ca?, cert?, key?);
    let Some(program) = openssl_program else {
        return Err(TlsProblem {
            id: ErrorId::ClientNotFound,
            ..problem(
                "openssl was not found: it checks the certificates before the engine is given them",
                install_openssl,
            )
        });
    };
    for (path, name) in [(&ca, CA), (&cert, SERVER_CERT)] {
        current_certificate(program, path, name, expose)?;
    }
    let verified = openssl(program, &["verify", "-CAfile"], &[&ca, &cert])?;
    if !verified.success() {
        return Err(problem(
            format!(
                "{} is not signed by {}: {}",
                cert.display(),
                ca.display(),
                verified.last_line()
            ),
            cert_help(expose),
        ));
    }
    check_key(program, &cert, &key)
}

/// `path` is a certificate openssl reads and it has not expired: one run, which prints the end
/// date and says `Certificate will expire` when it has (a file that is no certificate prints
/// neither).
fn current_certificate(
    program: &Path,
    path: &Path,
    name: &str,
    expose: &Expose,
) -> Result<(), TlsProblem> {
    let out = openssl(
        program,
        &["x509", "-noout", "-enddate", "-checkend", "0", "-in"],
        &[path],
    )?;
    if out.success() {
        return Ok(());
    }
    let what = if out.stdout.contains("Certificate will expire") {
        let end = out
            .stdout
            .lines()
            .find(|l| l.starts_with("notAfter="))
            .unwrap_or_default();
        format!("{} has expired ({})", path.display(), end.replace('=', " "))
    } else {
        format!(
            "{} is not a certificate openssl can read: {}",
            path.display(),
            out.last_line()
        )
    };
    Err(problem(what, help_for(name, expose)))
}

/// The key is readable without a passphrase and is the certificate's. openssl's messages
/// about the key are not shown.
fn check_key(program: &Path, cert: &Path, key: &Path) -> Result<(), TlsProblem> {
    let from_key = openssl(
        program,
        &["pkey", "-pubout", "-passin", "pass:", "-in"],
        &[key],
    )?;
    if !from_key.success() {
        return Err(problem(
            format!(
                "{} is not a private key openssl can read without a passphrase (dockerd cannot ask for one)",
                key.display()
            ),
            format!(
                "{KEY_HELP}; to drop a passphrase: `openssl pkey -in {0} -out {0}.new && mv {0}.new {0}`",
                key.display()
            ),
        ));
    }
    let from_cert = openssl(program, &["x509", "-noout", "-pubkey", "-in"], &[cert])?;
    if !from_cert.success() || from_cert.stdout.trim() != from_key.stdout.trim() {
        return Err(problem(
            format!("{} is not the key of {}", key.display(), cert.display()),
            "use the key the certificate was requested with, or make a new certificate from this key (docs/remote.md)",
        ));
    }
    Ok(())
}

/// A warning when the server certificate does not name `expose`'s address, which clients that
/// verify it connect to (`None` for `0.0.0.0` and `::`, where clients use other addresses).
pub fn address_warning(dir: &Path, expose: &Expose, openssl_program: &Path) -> Option<String> {
    if expose.is_unspecified() {
        return None;
    }
    let cert = dir.join(SERVER_CERT);
    let ip = expose.ip.to_string();
    let out = openssl(
        openssl_program,
        &["x509", "-noout", "-checkip", &ip, "-in"],
        &[&cert],
    )
    .ok()?;
    (out.success() && out.stdout.contains("NOT match")).then(|| {
        format!(
            "{} does not name IP:{ip} (subjectAltName): clients connecting to {expose} with --tlsverify will refuse it; docs/remote.md",
            cert.display()
        )
    })
}

/// The TLS gate of install: nothing to do without `remote.tls-dir`; a problem is an error with
/// its help line (`tls-invalid`, or `client-not-found` without openssl). Returns a warning when
/// the certificate does not name the address.
pub fn gate(caller: &Caller, settings: &Settings) -> anyhow::Result<Option<String>> {
    let (Some(expose), Some(dir)) = (&settings.expose, &settings.tls_dir) else {
        return Ok(None);
    };
    let host = Host::real();
    let program = process::find(&host, "openssl", caller.path_dirs(), None);
    let install = Distro::detect(&host).install_command(&[Package::Openssl]);
    if let Err(p) = check(
        &dir.value,
        caller.uid,
        &expose.value,
        program.as_deref(),
        &install,
    ) {
        return Err(hinted(p.id, p.what, &[&p.help]));
    }
    Ok(program.and_then(|o| address_warning(&dir.value, &expose.value, &o)))
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
