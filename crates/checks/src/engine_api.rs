//! The engine's HTTP API over its unix socket, with std only: `GET /_ping` (is it answering?),
//! `GET /version` and `GET /info` (for `status`, and `/info`'s warnings for `check`'s
//! `engine.installed`), and [`wait_ready`], which polls `/_ping`
//! every few milliseconds until it answers `200 OK` or a deadline passes — no fixed sleeps.
//!
//! Responses are parsed defensively: any bytes give a [`Response`] or an error, never a panic.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long one request may take (connect, write, read).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How often [`wait_ready`] retries.
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// The most a response may hold; `/info` is a few kilobytes.
const MAX_RESPONSE: u64 = 4 << 20;

/// A parsed HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Could not connect, write or read.
    #[error("{path}: {source}")]
    Io {
        /// The socket.
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The bytes were not an HTTP response.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// An engine asked through its client (containerd through `ctr`) did not answer.
    #[error("{0}")]
    NotReady(String),
}

/// Sends `GET target` on the socket at `socket` and reads the whole response.
pub fn get(socket: &Path, target: &str, timeout: Duration) -> Result<Response, ApiError> {
    let io = |source| ApiError::Io {
        path: socket.display().to_string(),
        source,
    };
    let mut stream = UnixStream::connect(socket).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: docker\r\nUser-Agent: rootless-setup\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut raw)
        .map_err(io)?;
    parse_response(&raw)
}

/// Whether the engine answers `GET /_ping` with `200` and `OK`.
pub fn ping(socket: &Path, timeout: Duration) -> Result<(), ApiError> {
    let r = get(socket, "/_ping", timeout)?;
    if r.status == 200 && r.body.trim_ascii() == b"OK" {
        Ok(())
    } else {
        Err(ApiError::Malformed(format!(
            "/_ping answered {} {:?}",
            r.status,
            String::from_utf8_lossy(&r.body)
        )))
    }
}

/// What [`wait_ready`] saw.
#[derive(Debug)]
pub struct Ready {
    /// Time from the call to the first `200 OK`.
    pub elapsed: Duration,
    /// How many requests were made.
    pub attempts: u32,
}

/// Polls `/_ping` every [`POLL_INTERVAL`] until it answers or `deadline` passes; `tick` is
/// called between attempts (the spinner). Returns the last error when the deadline passes.
pub fn wait_ready(
    socket: &Path,
    deadline: Duration,
    mut tick: impl FnMut(),
) -> Result<Ready, ApiError> {
    let start = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let left = deadline.saturating_sub(start.elapsed());
        let result = ping(
            socket,
            left.clamp(Duration::from_millis(1), REQUEST_TIMEOUT),
        );
        match result {
            Ok(()) => {
                return Ok(Ready {
                    elapsed: start.elapsed(),
                    attempts,
                });
            }
            Err(e) if start.elapsed() >= deadline => return Err(e),
            Err(_) => {
                tick();
                std::thread::sleep(POLL_INTERVAL.min(deadline.saturating_sub(start.elapsed())));
            }
        }
    }
}

