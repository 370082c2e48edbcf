//! The kernel text the catalogue cites, kept as hashes per kernel version.
//!
//! Every requirement cites its source (`source: { doc, version, at }` in
//! `spec/v2.yaml`). Where `at` names a comment or a function of a kernel
//! file, the gate finds that text in the downloaded source, normalises it
//! (comment markers dropped, white space collapsed, split into paragraphs at
//! blank lines) and hashes it. The snapshot file keeps, per cited text, the
//! hash of the whole, the hash of each paragraph and the requirements citing
//! it; never the text itself (the kernel's prose stays the kernel's). A
//! change of the prose then shows as a difference that names the changed
//! paragraphs and the requirements resting on them.
//!
//! What `at` may say (anything after the first comma or colon is a note for
//! the reader):
//! - `comment above struct NAME` (or `enum`, `union`, or a `#define` name):
//!   the nearest comment that starts a line before that definition;
//! - `struct NAME`, `enum NAME` or `VFIO_NAME` alone: the same;
//! - `comment in FUNCTION()`: every comment inside the function's body;
//! - `FUNCTION()`: the function's code, comments left out.
//!
//! A citation of a version before 5.18 (the v1 text, gone from the kernels
//! the gate reads) or of a document that is not a kernel file is not
//! checked here, and is counted as such.

use super::clex::{self, Split};
use super::inventory::version;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use vfio_mig_spec::Catalogue;

/// The snapshot format's first line.
pub const FORMAT: &str = "# vfio-mig cited kernel text, version 1";
/// The largest snapshot file read.
pub const MAX_SNAPSHOT_BYTES: usize = 1 << 20;
/// The first kernel version of the v2 uAPI: older citations are not
/// snapshotted.
const FIRST_V2: (u32, u32) = (5, 18);

/// What a citation points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anchor {
    /// The comment above a definition (`struct x`, `enum x`, `VFIO_X`).
    CommentAbove(String),
    /// The comments inside a function.
    CommentsIn(String),
    /// A function's code.
    Code(String),
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchor::CommentAbove(n) => write!(f, "comment above {n}"),
            Anchor::CommentsIn(n) => write!(f, "comments in {n}()"),
            Anchor::Code(n) => write!(f, "code of {n}()"),
        }
    }
}

impl Anchor {
    /// Reads the anchor of a citation's `at`, `None` when it names none.
    pub fn of(at: &str) -> Option<Anchor> {
        type Make = fn(String) -> Anchor;
        let pats: [(&str, Make); 7] = [
            (
                r"^comment above ((?:struct|enum|union) \w+)",
                Anchor::CommentAbove,
            ),
            (r"^comment above ([A-Z][A-Za-z0-9_]*)", Anchor::CommentAbove),
            (r"^comment in ([a-z_]\w*)\(\)", Anchor::CommentsIn),
            (r"^((?:struct|enum|union) \w+)\s*$", Anchor::CommentAbove),
            (r"^([A-Z][A-Za-z0-9_]*)\s*$", Anchor::CommentAbove),
            (r"^([A-Z][A-Za-z0-9_]*)\(\)", Anchor::CommentAbove),
            (r"^([a-z_]\w*)\(\)", Anchor::Code),
        ];
        pats.iter().find_map(|(p, make)| {
            Regex::new(p)
                .expect("valid regex")
                .captures(at.trim())
                .map(|c| make(c[1].to_owned()))
        })
    }
}

/// A cited text found in a kernel file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cited {
    /// The kernel file (as the catalogue names it).
    pub doc: String,
    /// What is cited.
    pub anchor: Anchor,
    /// Its first line in the file (0 when read from a snapshot).
    pub line: usize,
    /// Hash of the normalised text.
    pub hash: u64,
    /// Hash of each paragraph.
    pub paragraphs: Vec<u32>,
    /// The requirements citing it.
    pub reqs: BTreeSet<String>,
}

/// FNV-1a, 64 bits: enough to notice a change, and our own.
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A comment's text without its markers, split into paragraphs with white
/// space collapsed.
pub fn comment_paragraphs(text: &str) -> Vec<String> {
    let mut paras = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for line in text.lines() {
        let l = line.trim().trim_start_matches('*').trim();
        if l.is_empty() {
            if !cur.is_empty() {
                paras.push(cur.join(" "));
                cur.clear();
            }
        } else {
            cur.extend(l.split_whitespace());
        }
    }
    if !cur.is_empty() {
        paras.push(cur.join(" "));
    }
    paras
}

