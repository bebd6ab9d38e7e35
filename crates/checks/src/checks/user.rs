//! The `user` check: the caller is an ordinary user (not root) with a passwd entry and a home
//! directory they own and can write. Establishes [`Facts::account`].
//!
//! Also holds the passwd lookup later checks share ([`lookup_account`], and [`caller_account`]
//! for checks that run after `user`).

use std::path::{Path, PathBuf};

use crate::context::Context;
use rootless_setup_core::accounts::{self, Refusal, Rules};
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::host::{FileInfo, HostError};
use rootless_setup_core::model::{Account, Facts};
use rootless_setup_core::remedy::Remedy;
use rootless_setup_core::shell;

use crate::memo::Shared;

const ID: CheckId = CheckId::User;
const PASSWD: Shared = Shared::Passwd;

/// Where an account was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AccountSource {
    /// `<root>/etc/passwd`.
    PasswdFile,
    /// The name service switch (LDAP, SSSD, systemd-homed, …), real host only.
    Nss,
}

impl AccountSource {
    fn as_str(self) -> &'static str {
        match self {
            AccountSource::PasswdFile => PASSWD.path(),
            AccountSource::Nss => "nss",
        }
    }
}

/// The passwd entry of `uid`: first from the host tree's `/etc/passwd`, then, on the real host
/// only, through NSS. The error is why `/etc/passwd` could not be read, when it could not.
pub(super) fn lookup_account(
    cx: &Context<'_>,
    uid: u32,
) -> (Option<(Account, AccountSource)>, Option<String>) {
    let (from_file, read_error) = match cx.memo.text(cx.host, PASSWD) {
        Ok(text) => (
            text.as_deref()
                .and_then(|t| rootless_setup_core::passwd::by_uid(t, uid)),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    if let Some(account) = from_file {
        return (Some((account, AccountSource::PasswdFile)), read_error);
    }
    if cx.host.is_real()
        && let Ok(Some(u)) = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
    {
        let account = Account {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            home: u.dir,
            shell: u.shell.to_string_lossy().into_owned(),
        };
        return (Some((account, AccountSource::Nss)), read_error);
    }
    (None, read_error)
}

/// The caller's account: the one `user` found ([`Facts::account`]), else a passwd lookup
/// ([`lookup_account`]).
pub(super) fn caller_account(cx: &Context<'_>, facts: &Facts) -> Option<Account> {
    if let Some(account) = &facts.account {
        return Some(account.clone());
    }
    lookup_account(cx, cx.caller.uid)
        .0
        .map(|(account, _)| account)
}

/// `user`: not root, a passwd entry, a home directory owned and writable by the user.
pub(crate) fn user(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let uid = cx.caller.uid;
    if uid == 0 {
        return running_as_root(cx, facts);
    }
    let (found, read_error) = lookup_account(cx, uid);
    let Some((account, source)) = found else {
        return no_passwd_entry(cx, uid, read_error);
    };
    facts.account = Some(account.clone());
    let home = Home::new(cx, uid, &account, source);
    if !account.home.is_absolute() {
        return home.not_absolute();
    }
    match cx.host.stat(&account.home) {
        Ok(Some(info)) => home.judge(cx, &info),
        Ok(None) => home.missing(),
        Err(e) => home.unreachable(&e),
    }
}

/// The caller's home directory and whether root may prepare it for them.
struct Home<'a> {
    uid: u32,
    account: &'a Account,
    source: AccountSource,
    link: Option<PathBuf>,
    /// Root creates or hands over the home only when the one rule allows it; otherwise the
    /// advice is what an admin should do instead.
    may: Result<(), Refusal>,
}

impl<'a> Home<'a> {
    fn new(cx: &Context<'_>, uid: u32, account: &'a Account, source: AccountSource) -> Self {
        let rules = Rules::read(cx.host);
        let link = accounts::first_symlink(cx.host, &account.home);
        let may = accounts::home_root_may_prepare(&rules, account, link.as_deref()).map(|_| ());
        Self {
            uid,
            account,
            source,
            link,
            may,
        }
    }

    fn root_fix(&self, fix: Fix) -> Fix {
        match &self.may {
            Ok(()) => fix,
            Err(refusal) => refused(refusal),
        }
    }

    /// The observations every finding about the home carries.
    fn base(&self, f: Finding) -> Finding {
        let f = f
            .observe("uid", self.uid)
            .observe("user", &self.account.name)
            .observe("passwd_source", self.source.as_str())
            .observe("home", self.account.home.display());
        match &self.link {
            Some(link) => f.observe("home_symlink", link.display()),
            None => f,
        }
    }

    fn create(&self) -> Remedy {
        Remedy::CreateHome {
            home: self.account.home.clone(),
            uid: self.uid,
            gid: self.account.gid,
        }
    }

    fn not_absolute(&self) -> Finding {
        let account = self.account;
        self.base(Finding::fail(
            ID,
            format!(
                "the passwd entry of {} has no absolute home directory (`{}`)",
                account.name,
                account.home.display()
            ),
        ))
        .why(
            "the engine keeps its data, configuration and systemd user units under the home \
             directory; without one there is nowhere to install it",
        )
        .fix(self.root_fix(Fix::root(
            ID,
            "give the account a home directory and create it",
        )))
    }

    fn missing(&self) -> Finding {
        let home = &self.account.home;
        self.base(Finding::fail(
            ID,
            format!("home directory {} does not exist", home.display()),
        ))
        .why(
            "the engine keeps its data under ~/.local/share, its configuration under \
             ~/.config and its systemd user unit under ~/.config/systemd/user",
        )
        .fix(self.root_fix(
            Fix::root(ID, "create the home directory, owned by the user").remedy(self.create()),
        ))
    }

    fn unreachable(&self, e: &HostError) -> Finding {
        let home = &self.account.home;
        self.base(Finding::fail(
            ID,
            format!("could not look at home directory {}", home.display()),
        ))
        .observe("error", e)
        .why("the engine keeps its data, configuration and user units under the home directory")
        .fix(
            Fix::root(ID, "make the home directory reachable by the user").remedy(
                Remedy::InspectHome {
                    home: home.to_path_buf(),
                },
            ),
        )
    }

    /// Decides whether the existing home is a directory the user owns and can write.
    fn judge(&self, cx: &Context<'_>, info: &FileInfo) -> Finding {
        let account = self.account;
        let uid = self.uid;
        let home = &account.home;
        let quoted_home = shell::quote_path(home);
        let base = |f: Finding| {
            self.base(f)
                .observe("home_owner", info.uid)
                .observe("home_mode", format!("{:04o}", info.perms()))
        };
        if !info.is_dir {
            return base(Finding::fail(
                ID,
                format!("home {} is not a directory", home.display()),
            ))
            .why("the engine keeps its data, configuration and user units under the home directory")
            .fix(
                self.root_fix(
                    Fix::root(ID, "move the file away and create the home directory")
                        .cmd(format!(
                            "sudo mv {quoted_home} {}",
                            shell::quote(&format!("{}.bak", home.display()))
                        ))
                        .remedy(self.create()),
                ),
            );
        }
        if info.uid != uid {
            return base(Finding::fail(
                ID,
                format!(
                    "home {} is owned by uid {}, not by {} (uid {uid})",
                    home.display(),
                    info.uid,
                    account.name
                ),
            ))
            .why(
                "the engine, its data directory and the systemd user manager write below the home \
                 directory as the user; a home owned by someone else makes install fail or leaves \
                 files the user cannot manage",
            )
            .fix(self.root_fix(
                Fix::root(ID, "give the home directory to the user").remedy(Remedy::GiveHome {
                    home: home.to_path_buf(),
                    owner: info.uid,
                    uid,
                    gid: account.gid,
                }),
            ));
        }
        if info.perms() & 0o200 == 0 {
            return base(Finding::fail(
                ID,
                format!(
                    "home {} is not writable by its owner (mode {:04o})",
                    home.display(),
                    info.perms()
                ),
            ))
            .why(
                "install writes the systemd user unit under ~/.config and the engine keeps its data \
                 under ~/.local/share",
            )
            .fix(
                Fix::user(ID, "make the home directory writable by its owner")
                    .cmd(format!("chmod u+w {quoted_home}")),
            );
        }
        let mut finding = base(Finding::pass(
            ID,
            format!("{} (uid {uid}) with home {}", account.name, home.display()),
        ))
        .observe("gid", account.gid)
        .observe("shell", &account.shell);
        if let Some(env_home) = cx.caller.var("HOME")
            && Path::new(env_home) != home
        {
            finding = finding.observe("home_env", env_home);
        }
        finding
    }
}

/// The advice when root must not prepare the home: why, and what an admin does instead.
fn refused(refusal: &Refusal) -> Fix {
    let help = refusal.help();
    let summary = match help.first() {
        Some(first) => format!("{refusal}; {first}"),
        None => refusal.to_string(),
    };
    Fix::root(ID, summary).cmds(refusal.commands())
}

fn running_as_root(cx: &Context<'_>, facts: &Facts) -> Finding {
    let sudo_user = cx.caller.var("SUDO_USER").filter(|u| *u != "root");
    let target = sudo_user.map_or_else(|| "USER".to_owned(), shell::quote);
    let mut finding = Finding::fail(ID, "running as root (uid 0)").observe("uid", 0);
    if let Some(u) = sudo_user {
        finding = finding.observe("sudo_user", u);
    }
    finding
        .why(
            "rootless mode runs the engine as an ordinary user, so that a container breakout \
             lands in an unprivileged account; set up for root it would be a rootful engine in \
             disguise, without the isolation rootless mode exists for",
        )
        .fix(as_the_user(facts, &target))
}

/// How root hands over to the user: a login session where systemd runs, `su -` where there is
/// none to open.
fn as_the_user(facts: &Facts, target: &str) -> Fix {
    if let Some(host) = facts.without_systemd() {
        return Fix::user(
            ID,
            format!(
                "run rootless-setup without sudo, as the user who will own the engine ({target}): \
                 without systemd (PID 1 is {}) there is no login session to open, so a login \
                 shell of that user does",
                host.pid1_label()
            ),
        )
        .cmds([format!("su - {target}"), "rootless-setup check".to_owned()]);
    }
    Fix::user(
        ID,
        format!(
            "run rootless-setup without sudo, as the user who will own the engine ({target}), \
             from that user's own login session: `machinectl shell {target}@` or ssh \
             (`su` and `sudo -iu` do not create one)"
        ),
    )
    .cmds([
        format!("machinectl shell {target}@"),
        "rootless-setup check".to_owned(),
    ])
}

fn no_passwd_entry(cx: &Context<'_>, uid: u32, read_error: Option<String>) -> Finding {
    let mut finding = Finding::fail(ID, format!("no passwd entry for uid {uid}"))
        .observe("uid", uid)
        .observe("passwd", PASSWD.path())
        .observe(
            "nss_consulted",
            if cx.host.is_real() {
                "yes"
            } else {
                "no (fixture host)"
            },
        );
    if let Some(e) = read_error {
        finding = finding.observe("error", e);
    }
    finding
        .why(
            "the engine's helpers look the user up by name: newuidmap checks /etc/subuid against \
             it, systemd runs the user manager for it and install needs its home directory",
        )
        .fix(
            Fix::root(
                ID,
                format!(
                    "create an account for uid {uid}, or fix the name service (LDAP, SSSD) that \
                     should provide it"
                ),
            )
            .cmds([
                format!("sudo useradd --create-home --uid {uid} USER"),
                format!("getent passwd {uid}"),
            ]),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::testing::Fixture;

    const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
        garbage line\n\
        +nis::::::\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        bob:x:1001:1001::/home/bob:/bin/sh\n";

    fn fixture() -> Fixture {
        let f = Fixture::new();
        f.file("/etc/passwd", PASSWD_TEXT)
            .file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
            .dir("/home/alice")
            .meta("/home/alice", "uid=1000 gid=1000 mode=0750");
        f
    }

    fn run(f: &Fixture, caller: Caller) -> (Finding, Facts) {
        let h = Harness::new(f, caller, ScriptedSystem::new());
        let mut facts = Facts::default();
        let finding = user(&h.context(), &mut facts);
        assert_eq!(finding.id, ID);
        (finding, facts)
    }

    fn fix_text(f: &Finding) -> String {
        let fix = f.fix.as_ref().expect("a fix");
        format!("{} {}", fix.summary, fix.commands.join("\n"))
    }

    #[test]
    fn an_ordinary_user_with_a_home_passes_and_sets_the_account() {
        let (f, facts) = run(
            &fixture(),
            Caller::new(1000, 1000).with_var("HOME", "/home/alice"),
        );
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(f.observed("user"), Some("alice"));
        assert_eq!(f.observed("home_mode"), Some("0750"));
        assert_eq!(f.observed("passwd_source"), Some("/etc/passwd"));
        assert_eq!(f.observed("home_env"), None);
        let account = facts.account.expect("account set");
        assert_eq!(
            (account.name.as_str(), account.uid, account.gid),
            ("alice", 1000, 1000)
        );
        assert_eq!(account.home, std::path::PathBuf::from("/home/alice"));
        assert_eq!(account.shell, "/bin/bash");
    }

    #[test]
    fn a_different_home_variable_is_observed() {
        let (f, _) = run(
            &fixture(),
            Caller::new(1000, 1000).with_var("HOME", "/tmp/x"),
        );
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("home_env"), Some("/tmp/x"));
    }

    #[test]
    fn root_fails_and_names_the_sudo_user() {
        let (f, facts) = run(&fixture(), Caller::new(0, 0).with_var("SUDO_USER", "alice"));
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.summary, "running as root (uid 0)");
        assert_eq!(f.observed("sudo_user"), Some("alice"));
        assert!(f.why.as_deref().unwrap_or("").contains("ordinary user"));
        let fix = fix_text(&f);
        assert!(fix.contains("machinectl shell alice@"), "{fix}");
        assert!(fix.contains("sudo -iu"), "{fix}");
        assert!(facts.account.is_none());
        let (f, _) = run(&fixture(), Caller::new(0, 0));
        assert!(fix_text(&f).contains("machinectl shell USER@"));
    }

    #[test]
    fn a_uid_without_passwd_entry_fails() {
        let (f, facts) = run(&fixture(), Caller::new(4242, 4242));
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.summary, "no passwd entry for uid 4242");
        assert_eq!(f.observed("nss_consulted"), Some("no (fixture host)"));
        assert!(fix_text(&f).contains("useradd --create-home --uid 4242"));
        assert!(f.fix.as_ref().is_some_and(|x| x.root));
        assert!(facts.account.is_none());
    }

    #[test]
    fn a_missing_passwd_file_fails_too() {
        let f = Fixture::new();
        let (finding, _) = run(&f, Caller::new(1000, 1000));
        assert_eq!(finding.status, Status::Fail);
        assert_eq!(finding.observed("uid"), Some("1000"));
    }

    #[test]
    fn a_missing_home_fails_with_install_d() {
        let (f, facts) = run(&fixture(), Caller::new(1001, 1001));
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.summary, "home directory /home/bob does not exist");
        assert!(fix_text(&f).contains("sudo install -d -o 1001 -g 1001 -m 0700 /home/bob"));
        // The passwd entry was found, so later checks still get the account.
        assert_eq!(facts.account.map(|a| a.name), Some("bob".to_owned()));
    }

    #[test]
    fn a_home_that_is_a_file_fails() {
        let fx = fixture();
        fx.file("/home/bob", "")
            .meta("/home/bob", "uid=1001 gid=1001 mode=0644");
        let (f, _) = run(&fx, Caller::new(1001, 1001));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("not a directory"), "{}", f.summary);
        assert!(fix_text(&f).contains("sudo mv /home/bob /home/bob.bak"));
    }

    #[test]
    fn a_home_owned_by_someone_else_fails() {
        let fx = fixture();
        fx.meta("/home/alice", "uid=0 gid=0 mode=0755");
        let (f, _) = run(&fx, Caller::new(1000, 1000));
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("home_owner"), Some("0"));
        assert!(f.summary.contains("owned by uid 0"), "{}", f.summary);
        assert!(fix_text(&f).contains("sudo chown 1000:1000 /home/alice"));
    }

    #[test]
    fn a_home_its_owner_cannot_write_fails() {
        let fx = fixture();
        fx.meta("/home/alice", "uid=1000 gid=1000 mode=0555");
        let (f, _) = run(&fx, Caller::new(1000, 1000));
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("home_mode"), Some("0555"));
        assert!(fix_text(&f).contains("chmod u+w /home/alice"));
        assert!(f.fix.as_ref().is_some_and(|x| !x.root));
    }

    #[test]
    fn a_relative_home_fails() {
        let fx = fixture();
        fx.file("/etc/passwd", "carol:x:1002:1002::home/carol:/bin/sh\n");
        let (f, _) = run(&fx, Caller::new(1002, 1002));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("no absolute home"), "{}", f.summary);
    }

    /// The advice root would follow, as one text.
    fn root_advice(f: &Finding) -> String {
        let fix = f.fix.as_ref().expect("a fix");
        assert!(fix.root, "{fix:?}");
        fix_text(f)
    }

    /// No advice creates or hands over `path`.
    fn assert_untouched(f: &Finding, path: &str) {
        let fix = f.fix.as_ref().expect("a fix");
        for command in &fix.commands {
            let words: Vec<&str> = command.split(' ').collect();
            let touches = words.iter().any(|w| *w == path || *w == shell::quote(path))
                && words
                    .iter()
                    .any(|w| ["chown", "install", "mkdir", "mv"].contains(w));
            assert!(!touches, "{command}");
        }
    }

    #[test]
    fn system_accounts_get_no_chown_of_their_system_home() {
        // The reproductions: daemon's /usr/sbin, bin's /bin, sys's /dev, www-data's /var/www.
        for (line, home) in [
            (
                "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
                "/usr/sbin",
            ),
            ("bin:x:2:2:bin:/bin:/usr/sbin/nologin", "/bin"),
            ("sys:x:3:3:sys:/dev:/usr/sbin/nologin", "/dev"),
            (
                "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin",
                "/var/www",
            ),
        ] {
            let fx = fixture();
            let uid: u32 = line.split(':').nth(2).unwrap().parse().unwrap();
            fx.file("/etc/passwd", &format!("{line}\n"))
                .dir(home)
                .meta(home, "uid=0 gid=0 mode=0755");
            let (f, _) = run(&fx, Caller::new(uid, uid));
            assert_eq!(f.status, Status::Fail, "{line}");
            assert_eq!(
                f.summary,
                format!(
                    "home {home} is owned by uid 0, not by {} (uid {uid})",
                    line.split(':').next().unwrap()
                )
            );
            let advice = root_advice(&f);
            assert!(
                advice.contains(&format!("(uid {uid}) is a system account: uids below 1000")),
                "{advice}"
            );
            assert!(advice.contains("sudo useradd -m USER"), "{advice}");
            assert_untouched(&f, home);
            assert!(!advice.contains("chown"), "{advice}");
        }
    }

    #[test]
    fn a_nologin_shell_above_uid_min_is_refused_too() {
        let fx = fixture();
        fx.file("/etc/passwd", "svc:x:2000:2000::/home/svc:/bin/false\n");
        let (f, _) = run(&fx, Caller::new(2000, 2000));
        assert_eq!(f.summary, "home directory /home/svc does not exist");
        let advice = root_advice(&f);
        assert!(
            advice.starts_with("svc cannot log in (login shell /bin/false)"),
            "{advice}"
        );
        assert_untouched(&f, "/home/svc");
    }

    #[test]
    fn uid_min_comes_from_login_defs() {
        let fx = fixture();
        fx.file("/etc/login.defs", "# local policy\nUID_MIN\t\t 500\n")
            .file("/etc/passwd", "ci:x:600:600::/home/ci:/bin/sh\n");
        let (f, _) = run(&fx, Caller::new(600, 600));
        assert_eq!(f.summary, "home directory /home/ci does not exist");
        assert_eq!(
            f.fix.as_ref().unwrap().commands,
            ["sudo install -d -o 600 -g 600 -m 0700 /home/ci"]
        );
        fx.file("/etc/login.defs", "UID_MIN 1000\n");
        let (f, _) = run(&fx, Caller::new(600, 600));
        assert!(root_advice(&f).contains("ci (uid 600) is a system account"));
        assert_untouched(&f, "/home/ci");
    }

    #[test]
    fn a_home_of_slash_or_outside_the_bases_is_not_handed_over() {
        for home in ["/", "/srv/dev", "/home"] {
            let fx = fixture();
            fx.file(
                "/etc/passwd",
                &format!("dev:x:1000:1000::{home}:/bin/bash\n"),
            )
            .dir(home)
            .meta(home, "uid=0 gid=0 mode=0755");
            let (f, _) = run(&fx, Caller::new(1000, 1000));
            assert_eq!(f.status, Status::Fail);
            assert_eq!(f.observed("home_owner"), Some("0"));
            let fix = f.fix.as_ref().unwrap();
            assert_eq!(
                fix.summary,
                format!(
                    "root does not create or hand over {home} as dev's home: it is not a plain \
                     path directly below a home base (/home: HOME= in /etc/default/useradd, \
                     DHOME= in /etc/adduser.conf); give the account a home of its own, then \
                     create it:"
                )
            );
            assert_eq!(
                fix.commands,
                [
                    "sudo usermod -d /home/dev dev",
                    "sudo install -d -o 1000 -g 1000 -m 0700 /home/dev"
                ]
            );
            assert_untouched(&f, home);
        }
    }

    #[test]
    fn a_home_that_is_a_symlink_is_not_followed() {
        // /home/dev -> ../etc: stat follows it to /etc, owned by root.
        let fx = fixture();
        fx.file("/etc/passwd", "dev:x:1000:1000::/home/dev:/bin/bash\n")
            .symlink("/home/dev", "../etc")
            .meta("/home/dev", "uid=0 gid=0 mode=0755");
        let (f, _) = run(&fx, Caller::new(1000, 1000));
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("home_symlink"), Some("/home/dev"));
        let fix = f.fix.as_ref().unwrap();
        assert!(
            fix.summary.starts_with(
                "root does not create or hand over /home/dev as dev's home: /home/dev is a \
                 symbolic link"
            ),
            "{}",
            fix.summary
        );
        assert_eq!(
            fix.commands,
            [
                "sudo mv /home/dev /home/dev.link",
                "sudo install -d -o 1000 -g 1000 -m 0700 /home/dev"
            ]
        );
        assert!(!fix_text(&f).contains("chown"));
    }

    #[test]
    fn a_relative_home_gets_a_new_home_below_the_base() {
        let fx = fixture();
        fx.file("/etc/passwd", "carol:x:1002:1002::home/carol:/bin/sh\n");
        let (f, _) = run(&fx, Caller::new(1002, 1002));
        assert_eq!(
            f.fix.as_ref().unwrap().commands,
            [
                "sudo usermod -d /home/carol carol",
                "sudo install -d -o 1002 -g 1002 -m 0700 /home/carol"
            ]
        );
    }

    #[test]
    fn passwd_parsing_takes_the_first_match_and_survives_garbage() {
        assert_eq!(
            rootless_setup_core::passwd::by_uid(PASSWD_TEXT, 1001).map(|a| a.name),
            Some("bob".to_owned())
        );
        assert_eq!(
            rootless_setup_core::passwd::by_uid("a:x:7:7::/h:/s\nb:x:7:7::/h2:/s\n", 7)
                .map(|a| a.name),
            Some("a".to_owned())
        );
        for text in [
            "",
            ":::::::",
            "x:x:1:x::/:/",
            "x:x:99999999999:1::/:/",
            "\u{0}:\n::1:1::/:",
        ] {
            assert_eq!(
                rootless_setup_core::passwd::by_uid(text, 1),
                None,
                "{text:?}"
            );
        }
    }
}
