//! Reading `rootless-setup check --format json` output in scenarios: schema validation and
//! convenient access to findings by id.

use anyhow::{Context as _, Result, bail, ensure};
use serde_json::Value;

/// The 23 check ids the checker must report, each exactly once.
pub const CHECK_IDS: [&str; 23] = [
    "host.init",
    "user",
    "session.runtime-dir",
    "session.bus",
    "session.systemd",
    "session.linger",
    "subid.uid",
    "subid.gid",
    "uidmap",
    "userns.sysctl",
    "userns.apparmor",
    "userns.probe",
    "cgroup",
    "network.driver",
    "network.ports",
    "network.ping",
    "network.iptables",
    "storage",
    "engine.binaries",
    "engine.rootful",
    "engine.smoke",
    "engine.installed",
    "env.client",
];

/// One finding, as far as the scenarios look at it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Check id.
    pub id: String,
    /// `pass`, `warn`, `fail` or `skip`.
    pub status: String,
    /// One-line summary.
    pub summary: String,
}

/// A parsed and validated check report.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// `ready` as reported.
    pub ready: bool,
    /// `user` as reported.
    pub user: String,
    /// `uid` as reported.
    pub uid: u64,
    /// `distribution` as reported.
    pub distribution: String,
    /// Findings in report order.
    pub findings: Vec<Finding>,
}

/// The engines a report may be for.
const ENGINES: [&str; 2] = ["docker", "containerd"];

