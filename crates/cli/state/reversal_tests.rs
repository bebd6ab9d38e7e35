//! Tests of the one reversal routine: hostile records are left alone, edited files are moved
//! aside, every record field is honoured, a layout-1 record still uninstalls.

use std::path::PathBuf;

use rootless_setup_unit::header::with_header;

use super::*;
use crate::docker_context::ContextInfo;
use crate::state::ops_fake::{Fake, ours};
use crate::state::{State, Step};

struct Home {
    _dir: tempfile::TempDir,
    paths: Paths,
    fake: Fake,
}

fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".config/systemd/user/docker.service.d")).unwrap();
    std::fs::create_dir_all(home.join("Documents")).unwrap();
    std::fs::write(home.join(".bashrc"), "alias ll='ls -l'\n").unwrap();
    std::fs::write(home.join("Documents/thesis.txt"), "years of work\n").unwrap();
    Home {
        paths: Paths::under(&home),
        _dir: dir,
        fake: Fake::new(),
    }
}

fn done(steps: Vec<Step>) -> Vec<Entry> {
    steps
        .into_iter()
        .map(|step| Entry { step, done: true })
        .collect()
}

#[test]
fn a_hostile_record_touches_nothing_outside_the_rules() {
    // The reproduction: a record listing ~/.bashrc, /etc/passwd and ~/Documents, a foreign
    // unit and a context that is not ours.
    let h = home();
    let bashrc = h.paths.home.join(".bashrc");
    let journal = done(vec![
        Step::Dir {
            path: h.paths.home.join("Documents"),
        },
        Step::Dir {
            path: h.paths.home.clone(),
        },
        Step::File {
            path: bashrc.clone(),
            sha256: digest("alias ll='ls -l'\n"),
            previous: None,
        },
        Step::File {
            path: "/etc/passwd".into(),
            sha256: "x".into(),
            previous: Some(Previous::Content {
                text: "root::0:0::/:/bin/sh\n".into(),
            }),
        },
        Step::File {
            path: h.paths.unit_dir.join("../../../.bashrc"),
            sha256: "x".into(),
            previous: None,
        },
        Step::Start {
            unit: "dbus.service".into(),
            was_active: true,
        },
        Step::Enable {
            unit: "ssh-agent.service".into(),
        },
        Step::Context {
            name: "work".into(),
            endpoint: "ssh://w".into(),
        },
        Step::Switch {
            from: "rootless".into(),
            to: "work".into(),
        },
    ]);
    h.fake.seen.borrow_mut().contexts.insert(
        "work".into(),
        ContextInfo {
            endpoint: "ssh://w".into(),
            description: String::new(),
        },
    );
    h.fake.seen.borrow_mut().current = "work".into();
    let preview = preview(&journal, Goal::Uninstall, &h.paths);
    let out = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    let outside = "because it is not below ~/.config/systemd/user, ~/.docker/contexts or ~/.config/containers/containers.conf.d, where install writes";
    assert_eq!(
        out.lines,
        [
            Line::LeftAlone(
                "docker context switch to work because install only makes rootless current".into()
            ),
            Line::LeftAlone("docker context work because install only creates rootless".into()),
            Line::LeftAlone(
                "unit ssh-agent.service because install only manages docker.service".into()
            ),
            Line::LeftAlone("unit dbus.service because install only manages docker.service".into()),
            Line::LeftAlone(
                "~/.config/systemd/user/../../../.bashrc because it is not a plain absolute path"
                    .into()
            ),
            Line::LeftAlone(format!("/etc/passwd {outside}")),
            Line::LeftAlone(format!("~/.bashrc {outside}")),
            Line::LeftAlone("~/ because it is not a directory install creates".into()),
            Line::LeftAlone("~/Documents because it is not a directory install creates".into()),
        ]
    );
    assert_eq!(
        preview[..3],
        [
            "left alone: docker context switch to work because install only makes rootless current",
            "left alone: docker context work because install only creates rootless",
            "left alone: unit ssh-agent.service because install only manages docker.service",
        ]
    );
    assert_eq!(preview[5], format!("left alone: /etc/passwd {outside}"));
    assert_eq!(preview[6], format!("left alone: ~/.bashrc {outside}"));
    assert_eq!(preview[7], "reload the systemd user manager");
    assert_eq!(preview.len(), 8, "{preview:?}");
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        "alias ll='ls -l'\n"
    );
    assert!(h.paths.home.join("Documents/thesis.txt").exists());
    assert!(h.fake.calls.borrow().iter().all(|c| !c.starts_with("stop")
        && !c.starts_with("disable")
        && !c.starts_with("remove")
        && !c.starts_with("use")));
    assert_eq!(h.fake.state().current, "work");
}

