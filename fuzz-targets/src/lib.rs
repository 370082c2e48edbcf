//! The bodies of the fuzz targets. `fuzz/` (cargo-fuzz, outside the
//! workspace) calls them from libFuzzer; `tests/replay.rs` calls them on every
//! committed corpus and regression file under stable `cargo test`.
//!
//! Each body panics only when it finds a bug: a property of the model broken,
//! a correct device judged wrong, a refused stream partly applied.
#![forbid(unsafe_code)]

use arbitrary::{Result, Unstructured};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Device, Io};
use vfio_mig_engine::check::Checker;
use vfio_mig_engine::handle::Handle;
use vfio_mig_mock::{MockConfig, MockV2};
use vfio_mig_model::v1::{self, ChunkTag, Field, Region, V1State};
use vfio_mig_model::v2::{self, DataTag, FdRef, Fsm, MigState, MigrationFlags};
use vfio_mig_model::{Allowed, Belief, Expectation, Kind, Profile, Protocol, ProtocolName, Uapi};
use vfio_mig_spec::ids::{Choice, Decisions};
use vfio_mig_spec::{Catalogue, ChoiceError};

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| Catalogue::builtin().expect("the built-in catalogue loads"))
}

/// The names of the targets, as directories under `fuzz/corpus/`.
pub const TARGETS: [&str; 9] = [
    "model",
    "differential",
    "resume_stream",
    "spec_loader",
    "vfio_user_decoder",
    "vfio_user_server",
    "trace_checker",
    "deviations_loader",
    "baseline_loader",
];

/// Runs the body of target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "model" => model(data),
        "differential" => differential(data),
        "resume_stream" => resume_stream(data),
        "spec_loader" => spec_loader(data),
        "vfio_user_decoder" => vfio_user_decoder(data),
        "vfio_user_server" => vfio_user_server(data),
        "trace_checker" => trace_checker(data),
        "deviations_loader" => deviations_loader(data),
        "baseline_loader" => baseline_loader(data),
        other => panic!("no fuzz target {other}"),
    }
}

fn flags(u: &mut Unstructured) -> Result<MigrationFlags> {
    Ok(*u.choose(&MigrationFlags::accepted())?)
}

/// Every option of every decision, one list per decision in catalogue order.
/// Taken from the generated IDs, not from the YAML: the `model` target then
/// neither parses the catalogue nor links a YAML parser (its binary has a
/// tenth of the coverage counters). A test checks the lists against the
/// catalogue.
pub fn decision_options() -> &'static [Vec<Choice>] {
    static OPTIONS: OnceLock<Vec<Vec<Choice>>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        Decisions::defaults(ProtocolName::V2)
            .choices()
            .iter()
            .map(|c| {
                // No option is spelt "": the error lists the decision's options.
                let Err(ChoiceError::UnknownOption { expected, .. }) = Choice::parse(c.id(), "") else {
                    panic!(
                        "{}: an empty option was not refused with the list of options",
                        c.id()
                    );
                };
                expected
                    .iter()
                    .map(|key| Choice::parse(c.id(), key).expect("an option the error listed parses"))
                    .collect()
            })
            .collect()
    })
}

/// Up to three decision options a profile is made of, as indices into
/// [`decision_options`], for one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Picks {
    v2: bool,
    n: u8,
    at: [(u8, u8); 3],
}

fn picks(u: &mut Unstructured, v2: bool) -> Result<Picks> {
    let options = decision_options();
    let mut p = Picks {
        v2,
        n: 0,
        at: [(0, 0); 3],
    };
    for _ in 0..u.int_in_range(0..=3)? {
        let d = u.choose_index(options.len())?;
        let o = u.choose_index(options[d].len())?;
        p.at[usize::from(p.n)] = (d as u8, o as u8);
        p.n += 1;
    }
    Ok(p)
}

/// The models the `model` target has built, kept across inputs. The model is
/// pure (no I/O, no clock, no interior state), so a model built once judges
/// exactly as a fresh one; building a v2 model derives its path table, which
/// took a tenth of the target's time when done for every input.
#[derive(Default)]
struct Models {
    /// Each set of picks seen, to the index of its profile.
    index: HashMap<Picks, usize>,
    /// The distinct profiles.
    profiles: Vec<Profile>,
    /// v2 models by profile index, flag bits and MIG_DATA_SIZE.
    v2: HashMap<(usize, u64, bool, Uapi), Fsm>,
}

