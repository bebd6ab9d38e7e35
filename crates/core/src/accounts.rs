//! Which accounts and homes root may prepare: the one rule `fix` and the `user` check's advice
//! both follow, so neither ever hands a system directory to an account.
//!
//! An account is prepared only when it is an ordinary login user: a portable name
//! ([`portable_name`]), a uid of at least `UID_MIN` of `/etc/login.defs` and a login shell
//! that is not `nologin` or `false` ([`login_user`]). Its home is created or given to it only
//! when the home lies directly below a home base (`HOME=` of `/etc/default/useradd`, `DHOME=`
//! of `/etc/adduser.conf`, else `/home`) and no component of its path is a symbolic link
//! ([`home_root_may_prepare`]). The facts come from the host through [`Host`] ([`Rules::read`],
//! [`first_symlink`]); the decisions are pure functions of them.

use std::path::{Component, Path, PathBuf};

use crate::host::Host;
use crate::model::Account;
use crate::remedy::Remedy;
use crate::shell;

/// `UID_MIN` when `/etc/login.defs` does not set a usable one.
pub const UID_MIN_DEFAULT: u32 = 1000;
/// The home base when none is configured (useradd's and adduser's own default).
pub const HOME_BASE_DEFAULT: &str = "/home";
/// Where `UID_MIN` is set.
pub const LOGIN_DEFS: &str = "/etc/login.defs";
/// useradd's defaults (`HOME=`).
pub const USERADD_DEFAULTS: &str = "/etc/default/useradd";
/// adduser's configuration (`DHOME=`).
pub const ADDUSER_CONF: &str = "/etc/adduser.conf";
/// Longest name accepted, in bytes (useradd's limit on Linux).
pub const NAME_MAX: usize = 32;

/// Directories that are never a home base, nor anything below them.
const SYSTEM_TREES: [&str; 14] = [
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root",
    "/run", "/sbin", "/sys", "/usr",
];
/// Directories that are never a home base themselves (a base below them can be).
const SYSTEM_DIRS: [&str; 6] = ["/", "/var", "/opt", "/srv", "/mnt", "/media"];
/// World-writable trees: never a home base, nor anything below them.
const SHARED_TREES: [&str; 3] = ["/tmp", "/var/tmp", "/dev/shm"];

/// What the host configures about accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// The lowest uid of a login user.
    pub uid_min: u32,
    /// The directories homes are made in, in the order they are configured.
    pub home_bases: Vec<PathBuf>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            uid_min: UID_MIN_DEFAULT,
            home_bases: vec![PathBuf::from(HOME_BASE_DEFAULT)],
        }
    }
}

impl Rules {
    /// Reads `UID_MIN` and the home bases from `host`; an absent, unreadable or malformed
    /// setting is its default.
    pub fn read(host: &Host) -> Rules {
        let read = |p: &str| host.read(p).ok().flatten().unwrap_or_default();
        Rules::parse(
            &read(LOGIN_DEFS),
            &read(USERADD_DEFAULTS),
            host.exists(ADDUSER_CONF)
                .then(|| read(ADDUSER_CONF))
                .as_deref(),
        )
    }

    /// The rules from the texts of `/etc/login.defs`, `/etc/default/useradd` and, when it
    /// exists, `/etc/adduser.conf`.
    pub fn parse(login_defs: &str, useradd: &str, adduser: Option<&str>) -> Rules {
        let uid_min = login_defs_value(login_defs, "UID_MIN")
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&v| v > 0)
            .unwrap_or(UID_MIN_DEFAULT);
        // useradd always exists and defaults to /home; adduser only counts when installed.
        let useradd_base =
            assignment(useradd, "HOME").unwrap_or_else(|| HOME_BASE_DEFAULT.to_owned());
        let adduser_base =
            adduser.map(|t| assignment(t, "DHOME").unwrap_or_else(|| HOME_BASE_DEFAULT.to_owned()));
        let mut home_bases: Vec<PathBuf> = Vec::new();
        for base in std::iter::once(useradd_base).chain(adduser_base) {
            let base = PathBuf::from(base);
            if usable_base(&base) && !home_bases.contains(&base) {
                home_bases.push(base);
            }
        }
        Rules {
            uid_min,
            home_bases,
        }
    }
}

