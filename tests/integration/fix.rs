//! `rootless-setup fix --user NAME` against fixture trees: system accounts and names that are
//! not portable are refused with what to do instead and no script; a home root must not create
//! or hand over gets a block by hand, never a `chown`, `mkdir` or `install -d` of it.

use assert_cmd::Command;
use rootless_setup_core::testing::Fixture;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
    daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
    bin:x:2:2:bin:/bin:/usr/sbin/nologin\n\
    sys:x:3:3:sys:/dev:/usr/sbin/nologin\n\
    www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
    slash:x:1000:1000::/:/bin/bash\n\
    dev:x:1001:1001::/home/dev:/bin/bash\n\
    a b:x:1002:1002::/home/ab:/bin/bash\n\
    svc:x:2000:2000::/home/svc:/bin/false\n";

/// A Debian tree whose system directories and homes are owned by root.
fn host() -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file("/etc/passwd", PASSWD)
        .file("/etc/group", "root:x:0:\n")
        .file("/etc/subuid", "")
        .file("/etc/subgid", "")
        .exe("/usr/sbin/usermod")
        .dir("/var/www")
        .dir("/etc/x")
        .symlink("/home/dev", "../etc");
    for dir in ["/", "/usr/sbin", "/bin", "/dev", "/var/www", "/home/dev"] {
        fx.meta(dir, "uid=0 gid=0 mode=0755");
    }
    fx
}

fn fix(fx: &Fixture, user: &str) -> assert_cmd::assert::Assert {
    Command::cargo_bin("rootless-setup")
        .unwrap()
        .args(["fix", "--user", user, "--root"])
        .arg(fx.root())
        .env("NO_COLOR", "1")
        .assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

#[test]
fn system_accounts_get_an_error_with_help_and_no_script() {
    let fx = host();
    for (name, uid) in [("daemon", 1), ("bin", 2), ("sys", 3), ("www-data", 33)] {
        let a = fix(&fx, name).code(2);
        assert_eq!(stdout(&a), "", "{name}: a script was printed");
        assert_eq!(
            stderr(&a),
            format!(
                "error: {name} (uid {uid}) is a system account: uids below 1000 (UID_MIN of \
                 /etc/login.defs) belong to the system, and preparing one would hand it what the \
                 system owns\n\
                 help: create a dedicated login user for the engine: sudo useradd -m USER (a \
                 portable name, a uid from UID_MIN up, a login shell and a home below the home \
                 base)\n\
                 help: then run `rootless-setup fix` as that user, or as root: rootless-setup fix \
                 --user USER\n"
            )
        );
    }
}

#[test]
fn uid_min_of_login_defs_and_a_nologin_shell_decide() {
    let fx = host();
    fx.file("/etc/login.defs", "# site\nUID_MIN\t\t1500\n");
    let a = fix(&fx, "dev").code(2);
    assert!(
        stderr(&a).starts_with("error: dev (uid 1001) is a system account: uids below 1500"),
        "{}",
        stderr(&a)
    );
    let a = fix(&fx, "svc").code(2);
    assert!(
        stderr(&a).starts_with("error: svc cannot log in (login shell /bin/false)"),
        "{}",
        stderr(&a)
    );
    assert_eq!(stdout(&a), "");
}

#[test]
fn a_name_that_is_not_portable_is_refused_naming_it() {
    let a = fix(&host(), "a b").code(2);
    assert_eq!(stdout(&a), "");
    assert!(
        stderr(&a).starts_with(
            "error: user name \"a b\" holds a character other than letters, digits, `.`, `_` and \
             `-`: a root script takes only portable names"
        ),
        "{}",
        stderr(&a)
    );
}

/// No line of `script` that is not a comment creates or hands over `path`.
fn assert_untouched(script: &str, path: &str) {
    for line in script.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split(' ').collect();
        let acts = ["chown", "mkdir", "install"].contains(&words[0]);
        assert!(
            !(acts
                && words
                    .iter()
                    .any(|w| *w == path || w.ends_with(&format!(":{path}")))),
            "{line}\n{script}"
        );
    }
}

#[test]
fn a_home_of_slash_or_through_a_symlink_gets_a_block_by_hand() {
    let fx = host();
    let a = fix(&fx, "slash").success();
    let script = stdout(&a);
    assert!(
        script.contains(
            "# by hand: root does not create or hand over / as slash's home: it is not a plain \
             path"
        ),
        "{script}"
    );
    assert!(
        script.contains("#   sudo usermod -d /home/slash slash\n"),
        "{script}"
    );
    assert!(!script.contains("chown"), "{script}");
    assert_untouched(&script, "/");

    let a = fix(&fx, "dev").success();
    let script = stdout(&a);
    assert!(
        script.contains("as dev's home: /home/dev is a symbolic link"),
        "{script}"
    );
    assert!(!script.contains("chown"), "{script}");
    assert_untouched(&script, "/home/dev");
}