#[test]
fn a_file_edited_since_install_is_moved_aside_not_deleted() {
    let h = home();
    let unit = h.paths.unit_file();
    let written = with_header("[Unit]\nDescription=ours\n");
    std::fs::write(&unit, written.replace("ours", "mine")).unwrap();
    let journal = done(vec![Step::File {
        path: unit.clone(),
        sha256: digest(&written),
        previous: None,
    }]);
    assert_eq!(
        preview(&journal, Goal::Uninstall, &h.paths)[0],
        "move ~/.config/systemd/user/docker.service aside (edited since install; it is not deleted)"
    );
    let out = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    let Line::Done(line) = &out.lines[0] else {
        panic!("{:?}", out.lines)
    };
    let aside: PathBuf = std::fs::read_dir(&h.paths.unit_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(".rootless-setup-edited-"))
        .unwrap();
    assert_eq!(
        *line,
        format!(
            "moved ~/.config/systemd/user/docker.service aside to {} (edited since install)",
            h.paths.short(&aside)
        )
    );
    assert_eq!(
        std::fs::read_to_string(&aside).unwrap(),
        written.replace("ours", "mine")
    );
    assert!(!unit.exists());
    assert_eq!(
        out.lines[1],
        Line::Done("reloaded the systemd user manager".into())
    );
    assert_eq!(
        edited_name(&unit, 7),
        h.paths
            .unit_dir
            .join("docker.service.rootless-setup-edited-7")
    );
}

#[test]
fn an_edited_file_over_a_foreign_one_is_moved_aside_and_the_foreign_one_put_back() {
    let h = home();
    let unit = h.paths.unit_file();
    std::fs::write(&unit, "edited\n").unwrap();
    let journal = done(vec![Step::File {
        path: unit.clone(),
        sha256: digest("written\n"),
        previous: Some(Previous::Content {
            text: "foreign\n".into(),
        }),
    }]);
    assert_eq!(
        preview(&journal, Goal::Uninstall, &h.paths)[0],
        "move ~/.config/systemd/user/docker.service aside (edited since install), then restore the earlier one"
    );
    let out = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    assert_eq!(out.lines.len(), 3, "{:?}", out.lines);
    assert_eq!(
        out.lines[1],
        Line::Done("restored the earlier ~/.config/systemd/user/docker.service".into())
    );
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), "foreign\n");
    // Replaying again changes nothing.
    let again = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    assert_eq!(again.lines, []);
}

#[test]
fn our_earlier_rendering_is_removed_by_uninstall_but_put_back_by_a_rollback() {
    let h = home();
    let unit = h.paths.unit_file();
    let older = with_header("[Unit]\nDescription=older\n");
    let newer = with_header("[Unit]\nDescription=newer\n");
    let journal = done(vec![Step::File {
        path: unit.clone(),
        sha256: digest(&newer),
        previous: Some(Previous::Ours {
            sha256: digest(&older),
            text: Some(older.clone()),
        }),
    }]);
    std::fs::write(&unit, &newer).unwrap();
    let out = replay(&journal, Goal::Rollback, &h.fake.world(), &h.paths);
    assert_eq!(
        out.lines[0],
        Line::Done("restored the earlier ~/.config/systemd/user/docker.service".into())
    );
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), older);
    // Uninstall: the earlier rendering (no text in a layout-1 record) is ours, so removed.
    for text in [Some(older.clone()), None] {
        std::fs::write(&unit, &older).unwrap();
        let journal = done(vec![Step::File {
            path: unit.clone(),
            sha256: digest(&newer),
            previous: Some(Previous::Ours {
                sha256: digest(&older),
                text,
            }),
        }]);
        let out = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
        assert_eq!(
            out.lines[0],
            Line::Done("removed ~/.config/systemd/user/docker.service".into())
        );
        assert!(!unit.exists());
    }
}

