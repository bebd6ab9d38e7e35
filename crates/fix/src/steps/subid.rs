//! `subid.uid` and `subid.gid`: remove the user's own bad lines (the checker's
//! `lines_to_remove`), then, when fewer than 65,536 ids are left, hand out the first block that
//! overlaps no range in `/etc/subuid` or `/etc/subgid` and no uid or gid in use (the checker's
//! `free_block_in`), with `usermod --add-subuids` for local accounts or an appended line
//! otherwise. Preflight guards make the script stop if a line it removes or the block it hands
//! out changed since it was generated. Other users' lines are never touched.

use std::collections::BTreeSet;

use rootless_setup_core::model::IdRange;
use rootless_setup_core::remedy::Remedy;
use rootless_setup_core::shell::check_printable;
use rootless_setup_core::subid::{
    BLOCK, IdDatabase, free_block_in, lines_to_remove, parse::parse, remaining_ids,
};
use rootless_setup_core::{CheckId, Finding};

use super::{base, expect_user, manual, remedies};
use crate::error::FixError;
use crate::model::{Command, Helper, Step};
use crate::target::Target;

/// `START-END (COUNT ids)`.
fn describe(range: &IdRange) -> String {
    format!(
        "{}-{} ({} ids)",
        range.start,
        range.end().saturating_sub(1),
        range.count
    )
}

/// The block for one of the two files.
pub(crate) fn subid(
    finding: &Finding,
    target: &Target,
    after: &mut Vec<String>,
) -> Result<Step, FixError> {
    let uid_file = finding.id == CheckId::SubidUid;
    let (path, noun, own_id) = if uid_file {
        ("/etc/subuid", "uid", target.account.uid)
    } else {
        ("/etc/subgid", "gid", target.account.gid)
    };
    let remedies = remedies(finding);
    if remedies.contains(&Remedy::OthersSubidLines) {
        return Ok(manual(
            finding,
            "the lines at fault belong to other users, and this script never edits another \
             user's lines",
        ));
    }
    if !remedies.contains(&Remedy::RepairSubids) {
        return Ok(manual(
            finding,
            format!(
                "the ranges come from a name service (the `subid:` line of /etc/nsswitch.conf), \
                 not from {path}: change them where that service keeps them"
            ),
        ));
    }
    let name = &target.account.name;
    let uid = target.account.uid;
    let text = if uid_file {
        target.files.subuid.as_deref()
    } else {
        target.files.subgid.as_deref()
    };
    let subuid = parse(
        "/etc/subuid",
        target.files.subuid.as_deref().unwrap_or_default(),
    );
    let subgid = parse(
        "/etc/subgid",
        target.files.subgid.as_deref().unwrap_or_default(),
    );
    let file = if uid_file { &subuid } else { &subgid };
    let remove = lines_to_remove(file, name, uid, own_id);
    let remaining = remaining_ids(file, name, uid, &remove);

    let mut step = base(finding).guard(expect_user(target));
    let mut does = Vec::new();
    if !remove.is_empty() {
        match remove_lines(step, path, text, &remove, name) {
            Ok((removing, what)) => {
                step = removing;
                does.push(what);
            }
            Err(why) => return Ok(manual(finding, why)),
        }
        after.push(format!(
            "as {name}: data the engine created with the removed {noun}s belongs to ids {name} \
             no longer has; `rootless-setup uninstall --purge` removes it"
        ));
    }
    if remaining < BLOCK {
        let passwd = IdDatabase::parse(&target.files.passwd);
        let group = IdDatabase::parse(&target.files.group);
        let Some(block) = free_block_in(&subuid, &subgid, &passwd, &group) else {
            return Ok(manual(
                finding,
                format!(
                    "no block of {BLOCK} ids is free below 4294967295: remove unused ranges from \
                     {path} first"
                ),
            ));
        };
        step = add_block(step, target, path, noun, text.is_none(), &block, &mut does);
    }
    if step.is_manual() {
        return Ok(manual(
            finding,
            "the check failed, but removing nothing and adding nothing is all the script would do",
        ));
    }
    Ok(step.note("does", does.join("; ")))
}

/// Deletes the user's own lines `remove` (1-based) from `path`, each guarded by its current
/// content: the step and what it does, or why the script cannot (a line it could not show for
/// review).
fn remove_lines(
    mut step: Step,
    path: &str,
    text: Option<&str>,
    remove: &BTreeSet<usize>,
    name: &str,
) -> Result<(Step, String), String> {
    let raw: Vec<&str> = text.unwrap_or_default().split('\n').collect();
    let mut sed = vec!["sed".to_owned(), "-i".to_owned()];
    for line in remove {
        let content = raw.get(line.saturating_sub(1)).copied().unwrap_or_default();
        if check_printable("line", content).is_err() {
            return Err(format!(
                "line {line} of {path} holds control characters, so the script cannot show it \
                 for review: edit the file by hand"
            ));
        }
        step = step.guard(Command::call(
            Helper::ExpectLine,
            [path.to_owned(), line.to_string(), content.to_owned()],
        ));
        sed.extend(["-e".to_owned(), format!("{line}d")]);
    }
    sed.push(path.to_owned());
    let lines: Vec<String> = remove.iter().map(ToString::to_string).collect();
    let does = format!(
        "removes {name}'s line(s) {} of {path} (other users' lines stay)",
        lines.join(", ")
    );
    Ok((step.command(Command::run(sed)), does))
}

/// Hands `block` to the user in `path` (`noun` `uid` or `gid`), guarded by its being free: with
/// `usermod` for a local account (creating the file first when `missing`), else by appending
/// the line.
fn add_block(
    mut step: Step,
    target: &Target,
    path: &str,
    noun: &str,
    missing: bool,
    block: &IdRange,
    does: &mut Vec<String>,
) -> Step {
    let name = &target.account.name;
    step = step.guard(Command::call(
        Helper::ExpectFree,
        [block.start.to_string(), block.count.to_string()],
    ));
    does.push(format!(
        "gives {name} the block {}: the first one that overlaps no range in /etc/subuid or \
         /etc/subgid and no uid or gid in use",
        describe(block)
    ));
    if target.files.usermod && target.local_account() {
        if missing {
            // usermod refuses --add-sub*ids while the file does not exist.
            step = step
                .command(Command::run(["touch", path]))
                .command(Command::run(["chmod", "0644", path]));
        }
        step.command(Command::run([
            "usermod".to_owned(),
            format!("--add-sub{noun}s"),
            format!("{}-{}", block.start, block.end().saturating_sub(1)),
            name.clone(),
        ]))
    } else {
        does.push(format!(
            "appends the line, as {name} is not a local account that usermod can edit"
        ));
        step.commands.push(Command::Run {
            argv: vec![
                "printf".to_owned(),
                "%s\\n".to_owned(),
                format!("{name}:{}:{}", block.start, block.count),
            ],
            append_to: Some(path.to_owned()),
        });
        step
    }
}
