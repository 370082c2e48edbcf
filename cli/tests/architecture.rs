//! The layout of README's "Architecture" section, checked: each crate
//! depends only on the crates it may, and inside every crate the modules
//! use each other without a cycle (a module never reaches back through the
//! crate root or its parent to an item defined next to it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project's crates (directory, package) and the project crates each
/// may depend on (normal dependencies; dev-dependencies are tests' own).
const ALLOWED: &[(&str, &str, &[&str])] = &[
    ("spec", "vfio-mig-spec", &[]),
    ("model", "vfio-mig-model", &["vfio-mig-spec"]),
    ("device", "vfio-mig-device", &["vfio-mig-model"]),
    (
        "engine",
        "vfio-mig-engine",
        &["vfio-mig-spec", "vfio-mig-model", "vfio-mig-device"],
    ),
    (
        "mock",
        "vfio-mig-mock",
        &["vfio-mig-model", "vfio-mig-device", "vfio-mig-vfio-user"],
    ),
    ("trace", "vfio-mig-trace", &["vfio-mig-model"]),
    (
        "report",
        "vfio-mig-report",
        &[
            "vfio-mig-spec",
            "vfio-mig-model",
            "vfio-mig-device",
            "vfio-mig-engine",
            "vfio-mig-trace",
        ],
    ),
    (
        "adapters",
        "vfio-mig-adapters",
        &[
            "vfio-mig-model",
            "vfio-mig-device",
            "vfio-mig-engine",
            "vfio-mig-sys",
            "vfio-mig-vfio-user",
        ],
    ),
    ("sys", "vfio-mig-sys", &["vfio-mig-model"]),
    ("vfio-user", "vfio-mig-vfio-user", &[]),
    (
        "recorder",
        "vfio-mig-recorder",
        &["vfio-mig-model", "vfio-mig-trace"],
    ),
    (
        "examples/vendor-adapter",
        "vendor-adapter-example",
        &["vfio-mig-device", "vfio-mig-engine", "vfio-mig-model"],
    ),
];

/// The project crates named in the `[dependencies]` table of `manifest`.
fn project_deps(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps {
            continue;
        }
        let name = line.split(['=', '.', ' ']).next().unwrap_or("");
        if name.starts_with("vfio-mig-") {
            out.insert(name.to_owned());
        }
    }
    out
}

#[test]
fn crates_depend_only_on_what_the_architecture_allows() {
    for (dir, package, allowed) in ALLOWED {
        let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
        assert!(manifest.contains(&format!("name = \"{package}\"")), "{dir}");
        let extra: Vec<_> = project_deps(&manifest)
            .into_iter()
            .filter(|d| !allowed.contains(&d.as_str()))
            .collect();
        assert!(
            extra.is_empty(),
            "{package} depends on {extra:?}, which the architecture does not allow"
        );
    }
}

/// Every `.rs` file under `src`, by module path (`` for the crate root,
/// `suites`, `suites::arcs`), with its text without comments.
fn modules(src: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name == "bin" {
                    continue;
                }
                let mut p = prefix.to_vec();
                p.push(name);
                walk(&path, &p, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut p = prefix.to_vec();
                if name != "mod" && !(prefix.is_empty() && (name == "lib" || name == "main")) {
                    p.push(name);
                }
                let mut text = std::fs::read_to_string(&path).unwrap();
                // A unit-test module at the end is the file's own business:
                // its `super` is the file.
                if let Some(i) = text.find("#[cfg(test)]\nmod ") {
                    text.truncate(i);
                }
                let code: Vec<&str> = text
                    .lines()
                    .map(|l| match l.find("//") {
                        Some(i) if !l[..i].contains('"') => &l[..i],
                        _ => l,
                    })
                    .collect();
                out.insert(p.join("::"), code.join("\n"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &[], &mut out);
    out
}

fn join(base: &[String], rest: &[String]) -> Vec<String> {
    let mut p = base.to_vec();
    p.extend(rest.iter().cloned());
    p
}

fn key(p: &[String]) -> String {
    p.join("::")
}

/// The paths a `use` tree names: `a::{b, c::d}` is `a::b` and `a::c::d`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&body[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&body[start..]);
        return parts
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .flat_map(expand)
            .map(|p| join(&head, &p))
            .collect();
    }
    let first = tree.split(" as ").next().unwrap_or(tree);
    vec![first
        .split("::")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()]
}

/// A crate's modules and what each re-exports (`pub use`).
struct Crate {
    code: BTreeMap<String, String>,
    /// Module -> exported name -> the path it re-exports.
    exports: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn new(src: &Path) -> Self {
        let code = modules(src);
        let mut exports = BTreeMap::new();
        for (m, text) in &code {
            let base: Vec<String> = if m.is_empty() {
                Vec::new()
            } else {
                m.split("::").map(str::to_owned).collect()
            };
            let mut table = BTreeMap::new();
            for stmt in text.split(';') {
                let stmt = stmt.trim();
                let Some(tree) = stmt.strip_prefix("pub use ") else {
                    continue;
                };
                for p in expand(tree) {
                    let Some(name) = p.last().cloned() else { continue };
                    let alias = tree.split(" as ").nth(1).map(|a| a.trim().to_owned());
                    let target = match p.first().map(String::as_str) {
                        Some("crate") => p[1..].to_vec(),
                        Some("super") => join(&base[..base.len().saturating_sub(1)], &p[1..]),
                        Some("self") => join(&base, &p[1..]),
                        _ => join(&base, &p),
                    };
                    table.insert(alias.unwrap_or(name), target);
                }
            }
            exports.insert(m.clone(), table);
        }
        Crate { code, exports }
    }