/// Code split into paragraphs at blank lines, white space collapsed.
fn code_paragraphs(code: &str) -> Vec<String> {
    let mut paras = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for line in code.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                paras.push(cur.join(" "));
                cur.clear();
            }
        } else {
            cur.extend(line.split_whitespace());
        }
    }
    if !cur.is_empty() {
        paras.push(cur.join(" "));
    }
    paras
}

/// The line where `name` (a `struct x`-style name or a macro name) is
/// defined in `split`.
fn definition_line(split: &Split, name: &str) -> Option<usize> {
    let pat = if name.contains(' ') {
        let mut it = name.splitn(2, ' ');
        let (k, n) = (it.next()?, it.next()?);
        format!(r"(?m)^[ \t]*{k}[ \t]+{}\s*\{{", regex::escape(n))
    } else {
        format!(r"(?m)^[ \t]*#[ \t]*define[ \t]+{}\b", regex::escape(name))
    };
    let m = Regex::new(&pat).ok()?.find(&split.code)?;
    Some(clex::line_of(&split.code, m.start()))
}

/// The byte range of the body of function `name` in `split`, `{` to `}`.
fn function_body(split: &Split, name: &str) -> Option<std::ops::Range<usize>> {
    let re = Regex::new(&format!(
        r"(?m)^(?:[A-Za-z_][^;\n]*[\s*])?{}\s*\(",
        regex::escape(name)
    ))
    .ok()?;
    for m in re.find_iter(&split.code) {
        let rest = &split.code[m.end()..];
        let brace = rest.find('{')?;
        if rest[..brace].contains(';') {
            continue;
        }
        return clex::brace_block(&split.code, m.end() + brace);
    }
    None
}

/// Finds `anchor` in a file: its first line and its paragraphs.
pub fn find(split: &Split, anchor: &Anchor) -> Result<(usize, Vec<String>), String> {
    match anchor {
        Anchor::CommentAbove(name) => {
            let line = definition_line(split, name).ok_or_else(|| format!("{name} is not defined there"))?;
            let c = split
                .comments
                .iter()
                .rev()
                .find(|c| c.leading && c.end < line)
                .ok_or_else(|| format!("no comment above {name}"))?;
            Ok((c.start, comment_paragraphs(&c.text)))
        }
        Anchor::CommentsIn(f) => {
            let body = function_body(split, f).ok_or_else(|| format!("function {f}() is not there"))?;
            let (a, b) = (
                clex::line_of(&split.code, body.start),
                clex::line_of(&split.code, body.end),
            );
            let paras: Vec<String> = split
                .comments
                .iter()
                .filter(|c| c.start >= a && c.end <= b)
                .flat_map(|c| comment_paragraphs(&c.text))
                .collect();
            if paras.is_empty() {
                return Err(format!("function {f}() has no comments"));
            }
            Ok((a, paras))
        }
        Anchor::Code(f) => {
            let body = function_body(split, f).ok_or_else(|| format!("function {f}() is not there"))?;
            Ok((
                clex::line_of(&split.code, body.start),
                code_paragraphs(&split.code[body]),
            ))
        }
    }
}

/// A citation that could not be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The requirement citing.
    pub req: String,
    /// Its citation.
    pub source: String,
    /// Why it could not be followed.
    pub why: String,
}

/// The cited texts of one kernel, and the citations not followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CitedSet {
    /// The texts, by (doc, anchor).
    pub texts: BTreeMap<(String, Anchor), Cited>,
    /// Citations that name a text that could not be found: failures.
    pub unresolved: Vec<Unresolved>,
    /// Citations not checked here, with the reason, and how many.
    pub not_checked: BTreeMap<String, usize>,
}