impl Models {
    fn profile(&mut self, p: Picks) -> usize {
        if let Some(&i) = self.index.get(&p) {
            return i;
        }
        let mut profile = Profile::defaults(if p.v2 { ProtocolName::V2 } else { ProtocolName::V1 });
        for &(d, o) in &p.at[..usize::from(p.n)] {
            // Options the model does not implement are refused: fine here.
            let _ = profile.choose(decision_options()[usize::from(d)][usize::from(o)]);
        }
        let i = match self.profiles.iter().position(|q| *q == profile) {
            Some(i) => i,
            None => {
                self.profiles.push(profile);
                self.profiles.len() - 1
            }
        };
        self.index.insert(p, i);
        i
    }

    fn v2(&mut self, flags: MigrationFlags, p: Picks, data_size: bool, uapi: Uapi) -> &Fsm {
        let i = self.profile(p);
        let profile = &self.profiles[i];
        self.v2
            .entry((i, flags.bits(), data_size, uapi))
            .or_insert_with(|| Fsm::new(flags, profile.clone(), data_size).with_uapi(uapi))
    }
}

/// Either uAPI the model knows.
fn uapi(u: &mut Unstructured) -> Result<Uapi> {
    Ok(if u.arbitrary()? {
        Uapi::Linux7_3
    } else {
        Uapi::Linux6_12
    })
}

fn v2_op(u: &mut Unstructured) -> Result<v2::Op> {
    let fd = FdRef(u.int_in_range(0..=3)?);
    let len = u.int_in_range(0..=9000)?;
    Ok(match u.int_in_range(0..=9)? {
        0 | 1 => v2::Op::Set(*u.choose(&MigState::ALL)?),
        2 => v2::Op::SetRaw(u.arbitrary()?),
        3 => v2::Op::Get,
        4 => v2::Op::Read { fd, len },
        5 => {
            let data = if u.arbitrary()? {
                DataTag::Garbage
            } else {
                DataTag::Stream {
                    offset: u.int_in_range(0..=4096)?,
                    total: u.arbitrary()?,
                }
            };
            v2::Op::Write { fd, len, data }
        }
        6 => v2::Op::PrecopyInfo {
            fd,
            flags: u.arbitrary()?,
        },
        7 => size_or_feature(u, 24)?,
        8 => v2::Op::Close { fd },
        _ => v2::Op::Reset,
    })
}

/// GET MIG_DATA_SIZE, or a feature request of any flags and an `argsz` up
/// to `max_argsz` (a well-formed state access, which is no feature request,
/// falls back to MIG_DATA_SIZE).
fn size_or_feature(u: &mut Unstructured, max_argsz: u32) -> Result<v2::Op> {
    if u.arbitrary()? {
        return Ok(v2::Op::DataSize);
    }
    let flags: u32 = u.arbitrary()?;
    let number = (flags & v2::uapi::FEATURE_MASK) as u16;
    let argsz = u.int_in_range(0..=max_argsz)?;
    Ok(
        match v2::FeatureReq::new(number, v2::Access::of_bits(flags), argsz) {
            Ok(req) => v2::Op::Feature(req),
            Err(_) => v2::Op::DataSize,
        },
    )
}

fn v1_op(u: &mut Unstructured) -> Result<v1::Op> {
    let field = *u.choose(&Field::ALL)?;
    Ok(match u.int_in_range(0..=6)? {
        0 | 1 => v1::Op::Write(Field::DeviceState, u64::from(u.arbitrary::<u32>()?)),
        2 => v1::Op::Read(field),
        3 => v1::Op::Write(field, u.arbitrary()?),
        4 => v1::Op::ReadData {
            offset: u.int_in_range(0..=8192)?,
            len: u.int_in_range(0..=4096)?,
        },
        5 => v1::Op::WriteData {
            offset: u.int_in_range(0..=8192)?,
            len: u.int_in_range(0..=4096)?,
            data: ChunkTag::Stream {
                offset: u.int_in_range(0..=8192)?,
                total: u.arbitrary()?,
                whole: u.arbitrary()?,
            },
        },
        _ => v1::Op::Reset,
    })
}

