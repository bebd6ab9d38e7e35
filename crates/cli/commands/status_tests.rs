//! Tests of the status verdict, the environment conflicts and the human text.

use rootless_setup_systemd::{ActiveState, LoadState};

use super::*;

const ENDPOINT: &str = "unix:///run/user/1000/docker.sock";

fn paths() -> Paths {
    Paths {
        engine: rootless_setup_core::Engine::Docker,
        config_home: "/home/dev/.config".into(),
        uid: 1000,
        user: "dev".into(),
        home: "/home/dev".into(),
        runtime_dir: "/run/user/1000".into(),
        unit_dir: "/home/dev/.config/systemd/user".into(),
        state: "/home/dev/.local/state/rootless-setup/state.json".into(),
        docker_config: "/home/dev/.docker".into(),
        data_home: "/home/dev/.local/share".into(),
    }
}

fn healthy() -> StatusReport {
    StatusReport {
        engine: "docker",
        unit_name: "docker.service",
        shipped_unit: false,
        schema_version: STATUS_SCHEMA_VERSION,
        health: Health::NotInstalled,
        changed: false,
        problems: vec![],
        warnings: vec![],
        user: "dev".into(),
        uid: 1000,
        unit: Some(UnitState {
            unit: "docker.service".into(),
            load: LoadState::Loaded,
            active: ActiveState::Active,
            sub: "running".into(),
            unit_file_state: "enabled".into(),
            fragment_path: Some("/home/dev/.config/systemd/user/docker.service".into()),
            drop_ins: vec![],
            need_daemon_reload: false,
            main_pid: Some(4242),
            exec_main_status: Some(0),
            result: Some("success".into()),
        }),
        unit_error: None,
        files: vec![
            FileStatus {
                path: "/home/dev/.config/systemd/user/docker.service".into(),
                origin: "ours",
            },
            FileStatus {
                path: "/home/dev/.config/systemd/user/docker.service.d/10-rootless-setup.conf"
                    .into(),
                origin: "ours",
            },
        ],
        record: Some("/home/dev/.local/state/rootless-setup/state.json".into()),
        record_error: None,
        installed_at: Some("2025-01-01T00:00:00Z".into()),
        socket: SocketStatus {
            path: "/run/user/1000/docker.sock".into(),
            answers: true,
            error: None,
        },
        server: Some(ServerInfo {
            version: Some("20.10.24+dfsg1".into()),
            api_version: Some("1.41".into()),
            rootless: Some(true),
            cgroup_driver: Some("cgroupfs".into()),
            cgroup_version: Some("1".into()),
            root_dir: None,
            warnings: Vec::new(),
        }),
        remote: None,
        context: ContextStatus {
            name: "rootless",
            exists: Some(true),
            endpoint: Some(ENDPOINT.into()),
            current: "rootless".into(),
        },
        environment: env_status(None, None, ENDPOINT, "rootless"),
        linger: Some(true),
    }
}

#[test]
fn a_running_answering_rootless_engine_is_healthy() {
    let mut r = healthy();
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Healthy, "{:?}", r.problems);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.health.code(), 0);
    let text = to_human(&r, &paths(), false);
    assert!(
        text.starts_with("rootless docker for dev: healthy\n"),
        "{text}"
    );
    assert!(
        text.contains("docker.service: loaded active/running, enabled, main PID 4242"),
        "{text}"
    );
    assert!(
        text.contains(
            "Docker 20.10.24+dfsg1 (API 1.41), rootless, cgroup driver cgroupfs (cgroup v1)"
        ),
        "{text}"
    );
    assert!(
        text.contains("rootless (unix:///run/user/1000/docker.sock), current"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["health"], "healthy");
    assert_eq!(json["unit"]["active"], "active");
    assert_eq!(json["server"]["rootless"], true);
}

#[test]
fn nothing_installed_is_exit_3() {
    let mut r = healthy();
    r.unit.as_mut().unwrap().load = LoadState::NotFound;
    r.unit.as_mut().unwrap().active = ActiveState::Inactive;
    for f in &mut r.files {
        f.origin = "missing";
    }
    r.record = None;
    r.socket.answers = false;
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::NotInstalled);
    assert_eq!(r.health.code(), 3);
    assert!(to_human(&r, &paths(), false).contains("rootless-setup install"));
}

#[test]
fn a_stopped_or_silent_engine_is_unhealthy() {
    let mut r = healthy();
    {
        let u = r.unit.as_mut().unwrap();
        u.active = ActiveState::Failed;
        u.sub = "failed".into();
        u.result = Some("exit-code".into());
    }
    r.socket.answers = false;
    r.socket.error = Some("connection refused".into());
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Unhealthy);
    assert_eq!(r.health.code(), 1);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("failed/failed (result exit-code)")),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| p.contains("connection refused")),
        "{:?}",
        r.problems
    );

    // A rootful engine on our socket path.
    let mut r = healthy();
    r.server.as_mut().unwrap().rootless = Some(false);
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Unhealthy);

    // No user manager at all, but a record says it is installed.
    let mut r = healthy();
    r.unit = None;
    r.unit_error = Some("no user bus at (none)".into());
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Unhealthy);
}

