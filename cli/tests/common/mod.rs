//! Shared support of the `vfio-mig` command's tests: running it, scratch
//! paths that are removed afterwards, and its output as text.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// `vfio-mig ARGS...`, run as under CI (no progress bars).
pub fn vfio_mig(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vfio-mig"))
        .args(args)
        .env("CI", "true")
        .output()
        .expect("the binary runs")
}

/// A path named `name` that does not exist yet, in a directory of its
/// own that goes when the returned guard is dropped.
pub fn tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::Builder::new()
        .prefix("vfio-mig-cli-")
        .tempdir()
        .unwrap();
    let path = root.path().join(name);
    (root, path)
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
