//! A block's shared memory with per-byte tracking: whether the byte was ever written, the last
//! writer and the readers of the current barrier epoch (for race detection), and whether an
//! unfinished `cp.async` targets it.
//!
//! Epochs: the block starts in epoch 1 and every `bar.sync` begins the next. Two accesses to one
//! byte in the same epoch by different threads, at least one a write, are a race.

use super::EmuErrorKind;
use crate::thread::Program;

#[derive(Clone, Copy, Default)]
struct ByteMeta {
    init: bool,
    /// The thread whose cp.async to this byte has not landed.
    pending: Option<u32>,
    w_epoch: u32,
    writer: u32,
    r_epoch: u32,
    reader: u32,
    /// More than one thread read the byte in `r_epoch`.
    multi: bool,
}

pub struct Shared {
    pub data: Vec<u8>,
    meta: Vec<ByteMeta>,
    /// Base offset of each allocation.
    pub base: Vec<u32>,
    names: Vec<String>,
    sizes: Vec<u32>,
    pub epoch: u32,
}

impl Shared {
    pub fn new(p: &Program) -> Shared {
        let (base, total) = p.shared_layout();
        Shared {
            data: vec![0; total as usize],
            meta: vec![ByteMeta::default(); total as usize],
            base,
            names: p.shared.iter().map(|a| a.name.clone()).collect(),
            sizes: p.shared.iter().map(|a| a.bytes).collect(),
            epoch: 1,
        }
    }

    /// The flat address of `size` bytes at `offset` of allocation `buf`, checked for bounds and
    /// natural alignment (`align`).
    pub fn address(&self, buf: usize, offset: i128, size: u32, align: u32) -> Result<u32, EmuErrorKind> {
        let space = format!("shared `{}`", self.names[buf]);
        if offset < 0 || offset + size as i128 > self.sizes[buf] as i128 {
            return Err(EmuErrorKind::OutOfBounds { space, offset, size, len: self.sizes[buf] as u64 });
        }
        if offset % align as i128 != 0 {
            return Err(EmuErrorKind::Misaligned { space, offset, align });
        }
        Ok(self.base[buf] + offset as u32)
    }

    /// The allocation and offset of a flat address (for messages).
    fn locate(&self, addr: u32) -> (String, u32) {
        let i = self.base.iter().rposition(|&b| b <= addr).unwrap_or(0);
        (self.names[i].clone(), addr - self.base[i])
    }

    fn check_pending(&self, addr: u32) -> Result<(), EmuErrorKind> {
        if let Some(issuer) = self.meta[addr as usize].pending {
            let (buffer, offset) = self.locate(addr);
            return Err(EmuErrorKind::CpAsyncPending { buffer, offset, issuer });
        }
        Ok(())
    }

    /// Thread `t` reads `n` bytes at flat address `addr`.
    pub fn read(&mut self, t: u32, addr: u32, n: u32) -> Result<Vec<u8>, EmuErrorKind> {
        for a in addr..addr + n {
            self.check_pending(a)?;
            let m = &mut self.meta[a as usize];
            if !m.init {
                let (buffer, offset) = self.locate(a);
                return Err(EmuErrorKind::UninitialisedShared { buffer, offset });
            }
            if m.w_epoch == self.epoch && m.writer != t {
                let first = Some(m.writer);
                let (buffer, offset) = self.locate(a);
                return Err(EmuErrorKind::SharedRace { buffer, offset, first, first_write: true, second: t, second_write: false });
            }
            if m.r_epoch != self.epoch {
                m.r_epoch = self.epoch;
                m.reader = t;
                m.multi = false;
            } else if m.reader != t {
                m.multi = true;
            }
        }
        Ok(self.data[addr as usize..(addr + n) as usize].to_vec())
    }

    /// Checks that thread `t` may write byte `a` in this epoch.
    fn check_write(&self, t: u32, a: u32) -> Result<(), EmuErrorKind> {
        self.check_pending(a)?;
        let m = &self.meta[a as usize];
        let race = |first: Option<u32>, first_write: bool| {
            let (buffer, offset) = self.locate(a);
            Err(EmuErrorKind::SharedRace { buffer, offset, first, first_write, second: t, second_write: true })
        };
        if m.w_epoch == self.epoch && m.writer != t {
            return race(Some(m.writer), true);
        }
        if m.r_epoch == self.epoch && (m.multi || m.reader != t) {
            return race(if m.reader != t { Some(m.reader) } else { None }, false);
        }
        Ok(())
    }

    fn mark_written(&mut self, t: u32, a: u32) {
        let m = &mut self.meta[a as usize];
        m.init = true;
        m.w_epoch = self.epoch;
        m.writer = t;
    }

    /// Thread `t` writes `bytes` at flat address `addr`.
    pub fn write(&mut self, t: u32, addr: u32, bytes: &[u8]) -> Result<(), EmuErrorKind> {
        for a in addr..addr + bytes.len() as u32 {
            self.check_write(t, a)?;
        }
        for (i, &b) in bytes.iter().enumerate() {
            let a = addr + i as u32;
            self.data[a as usize] = b;
            self.mark_written(t, a);
        }
        Ok(())
    }

    /// Thread `t` issues a `cp.async` of `n` bytes to `addr`: the bytes are in flight.
    pub fn start_async(&mut self, t: u32, addr: u32, n: u32) -> Result<(), EmuErrorKind> {
        for a in addr..addr + n {
            self.check_write(t, a)?;
        }
        for a in addr..addr + n {
            self.meta[a as usize].pending = Some(t);
        }
        Ok(())
    }

    /// A `cp.async` of thread `t` lands (at its `wait_group`): a write by `t` in this epoch.
    pub fn finish_async(&mut self, t: u32, addr: u32, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let a = addr + i as u32;
            self.data[a as usize] = b;
            self.meta[a as usize].pending = None;
            self.mark_written(t, a);
        }
    }
}
