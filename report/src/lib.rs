//! What a run produces: per-requirement results built from the checks'
//! typed verdicts, written as Markdown for people, JSON for tools and JUnit
//! XML for CI systems, all from one [`Report`]; and the renderers of a
//! check's trace (reproducers in C, JSON traces).
#![forbid(unsafe_code)]

mod diagram;
mod junit;
mod markdown;
pub mod reproducer_c;
pub mod sometimes;
mod timeline;

pub use diagram::{dot, mermaid};
pub use junit::junit_xml;
pub use markdown::markdown;
pub use timeline::timeline;

use serde::{Deserialize, Serialize};
use vfio_mig_engine::check::Status;
use vfio_mig_engine::regression;
use vfio_mig_engine::trace::Trace;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::{Profile, Req, Uapi};
use vfio_mig_spec::{Catalogue, Checker, FlagName, Level, ProtocolName, Requirement};

/// Version of the JSON layout (see `reports/SCHEMA.md`).
pub const SCHEMA_VERSION: u32 = 2;

/// The result of one requirement for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReqStatus {
    /// Every check that exercised it passed.
    #[serde(rename = "PASS")]
    Pass,
    /// A SHOULD was not met (or a MAY behaved unusually).
    #[serde(rename = "WARN")]
    Warn,
    /// A MUST was broken.
    #[serde(rename = "FAIL")]
    Fail,
    /// Not applicable to this device, or its checks could not run.
    #[serde(rename = "SKIP")]
    Skip,
    /// No check exercised it.
    #[serde(rename = "NOT COVERED")]
    NotCovered,
    /// The run stopped before any check of it ran.
    #[serde(rename = "NOT RUN")]
    NotRun,
}

impl ReqStatus {
    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReqStatus::Pass => "PASS",
            ReqStatus::Warn => "WARN",
            ReqStatus::Fail => "FAIL",
            ReqStatus::Skip => "SKIP",
            ReqStatus::NotCovered => "NOT COVERED",
            ReqStatus::NotRun => "NOT RUN",
        }
    }
}

/// One requirement's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReqResult {
    /// Requirement ID.
    pub id: String,
    /// MUST, SHOULD or MAY.
    pub level: String,
    /// The rule.
    pub summary: String,
    /// The result.
    pub status: ReqStatus,
    /// Why SKIP (or NOT COVERED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Names of the checks that exercised it.
    pub checks: Vec<String>,
    /// Names of the checks that failed or warned on it.
    pub failures: Vec<String>,
    /// Listed in the device's known deviations, with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<String>,
}

/// One check's result (a [`Verdict`] without borrowed data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Suite name.
    pub suite: String,
    /// Check name.
    pub name: String,
    /// PASS, WARN, FAIL or SKIP.
    pub status: String,
    /// Requirements exercised.
    pub reqs: Vec<String>,
    /// Requirements broken (FAIL) or missed (WARN).
    pub broken: Vec<String>,
    /// What happened.
    pub detail: String,
    /// Operations and outcomes (failing and warning checks only; for a
    /// check that made calls at once, the calls made one at a time before).
    pub trace: Vec<String>,
    /// For a failing or warning check that made calls at once: the calls
    /// drawn as a timeline (see [`timeline`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<String>,
    /// A paste-ready regression test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproducer: Option<String>,
    /// The trace as a C program (written beside the report as
    /// `reproducers/<name>.c`, not into the JSON).
    #[serde(skip)]
    pub c_reproducer: Option<String>,
    /// Time spent in device calls, in microseconds (not compared by tests).
    pub device_time_us: u64,
}