impl CheckReport {
    /// Parses the JSON and checks the schema's invariants: version 1, a known engine, every
    /// finding with an id, a known status and a summary, counts that match the findings, and
    /// `ready` equal to "no finding failed".
    pub fn parse(json: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(json).context("check --format json is not JSON")?;
        ensure!(
            v["schema_version"] == 1,
            "schema_version is {}, want 1",
            v["schema_version"]
        );
        ensure!(
            ENGINES.iter().any(|e| v["engine"] == *e),
            "engine is {}, want one of {ENGINES:?}",
            v["engine"]
        );
        let text = |key: &str| -> Result<String> {
            v[key]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("`{key}` is not a string"))
        };
        let findings = v["findings"]
            .as_array()
            .context("`findings` is not an array")?
            .iter()
            .enumerate()
            .map(|(i, f)| -> Result<Finding> {
                let field = |key: &str| {
                    f[key]
                        .as_str()
                        .map(str::to_owned)
                        .with_context(|| format!("findings[{i}].{key} is not a string"))
                };
                let finding = Finding {
                    id: field("id")?,
                    status: field("status")?,
                    summary: field("summary")?,
                };
                ensure!(
                    ["pass", "warn", "fail", "skip"].contains(&finding.status.as_str()),
                    "findings[{i}] ({}) has status {:?}",
                    finding.id,
                    finding.status
                );
                ensure!(
                    f["observed"].is_array(),
                    "findings[{i}] ({}) has no `observed` array",
                    finding.id
                );
                Ok(finding)
            })
            .collect::<Result<Vec<_>>>()?;
        let report = CheckReport {
            ready: v["ready"].as_bool().context("`ready` is not a boolean")?,
            user: text("user")?,
            uid: v["uid"].as_u64().context("`uid` is not a number")?,
            distribution: text("distribution")?,
            findings,
        };
        for status in ["pass", "warn", "fail", "skip"] {
            let counted = v["counts"][status]
                .as_u64()
                .with_context(|| format!("counts.{status} missing"))?;
            let actual = report
                .findings
                .iter()
                .filter(|f| f.status == status)
                .count() as u64;
            ensure!(
                counted == actual,
                "counts.{status} is {counted} but {actual} findings have it"
            );
        }
        let failed = report.findings.iter().any(|f| f.status == "fail");
        ensure!(
            report.ready != failed,
            "ready is {} while a fail is {}present",
            report.ready,
            if failed { "" } else { "not " }
        );
        Ok(report)
    }

    /// Requires every one of the 23 ids exactly once and nothing else.
    pub fn require_complete(&self) -> Result<()> {
        let mut problems = Vec::new();
        for id in CHECK_IDS {
            match self.findings.iter().filter(|f| f.id == id).count() {
                1 => {}
                0 => problems.push(format!("{id} missing")),
                n => problems.push(format!("{id} reported {n} times")),
            }
        }
        for f in &self.findings {
            if !CHECK_IDS.contains(&f.id.as_str()) {
                problems.push(format!("unknown id {}", f.id));
            }
        }
        if !problems.is_empty() {
            bail!("incomplete report: {}", problems.join(", "));
        }
        Ok(())
    }

    /// The finding with this id.
    pub fn get(&self, id: &str) -> Result<&Finding> {
        self.findings
            .iter()
            .find(|f| f.id == id)
            .with_context(|| format!("no finding {id}"))
    }

    /// Requires `id` to have `status`.
    pub fn require_status(&self, id: &str, status: &str) -> Result<()> {
        let f = self.get(id)?;
        ensure!(
            f.status == status,
            "{id} is {} ({}), want {status}",
            f.status,
            f.summary
        );
        Ok(())
    }

    /// One line per finding that is not `pass`: `warn network.ping: summary`.
    pub fn non_pass_lines(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.status != "pass")
            .map(|f| format!("{:<4} {}: {}", f.status, f.id, f.summary))
            .collect()
    }

    /// `pass 17, warn 2, fail 0, skip 3`.
    pub fn tally(&self) -> String {
        let n = |s: &str| self.findings.iter().filter(|f| f.status == s).count();
        format!(
            "pass {}, warn {}, fail {}, skip {}",
            n("pass"),
            n("warn"),
            n("fail"),
            n("skip")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(findings: &[(&str, &str)], ready: bool) -> String {
        let list: Vec<Value> = findings
            .iter()
            .map(|(id, status)| {
                serde_json::json!({"id": id, "status": status, "summary": "s", "observed": []})
            })
            .collect();
        let n = |s: &str| findings.iter().filter(|(_, st)| *st == s).count();
        serde_json::json!({
            "schema_version": 1, "engine": "docker", "uid": 1000, "user": "dev",
            "distribution": "debian 12", "ready": ready,
            "counts": {"pass": n("pass"), "warn": n("warn"), "fail": n("fail"), "skip": n("skip")},
            "findings": list,
        })
        .to_string()
    }

    #[test]
    fn complete_report_validates() {
        let all: Vec<(&str, &str)> = CHECK_IDS.iter().map(|id| (*id, "pass")).collect();
        let r = CheckReport::parse(&report(&all, true)).expect("valid");
        r.require_complete().expect("complete");
        r.require_status("cgroup", "pass").expect("pass");
        assert!(r.require_status("cgroup", "fail").is_err());
        assert!(r.non_pass_lines().is_empty());
        assert_eq!(r.tally(), "pass 23, warn 0, fail 0, skip 0");
    }

    #[test]
    fn missing_duplicate_and_unknown_ids_are_reported() {
        let r = CheckReport::parse(&report(
            &[("user", "pass"), ("user", "pass"), ("bogus", "warn")],
            true,
        ))
        .expect("schema-valid");
        let err = format!("{:#}", r.require_complete().expect_err("incomplete"));
        assert!(err.contains("user reported 2 times"), "{err}");
        assert!(err.contains("subid.uid missing"), "{err}");
        assert!(err.contains("unknown id bogus"), "{err}");
    }

    #[test]
    fn inconsistent_ready_or_counts_are_rejected() {
        assert!(CheckReport::parse(&report(&[("user", "fail")], true)).is_err());
        let mut v: Value = serde_json::from_str(&report(&[("user", "pass")], true)).expect("json");
        v["counts"]["pass"] = 5.into();
        assert!(CheckReport::parse(&v.to_string()).is_err());
        assert!(CheckReport::parse("not json").is_err());
        assert!(CheckReport::parse(&report(&[("user", "maybe")], true)).is_err());
    }
}