/// The value of the last `KEY VALUE` line of a login.defs-style text (comments and blank lines
/// ignored, any whitespace between key and value).
fn login_defs_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().rev().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == key).then_some(())?;
        words.next()
    })
}

/// The value of the last `KEY=VALUE` line of a shell-style configuration (spaces around `=` and
/// one pair of quotes around the value allowed, comments ignored).
fn assignment(text: &str, key: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let (k, v) = line.trim().split_once('=')?;
        if k.trim() != key {
            return None;
        }
        let v = v.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| v.strip_prefix(*q)?.strip_suffix(*q))
            .unwrap_or(v);
        Some(unquoted.to_owned())
    })
}

/// Whether `path` is absolute and written plainly: no `.` or `..` component, no `//`, no
/// trailing `/`, no control character.
fn plain_absolute(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    !path.chars().any(char::is_control)
        && (rest.is_empty()
            || rest
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != ".."))
}

/// Whether `base` may hold homes: plain and absolute, not a system directory, not in a system
/// or world-writable tree.
fn usable_base(base: &Path) -> bool {
    let Some(text) = base.to_str() else {
        return false;
    };
    plain_absolute(text)
        && !SYSTEM_DIRS.contains(&text)
        && !SYSTEM_TREES
            .iter()
            .chain(&SHARED_TREES)
            .any(|t| base.starts_with(t))
}

/// The first component of `path`, from the top, that is a symbolic link on `host` (checked with
/// `lstat`, never followed); one that cannot be looked at counts as one. `None` when there is
/// none (components that do not exist are not links).
pub fn first_symlink(host: &Host, path: &Path) -> Option<PathBuf> {
    let mut at = PathBuf::from("/");
    for component in path.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        at.push(name);
        if host.is_symlink(&at).unwrap_or(true) {
            return Some(at);
        }
    }
    None
}

/// Why root must not prepare an account or its home.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A name the system would write differently, or commands would misread.
    #[error(
        "user name {shown} {why}: a root script takes only portable names (letters, digits, `.`, \
         `_`, `-`, an optional final `$`, at most {NAME_MAX} bytes, not starting with `-`)"
    )]
    Name {
        /// The name, escaped (`"a b"`).
        shown: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A uid below `UID_MIN`.
    #[error(
        "{name} (uid {uid}) is a system account: uids below {uid_min} (UID_MIN of \
         /etc/login.defs) belong to the system, and preparing one would hand it what the \
         system owns"
    )]
    SystemUid {
        /// The account.
        name: String,
        uid: u32,
        /// The host's `UID_MIN`.
        uid_min: u32,
    },
    /// A login shell that refuses logins.
    #[error(
        "{name} cannot log in (login shell {shell}): rootless-setup prepares the host for an \
         ordinary login user, not a service account"
    )]
    NoLogin {
        /// The account.
        name: String,
        shell: String,
    },
    /// A home root must not create or give away.
    #[error("root does not create or hand over {home} as {name}'s home: {why}")]
    Home {
        /// The account.
        name: String,
        /// The home, lossily decoded.
        home: String,
        /// Why not.
        why: String,
        /// What an admin runs instead (empty when it needs a decision first).
        commands: Vec<String>,
    },
}

impl Refusal {
    /// What an admin should do instead, one line each.
    pub fn help(&self) -> Vec<String> {
        match self {
            Refusal::Name { .. } | Refusal::SystemUid { .. } | Refusal::NoLogin { .. } => vec![
                "create a dedicated login user for the engine: sudo useradd -m USER (a portable \
                 name, a uid from UID_MIN up, a login shell and a home below the home base)"
                    .to_owned(),
                "then run `rootless-setup fix` as that user, or as root: rootless-setup fix \
                 --user USER"
                    .to_owned(),
            ],
            Refusal::Home { commands, .. } if !commands.is_empty() => {
                let mut help =
                    vec!["give the account a home of its own, then create it:".to_owned()];
                help.extend(commands.iter().cloned());
                help
            }
            Refusal::Home { .. } => vec![
                "point the account at a home directly below a home base whose path has no \
                 symbolic link (sudo usermod -d DIR USER), then create it"
                    .to_owned(),
            ],
        }
    }

