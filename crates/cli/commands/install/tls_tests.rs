//! The TLS directory's checks against certificates made by the real `openssl` in a temporary
//! directory, one broken in each way.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

const OPENSSL: &str = "/usr/bin/openssl";

fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

fn expose(addr: &str) -> Expose {
    Expose::parse(addr).unwrap()
}

/// Runs openssl in `dir`; a failure ends the test.
fn ssl(dir: &Path, args: &[&str]) {
    let out = Command::new(OPENSSL)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A CA, and a server key and certificate for IP:127.0.0.1 signed by it, in `dir`, as
/// docs/remote.md makes them.
fn good(dir: &Path) {
    ssl(dir, &["genrsa", "-out", "ca-key.pem", "2048"]);
    ssl(
        dir,
        &[
            "req",
            "-new",
            "-x509",
            "-days",
            "2",
            "-sha256",
            "-key",
            "ca-key.pem",
            "-subj",
            "/CN=test-ca",
            "-out",
            "ca.pem",
        ],
    );
    ssl(dir, &["genrsa", "-out", "server-key.pem", "2048"]);
    std::fs::set_permissions(
        dir.join("server-key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    ssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "server-key.pem",
            "-subj",
            "/CN=docker",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("extfile.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-sha256",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-extfile",
            "extfile.cnf",
            "-out",
            "server-cert.pem",
        ],
    );
}

fn dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().to_path_buf();
    good(&path);
    (tmp, path)
}

fn checked(dir: &Path) -> Result<(), TlsProblem> {
    check(
        dir,
        uid(),
        &expose("tcp://127.0.0.1:2376"),
        Some(Path::new(OPENSSL)),
        "sudo apt-get install -y openssl",
    )
}

/// The problem, with the directory written as DIR.
fn what(dir: &Path) -> String {
    checked(dir)
        .unwrap_err()
        .what
        .replace(&dir.display().to_string(), "DIR")
}

#[test]
fn a_good_directory_passes_and_its_address_is_named() {
    let (_tmp, d) = dir();
    assert_eq!(checked(&d), Ok(()));
    let openssl = Path::new(OPENSSL);
    assert_eq!(
        address_warning(&d, &expose("tcp://127.0.0.1:2376"), openssl),
        None
    );
    assert_eq!(
        address_warning(&d, &expose("tcp://0.0.0.0:2376"), openssl),
        None
    );
    assert_eq!(
        address_warning(&d, &expose("tcp://192.0.2.1:2376"), openssl)
            .unwrap()
            .replace(&d.display().to_string(), "DIR"),
        "DIR/server-cert.pem does not name IP:192.0.2.1 (subjectAltName): clients connecting to tcp://192.0.2.1:2376 with --tlsverify will refuse it; docs/remote.md"
    );
}

#[test]
fn files_must_be_there_regular_and_yours() {
    let (_tmp, d) = dir();
    std::fs::remove_file(d.join("ca.pem")).unwrap();
    assert_eq!(what(&d), "DIR/ca.pem is missing");
    assert!(checked(&d).unwrap_err().help.starts_with("make a CA"));
    std::os::unix::fs::symlink(d.join("ca-key.pem"), d.join("ca.pem")).unwrap();
    assert_eq!(
        what(&d),
        "DIR/ca.pem is a symbolic link: the engine would read whatever it points to later"
    );
    std::fs::remove_file(d.join("ca.pem")).unwrap();
    std::fs::create_dir(d.join("ca.pem")).unwrap();
    assert_eq!(what(&d), "DIR/ca.pem is a directory, not a regular file");
    std::fs::remove_dir(d.join("ca.pem")).unwrap();
    std::fs::write(d.join("ca.pem"), "not a certificate\n").unwrap();
    assert_eq!(
        what(&d),
        "DIR/ca.pem is not PEM text (no `-----BEGIN` line)"
    );
    std::fs::write(d.join("ca.pem"), vec![b'-'; 70_000]).unwrap();
    assert!(what(&d).starts_with("DIR/ca.pem cannot be read: it is larger than"));
    let (_tmp2, other) = dir();
    let e = check(&other, uid() + 1, &expose("tcp://127.0.0.1:2376"), None, "").unwrap_err();
    assert_eq!(
        e.what.replace(&other.display().to_string(), "DIR"),
        format!(
            "DIR/ca.pem belongs to uid {}, not to you (uid {}): its owner could swap the engine's TLS identity",
            uid(),
            uid() + 1
        )
    );
    assert_eq!(
        checked(Path::new("/nonexistent/tls")).unwrap_err().what,
        "`remote.tls-dir` /nonexistent/tls: No such file or directory (os error 2)"
    );
}

#[test]
fn the_key_is_private() {
    let (_tmp, d) = dir();
    let key = d.join("server-key.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = checked(&d).unwrap_err();
    assert_eq!(
        e.what.replace(&d.display().to_string(), "DIR"),
        "DIR/server-key.pem has mode 0640: others may read or change the engine's private key"
    );
    assert_eq!(e.help, format!("chmod 600 {}", key.display()));
}

#[test]
fn without_openssl_the_help_installs_it() {
    let (_tmp, d) = dir();
    let e = check(
        &d,
        uid(),
        &expose("tcp://127.0.0.1:2376"),
        None,
        "sudo apt-get install -y openssl",
    )
    .unwrap_err();
    assert_eq!(
        e,
        TlsProblem {
            id: ErrorId::ClientNotFound,
            what:
                "openssl was not found: it checks the certificates before the engine is given them"
                    .into(),
            help: "sudo apt-get install -y openssl".into(),
        }
    );
}

#[test]
fn a_certificate_of_another_ca_or_key_is_refused() {
    let (_tmp, d) = dir();
    let (_tmp2, other) = dir();
    std::fs::copy(other.join("ca.pem"), d.join("ca.pem")).unwrap();
    let w = what(&d);
    assert!(
        w.starts_with("DIR/server-cert.pem is not signed by DIR/ca.pem: "),
        "{w}"
    );
    good(&d);
    std::fs::copy(other.join("server-key.pem"), d.join("server-key.pem")).unwrap();
    assert_eq!(
        what(&d),
        "DIR/server-key.pem is not the key of DIR/server-cert.pem"
    );
    std::fs::write(
        d.join("server-cert.pem"),
        "-----BEGIN CERTIFICATE-----\nxx\n",
    )
    .unwrap();
    assert!(
        what(&d).starts_with("DIR/server-cert.pem is not a certificate openssl can read: "),
        "{}",
        what(&d)
    );
}

#[test]
fn an_encrypted_key_is_refused_without_showing_openssls_words() {
    let (_tmp, d) = dir();
    ssl(
        &d,
        &[
            "pkey",
            "-in",
            "server-key.pem",
            "-aes256",
            "-passout",
            "pass:secret",
            "-out",
            "encrypted.pem",
        ],
    );
    std::fs::rename(d.join("encrypted.pem"), d.join("server-key.pem")).unwrap();
    std::fs::set_permissions(
        d.join("server-key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(
        what(&d),
        "DIR/server-key.pem is not a private key openssl can read without a passphrase (dockerd cannot ask for one)"
    );
}

#[test]
fn an_expired_certificate_is_refused_with_its_date() {
    let (_tmp, d) = dir();
    std::fs::write(
        d.join("ca.cnf"),
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n",
    )
    .unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("serial"), "01\n").unwrap();
    ssl(
        &d,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca-key.pem",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
            "-in",
            "server.csr",
            "-out",
            "server-cert.pem",
        ],
    );
    assert_eq!(
        what(&d),
        "DIR/server-cert.pem has expired (notAfter Jan  2 00:00:00 2020 GMT)"
    );
}

/// Without openssl, a problem with the files is still `tls-invalid`: the id comes with the
/// problem, not from whether openssl was found.
#[test]
fn a_file_problem_is_tls_invalid_even_without_openssl() {
    let (_tmp, d) = dir();
    std::fs::remove_file(d.join(SERVER_KEY)).unwrap();
    let e = check(
        &d,
        uid(),
        &expose("tcp://127.0.0.1:2376"),
        None,
        "sudo apt-get install -y openssl",
    )
    .unwrap_err();
    assert_eq!(e.id, ErrorId::TlsInvalid);
    assert!(e.what.ends_with("server-key.pem is missing"), "{}", e.what);
}

/// openssl is given the files' paths as they are, bytes that are not UTF-8 included.
#[test]
fn a_directory_whose_name_is_not_utf8_is_checked_as_it_is() {
    use std::os::unix::ffi::OsStrExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let odd = tmp.path().join(std::ffi::OsStr::from_bytes(b"tls-\xff"));
    std::fs::create_dir(&odd).unwrap();
    good(&odd);
    assert_eq!(checked(&odd), Ok(()));
}