/// Drives `m` with operations from `op`, answering with allowed outcomes (or
/// arbitrary ones); checks that every operation allows some outcome, that
/// allowed outcomes are always followed, that [`Protocol::allowed`] and
/// [`Protocol::judge_into`] agree on what is allowed, and that the belief
/// never holds a state `ok` rejects. The buffers are reused across steps, as
/// the checker reuses them.
fn drive<P: Protocol>(
    m: &P,
    u: &mut Unstructured,
    op: impl Fn(&mut Unstructured) -> Result<P::Op>,
    arbitrary_outcome: impl Fn(&mut Unstructured) -> Result<P::Outcome>,
    ok: impl Fn(&P::State) -> bool,
) -> Result<()> {
    let mut belief = m.start();
    let mut next = Belief::empty();
    let mut allowed = Allowed::governed_by(&[]);
    for _ in 0..64 {
        if u.is_empty() {
            break;
        }
        let op = op(u)?;
        // An allowed outcome needs the allowed set before the judgement; an
        // arbitrary one is judged in one pass, which yields the set as well.
        let (observed, offered) = if u.arbitrary()? {
            let offered = m.allowed(&belief, &op);
            assert!(!offered.items.is_empty(), "no outcome allowed for {op}");
            let a = u.choose(&offered.items)?;
            let o = a.expect.example(u.arbitrary()?);
            assert!(
                a.expect.matches(&o),
                "{} does not match its own example {o}",
                a.expect
            );
            (o, Some(offered))
        } else {
            (arbitrary_outcome(u)?, None)
        };
        let judged = m.judge_into(&belief, &op, &observed, &mut allowed, &mut next);
        assert!(!allowed.items.is_empty(), "no outcome allowed for {op}");
        if let Some(offered) = offered {
            assert_eq!(offered, allowed, "{op}: allowed and judge_into disagree");
        }
        match judged {
            Ok(_) => {
                assert!(!next.is_empty(), "{op} -> {observed}: empty belief");
                for s in next.iter() {
                    assert!(ok(s), "{op} -> {observed}: unreachable state {s:?}");
                }
                belief.set_from(&next);
            }
            Err(v) => {
                // A forbidden pattern is blamed before an allowance that
                // needs a fault; nothing else that matches may be refused.
                let matching = || allowed.items.iter().filter(|a| a.expect.matches(&observed));
                let forbidden = matching().any(|a| !a.permitted());
                assert!(
                    !matching().any(|a| a.permitted() && (a.kind != Kind::Fault || !forbidden)),
                    "an allowed outcome was judged a violation: {v}"
                )
            }
        }
    }
    Ok(())
}

fn v2_outcome(u: &mut Unstructured) -> Result<v2::Outcome> {
    Ok(match u.int_in_range(0..=6)? {
        0 => v2::Outcome::SetOk { fd: u.arbitrary()? },
        1 => v2::Outcome::State(u.int_in_range(0..=9)?),
        2 => v2::Outcome::Bytes(u.int_in_range(0..=9000)?),
        3 => v2::Outcome::Precopy {
            initial_bytes: u.arbitrary()?,
            dirty_bytes: u.arbitrary()?,
            flags: u.arbitrary()?,
        },
        4 if u.arbitrary()? => v2::Outcome::Size(u.arbitrary()?),
        4 => v2::Outcome::Flags(u.arbitrary()?),
        5 => v2::Outcome::Done,
        _ => v2::Outcome::Err(vfio_mig_model::Errno(u.int_in_range(1..=133)?)),
    })
}

fn v1_outcome(u: &mut Unstructured) -> Result<v1::Outcome> {
    Ok(match u.int_in_range(0..=3)? {
        0 => v1::Outcome::Ok,
        1 => v1::Outcome::Value(u.arbitrary()?),
        2 => v1::Outcome::Bytes(u.arbitrary()?),
        _ => v1::Outcome::Err(vfio_mig_model::Errno(u.int_in_range(1..=133)?)),
    })
}

