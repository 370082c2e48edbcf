//! Typed, validated catalogue entries.

use std::collections::BTreeMap;
use std::fmt;

/// How binding a requirement is (RFC 2119 words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// An absolute requirement: failing it fails the device.
    Must,
    /// Recommended: failing it is a warning.
    Should,
    /// Optional behaviour, allowed either way.
    May,
}

impl Level {
    /// Parses the catalogue spelling (`MUST`, `SHOULD`, `MAY`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MUST" => Some(Level::Must),
            "SHOULD" => Some(Level::Should),
            "MAY" => Some(Level::May),
            _ => None,
        }
    }

    /// The catalogue spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who checks a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Checker {
    /// A property of the reference model, checked by the model's own tests.
    Model,
    /// Checked by running a device through an adapter.
    Adapter,
}

impl Checker {
    /// Parses the catalogue spelling (`model`, `adapter`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "model" => Some(Checker::Model),
            "adapter" => Some(Checker::Adapter),
            _ => None,
        }
    }
}

impl fmt::Display for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Checker::Model => "model",
            Checker::Adapter => "adapter",
        })
    }
}

/// Which protocol a requirement file describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolName {
    /// The v1 migration region (Linux 5.8 to 5.17).
    V1,
    /// The v2 feature-based state machine (Linux 5.18 and later).
    V2,
}

impl ProtocolName {
    /// The ID prefix of this protocol's requirements (`V1`, `V2`).
    pub fn id_prefix(self) -> &'static str {
        match self {
            ProtocolName::V1 => "V1",
            ProtocolName::V2 => "V2",
        }
    }
}

impl fmt::Display for ProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolName::V1 => "v1",
            ProtocolName::V2 => "v2",
        })
    }
}

/// A revision of the kernel's migration uAPI: the first kernel version
/// whose rules differ from the revision before. A device speaks one; a rule
/// may exist only from a revision on (`applies_to.since`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Uapi {
    /// The v2 rules as of Linux 6.12 (unchanged since 6.2 apart from the
    /// STOP_COPY -> PRE_COPY fix): no PRECOPY_INFOv2.
    #[default]
    Linux6_12,
    /// Linux 7.3: `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (feature 12) and
    /// the `VFIO_PRECOPY_INFO_REINIT` output flag.
    Linux7_3,
}

impl Uapi {
    /// Every revision, oldest first.
    pub const ALL: [Uapi; 2] = [Uapi::Linux6_12, Uapi::Linux7_3];

    /// Parses the catalogue spelling (`6.12`, `7.3`).
    pub fn parse(s: &str) -> Option<Self> {
        Uapi::ALL.into_iter().find(|u| u.version() == s.trim())
    }

    /// The kernel version that names the revision (`6.12`, `7.3`).
    pub fn version(self) -> &'static str {
        match self {
            Uapi::Linux6_12 => "6.12",
            Uapi::Linux7_3 => "7.3",
        }
    }

    /// The revision of a kernel release such as `7.3.4+deb13-amd64`
    /// (the newest revision at or below it); `None` when the release does
    /// not start with `MAJOR.MINOR` or predates the v2 rules of 6.12.
    pub fn of_release(release: &str) -> Option<Self> {
        let mut parts = release.split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        let key = |u: Uapi| {
            let (a, b) = u.version().split_once('.').expect("versions are MAJOR.MINOR");
            (a.parse::<u32>().unwrap_or(0), b.parse::<u32>().unwrap_or(0))
        };
        Uapi::ALL.into_iter().rev().find(|u| key(*u) <= (major, minor))
    }
}

impl fmt::Display for Uapi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Linux {}", self.version())
    }
}

/// A v2 migration capability flag, as named in `applies_to.flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagName {
    /// `VFIO_MIGRATION_STOP_COPY`.
    StopCopy,
    /// `VFIO_MIGRATION_P2P`.
    P2p,
    /// `VFIO_MIGRATION_PRE_COPY`.
    PreCopy,
}

impl FlagName {
    /// Parses the catalogue spelling (`STOP_COPY`, `P2P`, `PRE_COPY`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "STOP_COPY" => Some(FlagName::StopCopy),
            "P2P" => Some(FlagName::P2p),
            "PRE_COPY" => Some(FlagName::PreCopy),
            _ => None,
        }
    }
}