    /// The commands an admin runs instead, for a finding's fix.
    pub fn commands(&self) -> Vec<String> {
        match self {
            Refusal::Home { commands, .. } => commands.clone(),
            _ => vec!["sudo useradd -m USER".to_owned()],
        }
    }
}

/// `Err` unless `name` is portable: `[A-Za-z0-9._-]`, an optional final `$`, at most
/// [`NAME_MAX`] bytes, not starting with `-`, not `.` or `..`.
pub fn portable_name(name: &str) -> Result<(), Refusal> {
    let refuse = |why| {
        Err(Refusal::Name {
            shown: format!("{name:?}"),
            why,
        })
    };
    let body = name.strip_suffix('$').unwrap_or(name);
    if name.is_empty() {
        refuse("is empty")
    } else if name.len() > NAME_MAX {
        refuse("is longer than 32 bytes")
    } else if name.starts_with('-') {
        refuse("starts with `-`, so commands would read it as an option")
    } else if name == "." || name == ".." {
        refuse("is a path component")
    } else if !body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        refuse("holds a character other than letters, digits, `.`, `_` and `-`")
    } else {
        Ok(())
    }
}

/// Whether `shell` refuses logins (`nologin`, `false`, wherever they live).
pub fn refuses_login(shell: &str) -> bool {
    let name = shell.rsplit('/').next().unwrap_or(shell);
    matches!(name, "nologin" | "false")
}

/// `Err` unless `account` is an ordinary login user: a portable name, a uid of at least
/// `UID_MIN` and a shell that allows logins.
pub fn login_user(rules: &Rules, account: &Account) -> Result<(), Refusal> {
    portable_name(&account.name)?;
    if account.uid < rules.uid_min {
        return Err(Refusal::SystemUid {
            name: account.name.clone(),
            uid: account.uid,
            uid_min: rules.uid_min,
        });
    }
    if refuses_login(&account.shell) {
        return Err(Refusal::NoLogin {
            name: account.name.clone(),
            shell: account.shell.clone(),
        });
    }
    Ok(())
}

/// The home base `account`'s home lies directly below, when root may create it or give it to
/// the account: the account is a [`login_user`], the home is a plain absolute path directly
/// below one of `rules.home_bases`, and `symlink` (the [`first_symlink`] of the home) is
/// `None`. Otherwise why not, with what an admin should run instead.
pub fn home_root_may_prepare<'r>(
    rules: &'r Rules,
    account: &Account,
    symlink: Option<&Path>,
) -> Result<&'r Path, Refusal> {
    login_user(rules, account)?;
    let home = account.home.to_string_lossy();
    let base = rules
        .home_bases
        .iter()
        .find(|b| plain_absolute(&home) && account.home.parent() == Some(b.as_path()));
    let why = match (base, symlink) {
        (Some(base), None) => return Ok(base),
        (_, Some(link)) => format!(
            "{} is a symbolic link, and root follows no link when it creates or hands over a home",
            link.display()
        ),
        (None, None) if rules.home_bases.is_empty() => {
            "no usable home base is configured (HOME= in /etc/default/useradd, DHOME= in \
             /etc/adduser.conf)"
                .to_owned()
        }
        (None, None) => format!(
            "it is not a plain path directly below a home base ({}: HOME= in \
             /etc/default/useradd, DHOME= in /etc/adduser.conf)",
            bases_text(rules)
        ),
    };
    Err(Refusal::Home {
        name: account.name.clone(),
        commands: new_home_commands(rules, account, symlink),
        home: home.into_owned(),
        why,
    })
}

