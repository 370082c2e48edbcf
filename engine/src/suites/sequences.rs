//! Suite 2: random operation sequences with the model as the reference
//! (proptest-state-machine), shrunk to a minimal trace on failure.
//!
//! The reference state machine carries the model itself in its state, so the
//! generated operations always fit what the model believes (live fds, the
//! current state). Outcomes are judged by a [`Checker`] against the device.

use super::common::restore;
use crate::check::{Checker, Failure};
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestError, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;
use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::rc::Rc;
use vfio_mig_model::{Belief, Expectation, Kind, Req};

/// How many sequences and how long.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Random sequences to try.
    pub cases: u32,
    /// Longest sequence.
    pub max_len: usize,
    /// Seed of the generator (a run is reproducible from it).
    pub seed: u64,
    /// Where failing inputs are remembered and replayed first next time.
    pub persistence: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cases: 256,
            max_len: 32,
            seed: 0x5eed,
            persistence: None,
        }
    }
}

/// The reference state: the model and what it predicts.
pub struct RefState<T: Target> {
    model: Rc<T>,
    belief: Belief<T::State>,
}

impl<T: Target> Clone for RefState<T> {
    fn clone(&self) -> Self {
        RefState {
            model: Rc::clone(&self.model),
            belief: self.belief.clone(),
        }
    }
}

impl<T: Target> fmt::Debug for RefState<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.belief)
    }
}

thread_local! {
    /// The model the next sequence strategy starts from
    /// (proptest-state-machine's constructors take no arguments).
    static MODEL: RefCell<Option<Rc<dyn Any>>> = const { RefCell::new(None) };
}

/// proptest-state-machine's reference machine over model `T`.
pub struct Reference<T>(PhantomData<T>);

impl<T: Target> ReferenceStateMachine for Reference<T> {
    type State = RefState<T>;
    type Transition = T::Op;

    fn init_state() -> BoxedStrategy<RefState<T>> {
        let model = MODEL
            .with(|m| m.borrow().clone())
            .and_then(|m| m.downcast::<T>().ok())
            .expect("the sequence suite sets the model before generating");
        let belief = model.start();
        Just(RefState { model, belief }).boxed()
    }

    fn transitions(state: &RefState<T>) -> BoxedStrategy<T::Op> {
        prop::sample::select(state.model.alphabet(&state.belief)).boxed()
    }

    fn apply(mut state: RefState<T>, op: &T::Op) -> RefState<T> {
        // Predict with the first normal outcome: generation only needs a
        // plausible state, the device's real answers are judged later.
        let allowed = state.model.allowed(&state.belief, op);
        if let Some(a) = allowed.items.iter().find(|a| a.kind == Kind::Normal) {
            let outcome = a.expect.example(0);
            if let Ok((b, _)) = state.model.advance(&state.belief, op, &outcome) {
                state.belief = b;
            }
        }
        state
    }
}

/// The check's name: the protocol, the number and length of sequences.
pub fn name<T: Target>(model: &T, settings: &Settings) -> String {
    format!(
        "{}/sequences/{}x{}",
        model.label(),
        settings.cases,
        settings.max_len
    )
}

