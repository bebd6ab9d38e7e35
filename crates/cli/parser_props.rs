//! Property tests of what the binary parses from outside: the engine's HTTP responses
//! ([`engine_api::parse_response`], [`engine_api::parse_server_info`]), `docker context inspect`
//! output ([`docker_context::parse_inspect`]), the docker CLI's `config.json`
//! ([`docker_context::current_context`]) and the install record
//! ([`crate::state::State::parse`]). Each survives any bytes, reads back what a well-formed
//! input holds, and reads a megabyte within [`hostile::BUDGET`].

use proptest::prelude::*;
use rootless_setup_core::hostile::{self, Large};

use crate::docker_context::{self, ContextInfo, current_context, parse_inspect};
use crate::engine_api::{parse_response, parse_server_info};

const HTTP: &[&str] = &[
    "HTTP/1.1 200 OK\r",
    "Api-Version: 1.41\r",
    "Content-Length: 2\r",
    "Transfer-Encoding: chunked\r",
    "\r",
    "4\r",
    "{\"a\"\r",
    "0\r",
    "OK",
];

const JSON: &[&str] = &[
    r#"[{"Name":"rootless","Metadata":{"Description":"Rootless Docker (created by rootless-setup)"},"#,
    r#""Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock","SkipTLSVerify":false}}}]"#,
    r#"{"auths":{},"currentContext":"work"}"#,
    r#"{"Version":"20.10.24+dfsg1","ApiVersion":"1.41"}"#,
    r#"{"SecurityOptions":["name=seccomp,profile=default","name=rootless"],"CgroupDriver":"none"}"#,
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
];

/// `body` in chunks of the given sizes (the rest in one last chunk), with a chunk extension on
/// some, as a server may send it.
fn chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    for (i, size) in sizes.iter().chain(std::iter::once(&usize::MAX)).enumerate() {
        let n = (*size).min(rest.len());
        if n == 0 {
            continue;
        }
        let (chunk, tail) = rest.split_at(n);
        let ext = if i % 2 == 1 { ";x=y" } else { "" };
        out.extend(format!("{n:x}{ext}\r\n").as_bytes());
        out.extend(chunk);
        out.extend(b"\r\n");
        rest = tail;
    }
    out.extend(b"0\r\n\r\n");
    out
}

fn response(
    status: u16,
    headers: &[String],
    body: &[u8],
    chunk_sizes: Option<&[usize]>,
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Whatever\r\n").into_bytes();
    for h in headers {
        out.extend(format!("{h}\r\n").as_bytes());
    }
    match chunk_sizes {
        Some(sizes) => {
            out.extend(b"Transfer-Encoding: chunked\r\n\r\n");
            out.extend(chunked(body, sizes));
        }
        None => {
            out.extend(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend(body);
            out.extend(b"trailing bytes past the length");
        }
    }
    out
}

proptest! {
    #![proptest_config(hostile::cases(64))]

    #[test]
    fn responses_are_read_back(
        status in 100u16..1000,
        headers in prop::collection::vec("[A-Za-z-]{1,12}: [ -~]{0,20}", 0..4),
        body in prop::collection::vec(any::<u8>(), 0..300),
        sizes in prop::option::of(prop::collection::vec(1usize..64, 0..6)),
    ) {
        let headers: Vec<String> = headers
            .into_iter()
            .filter(|h| {
                let name = h.split(':').next().unwrap_or_default();
                !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("transfer-encoding")
            })
            .collect();
        let raw = response(status, &headers, &body, sizes.as_deref());
        let r = parse_response(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!((r.status, r.body), (status, body));
    }

    #[test]
    fn near_valid_responses_are_an_answer(text in hostile::small_text(HTTP)) {
        if let Ok(r) = parse_response(text.as_bytes()) {
            prop_assert!(r.body.len() <= text.len());
            prop_assert!(text.starts_with("HTTP/1."));
        }
    }

    #[test]
    fn inspect_output_is_read_back(endpoint in "(?s).{0,40}", description in "(?s).{0,40}", name in ".{0,10}") {
        let out = serde_json::json!([{
            "Name": name,
            "Metadata": {"Description": description},
            "Endpoints": {"docker": {"Host": endpoint, "SkipTLSVerify": false}},
        }]);
        let info = parse_inspect(&out.to_string());
        prop_assert_eq!(info, Some(ContextInfo { endpoint, description }));
    }

    #[test]
    fn the_current_context_is_read_back(context in "(?s).{0,40}", other in "[a-z]{1,8}") {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = serde_json::json!({"auths": {}, other: [1, {"x": null}], "currentContext": context});
        std::fs::write(dir.path().join("config.json"), config.to_string()).expect("write");
        let want = if context.is_empty() { docker_context::DEFAULT.to_owned() } else { context };
        prop_assert_eq!(current_context(dir.path()), want);
    }

    #[test]
    fn near_valid_json_is_an_answer(text in hostile::small_text(JSON)) {
        let _ = parse_inspect(&text);
        let _ = parse_server_info(text.as_bytes(), Some(text.as_bytes()));
    }
}

proptest! {
    #![proptest_config(hostile::cases(3))]

    #[test]
    fn a_megabyte_of_http_is_read_in_bounded_time(text in hostile::large_text(HTTP)) {
        hostile::within_budget("engine_api::parse_response", text.len(), || {
            parse_response(text.as_bytes()).map(|r| r.body.len()).ok()
        });
    }

    #[test]
    fn a_megabyte_of_json_is_read_in_bounded_time(text in hostile::large_text(JSON)) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("config.json"), text.as_bytes()).expect("write");
        hostile::within_budget("docker_context::parse_inspect", text.len(), || parse_inspect(&text));
        hostile::within_budget("engine_api::parse_server_info", text.len(), || {
            parse_server_info(text.as_bytes(), None)
        });
        hostile::within_budget("docker_context::current_context", text.len(), || {
            current_context(dir.path())
        });
    }

    #[test]
    fn arbitrary_bytes_are_read_in_bounded_time(bytes in hostile::bytes()) {
        let text = Large(String::from_utf8_lossy(&bytes).into_owned());
        hostile::within_budget("engine_api::parse_response (bytes)", bytes.len(), || {
            parse_response(&bytes).is_ok()
        });
        hostile::within_budget("docker_context::parse_inspect (bytes)", bytes.len(), || {
            parse_inspect(&text)
        });
        hostile::within_budget("engine_api::parse_server_info (bytes)", bytes.len(), || {
            parse_server_info(&bytes, None)
        });
    }
}

