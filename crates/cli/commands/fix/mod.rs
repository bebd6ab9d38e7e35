//! `rootless-setup fix [--user NAME] [--apply [--yes]]`: the root script that repairs what the
//! checks found, printed for review; with `--apply` also run through `sudo -- sh -s` after a
//! confirmation, followed by a second check run and a before/after table. The tool never runs
//! `sudo` without `--apply`. The script itself comes from `rootless-setup-fix`.

mod apply;

use std::path::PathBuf;
use std::process::ExitCode;

use rootless_setup_checks::admin::{self, AdminSystem};
use rootless_setup_checks::{
    Caller, Context, Options, RunMemo, Selection, System, check_with_facts,
};
use rootless_setup_core::model::Account;
use rootless_setup_core::passwd;
use rootless_setup_core::{CheckId, Distro, Host, Report};
use rootless_setup_fix::{FixError, HostFiles, Plan, Target};

use crate::cli::{EngineArg, Format};
use crate::results::{self, CommandName, ErrorId, Results};
use crate::style::{Style, hinted};

/// Print the root script that fixes what `check` finds, for this distribution and user.
///
/// One commented block per failing or warning check whose fix needs root: what was seen, why
/// it matters, what the block does. Nothing for checks that pass. The script is POSIX `sh`
/// (`set -eu`), quotes every value, checks before changing anything that the host still looks
/// the way it did, and never touches another user's subordinate ids. Review it, then run it as
/// root (`sudo sh FILE`), or use `--apply`.
///
/// With `--user NAME` (as root or an admin) the script is for NAME; the checks that need NAME's
/// own login session cannot run then, and the script lists them.
///
/// With --apply --format json, standard output carries one JSON document (docs/json.md, "command
/// results") instead of the script and the table: whether anything changed, each block and
/// its outcome, and the error with its id; the script's own output goes to standard error, and
/// nothing is asked (so --yes is needed).
///
/// Exit status: 0 script printed (or nothing to fix); with --apply 0 when the checks pass
/// afterwards, 1 when some still fail; 2 usage or internal error, or the script failed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Make the script for this user instead of the caller (look-up in /etc/passwd).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Show the script, ask, run it with `sudo -- sh -s`, then check again and show what
    /// changed. Without a terminal to ask on, only with --yes.
    #[arg(long)]
    pub apply: bool,

    /// With --apply: run the script without asking.
    #[arg(long, requires = "apply")]
    pub yes: bool,

    /// Output format of --apply: `json` prints one result document and asks nothing.
    #[arg(long, value_enum, default_value_t = Format::Human, requires = "apply")]
    pub format: Format,

    /// The engine to check for.
    #[arg(long, value_enum, default_value_t = EngineArg::Docker)]
    pub engine: EngineArg,

    /// Network driver install would use (default: the best one available).
    #[arg(long, value_name = "DRIVER")]
    pub network_driver: Option<String>,

    /// Read the host from this directory instead of `/` (fixture trees in tests; live probes
    /// are off; --apply is refused).
    #[arg(long, value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
}

/// For whom the checks run, and how.
pub(crate) struct Run {
    host: Host,
    distro: Distro,
    caller: Caller,
    options: Options,
    engine: rootless_setup_core::Engine,
    /// `--user` for someone else: the admin's view.
    pub(super) admin: bool,
}

impl Run {
    fn new(args: &Args) -> anyhow::Result<Run> {
        let host = super::host(args.root.as_deref());
        let distro = Distro::detect(&host);
        let me = Caller::from_process();
        let my_name = host
            .read("/etc/passwd")
            .ok()
            .flatten()
            .and_then(|p| passwd::by_uid(&p, me.uid))
            .map(|a| a.name);
        let (caller, admin) = match &args.user {
            Some(name) if me.uid != 0 && my_name.as_deref() == Some(name.as_str()) => (me, false),
            Some(name) => (
                admin::caller_for(&host, name).map_err(|e| {
                    hinted(
                        ErrorId::UnknownUser,
                        e.to_string(),
                        &["pass a login name from /etc/passwd"],
                    )
                })?,
                true,
            ),
            None if me.uid == 0 => {
                return Err(hinted(
                    ErrorId::RootRefused,
                    "fix prepares the host for an ordinary user, and this is root",
                    &[
                        "run it as that user (it asks sudo for the root part), or",
                        "as root, name the user: rootless-setup fix --user NAME",
                    ],
                ));
            }
            None => (me, false),
        };
        Ok(Run {
            host,
            distro,
            caller,
            options: Options {
                network_driver: args.network_driver.clone(),
                ..Options::default()
            },
            engine: args.engine.into(),
            admin,
        })
    }

