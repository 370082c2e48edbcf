//! Failing traces as C programs: every reproducer the suites write for a
//! broken device compiles with the C compiler against `<linux/vfio.h>` (the
//! machine's, and Linux 6.12's when `VFIO_MIG_KERNEL_SRC` names a source
//! tree), and replays the trace's calls.

mod common;

use std::path::Path;
use std::process::Command;
use vfio_mig_engine::check::Status;
use vfio_mig_mock::{MockConfig, Mutant};
use vfio_mig_model::v2::MigrationFlags;

fn compile(file: &Path, include: Option<&Path>) -> Result<(), String> {
    let mut cc = Command::new("cc");
    cc.args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror"]);
    if let Some(dir) = include {
        // The kernel tree's header, not the installed one: drop its sparse
        // annotation.
        cc.arg("-D__user=").arg("-I").arg(dir);
    }
    let out = cc.arg(file).output().map_err(|e| format!("cannot run cc: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn reproducers_of_failing_checks_compile_and_replay_the_trace() {
    let root = tempfile::Builder::new()
        .prefix("vfio-mig-c-repro-")
        .tempdir()
        .unwrap();
    let dir = root.path();
    std::fs::write(
        dir.join(vfio_mig_report::reproducer_c::HEADER_FILE),
        vfio_mig_report::reproducer_c::header(),
    )
    .unwrap();
    let kernel = std::env::var("VFIO_MIG_KERNEL_SRC")
        .ok()
        .map(|d| Path::new(&d).join("include/uapi"));
    let mut compiled = 0;
    for m in [
        Mutant::ResumeAcceptsGarbage,
        Mutant::ReadsTooMuch,
        Mutant::SetErrorAccepted,
        Mutant::StreamReordered,
    ] {
        let mut config = MockConfig::v2(MigrationFlags::accepted()[3]);
        config.mutant = Some(m);
        let verdicts = common::run_v2(config);
        // Calls made at once cannot be replayed from one thread: those
        // checks have no reproducer.
        for v in verdicts.iter().filter(|v| v.concurrency.is_some()) {
            assert!(vfio_mig_report::c_reproducer(v).is_none(), "{}", v.name);
        }
        let failing: Vec<_> = verdicts
            .iter()
            .filter(|v| v.status == Status::Fail && v.concurrency.is_none())
            .collect();
        assert!(!failing.is_empty(), "{} fails", m.name());
        for v in failing.iter().take(3) {
            let code = vfio_mig_report::c_reproducer(v).expect("a failing v2 check has a C reproducer");
            // Every step of the trace is in the program, with its answer.
            let ops = code.matches("show(").count();
            assert_eq!(ops, v.trace.len(), "{}: one call per step", v.name);
            assert!(code.contains("#include \"vfio-mig-repro.h\"") && code.contains("int main("));
            assert!(
                code.lines().count() < 20 + v.trace.len(),
                "{}: the helpers are in the header",
                v.name
            );
            let file = dir.join(format!("{}-{compiled}.c", m.name()));
            std::fs::write(&file, &code).unwrap();
            compile(&file, None).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if let Some(k) = kernel.as_deref().filter(|k| k.join("linux/vfio.h").is_file()) {
                compile(&file, Some(k)).unwrap_or_else(|e| panic!("{} with 6.12: {e}", file.display()));
            }
            compiled += 1;
        }
    }
    assert!(compiled >= 4);
}

/// A round trip's C reproducer opens both instances, writes what it read
/// from the source, and compares the states where the check did
/// (V2-STREAM-008).
#[test]
fn a_round_trip_reproducer_in_c_uses_both_instances() {
    let mut config = MockConfig::v2(MigrationFlags::accepted()[3]);
    config.mutant = Some(Mutant::StreamReordered);
    let verdicts = common::run_v2(config);
    let v = verdicts
        .iter()
        .find(|v| v.status == Status::Fail && v.broken.contains(&vfio_mig_model::reqs::V2_STREAM_008))
        .expect("the reordered stream is caught by comparing states");
    let code = vfio_mig_report::c_reproducer(v).unwrap();
    assert!(code.contains("if (argc != 5)"), "{code}");
    assert!(code.contains("open_instance(1);"), "{code}");
    assert!(
        code.contains("fill(0LL, -1, n)"),
        "writes take the saved stream: {code}"
    );
    assert!(
        code.contains("snapshot(0);") && code.contains("snapshot(1);"),
        "{code}"
    );
    assert!(code.contains("same(0, 0, 1, 0, \"V2-STREAM-008\");"), "{code}");
}
