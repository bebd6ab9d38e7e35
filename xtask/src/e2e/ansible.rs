//! The Ansible scenarios: `examples/ansible/site.yml` run as root in the box with
//! `ansible-playbook -i localhost, -c local`, for two users the setup hook created (alice and bob,
//! `useradd -m -s /bin/bash`, no linger).
//!
//! - `ansible-fleet` (Debian 13, cgroup v2): the role against a stand-in for `rootless-setup`
//!   (`fake-rootless-setup.sh`, which prints issue 11's JSON result and records its calls): the
//!   first run installs both users and writes the configuration (recap `changed=3`) → the second
//!   run reports `changed=0` → `{name: bob, state: absent}` uninstalls bob's engine only
//!   (`changed=1`) → a user the tool stops at fails the play (`failed=1`, exit 2).
//! - `ansible-fleet-real` (listed once [`REAL_BINARY_READY`] is true): the same runs against the
//!   real binary, found by the role's default in root's `PATH` (`install --user`, `--format
//!   json`), with bob lacking subordinate ids: both users run a container through their
//!   `rootless` context → the second run reports `changed=0` → bob's engine is gone and alice's
//!   still runs a container.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};

use super::r#box::{BINARY_IN_BOX, BoxUser, Cgroup, NspawnBox, Session};
use super::cmd::indent;
use super::install::IMAGE_TAR;
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::{self, Captured, fmt_duration};

/// Whether `ansible-fleet-real` is listed: true once `rootless-setup` has `--user NAME` for root
/// and `--format json` results for install and uninstall (issue 11, parts 1 and 2).
pub const REAL_BINARY_READY: bool = true;

/// The Ansible scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    let mut scenarios = vec![Scenario {
        name: "ansible-fleet",
        about: "site.yml for alice and bob with a stand-in tool: changed, changed=0, bob absent, a failure",
        setup: Some(|bx| setup(bx, &Fleet::FAKE)),
        run: |cx| fleet(cx, &Fleet::FAKE),
        cgroup: Some(Cgroup::V2),
        release: Some(Release::Trixie),
    }];
    if REAL_BINARY_READY {
        scenarios.push(real());
    }
    scenarios
}

/// `ansible-fleet-real`, listed by [`scenarios`] once [`REAL_BINARY_READY`].
fn real() -> Scenario {
    Scenario {
        name: "ansible-fleet-real",
        about: "site.yml for alice and bob (no subids): both run containers, changed=0, bob absent",
        setup: Some(|bx| setup(bx, &Fleet::REAL)),
        run: |cx| fleet(cx, &Fleet::REAL),
        cgroup: Some(Cgroup::V2),
        release: Some(Release::Trixie),
    }
}

/// What differs between the stand-in run and the real one.
#[derive(Debug)]
struct Fleet {
    /// `rootless_setup_binary`, the program the role runs (`None`: the role's default,
    /// `rootless-setup` from root's `PATH`, which holds the box's `/usr/local/bin`).
    binary: Option<&'static str>,
    /// Whether that is the stand-in (its calls are checked) or the real tool (containers are run).
    fake: bool,
}

impl Fleet {
    const FAKE: Fleet = Fleet {
        binary: Some("/opt/e2e/fake-rootless-setup"),
        fake: true,
    };
    const REAL: Fleet = Fleet {
        binary: None,
        fake: false,
    };
}

/// Where the playbook and role are copied in the box.
const PLAYBOOK_DIR: &str = "/opt/e2e/ansible";
/// The stand-in's record of its calls, one line of arguments each.
const FAKE_CALLS: &str = "/var/lib/fake-rootless-setup/calls";
/// The configuration the role is given as text (and writes to its default path).
const CONFIG_TEXT: &str = "start-timeout = 120\n";
/// Where the role writes it.
const CONFIG_PATH: &str = "/etc/rootless-setup/ansible.toml";

/// Before boot: alice and bob (bob without subordinate ids for the real tool, which must add
/// them), the playbook, the image, and the stand-in with its user `broken`.
fn setup(bx: &NspawnBox, fleet: &Fleet) -> Result<()> {
    bx.add_user("alice")?;
    bx.add_user("bob")?;
    if fleet.fake {
        bx.add_user("broken")?;
    } else {
        bx.strip_subids("bob")?;
    }
    let examples = util::project_root().join("examples/ansible");
    let to = bx.path(PLAYBOOK_DIR);
    std::fs::create_dir_all(to.parent().context("playbook dir has a parent")?)?;
    util::run_quiet(Command::new("cp").arg("-r").arg(&examples).arg(&to))?;
    bx.note(&format!("copied {} to {PLAYBOOK_DIR}", examples.display()));
    bx.write_busybox_image(IMAGE_TAR)?;
    if let Some(binary) = fleet.binary {
        let fake = util::project_root().join("xtask/src/e2e/fake-rootless-setup.sh");
        bx.install_file(&fake, binary, 0o755)?;
    }
    Ok(())
}