/// Target 1: the model alone, v1 and v2, every profile: no panic, allowed
/// outcomes always followed, no unreachable state.
pub fn model(data: &[u8]) {
    thread_local! {
        static MODELS: RefCell<Models> = RefCell::default();
    }
    let mut u = Unstructured::new(data);
    let _ = MODELS.with_borrow_mut(|models| -> Result<()> {
        if u.arbitrary()? {
            let f = flags(&mut u)?;
            let p = picks(&mut u, true)?;
            let data_size = u.arbitrary()?;
            let m = models.v2(f, p, data_size, uapi(&mut u)?);
            drive(m, &mut u, v2_op, v2_outcome, |s| {
                f.supports(s.state)
                    && s.session
                        .is_none_or(|_| s.state.is_saving() || s.state == MigState::Resuming)
            })
        } else {
            let p = models.profile(picks(&mut u, false)?);
            let m = Region::new(models.profiles[p].clone(), u.int_in_range(32..=65536)?);
            drive(&m, &mut u, v1_op, v1_outcome, |s| {
                s.state.is_reachable() && !matches!(s.state, V1State::Invalid101 | V1State::Invalid111)
            })
        }
    });
}

/// Target 2: the same operations on the correct mock and on the model; every
/// outcome of the mock must be allowed.
pub fn differential(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = (|| -> Result<()> {
        let f = flags(&mut u)?;
        let mut config = MockConfig::v2(f);
        let config_uapi = uapi(&mut u)?;
        config.uapi = config_uapi;
        config.state_len = u.int_in_range(0..=512)?;
        config.precopy_initial = u.int_in_range(0..=256)?;
        config.max_read = u.int_in_range(1..=4096)?;
        let Ok(mut dev) = Handle::new(
            Box::new(MockV2::new(config, 0)),
            std::time::Duration::from_secs(10),
        ) else {
            panic!("the mock could not be started");
        };
        let model = Fsm::new(f, Profile::defaults(ProtocolName::V2), true).with_uapi(config_uapi);
        let mut c = Checker::new(&model, &mut dev);
        for _ in 0..64 {
            if u.is_empty() {
                break;
            }
            let mut op = v2_op(&mut u)?;
            let mut io = Io::default();
            if let v2::Op::Write { fd, len, .. } = op {
                // The filler bytes are no saved stream; saying otherwise
                // would make the model expect the mock to accept them.
                io.write = vec![0x5a; len as usize];
                op = v2::Op::Write {
                    fd,
                    len,
                    data: DataTag::Garbage,
                };
            }
            if let Err(f) = c.step_io(op, &mut io) {
                panic!("the correct mock was judged wrong: {f}\n{:#?}", c.events());
            }
        }
        Ok(())
    })();
}

/// Target 3: arbitrary bytes into RESUMING, in arbitrary pieces: a clear
/// answer, never a panic, and a refused stream changes nothing.
pub fn resume_stream(data: &[u8]) {
    let mut config = MockConfig::v2(MigrationFlags::accepted()[0]);
    config.state_len = 16;
    let mut dev = MockV2::new(config, 1);
    let mut io = Io::default();
    assert_eq!(
        dev.exec(&Call::SetState(MigState::Resuming.number()), &mut io),
        v2::Outcome::SetOk { fd: true }
    );
    let before = dev.fingerprint();
    let mut u = Unstructured::new(data);
    let mut rest = data;
    while !rest.is_empty() {
        let n = u
            .int_in_range(1..=rest.len())
            .unwrap_or(rest.len())
            .min(rest.len());
        let (piece, tail) = rest.split_at(n);
        let mut io = Io {
            write: piece.to_vec(),
            read: Vec::new(),
        };
        let call = Call::Write {
            fd: FdRef(0),
            len: n as u32,
        };
        assert!(matches!(
            dev.exec(&call, &mut io),
            v2::Outcome::Bytes(_) | v2::Outcome::Err(_)
        ));
        rest = tail;
    }
    match dev.exec(&Call::SetState(MigState::Stop.number()), &mut Io::default()) {
        v2::Outcome::SetOk { fd: false } => {
            // Accepted: it must have been a whole stream; the device runs on.
            assert_eq!(
                dev.exec(&Call::SetState(MigState::Running.number()), &mut Io::default()),
                v2::Outcome::SetOk { fd: false }
            );
        }
        v2::Outcome::Err(_) => {
            assert_eq!(dev.fingerprint(), before, "a refused stream was partly applied");
            assert_eq!(
                dev.exec(&Call::GetState, &mut Io::default()),
                v2::Outcome::State(MigState::Resuming.number())
            );
        }
        other => panic!("RESUMING -> STOP answered {other}"),
    }
}