/// Runs random sequences; on failure, shrinks to a minimal sequence and
/// returns it as a failing verdict with a paste-ready reproducer.
pub fn run<T: Target>(model: &T, device: &mut Handle<T>, settings: &Settings) -> Vec<Verdict> {
    let name = name(model, settings);
    if settings.cases == 0 || settings.max_len == 0 {
        return vec![Verdict::skip(
            SuiteId::Sequences,
            name,
            &[],
            "no random sequence was asked for (0 cases or length 0)",
        )];
    }
    MODEL.with(|m| *m.borrow_mut() = Some(Rc::new(model.clone()) as Rc<dyn Any>));
    let mut config = Config {
        cases: settings.cases,
        failure_persistence: None,
        ..Config::default()
    };
    if let Some(path) = &settings.persistence {
        let leaked: &'static str = Box::leak(path.display().to_string().into_boxed_str());
        config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(leaked)));
    }
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&settings.seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = Reference::<T>::sequential_strategy(1..=settings.max_len);
    let cell = RefCell::new(&mut *device);
    let exercised: RefCell<Vec<Req>> = RefCell::new(Vec::new());
    let stopped: RefCell<Option<Verdict>> = RefCell::new(None);
    let result = runner.run(&strategy, |(_, ops, seen)| {
        let mut dev = cell.borrow_mut();
        if let Err(v) = restore(SuiteId::Sequences, &name, &mut **dev) {
            *stopped.borrow_mut() = Some(*v);
            return Err(TestCaseError::reject("device could not be restored"));
        }
        let mut c = Checker::new(model, &mut **dev);
        // proptest-state-machine shrinks to the operations seen before the
        // failure, so every executed operation is counted.
        let result = ops.iter().try_for_each(|op| {
            if let Some(seen) = &seen {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            c.step(op.clone()).map(|_| ())
        });
        let mut ex = exercised.borrow_mut();
        for r in c.exercised() {
            if !ex.contains(r) {
                ex.push(*r);
            }
        }
        match result {
            Err(f) if f.halts => {
                *stopped.borrow_mut() = Some(Verdict::of(SuiteId::Sequences, name.clone(), &c, &[], Err(f)));
                Err(TestCaseError::reject("the device stopped answering"))
            }
            Err(f) => Err(TestCaseError::fail(f.to_string())),
            // A missed SHOULD is shrunk like a failure and reported as WARN.
            Ok(()) if !c.warnings().is_empty() => Err(TestCaseError::fail(format!(
                "SHOULD not met: {}",
                vfio_mig_model::join_ids(c.warnings(), ", ")
            ))),
            Ok(()) => Ok(()),
        }
    });
    MODEL.with(|m| *m.borrow_mut() = None);
    if let Some(v) = stopped.into_inner() {
        return vec![v];
    }
    let device = cell.into_inner();
    match result {
        Ok(()) => {
            let what = format!("{} random sequences passed", settings.cases);
            vec![Verdict::passed(
                SuiteId::Sequences,
                name,
                &exercised.into_inner(),
                what,
            )]
        }
        Err(TestError::Fail(_, (_, ops, _))) => {
            // proptest's shrinking can stop at a sequence with operations
            // the failure does not need: drop each that is not needed.
            let ops = match minimise(model, device, &name, ops) {
                Ok(ops) => ops,
                Err(v) => return vec![*v],
            };
            // Replay the minimal sequence to get its trace.
            if let Err(v) = restore(SuiteId::Sequences, &name, device) {
                return vec![*v];
            }
            let mut c = Checker::new(model, device);
            let result = replay(&mut c, &ops);
            let mut v = Verdict::of(SuiteId::Sequences, name, &c, &[], result.clone());
            if result.is_ok() && c.warnings().is_empty() {
                v.status = crate::check::Status::Fail;
                v.detail = "the device failed this sequence once but not when it was replayed: it is not deterministic".into();
            }
            vec![v]
        }
        Err(TestError::Abort(why)) => vec![Verdict::skip(
            SuiteId::Sequences,
            name,
            &[],
            format!("aborted: {why}"),
        )],
    }
}

fn replay<T: Target>(c: &mut Checker<'_, T>, ops: &[T::Op]) -> Result<(), Failure> {
    for op in ops {
        c.step(op.clone())?;
    }
    Ok(())
}

/// The rules `ops` breaks on a freshly restored device (missed SHOULDs
/// included); empty when it passes.
fn broken_by<T: Target>(
    model: &T,
    device: &mut Handle<T>,
    name: &str,
    ops: &[T::Op],
) -> Result<Vec<Req>, Box<Verdict>> {
    restore(SuiteId::Sequences, name, device)?;
    let mut c = Checker::new(model, device);
    Ok(match replay(&mut c, ops) {
        Err(f) if f.halts => Vec::new(),
        Err(f) => f.reqs,
        Ok(()) => c.warnings().to_vec(),
    })
}

/// `ops` without every operation whose removal leaves a sequence that still
/// breaks one of the rules `ops` breaks (one removal at a time, from the
/// end, until none can go; at most a few passes over a short sequence).
fn minimise<T: Target>(
    model: &T,
    device: &mut Handle<T>,
    name: &str,
    mut ops: Vec<T::Op>,
) -> Result<Vec<T::Op>, Box<Verdict>> {
    let target = broken_by(model, device, name, &ops)?;
    if target.is_empty() {
        return Ok(ops);
    }
    for _ in 0..4 {
        let mut removed = false;
        let mut i = ops.len();
        while i > 0 && ops.len() > 1 {
            i -= 1;
            let mut shorter = ops.clone();
            shorter.remove(i);
            let now = broken_by(model, device, name, &shorter)?;
            if now.iter().any(|r| target.contains(r)) {
                ops = shorter;
                removed = true;
            }
        }
        if !removed {
            break;
        }
    }
    Ok(ops)
}