    /// The module defining what `path` (absolute) names, when it is in
    /// this crate.
    fn owner(&self, path: &[String], depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let mut m: Vec<String> = Vec::new();
        for seg in path {
            let next = join(&m, std::slice::from_ref(seg));
            if self.code.contains_key(&key(&next)) {
                m = next;
                continue;
            }
            // An item of `m`: its own, or one it re-exports.
            if let Some(target) = self.exports.get(&key(&m)).and_then(|t| t.get(seg)) {
                return self.owner(target, depth + 1).or(Some(key(&m)));
            }
            return Some(key(&m));
        }
        Some(key(&m))
    }

    /// The modules module `m`'s code uses, found by the paths it writes.
    fn uses(&self, m: &str) -> BTreeSet<String> {
        let text = &self.code[m];
        let base: Vec<String> = if m.is_empty() {
            Vec::new()
        } else {
            m.split("::").map(str::to_owned).collect()
        };
        let children: Vec<String> = self
            .code
            .keys()
            .filter_map(|k| {
                let rest = if m.is_empty() {
                    Some(k.as_str())
                } else {
                    k.strip_prefix(&format!("{m}::"))
                };
                rest.filter(|r| !r.is_empty() && !r.contains("::"))
                    .map(str::to_owned)
            })
            .collect();
        let mut paths = Vec::new();
        for stmt in text.split(';') {
            let stmt = stmt.trim();
            if stmt.starts_with("pub use ") || stmt.starts_with("mod ") || stmt.starts_with("pub mod ") {
                continue;
            }
            if let Some(tree) = stmt
                .strip_prefix("use ")
                .or_else(|| stmt.strip_prefix("pub(crate) use "))
            {
                paths.extend(expand(tree));
                continue;
            }
            // Paths written in code: crate::..., super::..., self::..., child::...
            let bytes: Vec<char> = stmt.chars().collect();
            let mut i = 0;
            while i < bytes.len() {
                let boundary = i == 0
                    || !(bytes[i - 1].is_alphanumeric()
                        || bytes[i - 1] == '_'
                        || bytes[i - 1] == ':'
                        || bytes[i - 1] == '$');
                if boundary && (bytes[i].is_alphabetic() || bytes[i] == '_') {
                    let mut j = i;
                    while j < bytes.len()
                        && (bytes[j].is_alphanumeric() || bytes[j] == '_' || bytes[j] == ':')
                    {
                        j += 1;
                    }
                    let word: String = bytes[i..j].iter().collect();
                    if word.contains("::") {
                        paths.push(
                            word.split("::")
                                .filter(|s| !s.is_empty())
                                .map(str::to_owned)
                                .collect(),
                        );
                    }
                    i = j;
                } else {
                    i += 1;
                }
            }
        }
        let mut out = BTreeSet::new();
        for p in paths {
            let abs = match p.first().map(String::as_str) {
                Some("crate") => p[1..].to_vec(),
                Some("super") => join(&base[..base.len().saturating_sub(1)], &p[1..]),
                Some("self") => join(&base, &p[1..]),
                Some(first) if children.iter().any(|c| c == first) => join(&base, &p),
                _ => continue,
            };
            if let Some(o) = self.owner(&abs, 0) {
                if o != m {
                    out.insert(o);
                }
            }
        }
        out
    }
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_owned());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_owned());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn graph_of(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let c = Crate::new(src);
    c.code.keys().map(|m| (m.clone(), c.uses(m))).collect()
}

fn shown(m: &str) -> &str {
    if m.is_empty() {
        "(crate root)"
    } else {
        m
    }
}

#[test]
fn modules_use_each_other_without_a_cycle() {
    let mut problems = Vec::new();
    for (dir, package, _) in ALLOWED.iter().chain([&("cli", "vfio-mig-conformance", &[][..])]) {
        if let Some(c) = cycle(&graph_of(&root().join(dir).join("src"))) {
            let c: Vec<&str> = c.iter().map(|m| shown(m)).collect();
            problems.push(format!("{package}: modules in a cycle: {}", c.join(" -> ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_finds_cycles_through_re_exports_parents_and_children() {
    let root = tempfile::Builder::new()
        .prefix("vfio-mig-arch-")
        .tempdir()
        .unwrap();
    let dir = root.path();
    std::fs::create_dir_all(dir.join("s")).unwrap();
    let write = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
    // a uses b's item through the root's re-export; b uses a.
    write("lib.rs", "mod a;\nmod b;\npub use b::Thing;\nmod s;\n");
    write("a.rs", "use crate::Thing;\n");
    write("b.rs", "pub struct Thing;\nfn f() { crate::a::g() }\n");
    // s::x uses its parent's helper, and the parent calls s::x.
    write("s/mod.rs", "mod x;\npub fn helper() {}\nfn run() { x::go() }\n");
    write("s/x.rs", "use super::helper;\npub fn go() {}\n");
    let g = graph_of(dir);
    assert_eq!(g["a"], BTreeSet::from(["b".to_owned()]));
    assert_eq!(g["b"], BTreeSet::from(["a".to_owned()]));
    assert_eq!(g["s"], BTreeSet::from(["s::x".to_owned()]));
    assert_eq!(g["s::x"], BTreeSet::from(["s".to_owned()]));
    assert!(cycle(&g).is_some());
}
