//! The rate limiter's in-memory counters: one replica's fixed windows and in-flight counts,
//! the fallback when Redis is not configured or does not answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{Descriptor, LimitKind, Outcome};

/// This replica's counters.
#[derive(Default)]
pub(super) struct Memory {
    map: Mutex<HashMap<String, MemEntry>>,
    ops: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct MemEntry {
    window: u64,
    requests: u64,
    tokens: u64,
    inflight: u64,
}

impl MemEntry {
    /// Moves the entry to window `wid` (counts of an older window are dropped).
    fn roll(&mut self, wid: u64) {
        if self.window != wid {
            self.window = wid;
            self.requests = 0;
            self.tokens = 0;
        }
    }
}

/// How many operations between sweeps of idle entries.
const SWEEP_EVERY: u64 = 4096;

impl Memory {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, MemEntry>> {
        // A panic while holding the lock cannot leave the counters inconsistent (every update
        // is a few integer writes), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn acquire(
        &self,
        descriptors: &[Descriptor],
        now_ms: u64,
        window_ms: u64,
    ) -> Outcome {
        let wid = now_ms / window_ms;
        let reset_ms = (wid + 1) * window_ms - now_ms;
        let mut map = self.lock();
        let mut counts = Vec::with_capacity(descriptors.len());
        for (i, d) in descriptors.iter().enumerate() {
            let mut e = map.get(&d.counter()).copied().unwrap_or_default();
            e.roll(wid);
            let l = d.limits;
            let refused = if l.rpm.is_some_and(|n| e.requests + 1 > n) {
                Some((LimitKind::Requests, e.requests))
            } else if l.tpm.is_some_and(|n| e.tokens >= n) {
                Some((LimitKind::Tokens, e.tokens))
            } else if l.max_parallel.is_some_and(|n| e.inflight + 1 > n) {
                Some((LimitKind::Parallel, e.inflight))
            } else {
                None
            };
            if let Some((kind, current)) = refused {
                return Outcome::Refused {
                    index: i,
                    kind,
                    current,
                    reset_ms,
                };
            }
            counts.push([e.requests, e.tokens, e.inflight]);
        }
        for (d, c) in descriptors.iter().zip(counts.iter_mut()) {
            let e = map.entry(d.counter()).or_default();
            e.roll(wid);
            if d.limits.rpm.is_some() {
                e.requests += 1;
                c[0] = e.requests;
            }
            if d.limits.max_parallel.is_some() {
                e.inflight += 1;
                c[2] = e.inflight;
            }
        }
        self.maybe_sweep(&mut map, wid);
        Outcome::Admitted { reset_ms, counts }
    }

    pub(super) fn finish(
        &self,
        descriptors: &[Descriptor],
        release: &[bool],
        charge: &[bool],
        tokens: u64,
        now_ms: u64,
        window_ms: u64,
    ) {
        let wid = now_ms / window_ms;
        let mut map = self.lock();
        for (i, d) in descriptors.iter().enumerate() {
            let (rel, chg) = (release[i], charge[i] && tokens > 0);
            if !rel && !chg {
                continue;
            }
            let e = map.entry(d.counter()).or_default();
            if chg {
                e.roll(wid);
                e.tokens = e.tokens.saturating_add(tokens);
            }
            if rel {
                e.inflight = e.inflight.saturating_sub(1);
            }
        }
        self.maybe_sweep(&mut map, wid);
    }

    /// Drops entries of past windows with nothing in flight, now and then.
    fn maybe_sweep(&self, map: &mut HashMap<String, MemEntry>, wid: u64) {
        if self.ops.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            map.retain(|_, e| e.window >= wid || e.inflight > 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Limits;
    use super::super::Scope;
    use super::*;

    /// A descriptor of `scope` `id` limited to `rpm` requests a minute.
    fn rpm_limited(scope: Scope, id: &str, rpm: u64) -> Descriptor {
        Descriptor {
            scope,
            id: id.into(),
            label: format!("{} {id}", scope.as_str()),
            limits: Limits {
                rpm: Some(rpm),
                ..Limits::default()
            },
        }
    }

    #[test]
    fn memory_counts_reserve_all_or_nothing() {
        let m = Memory::default();
        let a = rpm_limited(Scope::Key, "k", 2);
        let b = rpm_limited(Scope::Team, "t", 1);
        assert!(matches!(
            m.acquire(&[a.clone(), b.clone()], 0, 60_000),
            Outcome::Admitted { .. }
        ));
        // The team is full: the key's counter must not move.
        assert!(matches!(
            m.acquire(&[a.clone(), b.clone()], 10, 60_000),
            Outcome::Refused {
                index: 1,
                kind: LimitKind::Requests,
                current: 1,
                ..
            }
        ));
        match m.acquire(&[a], 20, 60_000) {
            Outcome::Admitted { counts, reset_ms } => {
                assert_eq!(counts, vec![[2, 0, 0]]);
                assert_eq!(reset_ms, 59_980);
            }
            Outcome::Refused { .. } => panic!("the refused request consumed quota"),
        }
    }
}
