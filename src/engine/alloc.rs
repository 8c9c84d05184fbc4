//! The global allocator: the system allocator, reporting every allocation to Boa's budget
//! (`boa_engine::budget`, our patch) so an execution's heap growth is measured and bounded.
//!
//! Growth past the execution's memory limit trips the budget and the VM stops at its next
//! instruction. Nothing is refused here: Rust's allocation-error path cannot unwind (a refused
//! allocation aborts, trapping the whole Wasm instance, even with panic=unwind), so a moderate
//! overshoot is allowed to complete and is stopped just after. Allocations whose size the guest
//! controls are checked by the builtins before they are made (`budget::reserve`), which keeps
//! single huge allocations from happening at all.

use std::alloc::{GlobalAlloc, Layout, System};

use boa_engine::budget;

/// Prefix of the panic message of a failed allocation, should one ever unwind.
pub const ALLOC_FAILED: &str = "memory allocation";

pub struct BudgetAllocator;

/// Counts `size` bytes as in use around `allocate`, undoing it if the allocation fails.
fn counted(size: usize, allocate: impl FnOnce() -> *mut u8) -> *mut u8 {
    budget::record_alloc(size);
    let ptr = allocate();
    if ptr.is_null() {
        budget::record_dealloc(size);
        out_of_memory(size);
    }
    ptr
}

/// The allocation is about to fail for good (the memory cannot grow): in the engine module,
/// tell the host, since the module traps next.
fn out_of_memory(_size: usize) {
    #[cfg(all(target_arch = "wasm32", feature = "engine-abi"))]
    super::exports::report_oom(_size);
}

unsafe impl GlobalAlloc for BudgetAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted(layout.size(), || System.alloc(layout))
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted(layout.size(), || System.alloc_zeroed(layout))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        budget::record_dealloc(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old {
            budget::record_alloc(new_size - old);
        }
        let new = System.realloc(ptr, layout, new_size);
        if new.is_null() {
            if new_size > old {
                budget::record_dealloc(new_size - old);
            }
            out_of_memory(new_size);
        } else if new_size < old {
            budget::record_dealloc(old - new_size);
        }
        new
    }
}