/// Parses an HTTP/1.x response: status line, headers, then a body by `Content-Length`,
/// `Transfer-Encoding: chunked`, or up to the end.
pub fn parse_response(raw: &[u8]) -> Result<Response, ApiError> {
    let bad = |m: &str| ApiError::Malformed(m.to_owned());
    let split = find(raw, b"\r\n\r\n").ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(raw.get(..split).unwrap_or_default());
    let rest = raw.get(split + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.split(' ');
    let version = words.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(ApiError::Malformed(format!(
            "not an HTTP response: {status_line:?}"
        )));
    }
    let status = words
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| ApiError::Malformed(format!("bad status line {status_line:?}")))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| bad("bad content-length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        rest.get(..n)
            .ok_or_else(|| bad("body shorter than content-length"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, ApiError> {
    let bad = |m: &str| ApiError::Malformed(m.to_owned());
    let mut body = Vec::new();
    loop {
        let eol = find(data, b"\r\n").ok_or_else(|| bad("truncated chunk size"))?;
        let size_text = String::from_utf8_lossy(data.get(..eol).unwrap_or_default());
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
        data = data.get(eol + 2..).unwrap_or_default();
        if size == 0 {
            return Ok(body);
        }
        let chunk = data.get(..size).ok_or_else(|| bad("truncated chunk"))?;
        body.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or_else(|| bad("truncated chunk"))?;
    }
}

/// The server, as `/version` and `/info` describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServerInfo {
    /// `Version`.
    pub version: Option<String>,
    /// `ApiVersion`.
    pub api_version: Option<String>,
    /// Whether `SecurityOptions` contains `name=rootless`.
    pub rootless: Option<bool>,
    /// `CgroupDriver` (`systemd`, `cgroupfs`, `none`).
    pub cgroup_driver: Option<String>,
    /// `CgroupVersion` (`1`, `2`).
    pub cgroup_version: Option<String>,
    /// `DockerRootDir`.
    pub root_dir: Option<String>,
    /// `Warnings`: what the engine itself says is wrong with its set-up.
    pub warnings: Vec<String>,
}

/// Asks `/version` and `/info`; fields that could not be read stay `None`. Podman before 5 does
/// not list `name=rootless` in `/info`'s `SecurityOptions`; then its own `/libpod/info` says
/// (`host.security.rootless`).
pub fn server_info(socket: &Path) -> Result<ServerInfo, ApiError> {
    let version = get(socket, "/version", REQUEST_TIMEOUT)?;
    let info = get(socket, "/info", REQUEST_TIMEOUT).ok();
    let mut server = parse_server_info(&version.body, info.as_ref().map(|r| r.body.as_slice()));
    if server.rootless != Some(true)
        && let Ok(libpod) = get(socket, LIBPOD_INFO, REQUEST_TIMEOUT)
        && let Some(rootless) = parse_libpod_rootless(&libpod.body)
    {
        server.rootless = Some(rootless);
    }
    Ok(server)
}

/// Podman's own info, at the oldest version of its API (libpod routes only exist versioned).
const LIBPOD_INFO: &str = "/v4.0.0/libpod/info";

/// `host.security.rootless` of Podman's `/libpod/info`, if the body has it.
pub fn parse_libpod_rootless(body: &[u8]) -> Option<bool> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("host")?.get("security")?.get("rootless")?.as_bool()
}

/// [`ServerInfo`] from the bodies of `/version` and `/info`.
pub fn parse_server_info(version: &[u8], info: Option<&[u8]>) -> ServerInfo {
    let v: serde_json::Value = serde_json::from_slice(version).unwrap_or_default();
    let i: serde_json::Value = info
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    let text =
        |j: &serde_json::Value, k: &str| j.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let rootless = i
        .get("SecurityOptions")
        .and_then(|o| o.as_array())
        .map(|opts| {
            opts.iter()
                .filter_map(|o| o.as_str())
                .any(|o| o.split(',').any(|kv| kv == "name=rootless"))
        });
    ServerInfo {
        version: text(&v, "Version"),
        api_version: text(&v, "ApiVersion"),
        rootless,
        cgroup_driver: text(&i, "CgroupDriver"),
        cgroup_version: text(&i, "CgroupVersion"),
        root_dir: text(&i, "DockerRootDir"),
        warnings: warnings(&i),
    }
}

/// `Warnings` of an `/info` document, at most [`MAX_WARNINGS`], each cut to
/// [`MAX_WARNING_LEN`].
fn warnings(info: &serde_json::Value) -> Vec<String> {
    info.get("Warnings")
        .and_then(|w| w.as_array())
        .map(|w| {
            w.iter()
                .filter_map(|x| x.as_str())
                .take(MAX_WARNINGS)
                .map(|x| rootless_setup_core::finding::cut(x, MAX_WARNING_LEN))
                .collect()
        })
        .unwrap_or_default()
}

/// What the engine itself says is wrong with its set-up: `/info`'s `Warnings` (for `check`'s
/// `engine.installed`; `status` reads them with the rest of [`server_info`]).
pub fn info_warnings(socket: &Path) -> Result<Vec<String>, ApiError> {
    let info = get(socket, "/info", REQUEST_TIMEOUT)?;
    if info.status != 200 {
        return Err(ApiError::Malformed(format!(
            "/info answered {}",
            info.status
        )));
    }
    let value: serde_json::Value = serde_json::from_slice(&info.body)
        .map_err(|e| ApiError::Malformed(format!("/info is not JSON: {e}")))?;
    Ok(warnings(&value))
}

/// How many of the engine's own warnings are kept, and how long each may be.
const MAX_WARNINGS: usize = 20;
const MAX_WARNING_LEN: usize = 300;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::thread;

    /// A one-shot server on a socket in a temp dir that answers each connection with the next
    /// canned response; returns the requests it saw.
    fn serve(
        responses: Vec<Vec<u8>>,
    ) -> (
        tempfile::TempDir,
        std::path::PathBuf,
        thread::JoinHandle<Vec<String>>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let handle = thread::spawn(move || {
            let mut seen = Vec::new();
            for response in responses {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).unwrap();
                seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                s.write_all(&response).unwrap();
            }
            seen
        });
        (dir, path, handle)
    }

    #[test]
    fn ping_sends_a_proper_request_and_accepts_ok() {
        let (_d, path, h) = serve(vec![
            b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK".to_vec(),
        ]);
        ping(&path, REQUEST_TIMEOUT).unwrap();
        let seen = h.join().unwrap();
        assert!(
            seen[0].starts_with("GET /_ping HTTP/1.1\r\nHost: docker\r\n"),
            "{:?}",
            seen[0]
        );
        assert!(seen[0].contains("Connection: close\r\n\r\n"));
    }

    #[test]
    fn ping_refuses_other_answers() {
        let (_d, path, h) = serve(vec![
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nNOK".to_vec(),
            b"SSH-2.0-OpenSSH\r\n".to_vec(),
        ]);
        for _ in 0..3 {
            assert!(ping(&path, REQUEST_TIMEOUT).is_err());
        }
        h.join().unwrap();
    }

    #[test]
    fn chunked_and_unsized_bodies_are_read() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.body, b"{\"a\":1}");
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\n\r\nnope").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, b"nope".as_slice()));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nOK").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    #[test]
    fn garbage_is_refused_and_a_cut_response_never_parses_short() {
        let samples: [&[u8]; 8] = [
            b"",
            b"\r\n\r\n",
            b"HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 99999999 x\r\n\r\n",
            b"HTTP/1.1 200\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab",
            b"HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n",
            &[0xff, 0xfe, b'\r', b'\n', b'\r', b'\n', 0],
        ];
        for s in samples {
            assert!(parse_response(s).is_err(), "{s:?}");
        }
        // A cut chunked response is refused or, once its last chunk is in, complete: never a
        // shorter body.
        let full = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n";
        for n in 0..full.len() {
            if let Ok(r) = parse_response(&full[..n]) {
                assert_eq!((r.status, &r.body[..]), (200, &b"OK"[..]), "cut at {n}");
            }
        }
    }

    #[test]
    fn wait_ready_polls_until_the_socket_answers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let p = path.clone();
        // The socket appears only after a while; the first connection gets a 503.
        let server = thread::spawn(move || {
            thread::sleep(Duration::from_millis(60));
            let listener = UnixListener::bind(&p).unwrap();
            for body in [
                &b"HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\n"[..],
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK",
            ] {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 256];
                let _ = s.read(&mut buf).unwrap();
                s.write_all(body).unwrap();
            }
        });
        let mut ticks = 0;
        let ready = wait_ready(&path, Duration::from_secs(10), || ticks += 1).unwrap();
        server.join().unwrap();
        assert!(ready.attempts >= 3, "{ready:?}");
        assert!(ticks >= 2);
        assert!(ready.elapsed >= Duration::from_millis(60));
    }

    #[test]
    fn wait_ready_gives_up_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let start = Instant::now();
        let err = wait_ready(
            &dir.path().join("none.sock"),
            Duration::from_millis(50),
            || {},
        )
        .unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(err.to_string().contains("none.sock"), "{err}");
    }

    #[test]
    fn podman_says_it_is_rootless_in_libpod_info_and_warnings_are_kept() {
        let libpod = br#"{"host":{"security":{"rootless":true,"seccompEnabled":true}}}"#;
        assert_eq!(parse_libpod_rootless(libpod), Some(true));
        assert_eq!(
            parse_libpod_rootless(br#"{"host":{"security":{"rootless":false}}}"#),
            Some(false)
        );
        assert_eq!(parse_libpod_rootless(b"404 page not found"), None);
        assert_eq!(parse_libpod_rootless(br#"{"host":{}}"#), None);
        let info = parse_server_info(
            br#"{"Version":"4.3.1"}"#,
            Some(br#"{"Warnings":["WARNING: No memory limit support", 7, "second"]}"#),
        );
        assert_eq!(
            info.warnings,
            ["WARNING: No memory limit support", "second"]
        );
        let many = format!(r#"{{"Warnings":[{}]}}"#, vec![r#""w""#; 50].join(","));
        assert_eq!(
            parse_server_info(b"{}", Some(many.as_bytes()))
                .warnings
                .len(),
            MAX_WARNINGS
        );
    }

    #[test]
    fn server_info_reads_version_rootless_and_cgroup_driver() {
        let info = parse_server_info(
            br#"{"Version":"20.10.24+dfsg1","ApiVersion":"1.41"}"#,
            Some(br#"{"SecurityOptions":["name=seccomp,profile=default","name=rootless"],"CgroupDriver":"none","CgroupVersion":"1","DockerRootDir":"/home/dev/.local/share/docker"}"#),
        );
        assert_eq!(info.version.as_deref(), Some("20.10.24+dfsg1"));
        assert_eq!(info.api_version.as_deref(), Some("1.41"));
        assert_eq!(info.rootless, Some(true));
        assert_eq!(info.cgroup_driver.as_deref(), Some("none"));
        let rootful = parse_server_info(b"{}", Some(br#"{"SecurityOptions":["name=apparmor"]}"#));
        assert_eq!(rootful.rootless, Some(false));
        assert_eq!(parse_server_info(b"\xff", None), ServerInfo::default());
    }

    #[test]
    fn info_warnings_asks_info_and_keeps_only_the_warnings() {
        let body = r#"{"Warnings":["WARNING: No cpu cfs quota support"],"CgroupDriver":"none"}"#;
        let (_d, path, h) = serve(vec![
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnot".to_vec(),
        ]);
        assert_eq!(
            info_warnings(&path).unwrap(),
            ["WARNING: No cpu cfs quota support"]
        );
        assert!(info_warnings(&path).unwrap().is_empty());
        assert_eq!(
            info_warnings(&path).unwrap_err().to_string(),
            "malformed response: /info answered 500"
        );
        assert!(
            info_warnings(&path)
                .unwrap_err()
                .to_string()
                .starts_with("malformed response: /info is not JSON")
        );
        let seen = h.join().unwrap();
        assert!(
            seen[0].starts_with("GET /info HTTP/1.1\r\n"),
            "{:?}",
            seen[0]
        );
    }
}
