//! Tests of the install record: layout, the v1 reader, the trust rules of [`State::load`],
//! journaling and compaction.

use std::os::unix::fs::PermissionsExt as _;

use super::*;

const UNIT: &str = "/home/dev/.config/systemd/user/docker.service";
const DROP_IN: &str = "/home/dev/.config/systemd/user/docker.service.d/10-rootless-setup.conf";

fn me() -> u32 {
    nix::unistd::getuid().as_raw()
}

pub(crate) fn sample() -> State {
    let mut s = State::new(
        rootless_setup_core::Engine::Docker,
        "/home/dev/.local/share/docker".into(),
        "/run/user/1000/docker.sock".into(),
    );
    s.installed_at = "2025-01-01T00:00:00Z".into();
    s.updated_at = "2025-01-01T00:00:00Z".into();
    for step in [
        Step::Dir {
            path: "/home/dev/.config/systemd/user/docker.service.d".into(),
        },
        Step::File {
            path: UNIT.into(),
            sha256: "aa".into(),
            previous: Some(Previous::Content {
                text: "[Unit]\nDescription=old\n".into(),
            }),
        },
        Step::File {
            path: DROP_IN.into(),
            sha256: "bb".into(),
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
            endpoint: "unix:///run/user/1000/docker.sock".into(),
        },
        Step::Switch {
            from: "work".into(),
            to: "rootless".into(),
        },
        Step::Linger,
    ] {
        let i = s.begin(step);
        s.finish(i);
    }
    s
}

fn write_record(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let p = dir.join("state.json");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

#[test]
fn a_record_of_another_engine_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = path(None, dir.path(), rootless_setup_core::Engine::Podman);
    assert_eq!(
        p,
        dir.path().join(".local/state/rootless-setup/podman.json")
    );
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    // Docker's record copied over Podman's: its entries are Docker's.
    sample().save(&p).unwrap();
    let err = State::load(&p, me(), rootless_setup_core::Engine::Podman).unwrap_err();
    assert_eq!(
        err.problem.to_string(),
        "is for the engine \"docker\", but this file holds the podman install"
    );
    let mut ours = State::new(
        rootless_setup_core::Engine::Podman,
        "/d".into(),
        "/s".into(),
    );
    ours.save(&p).unwrap();
    assert_eq!(
        State::load(&p, me(), rootless_setup_core::Engine::Podman).unwrap(),
        Some(ours)
    );
}

#[test]
fn round_trips_through_the_file_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let p = path(None, dir.path(), rootless_setup_core::Engine::Docker);
    assert_eq!(p, dir.path().join(".local/state/rootless-setup/state.json"));
    assert_eq!(
        State::load(&p, me(), rootless_setup_core::Engine::Docker).unwrap(),
        None
    );
    let mut s = sample();
    s.save(&p).unwrap();
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        State::load(&p, me(), rootless_setup_core::Engine::Docker).unwrap(),
        Some(s)
    );
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("\"step\": \"file\""), "{text}");
    assert!(text.contains("\"kind\": \"content\""), "{text}");
    assert!(text.contains("\"step\": \"linger\""), "{text}");
}

#[test]
fn xdg_state_home_is_used_when_absolute() {
    let home = Path::new("/home/u");
    assert_eq!(
        path(Some("/s"), home, rootless_setup_core::Engine::Docker),
        PathBuf::from("/s/rootless-setup/state.json")
    );
    assert_eq!(
        path(Some("rel"), home, rootless_setup_core::Engine::Docker),
        PathBuf::from("/home/u/.local/state/rootless-setup/state.json")
    );
}

#[test]
fn newer_or_broken_records_are_refused_naming_the_file() {
    let err = State::parse(r#"{"version": 99}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "has layout version 99, this rootless-setup reads 1 to 2; use the rootless-setup that wrote it"
    );
    assert!(
        State::parse("garbage")
            .unwrap_err()
            .to_string()
            .starts_with("is not a rootless-setup record")
    );
    assert!(
        State::parse(r#"{"version": 2}"#)
            .unwrap_err()
            .to_string()
            .starts_with("is malformed: ")
    );
    assert!(
        State::parse(r#"{"version": 1}"#)
            .unwrap_err()
            .to_string()
            .starts_with("is malformed (layout 1): ")
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write_record(dir.path(), "{", 0o600);
    let err = State::load(&p, me(), rootless_setup_core::Engine::Docker).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "the install record {} is not a rootless-setup record",
            p.display()
        )),
        "{err}"
    );
    assert!(
        err.help().contains(&format!("mv {0} {0}.bad", p.display())),
        "{}",
        err.help()
    );
}