/// The trace of a check, one line per event, as a person reads it.
pub fn trace_lines(trace: &Trace) -> Vec<String> {
    use vfio_mig_engine::trace::Event;
    fn lines<P: vfio_mig_model::Protocol>(events: &[Event<P>]) -> Vec<String> {
        // Instances are named only when the check used two.
        let two = events
            .iter()
            .any(|e| matches!(e, Event::Step(s) if s.instance == 1));
        let on = |i: u8| match (two, i) {
            (false, _) => String::new(),
            (true, 0) => "source: ".to_owned(),
            (true, _) => "destination: ".to_owned(),
        };
        events
            .iter()
            .map(|e| match e {
                Event::Step(s) => format!("{}{} -> {}", on(s.instance), s.op, s.outcome),
                Event::Inject { instance, fault } => format!("{}(armed fault: {fault:?})", on(*instance)),
                Event::Reopen { instance } => format!("{}(closed and opened again)", on(*instance)),
                Event::Snapshot { instance } => format!("{}(state read)", on(*instance)),
                Event::Same { a, b, rule } => format!(
                    "(the state of instance {} must equal that of instance {}: {})",
                    b.instance,
                    a.instance,
                    rule.id()
                ),
            })
            .collect()
    }
    match trace {
        Trace::Empty => Vec::new(),
        Trace::V1(e) => lines(e),
        Trace::V2(e) => lines(e),
    }
}

/// The differences of a cross-transport comparison as a Markdown table.
pub fn differences(table: &vfio_mig_engine::differential::Table, first: &str, second: &str) -> String {
    let mut out = format!(
        "{} steps compared, {} answered differently.\n\n| sequence | step | operation | {first} | {second} | model |\n|---|---|---|---|---|---|\n",
        table.steps,
        table.differences.len()
    );
    for d in &table.differences {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:?} |\n",
            d.sequence, d.step, d.op, d.first, d.second, d.class
        ));
    }
    out
}

/// The C reproducer of a failing v2 check (none for calls made at once:
/// one thread replaying them cannot race).
pub fn c_reproducer(v: &Verdict) -> Option<String> {
    (v.status == Status::Fail && matches!(v.trace, Trace::V2(_)) && v.replayable()).then(|| {
        reproducer_c::v2(
            &v.name,
            <vfio_mig_model::v2::Fsm as vfio_mig_engine::trace::Traced>::events(&v.trace),
        )
    })
}

impl From<&Verdict> for CheckResult {
    fn from(v: &Verdict) -> Self {
        let failing = matches!(v.status, Status::Fail | Status::Warn);
        CheckResult {
            suite: v.suite.name().to_owned(),
            name: v.name.clone(),
            status: v.status.as_str().to_owned(),
            reqs: v.reqs.iter().map(|r| r.id().to_owned()).collect(),
            broken: v.broken.iter().map(|r| r.id().to_owned()).collect(),
            detail: v.detail.clone(),
            // Traces of passing checks are long and say nothing new.
            trace: if failing {
                trace_lines(&v.trace)
            } else {
                Vec::new()
            },
            timeline: match &v.concurrency {
                Some(observed) if failing => timeline(observed),
                _ => Vec::new(),
            },
            // A replay from one thread cannot race: no reproducer for calls
            // made at once.
            reproducer: if failing && v.replayable() {
                regression::reproducer(&v.name, &v.trace)
            } else {
                None
            },
            c_reproducer: c_reproducer(v),
            device_time_us: v.device_time().as_micros() as u64,
        }
    }
}

/// The file, under the report directory, of check `name`'s C reproducer.
pub fn c_reproducer_file(name: &str) -> String {
    format!("reproducers/{}.c", regression::ident(name, '-'))
}

/// The file, under a traces directory, of check `name`'s JSON trace of
/// instance `instance` (the destination's has `.destination` before `.json`).
pub fn trace_file(name: &str, instance: u8) -> String {
    let which = if instance == 0 { "" } else { ".destination" };
    format!("{}{which}.json", regression::ident(name, '-'))
}

/// Counts of requirement results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// PASS.
    pub pass: usize,
    /// WARN.
    pub warn: usize,
    /// FAIL.
    pub fail: usize,
    /// SKIP.
    pub skip: usize,
    /// NOT COVERED.
    pub not_covered: usize,
    /// NOT RUN.
    #[serde(default)]
    pub not_run: usize,
    /// Checks run.
    pub checks: usize,
}

/// What was tested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The device's name.
    pub device: String,
    /// `v1` or `v2`.
    pub protocol: String,
    /// v2 flags (`STOP_COPY+P2P`), empty for v1.
    pub flags: String,
    /// v2: the kernel uAPI revision whose rules judged the device
    /// (`Linux 7.3`); empty for v1.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uapi: String,
    /// Decisions of the catalogue taken otherwise than by default, as
    /// `DEC-013=enomsg-or-zero` (absent when every default holds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<String>,
}

