//! Race tracking in global memory over one launch: per byte of each global argument, the thread
//! that wrote it, the thread(s) that read it and the thread(s) that updated it atomically. Threads
//! of a launch have no way to order their plain global accesses (no grid-wide barrier), so two
//! accesses to one byte by different threads, at least one a write, are a race — for example every
//! holder of a replicated fragment storing it, where a lowering must let one holder store.
//!
//! Atomic read-modify-writes (`red.global.add`) are ordered against each other by the hardware, so
//! any number of threads may update one byte atomically; a plain load or store of a byte another
//! thread updates atomically in the same launch is still a race (the load may see any prefix of
//! the updates, the store may be lost). Several atomic updates of one element by one replicated
//! fragment's holders are not a race but are a bug of the lowering (each adds once): the lowering's
//! tests compare results, which catches them.

use super::{EmuErrorKind, ThreadRef};

/// A thread of the launch: `(linear block index, thread)`, stored plus one (0: nobody).
type Who = u64;

const MANY: Who = u64::MAX;

fn who(block: u64, thread: u32) -> Who {
    (block << 11 | thread as u64) + 1
}

fn unwho(w: Who, grid: [u32; 3]) -> ThreadRef {
    let w = w - 1;
    let (b, thread) = (w >> 11, (w & 0x7ff) as u32);
    let (gx, gy) = (grid[0] as u64, grid[1] as u64);
    ThreadRef { block: [(b % gx) as u32, (b / gx % gy) as u32, (b / (gx * gy)) as u32], thread }
}

pub struct GlobalTracker {
    names: Vec<String>,
    writer: Vec<Vec<Who>>,
    reader: Vec<Vec<Who>>,
    atomic: Vec<Vec<Who>>,
    grid: [u32; 3],
}

impl GlobalTracker {
    /// Tracks `sizes[i]` bytes of parameter `i` (0 for non-tensor parameters).
    pub fn new(names: Vec<String>, sizes: &[usize], grid: [u32; 3]) -> GlobalTracker {
        GlobalTracker {
            names,
            writer: sizes.iter().map(|&n| vec![0; n]).collect(),
            reader: sizes.iter().map(|&n| vec![0; n]).collect(),
            atomic: sizes.iter().map(|&n| vec![0; n]).collect(),
            grid,
        }
    }

    fn race(&self, param: usize, offset: usize, first: Who, first_write: bool, second: ThreadRef, second_write: bool) -> EmuErrorKind {
        let first = (first != MANY).then(|| unwho(first, self.grid));
        EmuErrorKind::GlobalRace { tensor: self.names[param].clone(), offset: offset as u64, first, first_write, second, second_write }
    }

    /// A plain access (a write if `plain_write`) by `plain` meeting an atomic update by `atomic` of
    /// byte `offset`; either thread is unknown when several did it.
    fn mixed(&self, param: usize, offset: usize, atomic: Who, plain: Who, plain_write: bool) -> EmuErrorKind {
        let known = |w: Who| (w != MANY).then(|| unwho(w, self.grid));
        EmuErrorKind::AtomicRace { tensor: self.names[param].clone(), offset: offset as u64, atomic: known(atomic), plain: known(plain), plain_write }
    }

    fn linear(&self, block: [u32; 3]) -> u64 {
        let (gx, gy) = (self.grid[0] as u64, self.grid[1] as u64);
        block[0] as u64 + gx * (block[1] as u64 + gy * block[2] as u64)
    }

    /// Thread `thread` of `block` reads `range` of parameter `param`.
    pub fn read(&mut self, param: usize, range: std::ops::Range<usize>, block: [u32; 3], thread: u32) -> Result<(), EmuErrorKind> {
        let me = who(self.linear(block), thread);
        for i in range {
            let a = self.atomic[param][i];
            if a != 0 && a != me {
                return Err(self.mixed(param, i, a, me, false));
            }
            let w = self.writer[param][i];
            if w != 0 && w != me {
                return Err(self.race(param, i, w, true, ThreadRef { block, thread }, false));
            }
            let r = &mut self.reader[param][i];
            if *r == 0 {
                *r = me;
            } else if *r != me {
                *r = MANY;
            }
        }
        Ok(())
    }

    /// Thread `thread` of `block` writes `range` of parameter `param`.
    pub fn write(&mut self, param: usize, range: std::ops::Range<usize>, block: [u32; 3], thread: u32) -> Result<(), EmuErrorKind> {
        let me = who(self.linear(block), thread);
        for i in range {
            let a = self.atomic[param][i];
            if a != 0 && a != me {
                return Err(self.mixed(param, i, a, me, true));
            }
            let w = self.writer[param][i];
            if w != 0 && w != me {
                return Err(self.race(param, i, w, true, ThreadRef { block, thread }, true));
            }
            let r = self.reader[param][i];
            if r != 0 && r != me {
                return Err(self.race(param, i, r, false, ThreadRef { block, thread }, true));
            }
            self.writer[param][i] = me;
        }
        Ok(())
    }

    /// Thread `thread` of `block` updates `range` of parameter `param` atomically: a race only with
    /// another thread's plain access.
    pub fn atomic(&mut self, param: usize, range: std::ops::Range<usize>, block: [u32; 3], thread: u32) -> Result<(), EmuErrorKind> {
        let me = who(self.linear(block), thread);
        for i in range {
            let w = self.writer[param][i];
            if w != 0 && w != me {
                return Err(self.mixed(param, i, me, w, true));
            }
            let r = self.reader[param][i];
            if r != 0 && r != me {
                return Err(self.mixed(param, i, me, r, false));
            }
            let a = &mut self.atomic[param][i];
            if *a == 0 {
                *a = me;
            } else if *a != me {
                *a = MANY;
            }
        }
        Ok(())
    }
}
