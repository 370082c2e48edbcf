//! The recorder's decoding, fed the calls a migrating program makes (as the
//! preloaded shim sees them): the traces it appends check clean offline, a
//! device that misbehaves is caught from its recorded trace, and the file
//! handling (appending, forks, an unwritable directory) behaves.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_recorder::record::{FdSet, Recorder};
use vfio_mig_trace::{check, read, Header, Lost, Step, FORMAT_LINES};

const GET: u32 = 1 << 16;
const SET: u32 = 1 << 17;
const PID: u32 = 4242;

/// A fresh directory for one test, removed when the test passes (kept
/// for a look when it fails).
struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tmp(name: &str) -> Tmp {
    let dir = std::env::temp_dir().join(format!("vfio-mig-record-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Tmp(dir)
}

fn recorder(dir: &Path) -> Recorder {
    Recorder::new(Some(dir.to_owned()), PID)
}

/// A SET of `state` on `dev` answered with `data_fd` (or `errno`), as the
/// argument holds it after the call.
fn set(r: &mut Recorder, dev: i32, state: u32, data_fd: i32, errno: Option<i32>) {
    let mut payload = state.to_le_bytes().to_vec();
    payload.extend_from_slice(&data_fd.to_le_bytes());
    r.feature(dev, SET | 2, &payload, errno.map_or(Ok(()), Err));
}

fn text(r: &Recorder, dev: i32) -> String {
    std::fs::read_to_string(r.path(dev).expect("a trace file")).unwrap()
}

fn steps(r: &Recorder, dev: i32) -> Vec<Step> {
    text(r, dev)
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn profile() -> Profile {
    Profile::defaults(ProtocolName::V2)
}

#[test]
fn a_migration_between_two_devices_records_two_clean_traces() {
    let dir = tmp("two");
    let mut r = recorder(&dir);
    let (src, dst) = (5, 8);
    for dev in [src, dst] {
        r.feature(dev, GET | 1, &7u64.to_le_bytes(), Ok(()));
    }
    set(&mut r, src, 3, 20, None);
    r.read(20, 4096, Ok(96));
    r.read(20, 4096, Ok(0));
    set(&mut r, src, 1, -1, None);
    r.close(20, Ok(()));
    set(&mut r, dst, 4, 21, None);
    r.write(21, 64, Ok(64));
    r.write(21, 32, Ok(32));
    set(&mut r, dst, 1, -1, None);
    r.close(21, Ok(()));
    set(&mut r, dst, 2, -1, None);
    for dev in [src, dst] {
        let name = r
            .path(dev)
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(name, format!("vfio-mig-trace-{PID}-fd{dev}.json"));
        let t = text(&r, dev);
        let header: Header = serde_json::from_str(t.lines().next().unwrap()).unwrap();
        assert_eq!((header.format.as_str(), header.flags), (FORMAT_LINES, 7));
        let c = check(&t, profile()).unwrap();
        assert_eq!((c.violation, c.lost), (None, None), "device {dev}");
    }
    let s = steps(&r, dst);
    assert_eq!(
        (s[1].stream_offset, s[2].stream_offset, s[3].stream_total),
        (Some(0), Some(64), Some(96)),
        "the writes were one stream, whose length the SET that ends the session carries"
    );
    // Calls on fds the recorder does not follow leave no trace.
    r.read(99, 10, Ok(2));
    assert!(!r.is_data_fd(99) && r.path(99).is_none());
}

#[test]
fn unseen_bytes_count_as_one_stream_and_a_refused_arc_is_caught() {
    let dir = tmp("unseen");
    let mut r = recorder(&dir);
    let dev = 3;
    r.feature(dev, GET | 1, &1u64.to_le_bytes(), Ok(()));
    set(&mut r, dev, 3, 10, None);
    r.read(10, 4096, Ok(4));
    r.read(10, 4096, Ok(0));
    set(&mut r, dev, 1, -1, None);
    set(&mut r, dev, 4, 11, None);
    // Bytes this process did not read: the recorder cannot know where they
    // come from and takes them as one whole saved stream, so the device may
    // accept them.
    r.write(11, 4, Ok(4));
    set(&mut r, dev, 1, -1, None);
    assert_eq!(check(&text(&r, dev), profile()).unwrap().violation, None);
    assert_eq!(steps(&r, dev)[6].stream_total, Some(4));
    // An arc the model refuses, recorded as accepted, is caught.
    set(&mut r, dev, 0, -1, None);
    let (at, reqs, what) = check(&text(&r, dev), profile()).unwrap().violation.unwrap();
    assert_eq!(at, 7);
    assert!(reqs.contains(&vfio_mig_model::reqs::V2_ARC_008), "{what}");
}

#[test]
fn each_step_appends_one_line_and_leaves_the_rest_of_the_file_alone() {
    let dir = tmp("append");
    let mut r = recorder(&dir);
    let dev = 3;
    set(&mut r, dev, 3, 10, None);
    let start = Instant::now();
    let mut before = text(&r, dev);
    for i in 0..8000 {
        r.read(10, 4096, Ok(4096));
        if i % 1000 == 0 {
            let now = text(&r, dev);
            assert!(now.starts_with(&before), "step {i} rewrote the file");
            assert_eq!(now[before.len()..].lines().count(), 1, "step {i} is one line");
        }
        if i % 1000 == 999 {
            before = text(&r, dev);
        }
    }
    // Rewriting the whole trace per step took minutes for these 8000.
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
    r.read(10, 4096, Ok(0));
    set(&mut r, dev, 1, -1, None);
    let t = text(&r, dev);
    assert_eq!(t.lines().count(), 1 + 8003);
    assert_eq!(check(&t, profile()).unwrap().violation, None);
}

#[test]
fn lengths_above_four_gib_are_recorded_whole_and_judged_right() {
    let dir = tmp("big");
    let mut r = recorder(&dir);
    let dev = 3;
    let big = (5u64 << 30) + 16;
    set(&mut r, dev, 3, 10, None);
    r.read(10, big, Ok(96));
    r.read(10, big, Ok(0));
    set(&mut r, dev, 1, -1, None);
    set(&mut r, dev, 4, 11, None);
    r.write(11, big, Ok(2_147_479_552));
    r.write(11, big - 2_147_479_552, Ok(2_147_479_552));
    set(&mut r, dev, 1, -1, None);
    let s = steps(&r, dev);
    assert_eq!((s[1].len, s[1].bytes), (Some(big), Some(96)));
    assert_eq!(s[7].stream_total, Some(2 * 2_147_479_552));
    // As a u32 the length would have been 16, under the 96 bytes read.
    let c = check(&text(&r, dev), profile()).unwrap();
    assert_eq!(c.violation, None);
}

#[test]
fn after_a_fork_the_child_writes_its_own_file_starting_with_the_parents_steps() {
    let dir = tmp("fork");
    let mut r = recorder(&dir);
    let dev = 3;
    set(&mut r, dev, 4, 11, None);
    r.write(11, 64, Ok(64));
    let parent_file = r.path(dev).unwrap().to_owned();
    let parent_before = std::fs::read_to_string(&parent_file).unwrap();
    // The child (another pid) goes on with the inherited data fd.
    r.process(PID + 1);
    r.write(11, 32, Ok(32));
    set(&mut r, dev, 1, -1, None);
    let child_file = r.path(dev).unwrap().to_owned();
    assert_eq!(
        child_file.file_name().unwrap().to_string_lossy(),
        format!("vfio-mig-trace-{}-fd{dev}.json", PID + 1)
    );
    assert_eq!(
        std::fs::read_to_string(&parent_file).unwrap(),
        parent_before,
        "the parent's file is the parent's alone"
    );
    let t = std::fs::read_to_string(&child_file).unwrap();
    let header: Header = serde_json::from_str(t.lines().next().unwrap()).unwrap();
    assert_eq!(header.forked_from, Some(PID));
    assert_eq!(
        t.lines().skip(1).take(2).collect::<Vec<_>>(),
        parent_before.lines().skip(1).collect::<Vec<_>>()
    );
    let c = check(&t, profile()).unwrap();
    assert_eq!((c.steps, c.violation), (4, None));
    assert_eq!(steps(&r, dev)[3].stream_total, Some(96));
    // A parent file that lost its steps is said to have lost them.
    let mut r = recorder(&dir);
    set(&mut r, 7, 4, 12, None);
    std::fs::write(r.path(7).unwrap(), "").unwrap();
    r.process(PID + 2);
    r.write(12, 8, Ok(8));
    let c = check(&text(&r, 7), profile()).unwrap();
    assert_eq!(c.lost, Some(Lost { at: 0, count: 1 }));
}

#[test]
fn an_unwritable_directory_is_said_once_and_recording_goes_on() {
    let dir = tmp("unwritable").join("missing");
    let mut r = recorder(&dir);
    set(&mut r, 3, 3, 10, None);
    let said = r.warning().expect("a warning").to_owned();
    assert!(said.contains(&dir.display().to_string()), "{said}");
    assert!(said.contains("No such file or directory"), "{said}");
    assert_eq!(said.lines().count(), 1);
    set(&mut r, 5, 3, 11, None);
    r.read(10, 4096, Ok(4));
    assert_eq!(r.warning(), Some(said.as_str()));
    assert!(r.is_data_fd(10) && r.path(3).is_none());
}

#[test]
fn a_call_not_meant_for_an_unknown_fd_starts_no_trace() {
    const ENOTTY: i32 = 25;
    let dir = tmp("enotty");
    let mut r = recorder(&dir);
    set(&mut r, 3, 3, -1, Some(ENOTTY));
    assert!(r.path(3).is_none());
    assert_eq!(std::fs::read_dir(&*dir).unwrap().count(), 0);
    // On a device the recorder knows, a failure is a step like any other.
    r.feature(3, GET | 1, &1u64.to_le_bytes(), Ok(()));
    set(&mut r, 3, 3, -1, Some(ENOTTY));
    assert_eq!(steps(&r, 3)[0].errno, Some(ENOTTY));
}

#[test]
fn lost_calls_end_the_judgement_where_they_happened() {
    let dir = tmp("lost");
    let mut r = recorder(&dir);
    set(&mut r, 3, 3, 10, None);
    r.read(10, 4096, Ok(4));
    r.lost(10, 2);
    // What follows cannot be judged: the lost calls may explain it.
    set(&mut r, 3, 6, -1, None);
    let c = check(&text(&r, 3), profile()).unwrap();
    assert_eq!(
        (c.steps, c.violation, c.lost),
        (2, None, Some(Lost { at: 2, count: 2 }))
    );
    // Lost calls on fds that belong to no device go nowhere.
    r.lost(77, 1);
    assert!(r.path(77).is_none());
    assert_eq!(read(&text(&r, 3)).unwrap().steps.len(), 2);
}

#[test]
fn the_followed_fds_are_known_without_the_recorder() {
    let dir = tmp("fds");
    let mut r = recorder(&dir);
    let fds = r.followed().clone();
    assert!(!fds.contains(10) && !fds.contains(3));
    set(&mut r, 3, 3, 10, None);
    assert!(fds.contains(10) && fds.contains(3), "the data fd and its device");
    assert!(!fds.contains(11) && !fds.contains(-1));
    r.close(10, Ok(()));
    assert!(!fds.contains(10) && fds.contains(3));
    // High fds: followed approximately, the recorder's map decides.
    let high = FdSet::SPAN + 5;
    assert!(!fds.contains(high));
    set(&mut r, 3, 1, -1, None);
    set(&mut r, 3, 3, high, None);
    assert!(fds.contains(high) && r.is_data_fd(high) && !r.is_data_fd(high + 1));
    // Closing the device forgets its data fds.
    r.close(3, Ok(()));
    assert!(!fds.contains(3) && !r.is_data_fd(high));
}