/// One request of the arc suite: what the spec says and what the device did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArcObs {
    /// Source state.
    pub from: String,
    /// Requested state.
    pub to: String,
    /// `allowed` or `refused` by the spec for the device's flags.
    pub spec: String,
    /// `ok`, `refused` (EINVAL) or `failed` (another errno) on the device.
    pub observed: String,
    /// How long the SET took, in microseconds.
    pub time_us: u64,
}

impl ArcObs {
    /// Whether the device disagreed with the spec.
    pub fn differs(&self) -> bool {
        (self.spec == "allowed") != (self.observed == "ok")
    }

    /// A label for a disagreement.
    pub fn label(&self) -> String {
        format!("{} (spec: {})", self.observed, self.spec)
    }
}

/// One save: stream length and the device's downtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferResult {
    /// The save check.
    pub check: String,
    /// Bytes in the whole stream.
    pub bytes: u64,
    /// Bytes read in STOP_COPY.
    pub stop_copy_bytes: u64,
    /// Microseconds from entering STOP_COPY to leaving it.
    pub stop_copy_us: u64,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// What was tested.
    pub target: Target,
    /// Requirement counts.
    pub summary: Counts,
    /// One entry per requirement a device can be checked against.
    pub requirements: Vec<ReqResult>,
    /// Requirements checked by the model's own tests, not by a device run.
    pub model_only: Vec<String>,
    /// Every check.
    pub checks: Vec<CheckResult>,
    /// Every request of the arc suite (v2).
    pub arcs: Vec<ArcObs>,
    /// Every save of the data suite (v2).
    pub transfers: Vec<TransferResult>,
    /// Known deviations that no longer fail: the list is stale.
    #[serde(default)]
    pub stale_deviations: Vec<String>,
    /// Behaviours the run exercised at least once, or not (v2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sometimes: Vec<SometimesResult>,
    /// Whether the run completed its plan.
    pub complete: bool,
    /// Why it did not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopInfo>,
}

/// Where and why a run stopped before its plan was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopInfo {
    /// Checks of the plan done, the one that stopped the run included
    /// (0 when the device could not even be opened).
    pub after: usize,
    /// Checks in the plan.
    pub of: usize,
    /// The check that stopped it.
    pub check: String,
    /// Why.
    pub cause: String,
}

impl From<&vfio_mig_engine::suites::Stopped> for StopInfo {
    fn from(s: &vfio_mig_engine::suites::Stopped) -> Self {
        StopInfo {
            after: s.after,
            of: s.of,
            check: s.check.clone(),
            cause: s.cause.clone(),
        }
    }
}

impl StopInfo {
    /// The line every output of a stopped run starts with.
    pub fn headline(&self) -> String {
        if self.of == 0 {
            return format!("Run stopped before its first check: {}", self.cause);
        }
        format!(
            "Run stopped after check {} of {}: {}",
            self.after, self.of, self.cause
        )
    }
}

/// One "sometimes" property of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SometimesResult {
    /// What had to happen at least once.
    pub what: String,
    /// Whether it happened.
    pub seen: bool,
}

fn flag_present(flags: Option<MigrationFlags>, f: FlagName) -> bool {
    let Some(flags) = flags else { return true };
    match f {
        FlagName::StopCopy => true,
        FlagName::P2p => flags.p2p(),
        FlagName::PreCopy => flags.pre_copy(),
    }
}

fn flag_name(f: FlagName) -> &'static str {
    match f {
        FlagName::StopCopy => "STOP_COPY",
        FlagName::P2p => "P2P",
        FlagName::PreCopy => "PRE_COPY",
    }
}

