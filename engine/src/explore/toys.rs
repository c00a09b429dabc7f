//! Toy models with known state spaces, for the explorer's tests.

use super::{Footprint, Model};
use std::collections::VecDeque;

/// Threads that each increment two shared counters, `x` then `y`, either in one atomic step per
/// counter or non-atomically (read into a register, then write the register plus one).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Counters {
    atomic: bool,
    pc: Vec<u8>,
    register: Vec<u8>,
    value: [u8; 2],
}

/// A counter that ended lower than the number of threads that incremented it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CounterFailure {
    /// An increment of this counter (`'x'` or `'y'`) was lost.
    LostUpdate(char),
}

impl Counters {
    pub fn non_atomic(threads: usize) -> Counters {
        Counters {
            atomic: false,
            pc: vec![0; threads],
            register: vec![0; threads],
            value: [0; 2],
        }
    }

    pub fn atomic(threads: usize) -> Counters {
        Counters {
            atomic: true,
            ..Counters::non_atomic(threads)
        }
    }

    fn steps(&self) -> u8 {
        if self.atomic {
            2
        } else {
            4
        }
    }

    /// The counter the thread's next step touches, and whether it writes it.
    fn access(&self, thread: usize) -> (usize, bool) {
        if self.atomic {
            (self.pc[thread] as usize, true)
        } else {
            (self.pc[thread] as usize / 2, self.pc[thread] % 2 == 1)
        }
    }

    fn footprint(&self, thread: usize) -> Footprint {
        match self.access(thread) {
            (counter, true) => Footprint::NONE.write(counter as u64),
            (counter, false) => Footprint::NONE.read(counter as u64),
        }
    }
}

impl Model for Counters {
    type Choice = usize;
    type Failure = CounterFailure;

    fn choices(&self, choices: &mut Vec<usize>) {
        choices.extend((0..self.pc.len()).filter(|&thread| self.pc[thread] < self.steps()));
    }

    fn step(&mut self, &thread: &usize) {
        let (counter, write) = self.access(thread);
        if self.atomic {
            self.value[counter] += 1;
        } else if write {
            self.value[counter] = self.register[thread] + 1;
        } else {
            self.register[thread] = self.value[counter];
        }
        self.pc[thread] += 1;
    }

    fn failure(&self) -> Option<CounterFailure> {
        let threads = self.pc.len() as u8;
        let per_counter = self.steps() / 2;
        for (counter, name) in ['x', 'y'].into_iter().enumerate() {
            let all_wrote = self
                .pc
                .iter()
                .all(|&pc| pc >= per_counter * (counter as u8 + 1));
            if all_wrote && self.value[counter] != threads {
                return Some(CounterFailure::LostUpdate(name));
            }
        }
        None
    }

    fn independent(&self, &a: &usize, &b: &usize) -> bool {
        !self.footprint(a).conflicts(&self.footprint(b))
    }
}

/// Dining philosophers who each eat once: take the first fork, take the second, put both down.
/// Unordered, everyone's first fork is the left one; ordered, the lower-numbered one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Philosophers {
    ordered: bool,
    pc: Vec<u8>,
    /// Which philosopher holds each fork.
    holder: Vec<Option<u8>>,
}

/// The one way philosophers fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableFailure {
    /// Nobody can move and somebody has not eaten.
    Deadlock,
}

impl Philosophers {
    pub fn left_first(count: usize) -> Philosophers {
        Philosophers {
            ordered: false,
            pc: vec![0; count],
            holder: vec![None; count],
        }
    }

    pub fn ordered(count: usize) -> Philosophers {
        Philosophers {
            ordered: true,
            ..Philosophers::left_first(count)
        }
    }

    fn forks(&self, philosopher: usize) -> (usize, usize) {
        let left = philosopher;
        let right = (philosopher + 1) % self.pc.len();
        if self.ordered && right < left {
            (right, left)
        } else {
            (left, right)
        }
    }

    fn footprint(&self, philosopher: usize) -> Footprint {
        let (first, second) = self.forks(philosopher);
        match self.pc[philosopher] {
            0 => Footprint::NONE.write(first as u64),
            1 => Footprint::NONE.write(second as u64),
            _ => Footprint::NONE.write(first as u64).write(second as u64),
        }
    }
}

impl Model for Philosophers {
    type Choice = usize;
    type Failure = TableFailure;

    fn choices(&self, choices: &mut Vec<usize>) {
        for philosopher in 0..self.pc.len() {
            let (first, second) = self.forks(philosopher);
            let enabled = match self.pc[philosopher] {
                0 => self.holder[first].is_none(),
                1 => self.holder[second].is_none(),
                2 => true,
                _ => false,
            };
            if enabled {
                choices.push(philosopher);
            }
        }
    }

