//! edge-sandbox patch: a per-thread step budget for matching.
//!
//! regress has no backtracking limit, so a pattern like `/(a+)+$/` takes time exponential in the
//! input. This budget bounds it: the backtracking executor spends one *step* for every bytecode
//! instruction it dispatches, plus one per character a single-character loop scans and per code
//! unit a backreference compares. When a step cannot be paid, the budget is *exhausted*: the
//! remaining steps drop to zero, the match attempt in progress stops at its next instruction and
//! reports no match, and [`exhausted`] returns `true` until the next [`set`].
//!
//! The budget is unlimited (`u64::MAX`) until [`set`] is called. The counters are thread-local
//! and const-initialised (no allocation). Without the `std` feature the budget is always
//! unlimited. The PikeVM backend does not spend it.

#[cfg(feature = "std")]
mod imp {
    use core::cell::Cell;

    std::thread_local! {
        static STEPS: Cell<u64> = const { Cell::new(u64::MAX) };
        static EXHAUSTED: Cell<bool> = const { Cell::new(false) };
    }

    pub fn set(steps: u64) {
        STEPS.set(steps);
        EXHAUSTED.set(false);
    }

    pub fn remaining() -> u64 {
        STEPS.get()
    }

    pub fn exhausted() -> bool {
        EXHAUSTED.get()
    }

    #[inline(always)]
    pub fn spend(steps: u64) -> bool {
        let left = STEPS.get();
        if left >= steps {
            STEPS.set(left - steps);
            true
        } else {
            STEPS.set(0);
            EXHAUSTED.set(true);
            false
        }
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    pub fn set(_steps: u64) {}
    pub fn remaining() -> u64 {
        u64::MAX
    }
    pub fn exhausted() -> bool {
        false
    }
    #[inline(always)]
    pub fn spend(_steps: u64) -> bool {
        true
    }
}

/// Sets the steps matching on this thread may take from now on, and clears [`exhausted`].
/// `u64::MAX` means unlimited (the default).
pub fn set(steps: u64) {
    imp::set(steps)
}

/// Steps left on this thread.
pub fn remaining() -> u64 {
    imp::remaining()
}

/// Whether a match attempt ran out of steps since the last [`set`]. A search that returned no
/// match while this is `true` was cut short, and its result means nothing.
pub fn exhausted() -> bool {
    imp::exhausted()
}

/// Spends `steps`; on failure the budget becomes exhausted and `false` is returned.
#[inline(always)]
pub(crate) fn spend(steps: u64) -> bool {
    imp::spend(steps)
}
