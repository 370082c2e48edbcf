//! KTAP, the test-result format kselftest, KUnit, KernelCI and LAVA read
//! (the kernel's Documentation/dev-tools/ktap.rst, format version 1).
//!
//! What this renderer keeps to, in our words:
//! - the output starts with the line `KTAP version 1`, and a plan `1..N`
//!   follows it; so does every nested block of results;
//! - a result line is `ok N name` or `not ok N name`, numbered from 1 by
//!   one within its block, optionally followed by ` # ` and a directive
//!   (`SKIP`, `XFAIL`, `ERROR`, ...) with its reason; a name never holds
//!   `#`;
//! - a test with subtests prints its block of results first, indented two
//!   spaces deeper than its own result line, which follows the block; a
//!   test fails when one of its subtests fails;
//! - free text goes in diagnostic lines, `# ...`, placed before the result
//!   they explain;
//! - a run that cannot go on says `Bail out!` with the reason (the TAP
//!   convention kselftest follows), leaving its plan unfinished.
//!
//! The layout: one test per suite, a subtest per check of that suite, and
//! a last test `requirements` with a subtest per requirement, so that the
//! results a CI system reads agree with the run's exit code (a known
//! deviation is `XFAIL`, a stale one fails).

use super::{CheckResult, Report, ReqStatus};
use vfio_mig_engine::verdict::SuiteId;

/// A name fit for a result line: no `#`, no line breaks.
fn name(text: &str) -> String {
    text.replace('#', "no.").replace(['\n', '\r'], " ")
}

/// One line of diagnostic data or directive reason.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lines of a block being built, at one indentation.
struct Block {
    indent: String,
    lines: Vec<String>,
}

impl Block {
    fn new(depth: usize) -> Self {
        Block {
            indent: "  ".repeat(depth),
            lines: Vec::new(),
        }
    }

    fn line(&mut self, text: &str) {
        self.lines.push(format!("{}{text}", self.indent));
    }

    /// `# text`, one diagnostic line per line of `text`.
    fn diag(&mut self, text: &str) {
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            self.line(&format!("# {}", l.trim_end()));
        }
    }

    fn start(&mut self, tests: usize) {
        self.line("KTAP version 1");
        self.line(&format!("1..{tests}"));
    }
}

