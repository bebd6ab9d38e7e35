//! The remote API scenario (`remote-tls`, Debian 13, cgroup v2): certificates made with openssl
//! in the box as dev (a CA, a server certificate for IP:127.0.0.1, a client certificate) → a
//! group-readable key is refused before anything is written → `install --expose
//! tcp://127.0.0.1:2376 --tls-dir …` → `docker --tlsverify … -H tcp://127.0.0.1:2376 version`
//! answers, through rootlesskit's port forward (which listens on 127.0.0.1 only), and a client
//! without a certificate is refused → `status` shows the exposure answering → `install --expose
//! tcp://0.0.0.0:2375` without TLS is refused and the unit files stay byte-identical →
//! uninstall leaves nothing (and the TLS files, which are the user's). The same install carries
//! `limits.memory-max = "1G"` from the configuration file, which the unit's properties show.
//! Last, a plain loopback socket with `--insecure-loopback` answers without TLS.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};

use super::r#box::{Cgroup, Session};
use super::cmd::indent;
use super::install::{as_dev, require_nothing_left};
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::fmt_duration;

/// The address the scenario exposes.
const ADDRESS: &str = "tcp://127.0.0.1:2376";

/// The remote scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "remote-tls",
        about: "certificates by openssl → install --expose over TLS → docker --tlsverify answers, no cert refused → 0.0.0.0 without TLS refused → uninstall",
        setup: None,
        run: remote_tls,
        cgroup: Some(Cgroup::V2),
        release: Some(Release::Trixie),
    }]
}

/// Makes, in `dir` as dev, what docs/remote.md makes: a CA, the server's key and certificate
/// for IP:127.0.0.1, a client's key and certificate (2048-bit keys, for speed).
fn make_certificates(cx: &Ctx<'_>, dir: &str) -> Result<()> {
    let script = format!(
        "set -e; umask 077; mkdir -p {dir}; cd {dir}; \
         openssl genrsa -out ca-key.pem 2048; \
         openssl req -new -x509 -days 2 -sha256 -key ca-key.pem -subj /CN=e2e-ca -out ca.pem; \
         openssl genrsa -out server-key.pem 2048; \
         openssl req -new -key server-key.pem -subj /CN=box -out server.csr; \
         printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.cnf; \
         openssl x509 -req -days 2 -sha256 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -extfile server.cnf -out server-cert.pem; \
         openssl genrsa -out key.pem 2048; \
         openssl req -new -key key.pem -subj /CN=client -out client.csr; \
         printf 'extendedKeyUsage=clientAuth\\n' > client.cnf; \
         openssl x509 -req -days 2 -sha256 -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -extfile client.cnf -out cert.pem"
    );
    let out = as_dev(cx, &["sh", "-c", &script])?;
    ensure!(
        out.success(),
        "making the certificates failed ({}):\n{}",
        out.describe_exit(),
        indent(&out.stderr)
    );
    Ok(())
}

/// The sha256 of the unit and its drop-in (or the error of `sha256sum` when missing).
fn unit_hashes(cx: &Ctx<'_>) -> Result<String> {
    let dir = format!("{}/.config/systemd/user", cx.dev.home);
    let out = as_dev(
        cx,
        &[
            "sh",
            "-c",
            &format!(
                "sha256sum {dir}/docker.service {dir}/docker.service.d/10-rootless-setup.conf 2>&1"
            ),
        ],
    )?;
    Ok(out.stdout)
}

/// `docker -H tcp://127.0.0.1:2376 --tlsverify` with the given client files and `args`.
fn remote_docker(
    cx: &Ctx<'_>,
    tls: &str,
    client_cert: bool,
    args: &[&str],
) -> Result<crate::util::Captured> {
    let ca = format!("{tls}/ca.pem");
    let cert = format!("{tls}/cert.pem");
    let key = format!("{tls}/key.pem");
    let mut argv = vec!["docker", "-H", ADDRESS, "--tlsverify", "--tlscacert", &ca];
    if client_cert {
        argv.extend(["--tlscert", &cert, "--tlskey", &key]);
    }
    argv.extend_from_slice(args);
    cx.bx
        .user(&cx.dev, Session::Login, &argv)
        .env("DOCKER_CERT_PATH", "/nonexistent")
        .timeout(Duration::from_secs(60))
        .run()
}

