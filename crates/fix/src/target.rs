//! What the script is made for: the distribution, the user's account, and the few host files
//! the blocks depend on (the subordinate id files and the databases of ids in use, the files the
//! script would replace, the account rules and whether the home's path holds a symbolic link).
//! Read once through the checker's [`Host`], so fixture trees work.
//!
//! A target is only ever made for an ordinary login user with a portable name
//! ([`accounts::login_user`]): a script for a system account, or one that would write a name
//! the system spells differently, is refused before a line of it is written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rootless_setup_core::accounts::{self, Rules};
use rootless_setup_core::model::Account;
use rootless_setup_core::remedy::{APPARMOR_DIR, DELEGATE_CONF, SYSCTL_DROPIN};
use rootless_setup_core::shell::check_printable;
use rootless_setup_core::{Distro, Host};

use crate::error::FixError;

/// The host files the blocks depend on, as they were when the script was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFiles {
    /// `/etc/subuid`, `None` when absent.
    pub subuid: Option<String>,
    /// `/etc/subgid`, `None` when absent.
    pub subgid: Option<String>,
    /// `/etc/passwd`.
    pub passwd: String,
    /// `/etc/group`.
    pub group: String,
    /// Whether `usermod` exists (`/usr/sbin/usermod` or `/sbin/usermod`).
    pub usermod: bool,
    /// Whether `/etc/apparmor.d/abi/4.0` exists (AppArmor 4, which knows `userns`).
    pub apparmor_abi4: bool,
    /// The names in `/etc/apparmor.d`.
    pub apparmor_files: BTreeSet<String>,
    /// The script's sysctl drop-in, when it exists.
    pub sysctl_dropin: Option<String>,
    /// The cgroup delegation drop-in, when it exists.
    pub delegate_conf: Option<String>,
    /// `UID_MIN` and the home bases.
    pub rules: Rules,
    /// The first component of the home's path that is a symbolic link, when one is.
    pub home_symlink: Option<PathBuf>,
}

impl HostFiles {
    /// Reads them from `host`, for an account whose home is `home`.
    pub fn read(host: &Host, home: &Path) -> HostFiles {
        let read = |p: &str| host.read(p).ok().flatten();
        HostFiles {
            subuid: read("/etc/subuid"),
            subgid: read("/etc/subgid"),
            passwd: read("/etc/passwd").unwrap_or_default(),
            group: read("/etc/group").unwrap_or_default(),
            usermod: ["/usr/sbin/usermod", "/sbin/usermod"]
                .iter()
                .any(|p| host.exists(p)),
            apparmor_abi4: host.exists(format!("{APPARMOR_DIR}/abi/4.0")),
            apparmor_files: host
                .list_dir(APPARMOR_DIR)
                .unwrap_or_default()
                .into_iter()
                .collect(),
            sysctl_dropin: read(SYSCTL_DROPIN),
            delegate_conf: read(DELEGATE_CONF),
            rules: Rules::read(host),
            home_symlink: accounts::first_symlink(host, home),
        }
    }
}

/// The user, the distribution and the host files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The distribution, for package names and commands.
    pub distro: Distro,
    /// The user the host is prepared for.
    pub account: Account,
    pub files: HostFiles,
}

impl Target {
    /// A target after checking that the account is a login user with a portable name
    /// ([`accounts::login_user`]) and that its home can go into a script.
    pub fn new(distro: Distro, account: Account, files: HostFiles) -> Result<Target, FixError> {
        accounts::login_user(&files.rules, &account)?;
        check_printable("home directory", &account.home.to_string_lossy())?;
        Ok(Target {
            distro,
            account,
            files,
        })
    }

    /// Whether the account is a line of `/etc/passwd` (not LDAP, SSSD, …): `usermod` edits only
    /// those.
    pub fn local_account(&self) -> bool {
        rootless_setup_core::passwd::by_name(&self.files.passwd, &self.account.name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootless_setup_core::accounts::Refusal;

    fn account(name: &str, home: &str) -> Account {
        Account {
            name: name.to_owned(),
            uid: 1000,
            gid: 1000,
            home: std::path::PathBuf::from(home),
            shell: "/bin/sh".to_owned(),
        }
    }

    #[test]
    fn odd_names_system_accounts_and_homes_with_newlines_are_refused_with_the_value() {
        let d = Distro::parse("ID=debian");
        let new = |a: Account| Target::new(d.clone(), a, HostFiles::default());
        let err = new(account("a\nb", "/home/a")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "user name \"a\\nb\" holds a character other than letters, digits, `.`, `_` and `-`: \
             a root script takes only portable names (letters, digits, `.`, `_`, `-`, an optional \
             final `$`, at most 32 bytes, not starting with `-`)"
        );
        let err = new(account("a", "/home/a\nb")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("home directory \"/home/a\\nb\""),
            "{err}"
        );
        for name in ["-rf", "a b", "a'$(x)`y`", "", "x\u{1b}[2J"] {
            assert!(
                matches!(
                    new(account(name, "/home/a")),
                    Err(FixError::Refused(Refusal::Name { .. }))
                ),
                "{name:?}"
            );
        }
        let mut daemon = account("daemon", "/usr/sbin");
        daemon.uid = 1;
        assert!(matches!(
            new(daemon),
            Err(FixError::Refused(Refusal::SystemUid {
                uid: 1,
                uid_min: 1000,
                ..
            }))
        ));
        let mut svc = account("svc", "/home/svc");
        svc.shell = "/usr/sbin/nologin".into();
        assert!(matches!(
            new(svc),
            Err(FixError::Refused(Refusal::NoLogin { .. }))
        ));
        // A home with quotes and spaces is fine: it is quoted (and guarded) where it is used.
        assert!(new(account("alice", "/h o$(me)")).is_ok());
    }
}