    /// Runs the checks; with them the account they established.
    pub(crate) fn check(&self) -> (Report, Option<Account>) {
        let live = super::system_for(&self.host);
        let admin_system = AdminSystem::new(live, self.host.clone());
        let system: &dyn System = if self.admin { &admin_system } else { live };
        let selection = if self.admin {
            admin::selection()
        } else {
            Selection::all()
        };
        let cx = Context {
            host: &self.host,
            caller: &self.caller,
            system,
            distro: &self.distro,
            engine: self.engine,
            options: &self.options,
            memo: &RunMemo::default(),
        };
        let (report, facts) = check_with_facts(&cx, &selection);
        let account = facts.account.or_else(|| {
            let passwd = self.host.read("/etc/passwd").ok().flatten()?;
            passwd::by_uid(&passwd, self.caller.uid)
        });
        (report, account)
    }

    /// The checks that were not run, and why.
    fn not_covered(&self) -> &'static [(CheckId, &'static str)] {
        if self.admin { &admin::NOT_COVERED } else { &[] }
    }

    /// The plan for `report`.
    fn plan(&self, report: &Report, account: Option<Account>) -> anyhow::Result<Plan> {
        let Some(account) = account else {
            return Err(hinted(
                ErrorId::UnknownUser,
                format!("no passwd entry for uid {}", self.caller.uid),
                &["`rootless-setup check --only user` says more"],
            ));
        };
        let files = HostFiles::read(&self.host, &account.home);
        let target = Target::new(self.distro.clone(), account, files).map_err(|e| match e {
            FixError::Refused(refusal) => {
                let help = refusal.help();
                let help: Vec<&str> = help.iter().map(String::as_str).collect();
                hinted(ErrorId::AccountRefused, refusal.to_string(), &help)
            }
            e => e.into(),
        })?;
        Ok(rootless_setup_fix::plan(
            report,
            &target,
            self.not_covered(),
        )?)
    }
}

/// Prints the script, or applies it (for people, or as a result document).
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    results::run(CommandName::Fix, args.format, style, |style, results| {
        fix(args, style, results)
    })
}

/// The fix: check, plan, print; with `--apply`, ask, run, check again. Its exit status.
fn fix(args: &Args, style: &Style, results: &mut Results) -> anyhow::Result<u8> {
    results.engine = Some(args.engine.into());
    let me = Caller::from_process();
    results.user = args
        .user
        .clone()
        .unwrap_or_else(|| crate::paths::login_name(&me));
    results.uid = args.user.is_none().then_some(me.uid);
    let run = Run::new(args)?;
    results.uid = Some(run.caller.uid);
    let (report, account) = run.check();
    let plan = run.plan(&report, account)?;
    results.user.clone_from(&plan.user);
    results.uid = Some(plan.uid);
    if plan.is_empty() {
        results.note(&nothing_to_fix(&plan, &report));
        return Ok(0);
    }
    let script = plan.render()?;
    results.out(&script)?;
    if !args.apply {
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            eprintln!(
                "review the script, then run it as root: `rootless-setup fix --apply` (asks first), \
                 or save it (`rootless-setup fix > fix.sh`) and run `sudo sh fix.sh`"
            );
        }
        return Ok(0);
    }
    if args.root.is_some() {
        return Err(hinted(
            ErrorId::Usage,
            "--apply runs the script on this machine, not on a --root tree",
            &["drop --root, or save the script and run it where the tree is the root"],
        ));
    }
    apply::apply(&run, &plan, &script, &report, args.yes, style, results)
}