#[test]
fn a_record_others_may_write_or_of_another_user_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = sample();
    let p = dir.path().join("state.json");
    s.save(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = State::load(&p, me(), rootless_setup_core::Engine::Docker).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the install record {} has mode 0644; install writes it 0600, so someone else may have changed it",
            p.display()
        )
    );
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = State::load(&p, me() + 1, rootless_setup_core::Engine::Docker).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the install record {} belongs to uid {}, not to you (uid {}); it was not written by your install",
            p.display(),
            me(),
            me() + 1
        )
    );
}

#[test]
fn a_fifo_directory_or_huge_record_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.json");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let err = State::load(&fifo, me(), rootless_setup_core::Engine::Docker).unwrap_err();
    assert!(
        err.problem.to_string().starts_with("cannot be read: "),
        "{err}"
    );
    let err = State::load(dir.path(), me(), rootless_setup_core::Engine::Docker).unwrap_err();
    assert!(
        err.problem.to_string().starts_with("cannot be read: "),
        "{err}"
    );
    let big = write_record(dir.path(), &" ".repeat((1 << 20) + 1), 0o600);
    let err = State::load(&big, me(), rootless_setup_core::Engine::Docker).unwrap_err();
    assert!(
        err.problem.to_string().starts_with("cannot be read: "),
        "{err}"
    );
}

/// A record of layout 1, as rootless-setup 0.1 wrote it.
const V1: &str = r#"{
  "version": 1,
  "tool_version": "0.1.0",
  "engine": "docker",
  "unit": "docker.service",
  "files": [
    {"path": "/home/dev/.config/systemd/user/docker.service", "sha256": "aa",
     "previous": {"kind": "content", "text": "[Unit]\nDescription=old\n"}},
    {"path": "/home/dev/.config/systemd/user/docker.service.d/10-rootless-setup.conf",
     "sha256": "bb", "previous": {"kind": "ours", "sha256": "cc"}}
  ],
  "dirs": ["/home/dev/.config/systemd/user/docker.service.d", "/home/dev/.config/systemd/user"],
  "enabled_by_us": true,
  "context": {"name": "rootless", "endpoint": "unix:///run/user/1000/docker.sock", "created": true},
  "previous_context": "work",
  "linger_enabled_by_us": true,
  "data_root": "/home/dev/.local/share/docker",
  "socket": "/run/user/1000/docker.sock",
  "installed_at": "2025-01-01T00:00:00Z",
  "updated_at": "2025-01-02T00:00:00Z"
}"#;

#[test]
fn a_layout_1_record_becomes_the_journal_it_implies() {
    let s = State::parse(V1).unwrap();
    assert_eq!(s.version, STATE_VERSION);
    assert_eq!(s.installed_at, "2025-01-01T00:00:00Z");
    assert_eq!(s.data_root, PathBuf::from("/home/dev/.local/share/docker"));
    let steps: Vec<Step> = s.journal.iter().map(|e| e.step.clone()).collect();
    assert!(s.journal.iter().all(|e| e.done));
    assert_eq!(
        steps,
        [
            Step::Dir {
                path: "/home/dev/.config/systemd/user".into()
            },
            Step::Dir {
                path: "/home/dev/.config/systemd/user/docker.service.d".into()
            },
            Step::File {
                path: UNIT.into(),
                sha256: "aa".into(),
                previous: Some(Previous::Content {
                    text: "[Unit]\nDescription=old\n".into()
                }),
            },
            Step::File {
                path: DROP_IN.into(),
                sha256: "bb".into(),
                previous: Some(Previous::Ours {
                    sha256: "cc".into(),
                    text: None
                }),
            },
            Step::Enable {
                unit: "docker.service".into()
            },
            Step::Start {
                unit: "docker.service".into(),
                was_active: false
            },
            Step::Context {
                name: "rootless".into(),
                endpoint: "unix:///run/user/1000/docker.sock".into()
            },
            Step::Switch {
                from: "work".into(),
                to: "rootless".into()
            },
            Step::Linger,
        ]
    );
}