/// Target 4: the catalogue loader fed arbitrary YAML (the built-in files with
/// arbitrary bytes spliced in, or raw input): a catalogue or an error, never a
/// panic.
pub fn spec_loader(data: &[u8]) {
    let [(_, v1), (_, v2), (_, dec)] = vfio_mig_spec::BUILTIN_SOURCES;
    let mut files = [v1.to_owned(), v2.to_owned(), dec.to_owned()];
    if let Some((&which, rest)) = data.split_first() {
        let text = String::from_utf8_lossy(rest);
        let f = &mut files[(which % 3) as usize];
        if which < 128 {
            *f = text.into_owned();
        } else {
            let at = (which as usize * 97) % f.len().max(1);
            let at = (0..=at).rev().find(|i| f.is_char_boundary(*i)).unwrap_or(0);
            f.insert_str(at, &text);
        }
    }
    let _ = vfio_mig_spec::Catalogue::from_sources(&files[0], &files[1], &files[2]);
}

/// The vfio-user decoder fed an arbitrary byte stream: frames are cut with a
/// bound, every payload is decoded as a command and as a reply, and whatever
/// decodes encodes back to the same payload meaning (no panic, no unbounded
/// allocation).
pub fn vfio_user_decoder(data: &[u8]) {
    use vfio_mig_vfio_user::{read_frame, Command, Reply, Request};
    let mut rest = data;
    while let Ok((h, payload)) = read_frame(&mut rest, 1 << 16) {
        assert!(payload.len() <= 1 << 16, "a frame over the bound was read");
        if let Ok(req) = Request::decode(h.command, &payload) {
            assert_eq!(Request::decode(h.command, &req.payload()).as_ref(), Ok(&req));
        }
        if let Some(cmd) = Command::from_number(h.command) {
            if let Ok(rep) = Reply::decode(cmd, &payload) {
                assert_eq!(Reply::decode(cmd, &rep.payload()).as_ref(), Ok(&rep));
            }
        }
    }
}

/// The mock's vfio-user server fed arbitrary messages after a handshake:
/// every one gets a reply echoing its id and command, and a reset always
/// brings the device back to RUNNING.
pub fn vfio_user_server(data: &[u8]) {
    use vfio_mig_mock::vfio_user_server::MockServer;
    use vfio_mig_vfio_user::{read_frame, Command, Header, Reply, Request};
    let mut config = MockConfig::v2(MigrationFlags::accepted()[2]);
    config.state_len = 64;
    let mut server = MockServer::new(config, 0);
    let hello = Request::Version {
        major: 0,
        minor: 1,
        caps: String::new(),
    };
    let header = |command: u16| Header {
        msg_id: 7,
        command,
        size: 0,
        flags: 0,
        error: 0,
    };
    let (h, _) = server.respond(header(Command::Version.number()), &hello.payload());
    assert!(!h.is_error());
    let mut rest = data;
    while let Ok((h, payload)) = read_frame(&mut rest, 1 << 16) {
        let (r, _) = server.respond(h, &payload);
        assert!(r.is_reply() && r.msg_id == h.msg_id && r.command == h.command);
    }
    let (r, _) = server.respond(header(Command::DeviceReset.number()), &[]);
    assert!(!r.is_error(), "a reset is always served");
    let get = Request::Feature {
        argsz: 64,
        flags: (1 << 16) | 2,
        data: Vec::new(),
    };
    let (r, p) = server.respond(header(Command::DeviceFeature.number()), &get.payload());
    let Ok(Reply::Feature { data, .. }) = Reply::decode(Command::DeviceFeature, &p) else {
        panic!("GET state after reset answered {r:?}");
    };
    assert_eq!(data.get(..4), Some(&MigState::Running.number().to_le_bytes()[..]));
}

/// Whether a text target takes `data` as the text itself: when it is empty
/// or starts with a printable ASCII character or whitespace, as every
/// hand-written seed does. Any other first byte selects the target's
/// structure-aware inputs, built from the rest of `data`.
fn is_text(data: &[u8]) -> bool {
    matches!(data.first(), None | Some(b'\t' | b'\n' | b'\r' | b' '..=b'~'))
}