#[test]
fn every_field_is_honoured_and_a_second_replay_is_a_no_op() {
    let h = home();
    let endpoint = "unix:///run/user/1000/docker.sock";
    {
        let mut s = h.fake.seen.borrow_mut();
        s.enabled = true;
        s.active = true;
        s.linger = true;
        s.current = "rootless".into();
        s.contexts.insert("rootless".into(), ours(endpoint));
        s.contexts.insert(
            "work".into(),
            ContextInfo {
                endpoint: "ssh://w".into(),
                description: String::new(),
            },
        );
    }
    let drop_in = h.paths.drop_in().unwrap();
    let text = with_header("[Service]\n");
    std::fs::write(&drop_in, &text).unwrap();
    let journal = done(vec![
        Step::Dir {
            path: h.paths.unit_dir.join("docker.service.d"),
        },
        Step::File {
            path: drop_in.clone(),
            sha256: digest(&text),
            previous: None,
        },
        Step::Enable {
            unit: "docker.service".into(),
        },
        Step::Start {
            unit: "docker.service".into(),
            was_active: false,
        },
        Step::Context {
            name: "rootless".into(),
            endpoint: endpoint.into(),
        },
        Step::Switch {
            from: "work".into(),
            to: "rootless".into(),
        },
        Step::Linger,
    ]);
    let mut shown = journal.clone();
    shown[3].step = Step::Start {
        unit: "docker.service".into(),
        was_active: true,
    };
    assert_eq!(
        preview(&shown, Goal::Uninstall, &h.paths),
        [
            "turn linger off for dev (install turned it on)",
            "make work the current docker context again (if rootless still is; default if work is gone)",
            "remove docker context rootless (if it still is the one install made)",
            "stop docker.service",
            "disable docker.service",
            "remove ~/.config/systemd/user/docker.service.d/10-rootless-setup.conf",
            "reload the systemd user manager",
            "start the previous docker.service again (it ran before install)",
        ]
    );
    let out = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    assert_eq!(
        out.lines,
        [
            Line::Done("turned linger off for dev".into()),
            Line::Done("made work the current docker context again".into()),
            Line::Done("removed docker context rootless".into()),
            Line::Done("stopped docker.service".into()),
            Line::Done("disabled docker.service".into()),
            Line::Done(
                "removed ~/.config/systemd/user/docker.service.d/10-rootless-setup.conf".into()
            ),
            Line::Done("reloaded the systemd user manager".into()),
        ]
    );
    assert!(out.stopped);
    assert!(!h.paths.unit_dir.join("docker.service.d").exists());
    assert!(h.paths.unit_dir.exists(), "not recorded as created: kept");
    let seen = h.fake.state();
    assert!(!seen.enabled && !seen.active && !seen.linger);
    assert_eq!(seen.current, "work");
    assert_eq!(seen.contexts.keys().collect::<Vec<_>>(), ["work"]);
    // Again: only what cannot tell whether it already happened runs again, harmlessly.
    h.fake.calls.borrow_mut().clear();
    let again = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    assert_eq!(
        again.lines,
        [
            Line::Done("turned linger off for dev".into()),
            Line::Done("stopped docker.service".into()),
            Line::Done("reloaded the systemd user manager".into()),
        ]
    );
}

#[test]
fn a_context_repointed_by_the_user_or_a_switch_away_is_left_alone() {
    let h = home();
    {
        let mut s = h.fake.seen.borrow_mut();
        s.current = "mine".into();
        s.contexts.insert(
            "rootless".into(),
            ContextInfo {
                endpoint: "ssh://elsewhere".into(),
                description: "my own now".into(),
            },
        );
    }
    let journal = done(vec![
        Step::Context {
            name: "rootless".into(),
            endpoint: "unix:///run/user/1000/docker.sock".into(),
        },
        Step::Switch {
            from: "work".into(),
            to: "rootless".into(),
        },
    ]);
    let out = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    assert_eq!(
        out.lines,
        [Line::LeftAlone(
            "docker context rootless because it now points at ssh://elsewhere, not where install made it point"
                .into()
        )]
    );
    assert_eq!(h.fake.state().current, "mine");
}