fn result_of(
    r: &Requirement,
    flags: Option<MigrationFlags>,
    uapi: Uapi,
    profile: &Profile,
    verdicts: &[Verdict],
) -> ReqResult {
    let id = r.id.as_str();
    // A rule that applies under another option of its decision.
    let chosen = r.decision.as_ref().and_then(|d| {
        profile
            .decisions()
            .choices()
            .into_iter()
            .find(|c| c.id() == d.as_str())
    });
    let other_option = match (&r.when, chosen) {
        (Some(w), Some(c)) if c.key() != w => Some(format!(
            "not applicable: {} is {} (the rule holds under {w})",
            c.id(),
            c.key()
        )),
        _ => None,
    };
    let names = |v: &&Verdict| v.reqs.iter().any(|x| x.id() == id);
    let checks: Vec<String> = verdicts
        .iter()
        .filter(|v| v.status != Status::Skip)
        .filter(names)
        .map(|v| v.name.clone())
        .collect();
    let failures: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| matches!(v.status, Status::Fail | Status::Warn) && v.broken.iter().any(|x| x.id() == id))
        .collect();
    let missing: Vec<&str> = r
        .applies_to_flags
        .iter()
        .filter(|f| !flag_present(flags, **f))
        .map(|f| flag_name(*f))
        .collect();
    let newer = r.since.filter(|since| *since > uapi);
    let lacks_none = !r.applies_lacking.is_empty()
        && flags.is_some_and(|f| r.applies_lacking.iter().all(|l| flag_present(Some(f), *l)));
    let (status, reason) = if let Some(why) = other_option {
        (ReqStatus::Skip, Some(why))
    } else if lacks_none {
        let names: Vec<&str> = r.applies_lacking.iter().map(|f| flag_name(*f)).collect();
        (
            ReqStatus::Skip,
            Some(format!(
                "not applicable: a rule of devices without {}, and this one offers {}",
                names.join(" or "),
                names.join(" and ")
            )),
        )
    } else if let Some(since) = newer {
        (
            ReqStatus::Skip,
            Some(format!(
                "not applicable: a rule of {since}, and the device speaks the uAPI of {uapi}"
            )),
        )
    } else if !missing.is_empty() {
        (
            ReqStatus::Skip,
            Some(format!(
                "not applicable: the device does not offer {}",
                missing.join("+")
            )),
        )
    } else if !failures.is_empty() {
        // Severity is the requirement's: a broken MUST fails, whatever the
        // check's own status says; a SHOULD or MAY warns.
        match r.level {
            Level::Must => (ReqStatus::Fail, None),
            Level::Should | Level::May => (ReqStatus::Warn, None),
        }
    } else if !checks.is_empty() {
        (ReqStatus::Pass, None)
    } else if let Some(skip) = verdicts.iter().filter(|v| v.status == Status::Skip).find(names) {
        (ReqStatus::Skip, Some(skip.detail.clone()))
    } else if let Some((_, why)) = verdicts
        .iter()
        .flat_map(|v| v.uncovered.iter())
        .find(|(x, _)| x.id() == id)
    {
        (ReqStatus::NotCovered, Some(why.clone()))
    } else {
        (
            ReqStatus::NotCovered,
            Some("no check exercised this requirement".to_owned()),
        )
    };
    ReqResult {
        id: id.to_owned(),
        level: r.level.to_string(),
        summary: r.summary.clone(),
        status,
        reason,
        checks,
        failures: failures.iter().map(|v| v.name.clone()).collect(),
        deviation: None,
    }
}

/// One expected failure of a device, with the reason it is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The requirement the device is known to miss.
    pub requirement: String,
    /// Why it is accepted (a bug number, a hardware limit).
    pub reason: String,
}

/// The largest deviations file read (a list of a few dozen entries is
/// kilobytes; anything near this is not one).
pub const MAX_DEVIATIONS_FILE: u64 = 1 << 20;

/// Why a `report.json` could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not JSON, or not the layout of a report.
    #[error("not a vfio-mig JSON report: {0}")]
    Json(serde_json::Error),
    /// A report of another layout version.
    #[error("a report of schema {}, this version reads schema {SCHEMA_VERSION} only (run the old baseline again with this version)", found.map_or("(none)".to_string(), |n| n.to_string()))]
    Schema {
        /// The version found, if any.
        found: Option<u32>,
    },
}

/// Why a deviations file was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeviationError {
    /// It could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It is too large to be a deviations list.
    #[error("{path}: {size} bytes; a deviations file is at most {MAX_DEVIATIONS_FILE} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
    },
    /// It is not a YAML list of `requirement` and `reason`.
    #[error("{path}: not a list of `- requirement: ID` / `reason: ...` entries: {message}")]
    Yaml {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// An entry is wrong.
    #[error("{path}: entry {entry} ({requirement}): {problem}")]
    Entry {
        /// The file.
        path: String,
        /// The entry, from 1.
        entry: usize,
        /// Its requirement.
        requirement: String,
        /// What is wrong.
        problem: &'static str,
    },
}