/// The message when there is no block: what passed, what needs no root.
fn nothing_to_fix(plan: &Plan, report: &Report) -> String {
    let counts = report.counts();
    let mut text = format!(
        "nothing to fix as root for {}: {} passed, {} warned, {} failed, {} skipped, and none of \
         them needs root",
        plan.user, counts.pass, counts.warn, counts.fail, counts.skip
    );
    if counts.fail + counts.warn > 0 {
        text.push_str("; `rootless-setup check` shows what to do as the user");
    }
    if !plan.not_covered.is_empty() {
        let ids: Vec<&str> = plan.not_covered.iter().map(|(id, _)| id.as_str()).collect();
        text.push_str(&format!(
            "; not covered without {}'s own session: {}",
            plan.user,
            ids.join(", ")
        ));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rootless_setup_core::testing::Fixture;
    use rootless_setup_fix::Step;

    fn args(fx: &Fixture, user: Option<&str>) -> Args {
        Args {
            user: user.map(str::to_owned),
            apply: false,
            yes: false,
            format: Format::Human,
            engine: EngineArg::Docker,
            network_driver: None,
            root: Some(fx.root().to_path_buf()),
        }
    }

    fn host() -> Fixture {
        let fx = Fixture::new();
        fx.file("/etc/os-release", "ID=fedora\nVERSION_ID=41\n")
            .file(
                "/etc/passwd",
                "root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n",
            )
            .file("/etc/group", "alice:x:1000:\n")
            .file("/etc/subuid", "bob:100000:65536\n")
            .file("/etc/subgid", "bob:100000:65536\n")
            .exe("/usr/sbin/usermod")
            .dir("/home/alice")
            .meta("/home/alice", "uid=1000 gid=1000 mode=0700");
        fx
    }

    #[test]
    fn for_another_user_the_session_checks_are_not_run_and_the_script_says_so() {
        let fx = host();
        let run = Run::new(&args(&fx, Some("alice"))).unwrap();
        // The test process is not alice (uid 1000 in the fixture), so this is the admin's view.
        assert!(run.admin);
        let (report, account) = run.check();
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.id == CheckId::SessionBus || f.id == CheckId::UsernsProbe),
            "checks that need alice's session ran"
        );
        let plan = run.plan(&report, account).unwrap();
        let script = plan.render().unwrap();
        assert!(
            script.contains("not covered, because these checks need alice's own login session")
        );
        assert!(
            script.contains("usermod --add-subuids 165536-231071 alice"),
            "{script}"
        );
        assert!(script.contains("usermod --add-subgids 165536-231071 alice"));
    }

    #[test]
    fn an_unknown_user_is_a_hinted_error() {
        let fx = host();
        let err = Run::new(&args(&fx, Some("mallory"))).err().unwrap();
        assert_eq!(err.to_string(), "no user `mallory` in /etc/passwd");
    }

    #[test]
    fn root_without_user_is_refused() {
        if !nix::unistd::getuid().is_root() {
            return; // only root can be refused for being root
        }
        let fx = host();
        let err = Run::new(&args(&fx, None)).err().unwrap();
        assert!(err.to_string().contains("this is root"), "{err}");
    }

    #[test]
    fn the_document_of_an_apply_says_which_blocks_took_and_what_still_fails() {
        let fx = host();
        let run = Run::new(&args(&fx, Some("alice"))).unwrap();
        let (before, account) = run.check();
        let plan = run.plan(&before, account).unwrap();
        // After the script: the uids are there, the gids (say) still are not.
        let mut after = before.clone();
        for f in &mut after.findings {
            if f.id == CheckId::SubidUid {
                f.status = rootless_setup_core::Status::Pass;
            }
        }
        let mut results = Results::new(Format::Json);
        results.engine = Some(rootless_setup_core::Engine::Docker);
        results.user.clone_from(&plan.user);
        results.uid = Some(plan.uid);
        results.steps.extend(apply::block_outcomes(&plan, &after));
        results.changed = true;
        let code = apply::verdict(&after, &mut results);
        assert_eq!(code, 1);
        let doc = results.document(CommandName::Fix, &Ok(code));
        assert!(!doc.ok);
        assert_eq!(doc.error.as_ref().unwrap().id, ErrorId::PrerequisitesFailed);
        insta::assert_json_snapshot!(doc);
        // Every check passing: ok, and no error.
        for f in &mut after.findings {
            f.status = rootless_setup_core::Status::Pass;
        }
        let mut results = Results::new(Format::Json);
        assert_eq!(apply::verdict(&after, &mut results), 0);
        assert_eq!(results.failure, None);
        let outcomes: Vec<_> = apply::block_outcomes(&plan, &after)
            .into_iter()
            .map(|s| s.outcome)
            .collect();
        let want: Vec<_> = plan
            .steps
            .iter()
            .map(|step| match step.is_manual() {
                true => crate::results::Outcome::Skipped,
                false => crate::results::Outcome::Done,
            })
            .collect();
        assert_eq!(outcomes, want);
        assert!(want.contains(&crate::results::Outcome::Skipped));
    }

    #[test]
    fn nothing_to_fix_says_what_was_seen() {
        let fx = host();
        fx.file("/etc/subuid", "alice:100000:65536\n")
            .file("/etc/subgid", "alice:100000:65536\n");
        let run = Run::new(&args(&fx, Some("alice"))).unwrap();
        let (report, account) = run.check();
        let plan = run.plan(&report, account).unwrap();
        let roots: Vec<_> = plan.steps.iter().flat_map(Step::ids).collect();
        assert!(!roots.contains(&CheckId::SubidUid));
        let text = nothing_to_fix(&plan, &report);
        assert!(
            text.starts_with("nothing to fix as root for alice: "),
            "{text}"
        );
        assert!(text.contains("not covered without alice's own session: session.runtime-dir"));
    }
}