#[test]
fn failures_are_reported_and_the_other_steps_still_run() {
    let h = home();
    h.fake.seen.borrow_mut().active = true;
    *h.fake.fail.borrow_mut() = Some("stop");
    let journal = done(vec![
        Step::Enable {
            unit: "docker.service".into(),
        },
        Step::Start {
            unit: "docker.service".into(),
            was_active: true,
        },
        Step::Linger,
    ]);
    let mut world = h.fake.world();
    world.login = None;
    let out = replay(&journal, Goal::Uninstall, &world, &h.paths);
    assert!(!out.stopped);
    assert_eq!(
        out.lines,
        [
            Line::Failed(
                "turned linger off for dev: logind could not be reached (run `sudo loginctl disable-linger dev`)"
                    .into()
            ),
            Line::Failed(
                "stop docker.service: Fake of docker.service on the bus at fake failed: stop failed on purpose (org.example.Failed)"
                    .into()
            ),
            Line::Done("reloaded the systemd user manager".into()),
            Line::Done("started the previous docker.service again".into()),
        ]
    );
    // Without the user manager: the enablement link is removed by hand, nothing stopped.
    let link = h.paths.unit_dir.join("default.target.wants/docker.service");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(h.paths.unit_file(), &link).unwrap();
    let mut world = h.fake.world();
    world.manager = None;
    let out = replay(&journal[..2], Goal::Uninstall, &world, &h.paths);
    assert!(!out.stopped);
    assert!(
        matches!(&out.lines[0], Line::Failed(l) if l.starts_with("stop docker.service: the user manager cannot be reached"))
    );
    assert_eq!(out.lines[1], Line::Done("disabled docker.service".into()));
    assert!(std::fs::symlink_metadata(&link).is_err());
}

#[test]
fn a_layout_1_record_still_uninstalls() {
    let h = home();
    let unit = h.paths.unit_file();
    let text = with_header("[Unit]\n");
    std::fs::write(&unit, &text).unwrap();
    let v1 = format!(
        r#"{{"version": 1, "tool_version": "0.1.0", "engine": "docker", "unit": "docker.service",
        "files": [{{"path": "{}", "sha256": "{}", "previous": null}}],
        "dirs": [], "enabled_by_us": true,
        "context": {{"name": "rootless", "endpoint": "unix:///run/user/1000/docker.sock", "created": true}},
        "previous_context": "default", "linger_enabled_by_us": false,
        "data_root": "{}/.local/share/docker", "socket": "/run/user/1000/docker.sock",
        "installed_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}}"#,
        unit.display(),
        digest(&text),
        h.paths.home.display()
    );
    let record = State::parse(&v1).unwrap();
    {
        let mut s = h.fake.seen.borrow_mut();
        s.enabled = true;
        s.active = true;
        s.current = "rootless".into();
        s.contexts
            .insert("rootless".into(), ours("unix:///run/user/1000/docker.sock"));
    }
    let out = replay(&record.journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    assert_eq!(
        out.lines,
        [
            Line::Done("made default the current docker context again".into()),
            Line::Done("removed docker context rootless".into()),
            Line::Done("stopped docker.service".into()),
            Line::Done("disabled docker.service".into()),
            Line::Done("removed ~/.config/systemd/user/docker.service".into()),
            Line::Done("reloaded the systemd user manager".into()),
        ]
    );
    assert!(!unit.exists());
}

#[test]
fn a_stop_job_that_does_not_end_done_is_a_failure() {
    let h = home();
    h.fake.seen.borrow_mut().active = true;
    *h.fake.stop_result.borrow_mut() = rootless_setup_systemd::JobResult::Timeout;
    let journal = done(vec![Step::Start {
        unit: "docker.service".into(),
        was_active: false,
    }]);
    let out = replay(&journal, Goal::Uninstall, &h.fake.world(), &h.paths);
    assert!(!out.stopped);
    assert_eq!(
        out.lines,
        [Line::Failed(
            "stop docker.service: the stop job ended `timeout`".into()
        )]
    );
}

#[test]
fn without_the_manager_only_an_enablement_symlink_is_removed() {
    let h = home();
    let link = h.paths.unit_dir.join("default.target.wants/docker.service");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::fs::write(&link, "not a link\n").unwrap();
    let journal = done(vec![Step::Enable {
        unit: "docker.service".into(),
    }]);
    let mut world = h.fake.world();
    world.manager = None;
    let out = replay(&journal, Goal::Uninstall, &world, &h.paths);
    assert_eq!(out.lines, []);
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "not a link\n");
}