/// The scenario: install both, again (changed=0), bob absent, and (stand-in only) a failure.
fn fleet(cx: &mut Ctx<'_>, fleet: &Fleet) -> Result<()> {
    let alice = cx.bx.lookup_user("alice")?;
    let bob = cx.bx.lookup_user("bob")?;
    let both = serde_json::json!(["alice", {"name": "bob", "engine": "docker"}]);

    let first = playbook(cx, fleet, &both, 0)?;
    // The configuration's directory and file, and the install task (a looped task counts once).
    first.require(3, 0)?;
    if fleet.fake {
        require_calls(cx, &[install_call("alice"), install_call("bob")])?;
        let config = cx.bx.root(&["cat", CONFIG_PATH]).success()?;
        ensure!(
            config.stdout == CONFIG_TEXT,
            "{CONFIG_PATH} holds {:?}, want {CONFIG_TEXT:?}",
            config.stdout
        );
    } else {
        for user in [&alice, &bob] {
            run_container(cx, user)?;
        }
    }

    // The role asks the tool again each run; the tool's `changed: false` makes it changed=0.
    playbook(cx, fleet, &both, 0)?.require(0, 0)?;
    if fleet.fake {
        require_calls(cx, &[install_call("alice"), install_call("bob")])?;
    }

    let bob_absent = serde_json::json!(["alice", {"name": "bob", "state": "absent"}]);
    playbook(cx, fleet, &bob_absent, 0)?.require(1, 0)?;
    if fleet.fake {
        require_calls(
            cx,
            &[
                install_call("alice"),
                "uninstall --user bob --yes --format json --engine docker".to_owned(),
            ],
        )?;
        // A user the tool stops at (the stand-in's `broken`): the play fails on that item.
        let broken = serde_json::json!(["alice", "broken"]);
        playbook(cx, fleet, &broken, 2)?.require(0, 1)?;
    } else {
        engine_gone(cx, &bob)?;
        run_container(cx, &alice)?;
    }
    Ok(())
}

/// The counts of a `PLAY RECAP` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Recap {
    ok: u32,
    changed: u32,
    failed: u32,
    unreachable: u32,
}

impl Recap {
    /// Reads the recap line of host `host` from `ansible-playbook`'s output.
    fn parse(output: &str, host: &str) -> Result<Recap> {
        let line = output
            .split_once("PLAY RECAP")
            .map(|(_, rest)| rest)
            .and_then(|rest| {
                rest.lines()
                    .find(|l| l.split_whitespace().next() == Some(host))
            })
            .with_context(|| format!("no PLAY RECAP line for {host}"))?;
        let mut recap = Recap::default();
        let mut seen = 0;
        for (key, value) in line.split_whitespace().filter_map(|w| w.split_once('=')) {
            let value: u32 = value
                .parse()
                .with_context(|| format!("recap {key}={value:?} in {line:?}"))?;
            let slot = match key {
                "ok" => &mut recap.ok,
                "changed" => &mut recap.changed,
                "failed" => &mut recap.failed,
                "unreachable" => &mut recap.unreachable,
                _ => continue,
            };
            *slot = value;
            seen += 1;
        }
        ensure!(
            seen == 4,
            "recap line {line:?} lacks ok/changed/failed/unreachable"
        );
        Ok(recap)
    }

    /// Requires exactly `changed` changed and `failed` failed tasks, and nothing unreachable.
    fn require(self, changed: u32, failed: u32) -> Result<()> {
        ensure!(
            (self.changed, self.failed, self.unreachable) == (changed, failed, 0),
            "recap says changed={} failed={} unreachable={}, want changed={changed} failed={failed} unreachable=0",
            self.changed,
            self.failed,
            self.unreachable
        );
        Ok(())
    }
}

/// `ansible-playbook -i localhost, -c local site.yml` as root with `rootless_users` set to
/// `users`; requires exit `want` and notes the recap line.
fn playbook(
    cx: &mut Ctx<'_>,
    fleet: &Fleet,
    users: &serde_json::Value,
    want: i32,
) -> Result<Recap> {
    let mut vars = serde_json::json!({
        "rootless_users": users,
        "rootless_setup_config": CONFIG_TEXT,
    });
    if let Some(binary) = fleet.binary {
        vars["rootless_setup_binary"] = binary.into();
    }
    let site = format!("{PLAYBOOK_DIR}/site.yml");
    let started = Instant::now();
    let out = cx
        .bx
        .root(&[
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            &site,
            "-e",
            &vars.to_string(),
        ])
        .env("LANG", "C.UTF-8")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORCE_COLOR", "0")
        .timeout(Duration::from_secs(600))
        .run()?;
    ensure!(
        out.code == Some(want),
        "ansible-playbook for {users}: {}, want exit {want}\n{}{}",
        out.describe_exit(),
        indent(&util::tail(&out.stdout, 40)),
        indent(&util::tail(&out.stderr, 20))
    );
    let recap = Recap::parse(&out.stdout, "localhost")?;
    cx.note(format!(
        "{users}: ok={} changed={} failed={} in {}",
        recap.ok,
        recap.changed,
        recap.failed,
        fmt_duration(started.elapsed())
    ));
    Ok(recap)
}

