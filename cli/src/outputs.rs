//! Where a run writes: every output directory is checked before the run
//! (so that a run is never lost to a path that cannot be written), and
//! after the run every file is written that can be, each failure named.

use std::path::{Path, PathBuf};
use vfio_mig_report::{self as report, Report};

/// The files `run` writes into the report directory.
pub const REPORT_FILES: [&str; 5] = [
    "report.md",
    "report.json",
    "junit.xml",
    "report.ktap",
    "states.dot",
];

/// The subdirectory of the report directory that holds the C reproducers.
pub const REPRODUCERS: &str = "reproducers";

/// Makes sure `dir` (given as `option`) is a directory this process can
/// create files in, creating it when missing; `files` must not be
/// directories there and `subdirs` must be directories when they exist.
pub fn prepare(option: &str, dir: &Path, files: &[&str], subdirs: &[&str]) -> Result<(), String> {
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{option} {shown}: is a file, not a directory"));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("{option} {shown}: cannot create the directory: {e}"))?;
    for f in files {
        if dir.join(f).is_dir() {
            return Err(format!(
                "{option} {shown}: {f} is a directory there, so the file {f} cannot be written"
            ));
        }
    }
    for d in subdirs {
        let path = dir.join(d);
        if path.exists() && !path.is_dir() {
            return Err(format!(
                "{option} {shown}: {d} is a file there, so the directory {d}/ cannot be made"
            ));
        }
    }
    probe(dir).map_err(|e| format!("{option} {shown}: cannot write there: {e}"))
}

/// Creates and removes a file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(format!(".vfio-mig-write-test-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)
}

/// What could not be written, one entry per file: the path and why.
#[derive(Debug, Default)]
pub struct Unwritten(pub Vec<(PathBuf, String)>);

impl Unwritten {
    fn write(&mut self, path: PathBuf, text: &str) -> bool {
        match std::fs::write(&path, text) {
            Ok(()) => true,
            Err(e) => {
                self.0.push((path, e.to_string()));
                false
            }
        }
    }

    fn dir(&mut self, path: &Path) -> bool {
        match std::fs::create_dir_all(path) {
            Ok(()) => true,
            Err(e) => {
                self.0
                    .push((path.to_owned(), format!("cannot create the directory: {e}")));
                false
            }
        }
    }

    /// Whether everything was written.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One line per file that could not be written.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(p, why)| format!("{}: not written: {why}", p.display()))
            .collect()
    }
}

/// Writes the report files and the C reproducers into `dir`, every one
/// that can be written; returns those that could not.
pub fn write_reports(report: &Report, dir: &Path) -> Unwritten {
    let mut out = Unwritten::default();
    if !out.dir(dir) {
        return out;
    }
    for name in REPORT_FILES {
        let text = match name {
            "report.md" => report::markdown(report),
            "report.json" => report.to_json(),
            "junit.xml" => report::junit_xml(report),
            "report.ktap" => report::ktap(report),
            _ => report::dot(report).unwrap_or_default(),
        };
        if !text.is_empty() {
            out.write(dir.join(name), &text);
        }
    }
    let mut header = false;
    for c in &report.checks {
        let Some(code) = &c.c_reproducer else { continue };
        let path = dir.join(report::c_reproducer_file(&c.name));
        if let Some(parent) = path.parent() {
            if !out.dir(parent) {
                // Every reproducer would fail the same way: say it once.
                return out;
            }
            if !header {
                out.write(
                    parent.join(report::reproducer_c::HEADER_FILE),
                    &report::reproducer_c::header(),
                );
                header = true;
            }
        }
        out.write(path, code);
    }
    out
}

/// Writes `files` (name and text) into `dir`, every one that can be.
pub fn write_files(dir: &Path, files: impl IntoIterator<Item = (String, String)>) -> Unwritten {
    let mut out = Unwritten::default();
    if !out.dir(dir) {
        return out;
    }
    for (name, text) in files {
        out.write(dir.join(name), &text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path named `name` that does not exist yet, in a directory of its
    /// own that goes when the returned guard is dropped.
    fn tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::Builder::new()
            .prefix("vfio-mig-outputs-")
            .tempdir()
            .unwrap();
        let path = root.path().join(name);
        (root, path)
    }

    /// Each way an output directory cannot take the run's files is found
    /// before the run, naming the option and the path. (The tool's own
    /// behaviour: no requirement of the catalogue.)
    #[test]
    fn unusable_directories_are_refused_before_the_run() {
        let (_file_root, file) = tmp("file");
        std::fs::write(&file, "x").unwrap();
        let e = prepare("--report-dir", &file, &REPORT_FILES, &[REPRODUCERS]).unwrap_err();
        assert!(
            e.contains("--report-dir") && e.contains("is a file, not a directory"),
            "{e}"
        );

        let (_dir_root, dir) = tmp("repro");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(REPRODUCERS), "x").unwrap();
        let e = prepare("--report-dir", &dir, &REPORT_FILES, &[REPRODUCERS]).unwrap_err();
        assert!(e.contains("reproducers is a file there"), "{e}");

        let (_dir_root, dir) = tmp("junit-dir");
        std::fs::create_dir_all(dir.join("junit.xml")).unwrap();
        let e = prepare("--report-dir", &dir, &REPORT_FILES, &[REPRODUCERS]).unwrap_err();
        assert!(e.contains("junit.xml is a directory there"), "{e}");

        // procfs takes no new files, whoever asks.
        let e = prepare("--traces", Path::new("/proc/self"), &[], &[]).unwrap_err();
        assert!(e.contains("--traces /proc/self: cannot write there"), "{e}");

        let (_fresh_root, fresh) = tmp("fresh");
        let fresh = fresh.join("a/b");
        prepare("--report-dir", &fresh, &REPORT_FILES, &[REPRODUCERS]).unwrap();
        assert!(fresh.is_dir());
        assert_eq!(
            std::fs::read_dir(&fresh).unwrap().count(),
            0,
            "the probe file is removed"
        );
    }
}