fn remote_tls(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let tls = format!("{}/tls", dev.home);
    let started = Instant::now();
    make_certificates(cx, &tls)?;
    cx.note(format!(
        "openssl made a CA, a server and a client certificate in {}",
        fmt_duration(started.elapsed())
    ));
    refuse_a_readable_key(cx, &tls)?;
    let config = as_dev(
        cx,
        &[
            "sh",
            "-c",
            r#"mkdir -p ~/.config/rootless-setup && printf '[limits]\nmemory-max = "1G"\n' > ~/.config/rootless-setup/config.toml"#,
        ],
    )?;
    ensure!(config.success(), "writing config.toml failed");

    let started = Instant::now();
    cx.dev_tool(
        &["install", "--yes", "--expose", ADDRESS, "--tls-dir", &tls],
        0,
    )?;
    cx.note(format!(
        "install --expose {ADDRESS} --tls-dir ~/tls: {}",
        fmt_duration(started.elapsed())
    ));
    let version = remote_docker(
        cx,
        &tls,
        true,
        &["version", "--format", "{{.Server.Version}}"],
    )?;
    ensure!(
        version.success() && !version.stdout.trim().is_empty(),
        "docker --tlsverify -H {ADDRESS} version ({}):\n{}{}",
        version.describe_exit(),
        indent(&version.stdout),
        indent(&version.stderr)
    );
    cx.note(format!(
        "docker --tlsverify -H {ADDRESS} version: server {}",
        version.stdout.trim()
    ));
    let anonymous = remote_docker(
        cx,
        &tls,
        false,
        &["version", "--format", "{{.Server.Version}}"],
    )?;
    ensure!(
        !anonymous.success(),
        "a client without a certificate was served:\n{}",
        indent(&anonymous.stdout)
    );
    cx.note(format!(
        "without a client certificate: refused ({})",
        anonymous.stderr.lines().last().unwrap_or("").trim()
    ));
    memory_limit_applies(cx)?;
    listening_on_loopback_only(cx)?;
    status_shows_it(cx)?;
    refuse_plain_tcp_everywhere(cx)?;

    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    require_nothing_left(cx, &dev, "default")?;
    let kept = as_dev(
        cx,
        &[
            "ls",
            &format!("{tls}/ca.pem"),
            &format!("{tls}/server-key.pem"),
        ],
    )?;
    ensure!(kept.success(), "uninstall removed the user's TLS files");
    let port = cx
        .bx
        .root(&["sh", "-c", "ss -Hltn 'sport = :2376'"])
        .run()?;
    ensure!(
        port.stdout.trim().is_empty(),
        "something still listens on 2376 after uninstall:\n{}",
        indent(&port.stdout)
    );
    insecure_loopback(cx)
}

/// `--expose tcp://127.0.0.1:2375 --insecure-loopback`: a plain socket on loopback answers a
/// client without TLS, status calls it that, uninstall leaves nothing.
fn insecure_loopback(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let plain = "tcp://127.0.0.1:2375";
    cx.dev_tool(
        &["install", "--yes", "--expose", plain, "--insecure-loopback"],
        0,
    )?;
    let version = cx
        .bx
        .user(
            &dev,
            Session::Login,
            &[
                "docker",
                "-H",
                plain,
                "version",
                "--format",
                "{{.Server.Version}}",
            ],
        )
        .timeout(Duration::from_secs(60))
        .run()?;
    ensure!(
        version.success() && !version.stdout.trim().is_empty(),
        "docker -H {plain} version ({}):\n{}",
        version.describe_exit(),
        indent(&version.stderr)
    );
    let out = cx.dev_tool(&["status", "--format", "json"], 0)?;
    let st: serde_json::Value = serde_json::from_str(&out.stdout)
        .with_context(|| format!("status printed no JSON:\n{}", out.stdout))?;
    ensure!(
        st["remote"]["security"] == "insecure-loopback" && st["remote"]["answers"] == true,
        "status remote: {}",
        st["remote"]
    );
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    require_nothing_left(cx, &dev, "default")?;
    cx.note(format!(
        "install --expose {plain} --insecure-loopback: docker -H {plain} answers without TLS, status says insecure-loopback; uninstall leaves nothing"
    ));
    Ok(())
}