/// The arguments the role gives the tool to install docker for `user` with the configuration.
fn install_call(user: &str) -> String {
    format!("install --user {user} --yes --format json --engine docker --config {CONFIG_PATH}")
}

/// The stand-in's recorded calls since the last look are exactly `want` (and are cleared).
fn require_calls(cx: &Ctx<'_>, want: &[String]) -> Result<()> {
    let calls = cx
        .bx
        .root(&["sh", "-c", &format!("cat {FAKE_CALLS} && : >{FAKE_CALLS}")])
        .success()?;
    let got: Vec<&str> = calls.stdout.lines().collect();
    ensure!(
        got == want,
        "the role called the tool with:\n{}want:\n{}",
        indent(&calls.stdout),
        indent(&want.join("\n"))
    );
    Ok(())
}

/// `docker ARGS` as `user` in a login environment, through the current context.
fn docker_as(cx: &Ctx<'_>, user: &BoxUser, args: &[&str]) -> Result<Captured> {
    let mut argv = vec!["docker"];
    argv.extend_from_slice(args);
    cx.bx
        .user(user, Session::Login, &argv)
        .timeout(Duration::from_secs(120))
        .run()
}

/// `user` imports the busybox image and runs a container through its `rootless` context.
fn run_container(cx: &mut Ctx<'_>, user: &BoxUser) -> Result<()> {
    let import = docker_as(cx, user, &["import", IMAGE_TAR, "e2e/busybox:latest"])?;
    ensure!(
        import.success(),
        "docker import as {}: {}\n{}",
        user.name,
        import.describe_exit(),
        indent(&import.stderr)
    );
    let hello = format!("hello-from-{}", user.name);
    let started = Instant::now();
    let run = docker_as(cx, user, &["run", "--rm", "e2e/busybox", "echo", &hello])?;
    ensure!(
        run.success() && run.stdout.trim() == hello,
        "docker run as {}: {}, printed {:?}\n{}",
        user.name,
        run.describe_exit(),
        run.stdout,
        indent(&run.stderr)
    );
    cx.note(format!(
        "{} ran a container in {}",
        user.name,
        fmt_duration(started.elapsed())
    ));
    Ok(())
}

/// `user`'s engine is gone: no daemon process, no unit file, status says not installed (3).
fn engine_gone(cx: &mut Ctx<'_>, user: &BoxUser) -> Result<()> {
    let procs = cx
        .bx
        .root(&[
            "sh",
            "-c",
            &format!("pgrep -a -u {} 'dockerd|rootlesskit'; true", user.uid),
        ])
        .run()?;
    ensure!(
        procs.stdout.trim().is_empty(),
        "{}'s daemon still runs:\n{}",
        user.name,
        indent(&procs.stdout)
    );
    let unit = format!("{}/.config/systemd/user/docker.service", user.home);
    ensure!(
        !cx.bx.root(&["test", "-e", &unit]).run()?.success(),
        "{unit} is still there"
    );
    let status = cx
        .bx
        .root(&[
            BINARY_IN_BOX,
            "status",
            "--user",
            &user.name,
            "--format",
            "json",
        ])
        .timeout(Duration::from_secs(120))
        .run()?;
    if status.code != Some(3) {
        bail!(
            "status --user {}: {}, want exit 3 (not installed)\n{}",
            user.name,
            status.describe_exit(),
            indent(&status.stdout)
        );
    }
    cx.note(format!("{}'s engine is gone; status exits 3", user.name));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
TASK [rootless_setup : Install the rootless engines] ***
changed: [localhost] => (item=alice (docker))

PLAY RECAP *********************************************************************
localhost                  : ok=4    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
";

    #[test]
    fn recap_is_read_for_the_host() {
        let recap = Recap::parse(OUTPUT, "localhost").expect("a recap");
        assert_eq!(
            recap,
            Recap {
                ok: 4,
                changed: 2,
                failed: 0,
                unreachable: 0
            }
        );
        assert!(recap.require(2, 0).is_ok());
        assert!(recap.require(0, 0).is_err());
        assert!(Recap::parse(OUTPUT, "other").is_err());
    }

    #[test]
    fn a_recap_without_its_counts_is_an_error() {
        let mangled = OUTPUT.replace("changed=2", "changed=two");
        assert!(Recap::parse(&mangled, "localhost").is_err());
        let short = "PLAY RECAP\nlocalhost : ok=1 changed=0\n";
        assert!(Recap::parse(short, "localhost").is_err());
        assert!(Recap::parse("localhost : ok=1", "localhost").is_err());
    }

    #[test]
    fn the_real_variant_waits_for_the_tool() {
        let names: Vec<&str> = scenarios().iter().map(|s| s.name).collect();
        assert_eq!(names.contains(&"ansible-fleet-real"), REAL_BINARY_READY);
        assert_eq!(real().name, "ansible-fleet-real");
    }
}