/// How one result line ends.
struct Line {
    ok: bool,
    directive: Option<(&'static str, String)>,
}

impl Line {
    fn line(&self, number: usize, description: &str) -> String {
        let head = format!(
            "{} {number} {}",
            if self.ok { "ok" } else { "not ok" },
            name(description)
        );
        match &self.directive {
            None => head,
            Some((d, why)) if why.is_empty() => format!("{head} # {d}"),
            Some((d, why)) => format!("{head} # {d} {}", one_line(why)),
        }
    }
}

/// The result of one check, and its diagnostic lines.
fn check(report: &Report, c: &CheckResult, out: &mut Block) -> Line {
    if !c.reqs.is_empty() {
        out.diag(&format!("requirements: {}", c.reqs.join(", ")));
    }
    let stopped_here = report.stopped.as_ref().is_some_and(|s| s.check == c.name);
    match c.status.as_str() {
        "SKIP" => Line {
            ok: true,
            directive: Some(("SKIP", c.detail.clone())),
        },
        "WARN" => {
            out.diag(&format!("WARN: SHOULD not met: {}", c.broken.join(", ")));
            out.diag(&c.detail);
            Line {
                ok: true,
                directive: None,
            }
        }
        "FAIL" => {
            out.diag(&format!("broken: {}", c.broken.join(", ")));
            out.diag(&c.detail);
            for t in &c.trace {
                out.diag(&format!("  {t}"));
            }
            let known: Vec<String> = c
                .broken
                .iter()
                .filter_map(|id| {
                    let r = report.requirements.iter().find(|r| &r.id == id)?;
                    Some(format!("{id}: {}", r.deviation.as_ref()?))
                })
                .collect();
            if stopped_here {
                Line {
                    ok: false,
                    directive: Some(("ERROR", format!("the run stopped here: {}", c.detail))),
                }
            } else if !c.broken.is_empty() && known.len() == c.broken.len() {
                Line {
                    ok: true,
                    directive: Some(("XFAIL", format!("known deviation {}", known.join("; ")))),
                }
            } else {
                Line {
                    ok: false,
                    directive: None,
                }
            }
        }
        _ => Line {
            ok: true,
            directive: None,
        },
    }
}

/// The parent's result from its subtests: it fails when one fails, and is
/// skipped when every one was.
fn parent(results: &[Line], skipped: usize) -> Line {
    if results.iter().any(|r| !r.ok) {
        Line {
            ok: false,
            directive: None,
        }
    } else if !results.is_empty() && skipped == results.len() {
        Line {
            ok: true,
            directive: Some(("SKIP", "every check of it was skipped".to_owned())),
        }
    } else {
        Line {
            ok: true,
            directive: None,
        }
    }
}

/// The suites in run order: setup first when it has checks, then the
/// suites of a run, then any other suite that has checks.
fn suites(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let has = |s: &str| report.checks.iter().any(|c| c.suite == s);
    if has(SuiteId::Setup.name()) {
        out.push(SuiteId::Setup.name().to_owned());
    }
    out.extend(SuiteId::RUN.iter().map(|s| s.name().to_owned()));
    for c in &report.checks {
        if !out.contains(&c.suite) {
            out.push(c.suite.clone());
        }
    }
    out
}

/// The report as KTAP version 1 (the layout in the module documentation).
pub fn ktap(report: &Report) -> String {
    let t = &report.target;
    let suites = suites(report);
    let mut top = Block::new(0);
    top.start(suites.len() + 1);
    top.diag(&format!(
        "vfio-mig {} {} {}{}{}",
        t.device,
        t.protocol,
        t.flags,
        if t.uapi.is_empty() {
            String::new()
        } else {
            format!(", uAPI {}", t.uapi)
        },
        if t.decisions.is_empty() {
            String::new()
        } else {
            format!(", decisions {}", t.decisions.join(" "))
        }
    ));
    let mut number = 0;
    for suite in &suites {
        number += 1;
        let checks: Vec<&CheckResult> = report.checks.iter().filter(|c| &c.suite == suite).collect();
        let stopped_here = report
            .stopped
            .as_ref()
            .is_some_and(|s| checks.iter().any(|c| c.name == s.check));
        if checks.is_empty() {
            top.line(
                &Line {
                    ok: true,
                    directive: Some(("SKIP", "no check of this suite ran".to_owned())),
                }
                .line(number, suite),
            );
            continue;
        }
        let mut block = Block::new(1);
        block.start(checks.len());
        let mut results = Vec::new();
        for (i, c) in checks.iter().enumerate() {
            let r = check(report, c, &mut block);
            block.line(&r.line(i + 1, &c.name));
            results.push(r);
        }
        let skipped = checks.iter().filter(|c| c.status == "SKIP").count();
        top.lines.extend(block.lines);
        top.line(&parent(&results, skipped).line(number, suite));
        if stopped_here {
            if let Some(stop) = &report.stopped {
                top.line(&format!("Bail out! {}", one_line(&stop.headline())));
            }
            return top.lines.join("\n") + "\n";
        }
    }
    if let Some(stop) = &report.stopped {
        // Stopped before any check of a suite (the device could not be
        // opened, and no setup check says why).
        top.line(&format!("Bail out! {}", one_line(&stop.headline())));
        return top.lines.join("\n") + "\n";
    }
    number += 1;
    // Every requirement, then stale deviations of requirements the report
    // does not list (another protocol's, or the model's own).
    let unlisted: Vec<&String> = report
        .stale_deviations
        .iter()
        .filter(|id| !report.requirements.iter().any(|r| &r.id == *id))
        .collect();
    let mut block = Block::new(1);
    block.start(report.requirements.len() + unlisted.len());
    let mut results = Vec::new();
    let mut skipped = 0;
    let stale_line = |block: &mut Block, id: &str| {
        block.diag(&format!(
            "{id} is listed as a known deviation but does not fail: remove it from the list"
        ));
        Line {
            ok: false,
            directive: None,
        }
    };
    for r in &report.requirements {
        let reason = r.reason.clone().unwrap_or_default();
        let result = match (r.status, &r.deviation) {
            _ if report.stale_deviations.contains(&r.id) => stale_line(&mut block, &r.id),
            (ReqStatus::Pass, _) => Line {
                ok: true,
                directive: None,
            },
            (ReqStatus::Warn, _) => {
                block.diag(&format!("WARN: {} {} not met: {}", r.level, r.id, r.summary));
                Line {
                    ok: true,
                    directive: None,
                }
            }
            (ReqStatus::Fail, Some(why)) => Line {
                ok: true,
                directive: Some(("XFAIL", format!("known deviation: {why}"))),
            },
            (ReqStatus::Fail, None) => {
                block.diag(&format!("{} {}: {}", r.level, r.id, r.summary));
                block.diag(&format!("failing checks: {}", r.failures.join(", ")));
                Line {
                    ok: false,
                    directive: None,
                }
            }
            (ReqStatus::Skip, _) => {
                skipped += 1;
                Line {
                    ok: true,
                    directive: Some(("SKIP", reason)),
                }
            }
            (ReqStatus::NotCovered | ReqStatus::NotRun, _) => {
                skipped += 1;
                Line {
                    ok: true,
                    directive: Some(("SKIP", format!("{}: {reason}", r.status.as_str()))),
                }
            }
        };
        block.line(&result.line(results.len() + 1, &r.id));
        results.push(result);
    }
    for id in unlisted {
        let result = stale_line(&mut block, id);
        block.line(&result.line(results.len() + 1, id));
        results.push(result);
    }
    top.lines.extend(block.lines);
    top.line(&parent(&results, skipped).line(number, "requirements"));
    top.lines.join("\n") + "\n"
}