    fn step(&mut self, &philosopher: &usize) {
        let (first, second) = self.forks(philosopher);
        match self.pc[philosopher] {
            0 => self.holder[first] = Some(philosopher as u8),
            1 => self.holder[second] = Some(philosopher as u8),
            _ => {
                self.holder[first] = None;
                self.holder[second] = None;
            }
        }
        self.pc[philosopher] += 1;
    }

    fn failure(&self) -> Option<TableFailure> {
        let mut choices = Vec::new();
        self.choices(&mut choices);
        let stuck = choices.is_empty() && self.pc.iter().any(|&pc| pc < 3);
        stuck.then_some(TableFailure::Deadlock)
    }

    fn independent(&self, &a: &usize, &b: &usize) -> bool {
        !self.footprint(a).conflicts(&self.footprint(b))
    }
}

/// The `pool-exhaustion` lesson in miniature: requests that each acquire two connections from
/// a pool of `free` (acquire, acquire, release, release), with a FIFO queue of waiters; a release
/// hands its connection straight to the first waiter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pool {
    pc: Vec<u8>,
    free: u8,
    queue: VecDeque<u8>,
}

/// The one way the pool fails.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum PoolFailure {
    /// Every unfinished request waits in the queue.
    Deadlock,
}

impl Pool {
    pub fn new(requests: usize, connections_max: u8) -> Pool {
        Pool {
            pc: vec![0; requests],
            free: connections_max,
            queue: VecDeque::new(),
        }
    }

    fn acquiring(&self, request: usize) -> bool {
        self.pc[request] < 2
    }
}

impl Model for Pool {
    type Choice = usize;
    type Failure = PoolFailure;

    fn choices(&self, choices: &mut Vec<usize>) {
        choices.extend(
            (0..self.pc.len())
                .filter(|&request| self.pc[request] < 4 && !self.queue.contains(&(request as u8))),
        );
    }

    fn step(&mut self, &request: &usize) {
        if self.acquiring(request) {
            if self.free > 0 {
                self.free -= 1;
                self.pc[request] += 1;
            } else {
                self.queue.push_back(request as u8);
            }
        } else {
            match self.queue.pop_front() {
                Some(waiter) => self.pc[waiter as usize] += 1,
                None => self.free += 1,
            }
            self.pc[request] += 1;
        }
    }

    fn failure(&self) -> Option<PoolFailure> {
        let waiting = self.pc.iter().filter(|&&pc| pc < 4).count();
        (waiting > 0 && waiting == self.queue.len()).then_some(PoolFailure::Deadlock)
    }

    /// Releases commute with everything (a release hands its connection to the head of the
    /// queue whoever took the other step); two acquires commute only when both get a connection.
    fn independent(&self, &a: &usize, &b: &usize) -> bool {
        !(self.acquiring(a) && self.acquiring(b) && self.free < 2)
    }
}

/// A switch that can be flipped forever: two states in a cycle.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Switch(pub bool);

impl Model for Switch {
    type Choice = ();
    type Failure = ();

    fn choices(&self, choices: &mut Vec<()>) {
        choices.push(());
    }

    fn step(&mut self, _: &()) {
        self.0 = !self.0;
    }

    fn failure(&self) -> Option<()> {
        None
    }
}

/// A random program step for [`Random`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    /// Copy a shared variable into the process's register.
    Read(u8),
    /// Write the register plus the process number into a shared variable.
    Write(u8),
    /// Take a lock; blocked while another process holds it.
    Lock(u8),
    /// Release a lock if this process holds it.
    Unlock(u8),
}

/// Processes running random straight-line programs over shared variables and locks, for checking
/// the reduction against the plain search: deadlocks, and "variable 0 holds value v" failures.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Random {
    programs: Vec<Vec<Op>>,
    pc: Vec<u8>,
    register: Vec<u8>,
    variables: [u8; 2],
    holder: [Option<u8>; 2],
}

/// What can go wrong in a [`Random`] model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RandomFailure {
    /// Nobody can move and somebody is unfinished (and variable 0 is below 2).
    Deadlock,
    /// Variable 0 holds this value (at least 2), whatever else is wrong.
    Value(u8),
}

impl Random {
    /// A small model drawn from `seed`: 2 or 3 processes of 1 to 4 ops.
    pub fn new(seed: u64) -> Random {
        Random::drawn(seed, 2, 4)
    }

    /// A larger model drawn from `seed`: 3 or 4 processes of 1 to 5 ops.
    pub fn larger(seed: u64) -> Random {
        Random::drawn(seed, 3, 5)
    }