fn bases_text(rules: &Rules) -> String {
    rules
        .home_bases
        .iter()
        .map(|b| b.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an admin runs to give `account` a proper home: point it at BASE/NAME (without `-m`,
/// which would move whatever the current home holds) and create that. When the home already
/// is BASE/NAME but is itself a link: move the link aside and create the directory. Nothing
/// when a link sits higher up (the base itself needs a look).
fn new_home_commands(rules: &Rules, account: &Account, symlink: Option<&Path>) -> Vec<String> {
    let Some(base) = rules.home_bases.first() else {
        return Vec::new();
    };
    let name = shell::quote(&account.name);
    let new_home = base.join(&account.name);
    let quoted = shell::quote_path(&new_home);
    let create = Remedy::CreateHome {
        home: new_home.clone(),
        uid: account.uid,
        gid: account.gid,
    }
    .commands();
    match symlink {
        Some(link) if link == new_home && account.home == new_home => {
            let mut commands = vec![format!(
                "sudo mv {quoted} {}",
                shell::quote(&format!("{}.link", new_home.display()))
            )];
            commands.extend(create);
            commands
        }
        Some(link) if new_home.starts_with(link) => Vec::new(),
        _ => {
            let mut commands = vec![format!("sudo usermod -d {quoted} {name}")];
            commands.extend(create);
            commands
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fixture, account};

    fn with_shell(mut a: Account, shell: &str) -> Account {
        a.shell = shell.to_owned();
        a
    }

    #[test]
    fn login_defs_takes_the_last_uid_min_and_defaults_on_anything_odd() {
        let uid_min = |t: &str| Rules::parse(t, "", None).uid_min;
        assert_eq!(uid_min(""), 1000);
        assert_eq!(uid_min("UID_MIN 500\n"), 500);
        assert_eq!(uid_min("# UID_MIN 5\n  UID_MIN\t\t2000  # x\n"), 2000);
        assert_eq!(uid_min("UID_MIN 500\nUID_MIN 600\n"), 600);
        assert_eq!(uid_min("UID_MIN\n"), 1000);
        assert_eq!(uid_min("UID_MIN 0\n"), 1000);
        assert_eq!(uid_min("UID_MIN -5\n"), 1000);
        assert_eq!(uid_min("UID_MIN 0x10\n"), 1000);
        assert_eq!(uid_min("UID_MIN 99999999999\n"), 1000);
        assert_eq!(uid_min("UID_MINIMUM 5\nSYS_UID_MIN 5\n"), 1000);
    }

    #[test]
    fn home_bases_come_from_useradd_and_adduser_and_odd_ones_are_dropped() {
        let bases = |u: &str, a: Option<&str>| {
            Rules::parse("", u, a)
                .home_bases
                .iter()
                .map(|b| b.display().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(bases("", None), ["/home"]);
        assert_eq!(bases("# HOME=/srv\nHOME=/var/home\n", None), ["/var/home"]);
        assert_eq!(
            bases("HOME=/home", Some("DHOME = \"/export/home\"\n")),
            ["/home", "/export/home"]
        );
        assert_eq!(bases("", Some("DHOME=/home\n")), ["/home"]);
        assert_eq!(bases("", Some("# nothing\n")), ["/home"]);
        for odd in [
            "/",
            "",
            "home",
            "/usr",
            "/usr/home",
            "/etc",
            "/var",
            "/tmp/h",
            "/home/",
            "/a/../b",
            "/a//b",
            "/./h",
            "/root",
            "/dev/shm/x",
            "/proc/1",
        ] {
            assert_eq!(
                bases(&format!("HOME={odd}\n"), None),
                Vec::<String>::new(),
                "{odd}"
            );
        }
    }

    #[test]
    fn portable_names_only() {
        for good in ["alice", "a.b_c-d", "machine$", "A1", &"x".repeat(32)] {
            assert_eq!(portable_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", "is empty"),
            (
                "a b",
                "holds a character other than letters, digits, `.`, `_` and `-`",
            ),
            (
                "a\nb",
                "holds a character other than letters, digits, `.`, `_` and `-`",
            ),
            (
                "-rf",
                "starts with `-`, so commands would read it as an option",
            ),
            ("..", "is a path component"),
            (
                "a$b",
                "holds a character other than letters, digits, `.`, `_` and `-`",
            ),
            (
                "é",
                "holds a character other than letters, digits, `.`, `_` and `-`",
            ),
            (&"x".repeat(33), "is longer than 32 bytes"),
        ] {
            assert_eq!(
                portable_name(bad),
                Err(Refusal::Name {
                    shown: format!("{bad:?}"),
                    why
                }),
                "{bad:?}"
            );
        }
        assert_eq!(
            portable_name("a b").unwrap_err().to_string(),
            "user name \"a b\" holds a character other than letters, digits, `.`, `_` and `-`: a \
             root script takes only portable names (letters, digits, `.`, `_`, `-`, an optional \
             final `$`, at most 32 bytes, not starting with `-`)"
        );
    }

    #[test]
    fn system_uids_and_nologin_shells_are_not_login_users() {
        let rules = Rules::default();
        assert_eq!(
            login_user(&rules, &account("alice", 1000, "/home/alice")),
            Ok(())
        );
        let err = login_user(&rules, &account("daemon", 1, "/usr/sbin")).unwrap_err();
        assert_eq!(
            err,
            Refusal::SystemUid {
                name: "daemon".into(),
                uid: 1,
                uid_min: 1000
            }
        );
        assert!(
            err.to_string()
                .starts_with("daemon (uid 1) is a system account")
        );
        assert_eq!(
            login_user(&rules, &account("ci", 999, "/home/ci")).map_err(|e| e.to_string()),
            Err(
                "ci (uid 999) is a system account: uids below 1000 (UID_MIN of /etc/login.defs) \
                 belong to the system, and preparing one would hand it what the system owns"
                    .into()
            )
        );
        let low = Rules {
            uid_min: 500,
            ..Rules::default()
        };
        assert_eq!(login_user(&low, &account("ci", 500, "/home/ci")), Ok(()));
        for shell in [
            "/usr/sbin/nologin",
            "/sbin/nologin",
            "/bin/false",
            "/usr/bin/false",
            "nologin",
        ] {
            let a = with_shell(account("svc", 2000, "/home/svc"), shell);
            assert_eq!(
                login_user(&rules, &a),
                Err(Refusal::NoLogin {
                    name: "svc".into(),
                    shell: shell.into()
                })
            );
        }
        for shell in ["", "/bin/bash", "/usr/bin/falsehood", "/bin/nologin-not"] {
            let a = with_shell(account("u", 2000, "/home/u"), shell);
            assert_eq!(login_user(&rules, &a), Ok(()), "{shell}");
        }
    }

    #[test]
    fn a_home_must_lie_directly_below_a_base_without_links() {
        let rules = Rules::default();
        let may = |home: &str, link: Option<&str>| {
            home_root_may_prepare(&rules, &account("dev", 1000, home), link.map(Path::new))
        };
        assert_eq!(may("/home/dev", None), Ok(Path::new("/home")));
        assert_eq!(may("/home/a b", None), Ok(Path::new("/home")));
        for home in [
            "/",
            "/home",
            "/home/",
            "/home/dev/",
            "/usr/sbin",
            "/var/www",
            "/home/a/b",
            "/home/../etc",
            "/home/./dev",
            "//home/dev",
            "home/dev",
            "",
            "/homes/dev",
            "/home//dev",
        ] {
            let err = may(home, None).unwrap_err();
            assert_eq!(
                err,
                Refusal::Home {
                    name: "dev".into(),
                    home: home.into(),
                    why: "it is not a plain path directly below a home base (/home: HOME= in \
                          /etc/default/useradd, DHOME= in /etc/adduser.conf)"
                        .into(),
                    commands: vec![
                        "sudo usermod -d /home/dev dev".into(),
                        "sudo install -d -o 1000 -g 1000 -m 0700 /home/dev".into()
                    ],
                },
                "{home:?}"
            );
        }
        let err = may("/home/dev", Some("/home/dev")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "root does not create or hand over /home/dev as dev's home: /home/dev is a symbolic \
             link, and root follows no link when it creates or hands over a home"
        );
        assert_eq!(
            err.commands(),
            [
                "sudo mv /home/dev /home/dev.link",
                "sudo install -d -o 1000 -g 1000 -m 0700 /home/dev"
            ]
        );
        // A link elsewhere (not on the new home's path): point the account at BASE/NAME.
        assert_eq!(
            may("/srv/dev", Some("/srv")).unwrap_err().commands(),
            [
                "sudo usermod -d /home/dev dev",
                "sudo install -d -o 1000 -g 1000 -m 0700 /home/dev"
            ]
        );
        let err = may("/home/dev", Some("/home")).unwrap_err();
        assert_eq!(err.commands(), Vec::<String>::new());
        assert!(
            err.help()[0].contains("usermod -d DIR USER"),
            "{:?}",
            err.help()
        );
        // The account rule comes first.
        assert!(matches!(
            home_root_may_prepare(&rules, &account("daemon", 1, "/home/daemon"), None),
            Err(Refusal::SystemUid { .. })
        ));
        let none = Rules {
            home_bases: Vec::new(),
            ..Rules::default()
        };
        let err =
            home_root_may_prepare(&none, &account("dev", 1000, "/home/dev"), None).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "no usable home base is configured (HOME= in \
             /etc/default/useradd, DHOME= in /etc/adduser.conf)"
            ),
            "{err}"
        );
        assert!(err.commands().is_empty());
    }

    #[test]
    fn links_are_found_with_lstat_through_the_host() {
        let fx = Fixture::new();
        fx.dir("/etc/x")
            .dir("/home/alice")
            .symlink("/home/dev", "../etc");
        let host = fx.host();
        assert_eq!(first_symlink(&host, Path::new("/home/alice")), None);
        assert_eq!(first_symlink(&host, Path::new("/home/missing/x")), None);
        assert_eq!(
            first_symlink(&host, Path::new("/home/dev")),
            Some(PathBuf::from("/home/dev"))
        );
        assert_eq!(
            first_symlink(&host, Path::new("/home/dev/x")),
            Some(PathBuf::from("/home/dev"))
        );
        fx.remove("/home/alice").remove("/home/dev").remove("/home");
        fx.symlink("/home", "var/home").dir("/var/home/alice");
        assert_eq!(
            first_symlink(&fx.host(), Path::new("/home/alice")),
            Some(PathBuf::from("/home"))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_configuration_gives_usable_bases_and_a_positive_uid_min(
            login_defs in "(UID_MIN|#|[ \t]|[0-9]{1,12}|x|\n){0,20}",
            useradd in "(HOME|=|/|home|usr|\\.|\"| |\n|[a-z]{1,3}){0,20}",
            adduser in proptest::option::of("(DHOME|=|/|home|tmp|\\.\\.|'|\n){0,20}"),
        ) {
            let rules = Rules::parse(&login_defs, &useradd, adduser.as_deref());
            proptest::prop_assert!(rules.uid_min > 0);
            for base in &rules.home_bases {
                proptest::prop_assert!(usable_base(base), "{}", base.display());
                proptest::prop_assert!(base != Path::new("/"));
            }
        }

        #[test]
        fn names_never_panic_and_portable_ones_are_plain_words(name in "\\PC{0,40}") {
            if portable_name(&name).is_ok() {
                let quoted = shell::quote(&name);
                proptest::prop_assert_eq!(quoted.trim_matches('\''), name.as_str());
                proptest::prop_assert!(name.len() <= NAME_MAX && !name.starts_with('-'));
            }
        }
    }

    #[test]
    fn rules_are_read_through_the_host() {
        let fx = Fixture::new();
        fx.file(LOGIN_DEFS, "UID_MIN 2000\n")
            .file(USERADD_DEFAULTS, "HOME=/export/home\n");
        assert_eq!(
            Rules::read(&fx.host()),
            Rules {
                uid_min: 2000,
                home_bases: vec![PathBuf::from("/export/home")]
            }
        );
        fx.file(ADDUSER_CONF, "DHOME=/home\n");
        assert_eq!(
            Rules::read(&fx.host()).home_bases,
            [PathBuf::from("/export/home"), PathBuf::from("/home")]
        );
        assert_eq!(Rules::read(&Fixture::new().host()), Rules::default());
    }
}
