//! Tests of the versions file: who may use one, where it is, and reading it as hostile input.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use rootless_setup_core::known_versions::Identity;

use super::*;

const ME: u32 = 1000;

fn caller(vars: &[(&str, &str)]) -> Caller {
    vars.iter()
        .fold(Caller::new(ME, ME), |c, (k, v)| c.with_var(k, v))
}

fn answer(path: &str, version: &str) -> Answer {
    Answer {
        path: PathBuf::from(path),
        args: vec!["--version".to_owned()],
        identity: Identity {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: 4,
            ctime_ns: 5,
        },
        version: Some(version.to_owned()),
        variant: None,
    }
}

fn file_in(dir: &Path) -> VersionsFile {
    VersionsFile {
        path: dir.join("rootless-setup/versions.json"),
        uid: nix::unistd::geteuid().as_raw(),
    }
}

#[test]
fn only_the_user_themselves_on_the_real_host_has_a_file() {
    let real = Host::real();
    let home = caller(&[("HOME", "/home/dev")]);
    assert_eq!(
        VersionsFile::of(&home, &real, ME),
        Some(VersionsFile {
            path: PathBuf::from("/home/dev/.cache/rootless-setup/versions.json"),
            uid: ME
        })
    );
    let xdg = caller(&[("HOME", "/home/dev"), ("XDG_CACHE_HOME", "/tmp/c")]);
    assert_eq!(
        VersionsFile::of(&xdg, &real, ME).map(|f| f.path),
        Some(PathBuf::from("/tmp/c/rootless-setup/versions.json"))
    );
    let relative = caller(&[("HOME", "/home/dev"), ("XDG_CACHE_HOME", "c")]);
    assert_eq!(
        VersionsFile::of(&relative, &real, ME).map(|f| f.path),
        Some(PathBuf::from(
            "/home/dev/.cache/rootless-setup/versions.json"
        ))
    );
    // Root acting for the user, another user, a fixture tree, no usable HOME: none.
    assert_eq!(VersionsFile::of(&home, &real, 0), None);
    assert_eq!(VersionsFile::of(&home, &real, ME + 1), None);
    assert_eq!(VersionsFile::of(&home, &Host::at("/tmp"), ME), None);
    assert_eq!(VersionsFile::of(&caller(&[]), &real, ME), None);
    assert_eq!(
        VersionsFile::of(&caller(&[("HOME", "home/dev")]), &real, ME),
        None
    );
}

#[test]
fn what_is_saved_is_loaded_and_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(dir.path());
    assert_eq!(file.load(), KnownVersions::default());
    assert!(!file.save(KnownVersions::default(), Vec::new()));
    assert!(!file.path.exists(), "nothing fresh, nothing written");
    assert!(file.save(
        KnownVersions::default(),
        vec![answer("/usr/sbin/dockerd", "26.1.5")]
    ));
    let mode = std::fs::metadata(&file.path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let loaded = file.load();
    assert_eq!(loaded.len(), 1);
    // The same answer again changes nothing, so nothing is written.
    assert!(!file.save(loaded, vec![answer("/usr/sbin/dockerd", "26.1.5")]));
}

#[test]
fn a_file_that_is_not_exactly_ours_is_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(dir.path());
    file.save(
        KnownVersions::default(),
        vec![answer("/usr/sbin/dockerd", "26.1.5")],
    );
    let good = std::fs::read(&file.path).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    for bad in [
        b"not json".to_vec(),
        text.replace("\"format\": 1", "\"format\": 2").into_bytes(),
        text.replace("26.1.5", "26.1.5\\n[Service]").into_bytes(),
        text.replace("\"format\": 1", "\"format\": 1, \"extra\": true")
            .into_bytes(),
        vec![b' '; 300 << 10],
    ] {
        std::fs::write(&file.path, &bad).unwrap();
        assert_eq!(
            file.load(),
            KnownVersions::default(),
            "{:?}",
            String::from_utf8_lossy(&bad)
        );
    }
    std::fs::write(&file.path, &good).unwrap();
    assert_eq!(file.load().len(), 1);
    // Owned by someone else: forgotten.
    let theirs = VersionsFile {
        uid: file.uid + 1,
        ..file.clone()
    };
    assert_eq!(theirs.load(), KnownVersions::default());
}

#[test]
fn a_fifo_or_a_directory_in_its_place_is_forgotten_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(dir.path());
    std::fs::create_dir_all(file.path.parent().unwrap()).unwrap();
    nix::unistd::mkfifo(&file.path, nix::sys::stat::Mode::S_IRWXU).unwrap();
    assert_eq!(file.load(), KnownVersions::default());
    std::fs::remove_file(&file.path).unwrap();
    std::fs::create_dir(&file.path).unwrap();
    assert_eq!(file.load(), KnownVersions::default());
    // Nor can it be saved over a directory: no error, nothing written.
    assert!(!file.save(KnownVersions::default(), vec![answer("/usr/bin/x", "1.0")]));
}

#[test]
fn open_gives_what_the_file_remembers_unless_told_to_ignore_it() {
    let home = tempfile::tempdir().unwrap();
    let home_text = home.path().to_str().unwrap();
    // The user: this process's own uid, or (run as root) uid 1000 owning the file.
    let euid = nix::unistd::geteuid().as_raw();
    let uid = if euid == 0 { ME } else { euid };
    let user = Caller::new(uid, uid).with_var("HOME", home_text);
    let real = Host::real();
    let (file, known) = VersionsFile::open_as(&user, &real, false, uid);
    let file = file.expect("the user's own file");
    assert_eq!(known, KnownVersions::default(), "nothing remembered yet");
    assert!(file.save(known, vec![answer("/usr/sbin/dockerd", "26.1.5")]));
    if euid == 0 {
        nix::unistd::chown(&file.path, Some(uid.into()), None).unwrap();
    }
    let (_, known) = VersionsFile::open_as(&user, &real, false, uid);
    assert_eq!(known.len(), 1);
    let (again, ignored) = VersionsFile::open_as(&user, &real, true, uid);
    assert_eq!(again, Some(file), "--no-cache still saves to the file");
    assert!(ignored.is_empty(), "--no-cache reads nothing");
    let (none, nothing) = VersionsFile::open_as(&user, &real, false, 0);
    assert_eq!((none, nothing), (None, KnownVersions::default()));
}