#[test]
fn layout_1_without_enablement_context_or_linger_records_none() {
    let text = V1
        .replace("\"enabled_by_us\": true", "\"enabled_by_us\": false")
        .replace("\"created\": true", "\"created\": false")
        .replace(
            "\"linger_enabled_by_us\": true",
            "\"linger_enabled_by_us\": false",
        );
    let s = State::parse(&text).unwrap();
    let kinds: Vec<(u8, String)> = s.journal.iter().map(|e| e.step.key()).collect();
    assert_eq!(
        kinds.iter().map(|k| k.0).collect::<Vec<_>>(),
        [0, 0, 1, 1, 3],
        "{kinds:?}"
    );
}

#[test]
fn compaction_keeps_what_the_first_run_found_and_what_the_last_made() {
    let mut s = sample();
    let first = s.clone();
    let i = s.begin(Step::File {
        path: UNIT.into(),
        sha256: "a2".into(),
        previous: Some(Previous::Ours {
            sha256: "aa".into(),
            text: Some("ours".into()),
        }),
    });
    s.finish(i);
    s.begin(Step::Context {
        name: "rootless".into(),
        endpoint: "unix:///elsewhere".into(),
    });
    let i = s.begin(Step::Switch {
        from: "rootless".into(),
        to: "rootless".into(),
    });
    s.finish(i);
    s.begin(Step::Start {
        unit: "docker.service".into(),
        was_active: true,
    });
    s.compact();
    assert_eq!(s.journal.len(), first.journal.len());
    let mut want = first.journal.clone();
    want[1].step = Step::File {
        path: UNIT.into(),
        sha256: "a2".into(),
        previous: Some(Previous::Content {
            text: "[Unit]\nDescription=old\n".into(),
        }),
    };
    want[5].step = Step::Context {
        name: "rootless".into(),
        endpoint: "unix:///elsewhere".into(),
    };
    assert_eq!(s.journal, want);
}

#[test]
fn a_pending_entry_is_done_once_any_run_finished_it() {
    let mut s = State::new(
        rootless_setup_core::Engine::Docker,
        "/d".into(),
        "/s".into(),
    );
    s.begin(Step::Linger);
    assert!(!s.journal[0].done);
    let i = s.begin(Step::Linger);
    s.finish(i);
    s.finish(99);
    s.compact();
    assert_eq!(
        s.journal,
        [Entry {
            step: Step::Linger,
            done: true
        }]
    );
    assert!(!s.created_context("rootless"));
    assert_eq!(
        sample().files().collect::<Vec<_>>(),
        [Path::new(UNIT), Path::new(DROP_IN)]
    );
    assert!(sample().created_context("rootless"));
}

#[test]
fn missing_directories_are_listed_shallowest_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a/b/c/file");
    assert_eq!(
        missing_dirs(&file),
        [
            dir.path().join("a"),
            dir.path().join("a/b"),
            dir.path().join("a/b/c")
        ]
    );
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    assert_eq!(missing_dirs(&file), [dir.path().join("a/b/c")]);
}

#[test]
fn timestamps_are_rfc3339() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
    assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
    assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
    assert_eq!(rfc3339(5_097_600), "1970-03-01T00:00:00Z");
    assert_eq!(rfc3339(13_046_400_000), "2383-06-05T00:00:00Z");
    assert_eq!(rfc3339(978_307_199), "2000-12-31T23:59:59Z");
}

#[test]
fn saving_stamps_the_time_of_writing() {
    let before = now_secs();
    assert!(before > 1_700_000_000, "{before}");
    let dir = tempfile::tempdir().unwrap();
    let mut s = sample();
    s.save(&dir.path().join("state.json")).unwrap();
    assert_eq!(s.installed_at, "2025-01-01T00:00:00Z");
    assert_eq!(s.updated_at.len(), "2025-01-01T00:00:00Z".len());
    assert!(s.updated_at >= rfc3339(before), "{}", s.updated_at);
    assert!(s.updated_at <= rfc3339(now_secs()), "{}", s.updated_at);
    let fresh = State::new(
        rootless_setup_core::Engine::Docker,
        "/d".into(),
        "/s".into(),
    );
    assert_eq!(fresh.installed_at, fresh.updated_at);
    assert!(fresh.installed_at >= rfc3339(before));
}