#[test]
fn a_megabyte_of_tiny_chunks_is_read_in_bounded_time() {
    let body: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let raw = response(200, &[], &body, Some(&[1; 200_000]));
    let (r, _) = hostile::within_budget("engine_api::parse_response chunks", raw.len(), || {
        parse_response(&raw)
    });
    assert_eq!(r.expect("well-formed").body, body);
}

/// Pieces of install records (layout 2 and 1) for near-valid records.
const RECORD: &[&str] = &[
    r#"{"version": 2, "tool_version": "0.1.0", "engine": "docker","#,
    r#""data_root": "/home/dev/.local/share/docker", "socket": "/run/user/1000/docker.sock","#,
    r#""installed_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z", "journal": ["#,
    r#"{"step": "file", "path": "/home/dev/.bashrc", "sha256": "aa", "previous": {"kind": "content", "text": "x"}, "done": true},"#,
    r#"{"step": "switch", "from": "work", "to": "rootless", "done": false}, {"step": "linger", "done": true}]}"#,
    r#"{"version": 1, "files": [{"path": "/etc/passwd", "sha256": "bb", "previous": null}], "enabled_by_us": true,"#,
    r#""context": {"name": "rootless", "endpoint": "unix:///x", "created": true}, "previous_context": "default","#,
    r#""linger_enabled_by_us": false, "unit": "docker.service", "dirs": ["/"]}"#,
];

fn step() -> impl Strategy<Value = crate::state::Step> {
    use crate::state::{Previous, Step};
    let text = "(?s).{0,40}";
    let previous = prop::option::of(prop_oneof![
        text.prop_map(|text| Previous::Content { text }),
        (text, prop::option::of(text)).prop_map(|(sha256, text)| Previous::Ours { sha256, text }),
    ]);
    prop_oneof![
        text.prop_map(|p| Step::Dir { path: p.into() }),
        (text, text, previous).prop_map(|(p, sha256, previous)| Step::File {
            path: p.into(),
            sha256,
            previous
        }),
        text.prop_map(|unit| Step::Enable { unit }),
        (text, any::<bool>()).prop_map(|(unit, was_active)| Step::Start { unit, was_active }),
        (text, text).prop_map(|(name, endpoint)| Step::Context { name, endpoint }),
        (text, text).prop_map(|(from, to)| Step::Switch { from, to }),
        Just(Step::Linger),
        (text, any::<bool>()).prop_map(|(p, created)| Step::DataRoot {
            path: p.into(),
            created
        }),
    ]
}

proptest! {
    #![proptest_config(hostile::cases(64))]

    /// Whatever the fields hold, a record reads back as written.
    #[test]
    fn records_are_read_back(
        strings in prop::collection::vec("(?s).{0,40}", 6),
        journal in prop::collection::vec((step(), any::<bool>()), 0..12),
        remote in prop::option::of(("(?s).{0,40}", prop::option::of("(?s).{0,40}"))),
    ) {
        use crate::state::{Entry, RemoteApi, STATE_VERSION, State};
        let state = State {
            version: STATE_VERSION,
            tool_version: strings[0].clone(),
            engine: strings[1].clone(),
            data_root: strings[2].clone().into(),
            socket: strings[3].clone().into(),
            installed_at: strings[4].clone(),
            updated_at: strings[5].clone(),
            journal: journal.into_iter().map(|(step, done)| Entry { step, done }).collect(),
            remote: remote.map(|(address, tls_dir)| RemoteApi {
                address,
                tls_dir: tls_dir.map(Into::into),
            }),
        };
        prop_assert_eq!(State::parse(&state.to_text()).ok(), Some(state));
    }

    /// A near-valid record is a record or a reason, never a panic.
    #[test]
    fn near_valid_records_are_an_answer(text in hostile::small_text(RECORD)) {
        if let Err(why) = crate::state::State::parse(&text) {
            prop_assert!(!why.to_string().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(hostile::cases(3))]

    #[test]
    fn a_megabyte_of_record_is_read_in_bounded_time(text in hostile::large_text(RECORD)) {
        // The budget is the assertion: a reason or a record, in bounded time.
        let _ = hostile::within_budget("state::State::parse", text.0.len(), || {
            crate::state::State::parse(&text.0)
        });
    }

    #[test]
    fn arbitrary_bytes_are_no_record(bytes in hostile::bytes()) {
        let text = String::from_utf8_lossy(&bytes.0);
        let _ = hostile::within_budget("state::State::parse (bytes)", bytes.0.len(), || {
            crate::state::State::parse(&text)
        });
    }
}
