//! Property tests of what the unit crate reads from hostile input: `config.toml` (text, bytes
//! through [`Settings::load`], flags) and the generated files' header ([`classify`]). Versions
//! are read by core's `version` module, whose own property tests cover them. Each survives any
//! input, keeps its model (valid settings and their
//! positions are read back, a header's hash matches its body) and reads a megabyte within
//! [`hostile::BUDGET`].

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rootless_setup_core::hostile::{self, Large};
use rootless_setup_unit::config::keys::{MANAGED_ENV, MTU_MAX, MTU_MIN, TIMEOUT_MAX, TIMEOUT_MIN};
use rootless_setup_unit::header::{MARKER, with_header};
use rootless_setup_unit::{
    ConfigErrors, ConfigSource, FileOrigin, LoadError, Origin, Overrides, Settings, classify,
};

const FILE: &str = "/home/u/.config/rootless-setup/config.toml";
const HOME: &str = "/home/u";

const CONFIG: &[&str] = &[
    "engine = \"docker\"",
    "data-root = \"~/docker data\"",
    "daemon-flags = [\"--log-level=warn\", \"--experimental\"]",
    "start-timeout = 120",
    "[network]",
    "driver = \"pasta\"",
    "mtu = 1500",
    "host-loopback = true",
    "[environment]",
    "HTTP_PROXY = \"http://proxy:3128\"",
    "[binaries]",
    "rootlesskit = \"/opt/bin/rootlesskit\"",
    "x = { y = [1, [2, [3]]], z = 1979-05-27T07:32:00Z }",
    "'quoted key' = \"\"\"multi\nline\"\"\"",
];

const VERSION_TEXT: &[&str] = &[
    "rootlesskit version 1.1.0",
    "slirp4netns version 1.2.0",
    "commit: 656041d45cfca7a4176f6b7eed9e4fe6c11e8383",
    "pasta 2023_12_04.b86afe3",
    "v2.3.1",
];

fn from_file(text: &str) -> Result<Settings, ConfigErrors> {
    let mut s = Settings::default();
    s.apply_file(Path::new(FILE), text, Path::new(HOME))?;
    Ok(s)
}

/// Every error points inside `text`, in order, and renders.
fn errors_point_into(text: &str, errors: &ConfigErrors) -> Result<(), TestCaseError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut last = (0, 0);
    for e in &errors.0 {
        let Origin::File { line, column, path } = &e.origin else {
            return Err(TestCaseError::fail(format!("origin {:?}", e.origin)));
        };
        prop_assert_eq!(path, Path::new(FILE));
        prop_assert!(
            *line >= 1 && *line <= lines.len(),
            "line {line} of {}",
            lines.len()
        );
        let width = lines[line - 1].chars().count();
        prop_assert!(
            *column >= 1 && *column <= width + 1,
            "column {column} of {width}"
        );
        prop_assert!((*line, *column) >= last, "errors in file order");
        last = (*line, *column);
        let position = format!("{FILE}:{line}:{column}: ");
        prop_assert!(e.to_string().starts_with(&position), "{e}");
    }
    Ok(())
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

