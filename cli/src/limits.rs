//! The bounds of every number and file the command takes, checked before
//! anything is allocated or run. A value out of bounds is a usage error
//! that names the option, the value and the limit with its reason.
//!
//! Numbers not bounded here need no bound: `--seed` (every 64-bit value is a
//! seed), `--flags` (checked against the four accepted sets), `--timeout`
//! and `VFIO_MIG_TIMEOUT_MS` (at most a day, [`vfio_mig_engine::handle::MAX_TIMEOUT`]).

use std::io::Read;
use std::path::Path;

pub use vfio_mig_mock::MAX_STATE_LEN;

/// The deepest exhaustive exploration (`run --depth`). Exploration runs
/// every distinct prefix again from a reset device, so its cost grows
/// faster than the square of the depth: depth 32 is about 110 000
/// sequences over 5 000 model states (half a minute on the mock in a debug
/// build, far longer on a device that takes milliseconds to reset). Longer
/// random walks are what `--cases` of the sequences suite is for.
pub const MAX_DEPTH: usize = 32;

/// The most random sequences (`run --cases`). Each case is up to 32
/// operations from a reset device, about half a millisecond on the mock:
/// 100 000 cases are about a minute there, and far longer on a device.
pub const MAX_CASES: u32 = 100_000;

/// The most operations `diff` runs on each device (`--sequences` times
/// `--len`). Every sequence is generated before the first call and every
/// difference is kept for the table: a million steps are about 30 MB and
/// 40 s on two mocks in a debug build.
pub const MAX_DIFF_STEPS: usize = 1_000_000;

/// The largest `--baseline` read. A report of every check of a full run is
/// far below a megabyte (the mock's is 350 KB, one with 1 MiB of state
/// 1 MB); anything near this is not one.
pub const MAX_BASELINE_FILE: u64 = 64 << 20;

/// The largest kernel source `uapi-check` reads (`vfio.h` and
/// `vfio_main.c` are about 70 KB each).
pub const MAX_KERNEL_SOURCE_FILE: u64 = 16 << 20;

/// `option value` refused when above `max`, with `why`.
fn at_most<T: PartialOrd + std::fmt::Display>(
    option: &str,
    value: T,
    max: T,
    why: &str,
) -> Result<(), String> {
    if value > max {
        return Err(format!("{option} {value}: at most {max} ({why})"));
    }
    Ok(())
}

/// `run --state-len`.
pub fn state_len(value: usize) -> Result<(), String> {
    at_most(
        "--state-len",
        value,
        MAX_STATE_LEN,
        "1 MiB of mock state; a run's work grows with it",
    )
}

/// `run --depth`.
pub fn depth(value: usize) -> Result<(), String> {
    at_most(
        "--depth",
        value,
        MAX_DEPTH,
        "exploration's cost grows faster than the square of the depth, and --cases gives longer walks",
    )
}

/// `run --cases`.
pub fn cases(value: u32) -> Result<(), String> {
    at_most(
        "--cases",
        value,
        MAX_CASES,
        "about a minute of random sequences on the mock, far longer on a device",
    )
}

/// `diff --sequences` and `--len`: each at least 1 (a comparison of
/// nothing would pass vacuously), their product at most
/// [`MAX_DIFF_STEPS`].
pub fn diff_steps(sequences: usize, len: usize) -> Result<(), String> {
    for (option, value) in [("--sequences", sequences), ("--len", len)] {
        if value == 0 {
            return Err(format!("{option} 0: nothing would be compared"));
        }
        at_most(
            option,
            value,
            MAX_DIFF_STEPS,
            "operations on each device in all, --sequences times --len",
        )?;
    }
    match sequences.checked_mul(len) {
        Some(steps) if steps <= MAX_DIFF_STEPS => Ok(()),
        _ => Err(format!(
            "--sequences {sequences} --len {len}: at most {MAX_DIFF_STEPS} operations on each device in all \
             (--sequences times --len; every sequence is generated before the first call)"
        )),
    }
}

/// Reads the text file `path` (given as `option`), at most `max` bytes:
/// the read itself stops past the limit, so a FIFO or a device file that
/// never ends is refused like a large file.
pub fn read_text(option: &str, path: &Path, max: u64) -> Result<String, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{option} {shown}: cannot read: {e}"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{option} {shown}: is a directory, not a file"));
    }
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{option} {shown}: cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!("{option} {shown}: larger than the limit of {max} bytes"));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{option} {shown}: not text: invalid UTF-8 at byte {}",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limits accept their own value and refuse the next, naming the
    /// option, the value and the limit. (The tool's own behaviour: no
    /// requirement of the catalogue.)
    #[test]
    fn each_limit_is_inclusive_and_named() {
        assert!(depth(MAX_DEPTH).is_ok());
        let e = depth(MAX_DEPTH + 1).unwrap_err();
        assert!(e.starts_with("--depth 33: at most 32 ("), "{e}");
        assert!(cases(MAX_CASES).is_ok());
        assert!(cases(u32::MAX)
            .unwrap_err()
            .contains("--cases 4294967295: at most 100000"));
        assert!(state_len(MAX_STATE_LEN).is_ok());
        assert!(state_len(usize::MAX)
            .unwrap_err()
            .contains("--state-len 18446744073709551615: at most 1048576"));
        assert!(diff_steps(1, MAX_DIFF_STEPS).is_ok());
        assert!(diff_steps(1000, 1000).is_ok());
        let e = diff_steps(usize::MAX, usize::MAX).unwrap_err();
        assert!(
            e.starts_with("--sequences 18446744073709551615: at most 1000000"),
            "{e}"
        );
        let e = diff_steps(1001, 1000).unwrap_err();
        assert!(e.contains("--sequences 1001 --len 1000: at most 1000000"), "{e}");
        assert!(diff_steps(0, 12).unwrap_err().contains("--sequences 0: nothing"));
        assert!(diff_steps(12, 0).unwrap_err().contains("--len 0: nothing"));
    }

    /// A file read stops past its limit, even when the file has no size
    /// (a character device that never ends). (No requirement of the
    /// catalogue.)
    #[test]
    fn a_read_is_bounded_by_the_bytes_read_not_the_size_claimed() {
        let e = read_text("--deviations", Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(e.contains("larger than the limit of 1024 bytes"), "{e}");
        let dir = std::env::temp_dir();
        let e = read_text("--baseline", &dir, 1024).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
    }
}