/// Collects the texts the catalogue cites from a kernel's files. `read`
/// gives a file's text by the catalogue's path (or why it cannot).
/// `kernel` is the kernel's version: citations of later versions are not
/// checked against it.
pub fn collect(
    catalogue: &Catalogue,
    kernel: Option<&str>,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> CitedSet {
    let mut set = CitedSet::default();
    let mut files: BTreeMap<String, Result<Split, String>> = BTreeMap::new();
    for r in catalogue.requirements() {
        let s = &r.source;
        let id = r.id.as_str().to_owned();
        let mut skip = |why: &str| *set.not_checked.entry(why.to_owned()).or_default() += 1;
        let Some(v) = s.version.as_deref() else {
            skip("not a kernel file");
            continue;
        };
        let (Some(cited), doc) = (version(v), s.doc.as_str()) else {
            skip("not a kernel file");
            continue;
        };
        if !in_kernel_tree(doc) {
            skip("not a kernel file");
            continue;
        }
        if cited < FIRST_V2 {
            skip("cites the v1 text of Linux 5.8 to 5.17, which the kernels read here no longer carry");
            continue;
        }
        if kernel.and_then(version).is_some_and(|k| k < cited) {
            skip("cites a later kernel than this one");
            continue;
        }
        let Some(anchor) = Anchor::of(&s.at) else {
            set.unresolved.push(Unresolved {
                req: id,
                source: s.to_string(),
                why: "its `at` names no comment, definition or function the gate can find".to_owned(),
            });
            continue;
        };
        let file = files
            .entry(doc.to_owned())
            .or_insert_with(|| read(doc).map(|t| clex::split(&t)));
        let found = match file {
            Ok(split) => find(split, &anchor),
            Err(e) => Err(e.clone()),
        };
        match found {
            Ok((line, paras)) => {
                let entry = set
                    .texts
                    .entry((doc.to_owned(), anchor.clone()))
                    .or_insert_with(|| Cited {
                        doc: doc.to_owned(),
                        anchor,
                        line,
                        hash: fnv1a(&paras.join("\n\n")),
                        paragraphs: paras.iter().map(|p| fnv1a(p) as u32).collect(),
                        reqs: BTreeSet::new(),
                    });
                entry.reqs.insert(id);
            }
            Err(why) => set.unresolved.push(Unresolved {
                req: id,
                source: s.to_string(),
                why,
            }),
        }
    }
    set
}

/// The snapshot file's text for `set`.
pub fn render(set: &CitedSet, kernel: &str) -> String {
    let mut out = format!(
        "{FORMAT}\n# Linux {kernel}: the kernel text the catalogue cites, as hashes (FNV-1a, 64 bits for the\n\
         # whole normalised text, 32 bits per paragraph), with the requirements citing it. Only our\n\
         # hashes are kept here, never the kernel's text. Fields, tab-separated: file, what is cited,\n\
         # hash, paragraph hashes, requirements. Rewritten by `ci/uapi-drift.sh --update-cited`.\n"
    );
    for c in set.texts.values() {
        let paras: Vec<String> = c.paragraphs.iter().map(|p| format!("{p:08x}")).collect();
        let reqs: Vec<&str> = c.reqs.iter().map(String::as_str).collect();
        out.push_str(&format!(
            "{}\t{}\t{:016x}\t{}\t{}\n",
            c.doc,
            c.anchor,
            c.hash,
            paras.join(" "),
            reqs.join(" ")
        ));
    }
    out
}

fn anchor_from_text(t: &str) -> Option<Anchor> {
    if let Some(n) = t.strip_prefix("comment above ") {
        Some(Anchor::CommentAbove(n.to_owned()))
    } else if let Some(n) = t.strip_prefix("comments in ") {
        n.strip_suffix("()").map(|n| Anchor::CommentsIn(n.to_owned()))
    } else {
        t.strip_prefix("code of ")
            .and_then(|n| n.strip_suffix("()"))
            .map(|n| Anchor::Code(n.to_owned()))
    }
}

/// Reads a snapshot file.
pub fn parse(text: &str) -> Result<BTreeMap<(String, Anchor), Cited>, String> {
    if text.len() > MAX_SNAPSHOT_BYTES {
        return Err(format!("the snapshot is larger than {MAX_SNAPSHOT_BYTES} bytes"));
    }
    if text.lines().next() != Some(FORMAT) {
        return Err(format!(
            "not a cited-text snapshot: the first line must be {FORMAT:?}"
        ));
    }
    let mut out = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format!("line {}: {what}", i + 1);
        let f: Vec<&str> = l.split('\t').collect();
        let [doc, anchor, hash, paras, reqs] = f[..] else {
            return Err(bad(&format!("{} fields, expected 5", f.len())));
        };
        let anchor =
            anchor_from_text(anchor).ok_or_else(|| bad(&format!("{anchor:?} names no cited text")))?;
        let hash = u64::from_str_radix(hash, 16).map_err(|_| bad("the hash is not hexadecimal"))?;
        let paragraphs = paras
            .split_whitespace()
            .map(|p| u32::from_str_radix(p, 16).map_err(|_| bad("a paragraph hash is not hexadecimal")))
            .collect::<Result<Vec<_>, _>>()?;
        let c = Cited {
            doc: doc.to_owned(),
            anchor: anchor.clone(),
            line: 0,
            hash,
            paragraphs,
            reqs: reqs.split_whitespace().map(str::to_owned).collect(),
        };
        if out.insert((doc.to_owned(), anchor), c).is_some() {
            return Err(bad("given twice"));
        }
    }
    Ok(out)
}