/// `text` with up to 16 bytes at a place picked by `u` replaced by the rest of
/// `u`'s bytes, read as text.
fn splice(mut text: String, mut u: Unstructured) -> String {
    let at = u.choose_index(text.len() + 1).unwrap_or(0);
    let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    let cut = u.int_in_range(0..=16).unwrap_or(0);
    let end = ((at + cut).min(text.len())..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    text.replace_range(at..end, &String::from_utf8_lossy(u.take_rest()));
    text
}

/// A number as a trace may claim it: usually small, often the largest value
/// of its type or anything at all.
fn wide_u32(u: &mut Unstructured) -> Result<u32> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u32::MAX,
        1 => u.arbitrary()?,
        _ => u.int_in_range(0..=9000)?,
    })
}

fn wide_u64(u: &mut Unstructured) -> Result<u64> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u64::MAX,
        1 => u.arbitrary()?,
        _ => u.int_in_range(0..=9000)?,
    })
}

/// A v2 operation with the numbers a recorded trace may hold.
fn trace_op(u: &mut Unstructured) -> Result<v2::Op> {
    let fd = FdRef(if u.arbitrary()? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=3)?
    });
    Ok(match u.int_in_range(0..=9)? {
        0 | 1 => v2::Op::Set(*u.choose(&MigState::ALL)?),
        2 => v2::Op::SetRaw(u.arbitrary()?),
        3 => v2::Op::Get,
        4 => v2::Op::Read {
            fd,
            len: wide_u32(u)?,
        },
        5 => v2::Op::Write {
            fd,
            len: wide_u32(u)?,
            data: if u.arbitrary()? {
                DataTag::Garbage
            } else {
                DataTag::Stream {
                    offset: wide_u64(u)?,
                    total: if u.arbitrary()? { Some(wide_u64(u)?) } else { None },
                }
            },
        },
        6 => v2::Op::PrecopyInfo {
            fd,
            flags: u.arbitrary()?,
        },
        7 => size_or_feature(u, u32::MAX)?,
        8 => v2::Op::Close { fd },
        _ => v2::Op::Reset,
    })
}

/// An outcome of the kind `op` has (a recorder writes nothing else), with
/// the numbers a recorded trace may hold.
fn trace_outcome(u: &mut Unstructured, op: &v2::Op) -> Result<v2::Outcome> {
    if u.ratio(1, 4)? {
        let errno = if u.arbitrary()? {
            u.arbitrary()?
        } else {
            u.int_in_range(1..=133)?
        };
        return Ok(v2::Outcome::Err(vfio_mig_model::Errno(errno)));
    }
    Ok(match op {
        v2::Op::Set(_) | v2::Op::SetRaw(_) => v2::Outcome::SetOk { fd: u.arbitrary()? },
        v2::Op::Get => v2::Outcome::State(if u.arbitrary()? {
            u.arbitrary()?
        } else {
            u.int_in_range(0..=9)?
        }),
        v2::Op::Read { .. } | v2::Op::Write { .. } => v2::Outcome::Bytes(wide_u32(u)?),
        v2::Op::PrecopyInfo { .. } => v2::Outcome::Precopy {
            initial_bytes: wide_u64(u)?,
            dirty_bytes: wide_u64(u)?,
            flags: u.arbitrary()?,
        },
        v2::Op::DataSize => v2::Outcome::Size(wide_u64(u)?),
        v2::Op::Feature(_) if u.arbitrary()? => v2::Outcome::Flags(u.arbitrary()?),
        v2::Op::Feature(_) => v2::Outcome::Done,
        v2::Op::Close { .. } | v2::Op::Reset => v2::Outcome::Done,
    })
}

/// The v2 model under the default profile for each flag set, with and
/// without MIG_DATA_SIZE, built once (see [`Models`]).
fn default_v2(flags: MigrationFlags, data_size: bool) -> &'static Fsm {
    static MODELS: OnceLock<Vec<(MigrationFlags, bool, Fsm)>> = OnceLock::new();
    let all = MODELS.get_or_init(|| {
        MigrationFlags::accepted()
            .into_iter()
            .flat_map(|f| [false, true].map(|d| (f, d, Fsm::new(f, Profile::defaults(ProtocolName::V2), d))))
            .collect()
    });
    let (_, _, m) = all
        .iter()
        .find(|(f, d, _)| *f == flags && *d == data_size)
        .expect("every accepted flag set has its model");
    m
}

