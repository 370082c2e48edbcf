//! The report for people.

use super::{Report, ReqStatus};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown: summary, failures first with the rule, the
/// minimal trace and the regression test to paste, then every requirement and
/// the traceability of requirements to checks.
pub fn markdown(report: &Report) -> String {
    let t = &report.target;
    let s = &report.summary;
    let mut out = format!(
        "# Conformance report: {} ({} {})\n\n",
        t.device, t.protocol, t.flags
    );
    out.push_str("| PASS | FAIL | WARN | SKIP | NOT COVERED | checks |\n|---|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} |\n\n",
        s.pass, s.fail, s.warn, s.skip, s.not_covered, s.checks
    ));
    let bad: Vec<_> = report
        .requirements
        .iter()
        .filter(|r| matches!(r.status, ReqStatus::Fail | ReqStatus::Warn))
        .collect();
    if !bad.is_empty() {
        out.push_str("## Failures\n\n");
        for r in bad {
            out.push_str(&format!(
                "### {} {} [{}]\n\n{}\n\n",
                r.status.as_str(),
                r.id,
                r.level,
                r.summary
            ));
            if let Some(c) = r
                .failures
                .first()
                .and_then(|n| report.checks.iter().find(|c| &c.name == n))
            {
                out.push_str(&format!(
                    "Check `{}`: {}\n\n```\n{}\n```\n\n",
                    c.name,
                    c.detail,
                    c.trace.join("\n")
                ));
                if let Some(repro) = &c.reproducer {
                    out.push_str(&format!("Regression test:\n\n```rust\n{repro}```\n\n"));
                }
            }
            if r.failures.len() > 1 {
                out.push_str(&format!(
                    "{} more checks failed on this requirement.\n\n",
                    r.failures.len() - 1
                ));
            }
        }
    }
    out.push_str(
        "## Requirements\n\n| requirement | level | result | checks | rule |\n|---|---|---|---|---|\n",
    );
    for r in &report.requirements {
        let result = match &r.reason {
            Some(why) if r.status != ReqStatus::Pass => format!("{} ({})", r.status.as_str(), cell(why)),
            _ => r.status.as_str().to_owned(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.id,
            r.level,
            result,
            r.checks.len(),
            cell(&r.summary)
        ));
    }
    let uncovered: Vec<&str> = report
        .requirements
        .iter()
        .filter(|r| r.status == ReqStatus::NotCovered)
        .map(|r| r.id.as_str())
        .collect();
    out.push_str("\n## Traceability\n\n");
    out.push_str(&format!(
        "{} requirements can be checked on a device; {} were exercised by at least one check.\n\n",
        report.requirements.len(),
        report
            .requirements
            .iter()
            .filter(|r| !r.checks.is_empty())
            .count()
    ));
    if uncovered.is_empty() {
        out.push_str("Requirements no check exercised: none.\n\n");
    } else {
        out.push_str(&format!(
            "Requirements no check exercised: {}.\n\n",
            uncovered.join(", ")
        ));
    }
    out.push_str(&format!(
        "Checked by the model's own tests rather than on the device: {}.\n",
        report.model_only.join(", ")
    ));
    out
}