/// A requirement ID such as `V2-ARC-007`: protocol, area, three digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReqId(String);

impl ReqId {
    /// Accepts `V1-AREA-NNN` or `V2-AREA-NNN` (AREA upper-case letters and
    /// digits, NNN exactly three digits).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('-');
        let (Some(proto), Some(area), Some(num), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let proto_ok = proto == "V1" || proto == "V2";
        let area_ok = !area.is_empty() && area.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let num_ok = num.len() == 3 && num.chars().all(|c| c.is_ascii_digit());
        (proto_ok && area_ok && num_ok).then(|| ReqId(s.to_owned()))
    }

    /// The ID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The area part (`ARC` in `V2-ARC-007`).
    pub fn area(&self) -> &str {
        self.0.split('-').nth(1).unwrap_or_default()
    }
}

impl fmt::Display for ReqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A decision ID such as `DEC-005`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DecId(String);

impl DecId {
    /// Accepts `DEC-NNN` with exactly three digits.
    pub fn parse(s: &str) -> Option<Self> {
        let num = s.strip_prefix("DEC-")?;
        (num.len() == 3 && num.chars().all(|c| c.is_ascii_digit())).then(|| DecId(s.to_owned()))
    }

    /// The ID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DecId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// A kernel file path or the seed file name.
    pub doc: String,
    /// The kernel version the citation refers to, when it is a kernel file.
    pub version: Option<String>,
    /// Which comment, function or message.
    pub at: String,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{} ({}), {}", self.doc, v, self.at),
            None => write!(f, "{}, {}", self.doc, self.at),
        }
    }
}

/// One normative rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Stable ID.
    pub id: ReqId,
    /// MUST, SHOULD or MAY.
    pub level: Level,
    /// The rule in our own words.
    pub summary: String,
    /// Citation.
    pub source: Source,
    /// Who checks it (never empty).
    pub checked_by: Vec<Checker>,
    /// v2 flags that must be present for the rule to apply (empty: always).
    pub applies_to_flags: Vec<FlagName>,
    /// The rule concerns devices that lack at least one of these flags
    /// (`applies_to.lacking`); empty: every device.
    pub applies_lacking: Vec<FlagName>,
    /// The uAPI revision that introduced the rule (`applies_to.since`);
    /// `None`: every revision.
    pub since: Option<Uapi>,
    /// The decision that shapes this rule, if any.
    pub decision: Option<DecId>,
    /// The option of `decision` under which the rule applies (`None`:
    /// under every option).
    pub when: Option<String>,
}

impl Requirement {
    /// Whether `checker` is one of this rule's checkers.
    pub fn checked_by(&self, checker: Checker) -> bool {
        self.checked_by.contains(&checker)
    }
}

/// One requirement file (`v1.yaml` or `v2.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementFile {
    /// The protocol this file describes.
    pub catalogue: ProtocolName,
    /// A human title.
    pub title: String,
    /// The rules, in file order.
    pub requirements: Vec<Requirement>,
}

/// One open question of the seed thread, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Stable ID.
    pub id: DecId,
    /// The question.
    pub question: String,
    /// Option key to its meaning (at least two).
    pub options: BTreeMap<String, String>,
    /// Our default option key.
    pub default: String,
    /// Per-protocol defaults that differ from `default`.
    pub per_protocol: BTreeMap<ProtocolName, String>,
    /// The protocols the decision applies to, each with the options the
    /// reference model implements for it (the others are recorded history
    /// or behaviour the model does not vary on).
    pub model: BTreeMap<ProtocolName, Vec<String>>,
    /// Why the default.
    pub reason: String,
    /// What was argued and what was merged.
    pub history: String,
    /// Citation.
    pub source: Source,
}

impl Decision {
    /// The default option for one protocol.
    pub fn default_for(&self, protocol: ProtocolName) -> &str {
        self.per_protocol
            .get(&protocol)
            .map(String::as_str)
            .unwrap_or(&self.default)
    }
}

/// `decisions.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFile {
    /// The decisions, in file order.
    pub decisions: Vec<Decision>,
}
