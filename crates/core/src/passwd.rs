//! `/etc/passwd` entries as [`Account`]s: the one parser the checks, `fix` and the CLI share.
//! NIS compat lines (`+`, `-`), comments and malformed lines (not seven fields, empty name,
//! non-numeric ids) are ignored, so every caller agrees on which accounts exist.

use std::path::PathBuf;

use crate::model::Account;

/// Every well-formed entry, in file order.
pub fn entries(text: &str) -> impl Iterator<Item = Account> + '_ {
    text.lines().filter_map(|line| {
        if line.starts_with(['+', '-', '#']) {
            return None;
        }
        let fields: Vec<&str> = line.split(':').collect();
        let [name, _pw, uid, gid, _gecos, home, shell] = fields.as_slice() else {
            return None;
        };
        if name.is_empty() {
            return None;
        }
        Some(Account {
            name: (*name).to_owned(),
            uid: uid.parse().ok()?,
            gid: gid.parse().ok()?,
            home: PathBuf::from(home),
            shell: (*shell).to_owned(),
        })
    })
}

/// The first entry with uid `uid`.
pub fn by_uid(text: &str, uid: u32) -> Option<Account> {
    entries(text).find(|a| a.uid == uid)
}

/// The first entry named `name`.
pub fn by_name(text: &str, name: &str) -> Option<Account> {
    entries(text).find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n+nis::::::\n# c\nbroken:x:12\n\
                        bad:x:1x:1::/h:/s\n:x:5:5::/h:/s\nalice:x:1000:1001:A:/home/alice:/bin/sh\n\
                        twin:x:1000:1000::/home/twin:/bin/sh\n";

    #[test]
    fn looks_up_by_uid_and_name_skipping_what_is_not_an_entry() {
        let alice = by_uid(TEXT, 1000).unwrap();
        assert_eq!(
            (
                alice.name.as_str(),
                alice.gid,
                alice.home.to_str(),
                alice.shell.as_str()
            ),
            ("alice", 1001, Some("/home/alice"), "/bin/sh")
        );
        assert_eq!(by_name(TEXT, "twin").map(|a| a.uid), Some(1000));
        assert_eq!(by_name(TEXT, "nis"), None);
        assert_eq!(by_name(TEXT, "broken"), None);
        assert_eq!(by_name(TEXT, "bad"), None);
        assert_eq!(by_name(TEXT, ""), None);
        assert_eq!(by_uid(TEXT, 5), None);
        assert_eq!(entries(TEXT).count(), 3);
    }
}
