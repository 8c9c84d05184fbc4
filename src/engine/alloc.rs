//! The global allocator: the system allocator, reporting every allocation to Boa's budget
//! (`boa_engine::budget`, our patch) so an execution's heap growth is measured and bounded.
//!
//! Growth past the execution's memory limit trips the budget and the VM stops at its next
//! instruction. An allocation that would overshoot the limit by more than half is refused: in
//! the Worker (built with panic=unwind) the allocation-error hook turns that into a panic, which
//! the engine catches and reports as a memory limit. Natively, where a refused allocation would
//! abort the test process, nothing is refused.

use std::alloc::{GlobalAlloc, Layout, System};

use boa_engine::budget;

/// Whether refused allocations can be survived (see the module docs).
const REFUSE: bool = cfg!(all(target_arch = "wasm32", panic = "unwind"));

/// Prefix of the panic message raised by the allocation-error hook.
pub const ALLOC_FAILED: &str = "edge-sandbox: memory allocation failed";

pub struct BudgetAllocator;

unsafe impl GlobalAlloc for BudgetAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !budget::record_alloc(layout.size()) && REFUSE {
            budget::record_dealloc(layout.size());
            return std::ptr::null_mut();
        }
        let ptr = System.alloc(layout);
        if ptr.is_null() {
            budget::record_dealloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !budget::record_alloc(layout.size()) && REFUSE {
            budget::record_dealloc(layout.size());
            return std::ptr::null_mut();
        }
        let ptr = System.alloc_zeroed(layout);
        if ptr.is_null() {
            budget::record_dealloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        budget::record_dealloc(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !budget::record_alloc(new_size - old) && REFUSE {
            budget::record_dealloc(new_size - old);
            return std::ptr::null_mut();
        }
        let new = System.realloc(ptr, layout, new_size);
        if new.is_null() {
            if new_size > old {
                budget::record_dealloc(new_size - old);
            }
        } else if new_size < old {
            budget::record_dealloc(old - new_size);
        }
        new
    }
}

/// Makes a refused allocation panic (catchable with panic=unwind) instead of aborting.
#[cfg(all(target_arch = "wasm32", panic = "unwind"))]
pub fn install_alloc_error_hook() {
    std::alloc::set_alloc_error_hook(|layout| {
        panic!("{ALLOC_FAILED}: {} bytes", layout.size());
    });
}
