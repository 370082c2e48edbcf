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
    let mut out = String::new();
    if let Some(stop) = &report.stopped {
        out.push_str(&format!(
            "{}\n\nThe check that stopped it: `{}`. Requirements no check reached before are NOT RUN.\n\n",
            stop.headline(),
            stop.check
        ));
    }
    out.push_str(&format!(
        "# Conformance report: {} ({} {})\n\n",
        t.device, t.protocol, t.flags
    ));
    if !t.uapi.is_empty() {
        out.push_str(&format!(
            "Judged by the rules of the migration uAPI of {}.\n\n",
            t.uapi
        ));
    }
    if !t.decisions.is_empty() {
        out.push_str(&format!(
            "Judged with these decisions taken otherwise than by default: {}.\n\n",
            t.decisions.join(", ")
        ));
    }
    out.push_str(
        "| PASS | FAIL | WARN | SKIP | NOT COVERED | NOT RUN | checks |\n|---|---|---|---|---|---|---|\n",
    );
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} |\n\n",
        s.pass, s.fail, s.warn, s.skip, s.not_covered, s.not_run, s.checks
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
            if let Some(why) = &r.deviation {
                out.push_str(&format!("Known deviation: {why}\n\n"));
            }
            if let Some(c) = r
                .failures
                .first()
                .and_then(|n| report.checks.iter().find(|c| &c.name == n))
            {
                out.push_str(&format!("Check `{}`: {}\n\n", c.name, c.detail));
                if c.timeline.is_empty() {
                    out.push_str(&format!("```\n{}\n```\n\n", c.trace.join("\n")));
                } else {
                    if !c.trace.is_empty() {
                        out.push_str(&format!(
                            "Made one at a time first:\n\n```\n{}\n```\n\n",
                            c.trace.join("\n")
                        ));
                    }
                    out.push_str(&format!("```\n{}\n```\n\n", c.timeline.join("\n")));
                }
                if let Some(repro) = &c.reproducer {
                    out.push_str(&format!("Regression test:\n\n```rust\n{repro}```\n\n"));
                }
                if c.c_reproducer.is_some() {
                    out.push_str(&format!(
                        "The same calls in C, for the kernel side: `{}`.\n\n",
                        super::c_reproducer_file(&c.name)
                    ));
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
    if !report.stale_deviations.is_empty() {
        out.push_str(&format!(
            "## Stale deviations\n\nListed as known deviations but no longer failing (remove them): {}.\n\n",
            report.stale_deviations.join(", ")
        ));
    }
    if !report.sometimes.is_empty() {
        out.push_str(
            "## Exercised at least once\n\nWhat the checks must have done for their passes to mean something:\n\n",
        );
        for s in &report.sometimes {
            let mark = if s.seen { "yes" } else { "**no**" };
            out.push_str(&format!("- {}: {mark}\n", s.what));
        }
        out.push('\n');
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
    if let Some(m) = super::mermaid(report) {
        let differ = report.arcs.iter().filter(|a| a.differs()).count();
        out.push_str(&format!(
            "\n## State diagram\n\nDirect arcs of the spec for these flags; {differ} requests where the device disagreed with the spec are drawn as labelled edges.\n\n```mermaid\n{m}```\n"
        ));
    }
    if !report.arcs.is_empty() || !report.transfers.is_empty() {
        out.push_str("\n## Timings\n\n| save | stream bytes | STOP_COPY bytes | time in STOP_COPY (us) |\n|---|---|---|---|\n");
        for t in &report.transfers {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                t.check, t.bytes, t.stop_copy_bytes, t.stop_copy_us
            ));
        }
        let mut slow: Vec<_> = report.arcs.iter().filter(|a| a.observed == "ok").collect();
        slow.sort_by_key(|a| std::cmp::Reverse(a.time_us));
        out.push_str("\n| slowest accepted requests | time (us) |\n|---|---|\n");
        for a in slow.iter().take(5) {
            out.push_str(&format!("| {} -> {} | {} |\n", a.from, a.to, a.time_us));
        }
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