/// How one cited text differs from the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The text changed.
    Text {
        /// The text now.
        now: Cited,
        /// Paragraphs of the snapshot no longer there (1-based).
        removed: Vec<usize>,
        /// Paragraphs not in the snapshot (1-based, in the text now).
        added: Vec<usize>,
    },
    /// The same text, cited by other requirements.
    Citers {
        /// The text now.
        now: Cited,
        /// Requirements in the snapshot only.
        gone: Vec<String>,
        /// Requirements citing it now only.
        new: Vec<String>,
    },
    /// Cited now, not in the snapshot.
    New(Cited),
    /// In the snapshot, cited by no requirement now.
    Gone(Cited),
}

fn list(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

fn reqs(r: &BTreeSet<String>) -> String {
    r.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Text { now, removed, added } => {
                write!(f, "{} line {}: {} changed:", now.doc, now.line, now.anchor)?;
                if !removed.is_empty() {
                    write!(f, " paragraph(s) {} of the snapshot gone;", list(removed))?;
                }
                if !added.is_empty() {
                    write!(
                        f,
                        " paragraph(s) {} of {} new;",
                        list(added),
                        now.paragraphs.len()
                    )?;
                }
                write!(f, " cited by {}", reqs(&now.reqs))
            }
            Change::Citers { now, gone, new } => write!(
                f,
                "{} line {}: {} is cited by {} (snapshot: also {}; now also {})",
                now.doc,
                now.line,
                now.anchor,
                reqs(&now.reqs),
                if gone.is_empty() {
                    "-".to_owned()
                } else {
                    gone.join(", ")
                },
                if new.is_empty() {
                    "-".to_owned()
                } else {
                    new.join(", ")
                }
            ),
            Change::New(c) => write!(
                f,
                "{} line {}: {} is cited by {} but not in the snapshot",
                c.doc,
                c.line,
                c.anchor,
                reqs(&c.reqs)
            ),
            Change::Gone(c) => write!(
                f,
                "{}: {} is in the snapshot (cited by {}) but no requirement cites it now",
                c.doc,
                c.anchor,
                reqs(&c.reqs)
            ),
        }
    }
}

/// The paragraphs of `old` and `new` outside their longest common
/// subsequence: (gone from old, new in new), both 1-based.
fn paragraph_diff(old: &[u32], new: &[u32]) -> (Vec<usize>, Vec<usize>) {
    let (n, m) = (old.len(), new.len());
    let mut l = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if old[i] == new[j] {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let (mut gone, mut added) = (Vec::new(), Vec::new());
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || l[i][j + 1] >= l[i + 1][j]) {
            added.push(j + 1);
            j += 1;
        } else {
            gone.push(i + 1);
            i += 1;
        }
    }
    (gone, added)
}