proptest! {
    #![proptest_config(hostile::cases(64))]

    #[test]
    fn near_valid_config_is_settings_or_located_errors(text in hostile::small_text(CONFIG)) {
        if let Err(errors) = from_file(&text) {
            prop_assert!(!errors.0.is_empty());
            errors_point_into(&text, &errors)?;
        }
    }

    #[test]
    fn valid_settings_are_read_back_with_their_lines(
        engine in prop::sample::select(vec!["docker", "containerd"]),
        timeout in TIMEOUT_MIN..=TIMEOUT_MAX,
        mtu in MTU_MIN..=MTU_MAX,
        loopback: bool,
        flags in prop::collection::vec("--[a-z][a-z-]{0,12}(=[a-z0-9.]{0,8})?", 0..4),
        env in prop::collection::btree_map("[A-Z][A-Z0-9_]{0,10}", "[a-zA-Z0-9./:_-]{0,20}", 0..4),
        blank_lines in 0..3usize,
    ) {
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(n, _)| MANAGED_ENV.iter().all(|(m, _)| m != n))
            .collect();
        let flags: Vec<String> = flags.into_iter().filter(|f| !f.starts_with("--data-root")).collect();
        let pad = "\n".repeat(blank_lines);
        let list: Vec<String> = flags.iter().map(|f| quoted(f)).collect();
        let mut text = format!(
            "{pad}engine = {}\nstart-timeout = {timeout}\ndaemon-flags = [{}]\n[network]\nmtu = {mtu}\nhost-loopback = {loopback}\n[environment]\n",
            quoted(engine),
            list.join(", "),
        );
        for (name, value) in &env {
            text.push_str(&format!("{name} = {}\n", quoted(value)));
        }
        let s = match from_file(&text) {
            Ok(s) => s,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
        };
        let at = |line: usize, column: usize| Origin::File {
            path: PathBuf::from(FILE),
            line: blank_lines + line,
            column,
        };
        prop_assert_eq!(s.engine.value.as_str(), engine);
        prop_assert_eq!(&s.engine.origin, &at(1, 10));
        prop_assert_eq!((s.start_timeout.value, &s.start_timeout.origin), (timeout, &at(2, 17)));
        let read: Vec<&str> = s.daemon_flags.iter().map(|f| f.value.as_str()).collect();
        prop_assert_eq!(read, flags.iter().map(String::as_str).collect::<Vec<_>>());
        let mtu_read = s.mtu.as_ref().map(|m| (m.value, m.origin.clone()));
        prop_assert_eq!(mtu_read, Some((mtu, at(5, 7))));
        prop_assert_eq!(s.host_loopback.value, loopback);
        let read: Vec<(&str, &str)> = s
            .environment
            .iter()
            .map(|(n, v)| (n.as_str(), v.value.as_str()))
            .collect();
        let want: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        prop_assert_eq!(read, want);
    }

    #[test]
    fn hostile_flags_are_settings_or_flag_errors(
        values in prop::collection::vec(hostile::small_text(CONFIG), 5),
        env in prop::collection::vec("(?s).{0,30}", 0..4),
    ) {
        let flags = Overrides {
            engine: Some(values[0].clone()),
            network_driver: Some(values[1].clone()),
            port_driver: Some(values[2].clone()),
            mtu: Some(values[3].clone()),
            data_root: Some(values[4].clone()),
            daemon_flags: values.clone(),
            environment: env,
            ..Overrides::default()
        };
        if let Err(errors) = Settings::default().apply_flags(&flags, Path::new(HOME)) {
            for e in &errors.0 {
                prop_assert!(matches!(e.origin, Origin::Flag(_)), "{:?}", e.origin);
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn arbitrary_files_load_or_fail_with_the_path(bytes in hostile::bytes()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &*bytes).expect("write");
        let source = ConfigSource::Explicit(path.clone());
        let (result, _) = hostile::within_budget("Settings::load (bytes)", bytes.len(), || {
            Settings::load(&source, &Overrides::default(), Path::new(HOME))
        });
        match result {
            Ok(_) => prop_assert!(std::str::from_utf8(&bytes).is_ok()),
            Err(LoadError::Read(e)) => prop_assert_eq!(&e.path, &path),
            Err(LoadError::Invalid(errors)) => {
                for e in &errors.0 {
                    let at_path = matches!(&e.origin, Origin::File { path: p, .. } if *p == path);
                    prop_assert!(at_path, "{:?}", e.origin);
                }
            }
        }
    }

    #[test]
    fn a_header_matches_its_body_and_only_it(body in "(?s).{0,200}", extra in "(?s).{1,8}") {
        let file = with_header(&body);
        prop_assert_eq!(classify(&file), FileOrigin::Ours { edited: false });
        prop_assert_eq!(classify(&format!("{file}{extra}")), FileOrigin::Ours { edited: true });
        if !body.starts_with(MARKER) {
            prop_assert_eq!(classify(&body), FileOrigin::Foreign);
        }
    }
}

proptest! {
    #![proptest_config(hostile::cases(3))]

    #[test]
    fn a_megabyte_of_config_is_read_in_bounded_time(text in hostile::large_text(CONFIG)) {
        let (result, _) = hostile::within_budget("config.toml", text.len(), || from_file(&text));
        if let Err(errors) = result {
            errors_point_into(&text, &errors)?;
        }
    }

    #[test]
    fn a_megabyte_of_headers_is_read_in_bounded_time(
        text in hostile::large_text(VERSION_TEXT),
    ) {
        let file = Large(with_header(&text));
        hostile::within_budget("header::classify", file.len(), || classify(&file));
    }
}

/// Every value's origin is looked up in the file: one lookup must not rescan the whole text
/// (the reproduction: 100,000 daemon flags took over 20 s in release; 515 s in a debug
/// test build); positions are now indexed once per file.
#[test]
fn a_megabyte_of_daemon_flags_is_read_in_bounded_time() {
    let flags: Vec<String> = (0..100_000).map(|i| format!("\"--f{i}\"")).collect();
    let text = format!("daemon-flags = [\n{}\n]\n", flags.join(",\n"));
    let (settings, _) =
        hostile::within_budget("config.toml daemon-flags", text.len(), || from_file(&text));
    let settings = settings.expect("valid flags");
    assert_eq!(settings.daemon_flags.len(), 100_000);
    let last = &settings.daemon_flags[99_999];
    assert_eq!(last.value, "--f99999");
    assert_eq!(
        last.origin,
        Origin::File {
            path: PathBuf::from(FILE),
            line: 100_001,
            column: 1
        }
    );
}

/// Deeply nested arrays and inline tables: a located error, never a stack overflow.
#[test]
fn deep_nesting_is_an_answer() {
    for (open, close) in [("[", "]"), ("{a=", "}")] {
        let text = format!("x = {}1{}\n", open.repeat(200_000), close.repeat(200_000));
        let (result, _) =
            hostile::within_budget("config.toml nesting", text.len(), || from_file(&text));
        let errors = result.expect_err("too deep");
        assert_eq!(
            errors.0[0].message,
            "not valid TOML: cannot recurse further; max recursion depth met"
        );
        assert!(matches!(errors.0[0].origin, Origin::File { line: 1, .. }));
    }
}