/// A trace as a recorder writes it: operations with wide numbers, answered
/// mostly as the model allows (so that many traces are judged to their end)
/// and sometimes with any outcome of the operation's kind.
fn recorded_trace(u: &mut Unstructured) -> Result<String> {
    let flags = flags(u)?;
    let data_size = u.arbitrary()?;
    let m = default_v2(flags, data_size);
    let mut belief = m.start();
    let mut steps = Vec::new();
    for _ in 0..64 {
        if u.is_empty() {
            break;
        }
        let op = trace_op(u)?;
        let outcome = if u.ratio(7, 8)? {
            // A recorded trace has no injected faults, so an outcome allowed
            // only after one ends the check: such outcomes are picked only
            // one time in eight.
            let allowed = m.allowed(&belief, &op);
            let healthy: Vec<_> = allowed.items.iter().filter(|a| a.kind != Kind::Fault).collect();
            let a = if healthy.is_empty() || u.ratio(1, 8)? {
                u.choose(&allowed.items)?
            } else {
                *u.choose(&healthy)?
            };
            a.expect.example(u.arbitrary()?)
        } else {
            trace_outcome(u, &op)?
        };
        if let Ok((next, _)) = m.advance(&belief, &op, &outcome) {
            belief = next;
        }
        steps.push((op, outcome));
    }
    let uapi = uapi(u)?;
    Ok(vfio_mig_trace::write(flags, data_size, uapi, &steps))
}

/// Target: the offline trace checker under the default v2 profile, fed
/// arbitrary text, traces written from steps the model mostly allows, and
/// such traces with arbitrary bytes spliced in. A verdict or a typed error,
/// never a panic; `check` refuses exactly what `read` refuses; a verdict
/// stops at its violation; and a trace the checker accepts, written again by
/// `write` from its own steps, reads as the same steps and gets the same
/// verdict. Lengths and sizes go up to the largest value of their type and
/// must be judged as numbers: a buffer of such a length, once filled, would
/// exceed libFuzzer's memory limit and fail the run.
pub fn trace_checker(data: &[u8]) {
    let text = if is_text(data) {
        String::from_utf8_lossy(data).into_owned()
    } else {
        // The first byte after the mode says how many of the last bytes
        // are spliced in rather than used to build the trace.
        let rest = &data[1..];
        let spliced = match (data[0] & 1, rest.split_first()) {
            (1, Some((&n, _))) => usize::from(n).min(rest.len()),
            _ => 0,
        };
        let (build, patch) = rest.split_at(rest.len() - spliced);
        let Ok(text) = recorded_trace(&mut Unstructured::new(build)) else {
            return;
        };
        if patch.is_empty() {
            text
        } else {
            splice(text, Unstructured::new(patch))
        }
    };
    let profile = || Profile::defaults(ProtocolName::V2);
    let (checked, recorded) = match (
        vfio_mig_trace::check(&text, profile()),
        vfio_mig_trace::read(&text),
    ) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(_), Err(_)) => return,
        (c, r) => panic!("check and read disagree on whether this is a trace: {c:?}, {r:?}"),
    };
    match &checked.violation {
        None => assert_eq!(checked.steps, recorded.steps.len(), "steps left unjudged"),
        Some((at, _, _)) => assert!(
            at + 1 == checked.steps && checked.steps <= recorded.steps.len(),
            "a violation at step {at} of {} judged {}",
            recorded.steps.len(),
            checked.steps
        ),
    }
    let written = vfio_mig_trace::write(recorded.flags, recorded.data_size, recorded.uapi, &recorded.steps);
    assert_eq!(
        vfio_mig_trace::read(&written).as_ref(),
        Ok(&recorded),
        "a trace written from its own steps reads differently:\n{written}"
    );
    assert_eq!(
        vfio_mig_trace::check(&written, profile()),
        Ok(checked),
        "a trace written from its own steps is judged differently:\n{written}"
    );
}