#[test]
fn environment_and_context_problems_are_warnings() {
    let env = env_status(
        Some("unix:///var/run/docker.sock"),
        Some("default"),
        ENDPOINT,
        "rootless",
    );
    assert_eq!(env.conflicts.len(), 2);
    assert!(env.conflicts[0].starts_with("DOCKER_HOST=unix:///var/run/docker.sock overrides"));
    assert!(env.conflicts[1].starts_with("DOCKER_CONTEXT=default overrides"));
    assert!(
        env_status(Some(ENDPOINT), Some("rootless"), ENDPOINT, "rootless")
            .conflicts
            .is_empty()
    );

    let mut r = healthy();
    r.environment = env;
    r.context.current = "default".into();
    r.linger = Some(false);
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Healthy);
    let all = r.warnings.join("\n");
    assert!(all.contains("current docker context is default"), "{all}");
    assert!(all.contains("DOCKER_HOST="), "{all}");
    assert!(all.contains("sudo loginctl enable-linger dev"), "{all}");
}

#[test]
fn an_unusable_record_is_reported_not_ignored() {
    // Nothing else installed: still not "not installed", and the line says why and what to do.
    let mut r = healthy();
    r.unit.as_mut().unwrap().load = LoadState::NotFound;
    for f in &mut r.files {
        f.origin = "missing";
    }
    r.record = None;
    let why = "the install record /home/dev/.local/state/rootless-setup/state.json has mode 0666; install writes it 0600, so someone else may have changed it; move it away";
    r.record_error = Some(why.into());
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Unhealthy);
    assert_eq!(r.problems[0], why);
    let text = to_human(&r, &paths(), false);
    assert!(
        text.contains("record    ~/.local/state/rootless-setup/state.json (unusable: see below)"),
        "{text}"
    );
    assert!(text.contains(&format!("problem: {why}")), "{text}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["record_error"], why);
    assert_eq!(json["health"], "unhealthy");
}

#[test]
fn a_shipped_unit_without_a_record_is_not_an_install() {
    // Debian's podman.socket exists whether or not anything was installed.
    let mut r = healthy();
    r.shipped_unit = true;
    r.record = None;
    r.files.clear();
    r.socket.answers = false;
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::NotInstalled);
    let mut r = healthy();
    r.shipped_unit = true;
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Healthy, "{:?}", r.problems);
}

#[test]
fn the_engines_own_warnings_are_shown_but_keep_it_healthy() {
    let mut r = healthy();
    if let Some(s) = r.server.as_mut() {
        s.warnings = vec!["WARNING: No memory limit support".into()];
    }
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Healthy);
    assert!(
        r.warnings
            .contains(&"the engine says: WARNING: No memory limit support".to_owned()),
        "{:?}",
        r.warnings
    );
}

#[test]
fn the_json_says_nothing_changed() {
    let json = serde_json::to_value(healthy()).unwrap();
    assert_eq!(json["changed"], serde_json::Value::Bool(false));
    assert_eq!(json["schema_version"], 1);
}

#[test]
fn the_remote_api_is_shown_and_one_that_does_not_answer_is_a_problem() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let answering = remote_status(&RemoteApi {
        address: format!("tcp://0.0.0.0:{open}"),
        tls_dir: Some("/home/dev/tls".into()),
    });
    assert_eq!(
        (
            answering.security,
            answering.answers,
            answering.error.as_deref()
        ),
        ("tls", true, None)
    );
    let mut r = healthy();
    r.remote = Some(answering);
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Healthy, "{:?}", r.problems);
    let text = to_human(&r, &paths(), false);
    assert!(
        text.contains(&format!("remote    tcp://0.0.0.0:{open} (TLS) answers")),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["remote"]["security"], "tls");
    assert_eq!(json["remote"]["answers"], true);

    let silent = remote_status(&RemoteApi {
        address: format!("tcp://127.0.0.1:{port}"),
        tls_dir: None,
    });
    assert_eq!(
        (silent.security, silent.answers),
        ("insecure-loopback", false)
    );
    let mut r = healthy();
    r.remote = Some(silent);
    judge(&mut r, ENDPOINT);
    assert_eq!(r.health, Health::Unhealthy);
    assert!(
        r.problems[0].starts_with(&format!(
            "the remote API tcp://127.0.0.1:{port} does not answer: "
        )),
        "{:?}",
        r.problems
    );
    assert!(to_human(&r, &paths(), false).contains("(no TLS, loopback only) does not answer"),);
    let garbled = remote_status(&RemoteApi {
        address: "tcp://[::1".into(),
        tls_dir: None,
    });
    assert_eq!(
        garbled.error.as_deref(),
        Some("the record's address needs `[ADDRESS]:PORT` for an IPv6 address")
    );
}