/// The differences between the texts now and a snapshot.
pub fn compare(now: &CitedSet, snapshot: &BTreeMap<(String, Anchor), Cited>) -> Vec<Change> {
    let mut out = Vec::new();
    for (key, c) in &now.texts {
        match snapshot.get(key) {
            None => out.push(Change::New(c.clone())),
            Some(old) if old.hash != c.hash => {
                let (removed, added) = paragraph_diff(&old.paragraphs, &c.paragraphs);
                out.push(Change::Text {
                    now: c.clone(),
                    removed,
                    added,
                });
            }
            Some(old) if old.reqs != c.reqs => out.push(Change::Citers {
                now: c.clone(),
                gone: old.reqs.difference(&c.reqs).cloned().collect(),
                new: c.reqs.difference(&old.reqs).cloned().collect(),
            }),
            Some(_) => {}
        }
    }
    for (key, old) in snapshot {
        if !now.texts.contains_key(key) {
            out.push(Change::Gone(old.clone()));
        }
    }
    out
}

/// Whether a citation's document is a file of the kernel tree the gate
/// reads (the uAPI header, the VFIO core, the sample drivers).
pub fn in_kernel_tree(doc: &str) -> bool {
    ["include/", "drivers/", "samples/"]
        .iter()
        .any(|p| doc.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_read_from_the_citations() {
        let a = |s: &str| Anchor::of(s);
        assert_eq!(
            a("comment above struct vfio_precopy_info, temporary end of stream"),
            Some(Anchor::CommentAbove("struct vfio_precopy_info".into()))
        );
        assert_eq!(
            a("comment in vfio_mig_get_next_state(), arcs with P2P"),
            Some(Anchor::CommentsIn("vfio_mig_get_next_state".into()))
        );
        assert_eq!(
            a("vfio_ioctl_device_feature_mig_device_state(), GET branch"),
            Some(Anchor::Code("vfio_ioctl_device_feature_mig_device_state".into()))
        );
        assert_eq!(
            a("enum vfio_device_mig_state"),
            Some(Anchor::CommentAbove("enum vfio_device_mig_state".into()))
        );
        assert_eq!(
            a("VFIO_DEVICE_FEATURE_MIG_DATA_SIZE"),
            Some(Anchor::CommentAbove("VFIO_DEVICE_FEATURE_MIG_DATA_SIZE".into()))
        );
        assert_eq!(a("somewhere in the middle"), None);
    }

    #[test]
    fn comments_normalise_to_paragraphs() {
        let p = comment_paragraphs("*\n * One  two\n * three.\n *\n * Four.\n ");
        assert_eq!(p, ["One two three.", "Four."]);
    }

    #[test]
    fn paragraph_diff_names_what_went_and_what_came() {
        assert_eq!(paragraph_diff(&[1, 2, 3], &[1, 2, 3]), (vec![], vec![]));
        assert_eq!(paragraph_diff(&[1, 2, 3], &[1, 9, 8, 2, 3]), (vec![], vec![2, 3]));
        assert_eq!(paragraph_diff(&[1, 2, 3], &[1, 7, 3]), (vec![2], vec![2]));
        assert_eq!(paragraph_diff(&[1, 2], &[]), (vec![1, 2], vec![]));
    }

    #[test]
    fn a_snapshot_reads_back_what_was_written_and_bad_lines_are_errors() {
        let mut set = CitedSet::default();
        let c = Cited {
            doc: "include/uapi/linux/vfio.h".into(),
            anchor: Anchor::CommentsIn("f".into()),
            line: 3,
            hash: 0xabc,
            paragraphs: vec![1, 0xffff_ffff],
            reqs: ["V2-ARC-001".to_owned()].into(),
        };
        set.texts.insert((c.doc.clone(), c.anchor.clone()), c.clone());
        let back = parse(&render(&set, "6.12")).unwrap();
        let got = &back[&(c.doc.clone(), c.anchor.clone())];
        assert_eq!(
            (got.hash, &got.paragraphs, &got.reqs),
            (c.hash, &c.paragraphs, &c.reqs)
        );
        assert!(compare(&set, &back).is_empty());
        assert!(parse("hello").unwrap_err().contains("not a cited-text snapshot"));
        assert!(parse(&format!("{FORMAT}\na\tb\n"))
            .unwrap_err()
            .contains("2 fields"));
        assert!(parse(&format!("{FORMAT}\na\tnowhere\t1\t\t\n"))
            .unwrap_err()
            .contains("names no"));
    }
}