/// `s` as a YAML double-quoted scalar (JSON's escapes are YAML's).
fn yaml_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xffff => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// A deviations list: entries naming catalogue requirements (sometimes one
/// that is not there, or the one before again), with reasons (sometimes
/// blank), in block or flow style, mostly quoted, sometimes plain, now and
/// then with a field too many.
fn deviations_text(u: &mut Unstructured) -> Result<String> {
    let ids: Vec<&str> = catalogue().requirements().map(|r| r.id.as_str()).collect();
    let mut text = String::new();
    let mut last = String::new();
    for _ in 0..u.int_in_range(0..=8)? {
        let id: String = match u.int_in_range(0..=15)? {
            0 => u.arbitrary()?,
            1 | 2 if !last.is_empty() => last.clone(),
            _ => (*u.choose(&ids)?).to_owned(),
        };
        let reason: String = match u.int_in_range(0..=7)? {
            0 => " ".repeat(u.int_in_range(0..=3)?),
            1 | 2 => u.arbitrary()?,
            _ => format!("vendor bug {}", u.arbitrary::<u16>()?),
        };
        last = id.clone();
        let mut scalar = |s: &str| -> Result<String> {
            Ok(if u.ratio(3, 4)? {
                yaml_quoted(s)
            } else {
                s.to_owned()
            })
        };
        let (id, reason) = (scalar(&id)?, scalar(&reason)?);
        let extra = u.ratio(1, 16)?;
        if u.arbitrary()? {
            let extra = if extra { ", severity: low" } else { "" };
            text.push_str(&format!("- {{requirement: {id}, reason: {reason}{extra}}}\n"));
        } else {
            text.push_str(&format!("- requirement: {id}\n  reason: {reason}\n"));
            if extra {
                text.push_str("  severity: low\n");
            }
        }
    }
    Ok(if text.is_empty() { "[]\n".to_owned() } else { text })
}

/// Target: the known-deviations loader with the built-in catalogue, fed
/// arbitrary text and generated lists: a list or a typed error, never a
/// panic; an accepted list names each requirement once, every one in the
/// catalogue, each with a reason.
pub fn deviations_loader(data: &[u8]) {
    let text = if is_text(data) {
        String::from_utf8_lossy(data).into_owned()
    } else {
        let mut u = Unstructured::new(&data[1..]);
        let Ok(text) = deviations_text(&mut u) else {
            return;
        };
        text
    };
    match vfio_mig_report::parse_deviations(&text, catalogue()) {
        Ok(list) => {
            for (i, d) in list.iter().enumerate() {
                assert!(
                    catalogue().requirement(&d.requirement).is_some(),
                    "{} is not in the catalogue but was accepted",
                    d.requirement
                );
                assert!(
                    list[..i].iter().all(|e| e.requirement != d.requirement),
                    "{} was accepted twice",
                    d.requirement
                );
                assert!(
                    !d.reason.trim().is_empty(),
                    "{} was accepted without a reason",
                    d.requirement
                );
            }
        }
        Err(e) => assert!(
            matches!(
                e,
                vfio_mig_report::DeviationError::Yaml { .. } | vfio_mig_report::DeviationError::Entry { .. }
            ),
            "parse_deviations answered with a file error: {e}"
        ),
    }
}

/// The small report the baseline target splices into.
const BASE_REPORT: &str = include_str!("../../fuzz/corpus/baseline_loader/report-v2");

/// Target: the baseline loader (`report.json` of an earlier run) fed
/// arbitrary text and a valid report with arbitrary bytes spliced in: a
/// report or an error, never a panic; a report that loads writes JSON that
/// loads again to an equal report, and writes it the same way.
pub fn baseline_loader(data: &[u8]) {
    let text = if is_text(data) {
        String::from_utf8_lossy(data).into_owned()
    } else {
        splice(BASE_REPORT.to_owned(), Unstructured::new(&data[1..]))
    };
    let Ok(report) = vfio_mig_report::Report::from_json(&text) else {
        return;
    };
    let json = report.to_json();
    let again = match vfio_mig_report::Report::from_json(&json) {
        Ok(r) => r,
        Err(e) => panic!("a loaded report's own JSON does not load: {e}\n{json}"),
    };
    assert_eq!(again, report, "a loaded report changed on its way through JSON");
    assert_eq!(again.to_json(), json, "a report's JSON is not stable");
}