/// Reads a known-deviations file: a YAML list of `requirement` and `reason`,
/// each requirement in the catalogue and listed once.
pub fn load_deviations(
    path: &std::path::Path,
    catalogue: &Catalogue,
) -> Result<Vec<Deviation>, DeviationError> {
    let shown = path.display().to_string();
    let read = |source| DeviationError::Read {
        path: shown.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_DEVIATIONS_FILE {
        return Err(DeviationError::TooLarge { path: shown, size });
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    parse_deviations(&text, catalogue).map_err(|e| match e {
        DeviationError::Yaml { message, .. } => DeviationError::Yaml {
            path: shown.clone(),
            message,
        },
        DeviationError::Entry {
            entry,
            requirement,
            problem,
            ..
        } => DeviationError::Entry {
            path: shown.clone(),
            entry,
            requirement,
            problem,
        },
        other => other,
    })
}

/// [`load_deviations`] of a file's text.
pub fn parse_deviations(text: &str, catalogue: &Catalogue) -> Result<Vec<Deviation>, DeviationError> {
    let list: Vec<Deviation> = serde_saphyr::from_str(text).map_err(|e| DeviationError::Yaml {
        path: String::new(),
        message: e.to_string().lines().next().unwrap_or_default().to_owned(),
    })?;
    for (i, d) in list.iter().enumerate() {
        let problem = if catalogue.requirement(&d.requirement).is_none() {
            Some("no such requirement in the catalogue")
        } else if d.reason.trim().is_empty() {
            Some("a deviation needs a reason")
        } else if list[..i].iter().any(|e| e.requirement == d.requirement) {
            Some("listed twice")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(DeviationError::Entry {
                path: String::new(),
                entry: i + 1,
                requirement: d.requirement.clone(),
                problem,
            });
        }
    }
    Ok(list)
}

impl Report {
    /// Builds the report of one device run.
    pub fn build(
        catalogue: &Catalogue,
        profile: &Profile,
        device: &str,
        flags: Option<MigrationFlags>,
        uapi: Uapi,
        verdicts: &[Verdict],
    ) -> Self {
        let protocol = profile.protocol();
        let file = match protocol {
            ProtocolName::V1 => &catalogue.v1,
            ProtocolName::V2 => &catalogue.v2,
        };
        let mut requirements = Vec::new();
        let mut model_only = Vec::new();
        for r in &file.requirements {
            if !r.checked_by(Checker::Adapter) {
                model_only.push(r.id.to_string());
                continue;
            }
            requirements.push(result_of(r, flags, uapi, profile, verdicts));
        }
        // Failures first, then warnings, then the rest in catalogue order.
        requirements.sort_by_key(|r| match r.status {
            ReqStatus::Fail => 0,
            ReqStatus::Warn => 1,
            _ => 2,
        });
        let mut report = Report {
            schema: SCHEMA_VERSION,
            target: Target {
                device: device.to_owned(),
                protocol: protocol.to_string(),
                flags: flags.map(|f| f.to_string()).unwrap_or_default(),
                uapi: match protocol {
                    ProtocolName::V2 => uapi.to_string(),
                    ProtocolName::V1 => String::new(),
                },
                decisions: Vec::new(),
            },
            summary: Counts {
                checks: verdicts.len(),
                ..Counts::default()
            },
            requirements,
            model_only,
            checks: verdicts.iter().map(CheckResult::from).collect(),
            arcs: flags.map(|f| arc_observations(f, verdicts)).unwrap_or_default(),
            transfers: verdicts
                .iter()
                .filter_map(|v| {
                    let t = v.transfer?;
                    Some(TransferResult {
                        check: v.name.clone(),
                        bytes: t.bytes,
                        stop_copy_bytes: t.stop_copy_bytes,
                        stop_copy_us: t.stop_copy_time.as_micros() as u64,
                    })
                })
                .collect(),
            stale_deviations: Vec::new(),
            sometimes: match protocol {
                ProtocolName::V2 => sometimes::v2(verdicts)
                    .into_iter()
                    .map(|s| SometimesResult {
                        what: s.what.to_owned(),
                        seen: s.seen,
                    })
                    .collect(),
                ProtocolName::V1 => Vec::new(),
            },
            complete: true,
            stopped: None,
        };
        report.target.decisions = profile
            .chosen()
            .iter()
            .map(|c| format!("{}={}", c.id(), c.key()))
            .collect();
        report.recount();
        report
    }

    /// The requirement counts, from the requirements.
    fn recount(&mut self) {
        let checks = self.summary.checks;
        let mut s = Counts {
            checks,
            ..Counts::default()
        };
        for r in &self.requirements {
            match r.status {
                ReqStatus::Pass => s.pass += 1,
                ReqStatus::Warn => s.warn += 1,
                ReqStatus::Fail => s.fail += 1,
                ReqStatus::Skip => s.skip += 1,
                ReqStatus::NotCovered => s.not_covered += 1,
                ReqStatus::NotRun => s.not_run += 1,
            }
        }
        self.summary = s;
    }

    /// Records that the run stopped before its plan was done: requirements
    /// no check reached are NOT RUN (the run cannot say no check would
    /// have), and the report is not complete.
    pub fn with_stop(mut self, stop: Option<StopInfo>) -> Self {
        let Some(stop) = stop else {
            return self;
        };
        for r in &mut self.requirements {
            if r.status == ReqStatus::NotCovered {
                r.status = ReqStatus::NotRun;
                r.reason = Some(format!(
                    "the run stopped before any check of it ran: {}",
                    stop.cause
                ));
            }
        }
        self.complete = false;
        self.stopped = Some(stop);
        self.recount();
        self
    }

    /// Marks the listed requirements as known deviations; a listed one that
    /// no longer fails or warns is recorded as stale.
    pub fn apply_deviations(&mut self, deviations: &[Deviation]) {
        for d in deviations {
            match self.requirements.iter_mut().find(|r| r.id == d.requirement) {
                Some(r) if matches!(r.status, ReqStatus::Fail | ReqStatus::Warn) => {
                    r.deviation = Some(d.reason.clone())
                }
                _ => self.stale_deviations.push(d.requirement.clone()),
            }
        }
    }

    /// Whether the run fails: a MUST failed that is not a known deviation, or
    /// a known deviation went stale. (A stopped run is [`Report::stopped`]
    /// whatever this says.)
    pub fn failed(&self) -> bool {
        !self.stale_deviations.is_empty()
            || self
                .requirements
                .iter()
                .any(|r| r.status == ReqStatus::Fail && r.deviation.is_none())
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// Reads a report written by [`Report::to_json`] with this
    /// [`SCHEMA_VERSION`]; a report of another version is refused by name
    /// rather than misread.
    pub fn from_json(text: &str) -> Result<Self, ReadError> {
        #[derive(Deserialize)]
        struct Version {
            schema: Option<u32>,
        }
        let version: Version = serde_json::from_str(text).map_err(ReadError::Json)?;
        match version.schema {
            Some(SCHEMA_VERSION) => serde_json::from_str(text).map_err(ReadError::Json),
            found => Err(ReadError::Schema { found }),
        }
    }

    /// The same report with every timing zeroed, for comparisons. The
    /// timelines of calls made at once go too: their bars and times are
    /// timings, and even the order of the calls varies from run to run.
    pub fn without_timings(&self) -> Self {
        let mut r = self.clone();
        for c in &mut r.checks {
            c.device_time_us = 0;
            c.timeline.clear();
        }
        for a in &mut r.arcs {
            a.time_us = 0;
        }
        for t in &mut r.transfers {
            t.stop_copy_us = 0;
        }
        r
    }

    /// Marks requirements the device's transport cannot exercise as SKIP
    /// with the reason, unless a check found them broken (a failure is
    /// never hidden).
    pub fn with_not_applicable(mut self, list: &[(Req, &str)]) -> Self {
        for (id, why) in list {
            let Some(r) = self
                .requirements
                .iter_mut()
                .find(|r| r.id == id.id() && !matches!(r.status, ReqStatus::Fail | ReqStatus::Warn))
            else {
                continue;
            };
            r.status = ReqStatus::Skip;
            r.reason = Some(format!("not applicable: {why}"));
        }
        self.recount();
        self
    }

    /// A one-screen summary.
    pub fn summary_text(&self) -> String {
        let s = &self.summary;
        let mut out = String::new();
        if let Some(stop) = &self.stopped {
            out.push_str(&format!("RUN STOPPED: {}\n", stop.headline()));
        }
        out.push_str(&format!(
            "{} {} {}: {} checks; requirements: {} PASS, {} FAIL, {} WARN, {} SKIP, {} NOT COVERED, {} NOT RUN\n",
            self.target.device,
            self.target.protocol,
            self.target.flags,
            s.checks,
            s.pass,
            s.fail,
            s.warn,
            s.skip,
            s.not_covered,
            s.not_run
        ));
        for r in self
            .requirements
            .iter()
            .filter(|r| matches!(r.status, ReqStatus::Fail | ReqStatus::Warn))
        {
            let first = r.failures.first().map(String::as_str).unwrap_or("");
            let known = if r.deviation.is_some() {
                " (known deviation)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {} {} [{}] {first}{known}\n",
                r.status.as_str(),
                r.id,
                r.level
            ));
        }
        for id in &self.stale_deviations {
            out.push_str(&format!(
                "  STALE deviation {id}: listed as known, but it no longer fails; remove it from the list\n"
            ));
        }
        out
    }
}

/// The arc suite's requests, from its checks' typed arcs and steps.
fn arc_observations(flags: MigrationFlags, verdicts: &[Verdict]) -> Vec<ArcObs> {
    use vfio_mig_model::v2::{MigState, Outcome};
    use vfio_mig_model::Errno;
    let table = vfio_mig_model::v2::PathTable::derive(flags);
    verdicts
        .iter()
        .filter(|v| v.suite == SuiteId::Arcs && v.status != Status::Skip)
        .filter_map(|v| {
            let (arc, at) = v.arc?;
            let step = v.trace.v2_steps().nth(at)?;
            let observed = match step.outcome {
                Outcome::SetOk { .. } => "ok",
                Outcome::Err(Errno::EINVAL) => "refused",
                _ => "failed",
            };
            // The arc suite never loads a stream, so leaving RESUMING must be
            // refused there (V2-STREAM-006) although the path exists.
            let leaves_empty_resume = arc.from == MigState::Resuming && arc.to != arc.from;
            let spec = if table.path(arc.from, arc.to).is_some() && !leaves_empty_resume {
                "allowed"
            } else {
                "refused"
            };
            Some(ArcObs {
                from: arc.from.name().to_owned(),
                to: arc.to.name().to_owned(),
                spec: spec.to_owned(),
                observed: observed.to_owned(),
                time_us: step.took.as_micros() as u64,
            })
        })
        .collect()
}

/// Where `now` falls short of `base`, one line per requirement: a
/// requirement that passed there and does not pass now (FAIL, WARN, SKIP,
/// NOT COVERED, NOT RUN) or is missing; a run that stopped; a baseline of
/// another protocol, flag set or decisions.
pub fn regressions(base: &Report, now: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(stop) = &now.stopped {
        out.push(format!("the run did not complete: {}", stop.headline()));
    }
    let t = (&base.target, &now.target);
    for (what, b, n) in [
        ("protocol", &t.0.protocol, &t.1.protocol),
        ("flags", &t.0.flags, &t.1.flags),
    ] {
        if b != n {
            out.push(format!(
                "the baseline was taken with {what} {b:?}, this run has {n:?}"
            ));
        }
    }
    if t.0.decisions != t.1.decisions {
        out.push(format!(
            "the baseline was taken with decisions {:?}, this run with {:?}",
            t.0.decisions, t.1.decisions
        ));
    }
    for b in base.requirements.iter().filter(|b| b.status == ReqStatus::Pass) {
        match now.requirements.iter().find(|r| r.id == b.id) {
            None => out.push(format!(
                "{} [{}] was PASS, now missing from the report",
                b.id, b.level
            )),
            Some(n) if n.status != ReqStatus::Pass => out.push(format!(
                "{} [{}] was PASS, now {}",
                n.id,
                n.level,
                n.status.as_str()
            )),
            Some(_) => {}
        }
    }
    out
}