/// A copy of the directory whose key is mode 0640: refused with the file named, before
/// anything is written.
fn refuse_a_readable_key(cx: &mut Ctx<'_>, tls: &str) -> Result<()> {
    let loose = format!("{tls}-loose");
    let copy = as_dev(
        cx,
        &[
            "sh",
            "-c",
            &format!("cp -r {tls} {loose} && chmod 640 {loose}/server-key.pem"),
        ],
    )?;
    ensure!(copy.success(), "copying the TLS directory failed");
    let out = cx.dev_tool(
        &["install", "--yes", "--expose", ADDRESS, "--tls-dir", &loose],
        2,
    )?;
    ensure!(
        out.stderr
            .contains(&format!("error: {loose}/server-key.pem has mode 0640"))
            && out
                .stderr
                .contains(&format!("chmod 600 {loose}/server-key.pem")),
        "the refusal does not name the key and chmod:\n{}",
        indent(&out.stderr)
    );
    ensure!(
        unit_hashes(cx)?.contains("No such file"),
        "a refused install wrote the unit"
    );
    cx.note("a group-readable server key: refused (exit 2), nothing written");
    Ok(())
}

/// `limits.memory-max = "1G"` is the unit's `MemoryMax=`, and the engine runs with it.
fn memory_limit_applies(cx: &mut Ctx<'_>) -> Result<()> {
    let show = as_dev(
        cx,
        &["systemctl", "--user", "show", "docker", "-p", "MemoryMax"],
    )?;
    ensure!(
        show.stdout.trim() == "MemoryMax=1073741824",
        "systemctl --user show docker -p MemoryMax: {:?}",
        show.stdout.trim()
    );
    cx.note("limits.memory-max = \"1G\": systemctl --user show docker -p MemoryMax says MemoryMax=1073741824");
    Ok(())
}

/// rootlesskit's builtin port driver listens on the host's 127.0.0.1:2376 only.
fn listening_on_loopback_only(cx: &mut Ctx<'_>) -> Result<()> {
    let ss = cx
        .bx
        .root(&["sh", "-c", "ss -Hltnp 'sport = :2376'"])
        .run()?;
    let listeners: Vec<&str> = ss.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(
        !listeners.is_empty() && listeners.iter().all(|l| l.contains("127.0.0.1:2376")),
        "listeners on 2376 in the host's namespace:\n{}",
        indent(&ss.stdout)
    );
    cx.note(format!(
        "on the host: {}",
        listeners
            .iter()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    Ok(())
}

/// `status` (JSON and human) shows the exposure, with TLS, answering.
fn status_shows_it(cx: &mut Ctx<'_>) -> Result<()> {
    let out = cx.dev_tool(&["status", "--format", "json"], 0)?;
    let st: serde_json::Value = serde_json::from_str(&out.stdout)
        .with_context(|| format!("status printed no JSON:\n{}", out.stdout))?;
    ensure!(
        st["remote"]["address"] == ADDRESS
            && st["remote"]["security"] == "tls"
            && st["remote"]["answers"] == true,
        "status remote: {}",
        st["remote"]
    );
    let human = cx.dev_tool(&["status", "--color", "never"], 0)?;
    let row = format!("{ADDRESS} (TLS) answers");
    ensure!(
        human.stdout.contains(&row),
        "status does not show `{row}`:\n{}",
        indent(&human.stdout)
    );
    cx.note(format!("status: remote {row}"));
    Ok(())
}

/// `install --expose tcp://0.0.0.0:2375` without TLS: refused (exit 2), the files untouched.
fn refuse_plain_tcp_everywhere(cx: &mut Ctx<'_>) -> Result<()> {
    let before = unit_hashes(cx)?;
    let out = cx.dev_tool(&["install", "--yes", "--expose", "tcp://0.0.0.0:2375"], 2)?;
    ensure!(
        out.stderr.contains("`tcp://0.0.0.0:2375` without TLS"),
        "the refusal does not say why:\n{}",
        indent(&out.stderr)
    );
    ensure!(
        unit_hashes(cx)? == before,
        "the refused install changed the unit files:\n{before}"
    );
    cx.note("install --expose tcp://0.0.0.0:2375 without TLS: refused (exit 2), unit files byte-identical");
    Ok(())
}