    /// A model drawn from `seed` (xorshift, so the same seed gives the same model everywhere),
    /// with `processes_min` or one more processes of 1 to `length_max` ops each.
    fn drawn(seed: u64, processes_min: usize, length_max: u64) -> Random {
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |bound: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % bound
        };
        let processes = processes_min + next(2) as usize;
        let programs: Vec<Vec<Op>> = (0..processes)
            .map(|_| {
                let length = 1 + next(length_max);
                (0..length)
                    .map(|_| {
                        let target = next(2) as u8;
                        match next(4) {
                            0 => Op::Read(target),
                            1 => Op::Write(target),
                            2 => Op::Lock(target),
                            _ => Op::Unlock(target),
                        }
                    })
                    .collect()
            })
            .collect();
        Random {
            pc: vec![0; processes],
            register: vec![0; processes],
            programs,
            variables: [0; 2],
            holder: [None; 2],
        }
    }

    fn next_op(&self, process: usize) -> Option<Op> {
        self.programs[process]
            .get(self.pc[process] as usize)
            .copied()
    }

    fn footprint(&self, process: usize) -> Footprint {
        Random::op_footprint(self.next_op(process))
    }

    fn op_footprint(op: Option<Op>) -> Footprint {
        match op {
            Some(Op::Read(variable)) => Footprint::NONE.read(u64::from(variable)),
            Some(Op::Write(variable)) => Footprint::NONE.write(u64::from(variable)),
            Some(Op::Lock(lock) | Op::Unlock(lock)) => Footprint::NONE.write(10 + u64::from(lock)),
            None => Footprint::ALL,
        }
    }
}

impl Model for Random {
    type Choice = usize;
    type Failure = RandomFailure;

    fn choices(&self, choices: &mut Vec<usize>) {
        for process in 0..self.pc.len() {
            let enabled = match self.next_op(process) {
                None => false,
                Some(Op::Lock(lock)) => self.holder[lock as usize].is_none(),
                Some(_) => true,
            };
            if enabled {
                choices.push(process);
            }
        }
    }

    fn step(&mut self, &process: &usize) {
        match self.next_op(process).expect("an enabled process has an op") {
            Op::Read(variable) => self.register[process] = self.variables[variable as usize],
            Op::Write(variable) => {
                self.variables[variable as usize] = self.register[process] + process as u8
            }
            Op::Lock(lock) => self.holder[lock as usize] = Some(process as u8),
            Op::Unlock(lock) => {
                if self.holder[lock as usize] == Some(process as u8) {
                    self.holder[lock as usize] = None;
                }
            }
        }
        self.pc[process] += 1;
    }

    fn failure(&self) -> Option<RandomFailure> {
        let mut choices = Vec::new();
        self.choices(&mut choices);
        let unfinished = (0..self.pc.len()).any(|process| self.next_op(process).is_some());
        if self.variables[0] >= 2 {
            Some(RandomFailure::Value(self.variables[0]))
        } else if choices.is_empty() && unfinished {
            Some(RandomFailure::Deadlock)
        } else {
            None
        }
    }

    fn independent(&self, &a: &usize, &b: &usize) -> bool {
        !self.footprint(a).conflicts(&self.footprint(b))
    }

    /// Local: the next op touches nothing the other processes' remaining programs mention, and
    /// keeps failures: a `Value` failure reads variable 0 only, so any op but a write to it keeps
    /// it (and `Deadlock` is a failure of terminal states only, which need nothing).
    fn local(&self, &process: &usize) -> bool {
        if self.next_op(process) == Some(Op::Write(0)) {
            return false;
        }
        let others = (0..self.pc.len())
            .filter(|&other| other != process)
            .flat_map(|other| &self.programs[other][self.pc[other] as usize..])
            .fold(Footprint::NONE, |future, &op| {
                future.union(Random::op_footprint(Some(op)))
            });
        !self.footprint(process).conflicts(&others)
    }
}

/// Two actors: A flips a private switch forever, B takes one step, which is the failure. A's
/// flip is always local, and its flips form a cycle: without the cycle proviso, a search that
/// follows A round that cycle never lets B move.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flipper {
    switch: bool,
    moved: bool,
}

/// The one failure: B moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlipperFailure {
    /// B moved.
    Moved,
}

impl Flipper {
    pub fn new() -> Flipper {
        Flipper {
            switch: false,
            moved: false,
        }
    }
}

impl Model for Flipper {
    /// `'A'` or `'B'`.
    type Choice = char;
    type Failure = FlipperFailure;

    fn choices(&self, choices: &mut Vec<char>) {
        choices.push('A');
        if !self.moved {
            choices.push('B');
        }
    }

    fn step(&mut self, &actor: &char) {
        if actor == 'A' {
            self.switch = !self.switch;
        } else {
            self.moved = true;
        }
    }

    fn failure(&self) -> Option<FlipperFailure> {
        self.moved.then_some(FlipperFailure::Moved)
    }

    fn independent(&self, &a: &char, &b: &char) -> bool {
        a != b
    }

    /// A's flip touches nothing of B's and never changes the failure.
    fn local(&self, &actor: &char) -> bool {
        actor == 'A'
    }
}
