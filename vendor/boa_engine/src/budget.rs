//! edge-sandbox patch: a work and memory budget for one execution.
//!
//! Boa's own limits count loop iterations per call frame and nothing else. This module keeps a
//! per-thread *fuel* counter that the VM decrements on every instruction, on every path (promise
//! jobs and callbacks from builtins included), and that builtins charge for work they do
//! natively (string searches, joins, fills, JSON). It also keeps a memory budget that the host's
//! allocator reports to (see [`record_alloc`]) and that builtins check before large allocations.
//!
//! Running out *trips* the budget: the fuel drops to zero, the reason is kept, and the VM throws
//! an uncatchable [`RuntimeLimitError`] at the next instruction, so `try/catch/finally` cannot
//! swallow it. The counters are thread-local and const-initialised, so the allocator can use
//! them without allocating.

use std::cell::Cell;

use crate::{error::RuntimeLimitError, JsError, JsResult};

/// Why a budget tripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// Out of fuel.
    Fuel,
    /// Over the memory budget.
    Memory,
    /// Over the output budget (set by the host).
    Output,
}

/// Fuel charged per promise job run (measured: a job costs about as much CPU as 1000
/// instructions in workerd).
pub const JOB_FUEL: u64 = 1000;

/// Fuel charged per allocation, besides one unit per 64 bytes. At 8, cells that build many
/// small objects (records from `Array.from`, a notebook cell that loops over them) ran at
/// 0.44-0.53x the fuel per CPU second of a loop of operators in workerd; at 12 (and property
/// reads at 6), 0.55-0.56x.
const ALLOC_FUEL: u64 = 12;

/// Fuel charged per object a garbage collection walks (see [`charge_collection`]). At 3, a
/// GC-heavy heap ran at about 0.65x the fuel per CPU second of interpreted code.
const COLLECTED_OBJECT_FUEL: u64 = 6;

/// Fuel charged when native code calls a function (`JsObject::call`): callbacks of builtins
/// (`map`, `sort` comparators, getters) each start a nested run of the VM. At 3, a sort of
/// records by a comparator ran at 0.59x the fuel per CPU second of a loop of operators
/// (engine.wasm in V8); at 10, with the other charges of that calibration, 0.74x.
pub const NATIVE_CALL_FUEL: u64 = 10;

/// Fuel charged when `GetNameGlobal` or `SetName` cannot use a global object's slot and looks
/// the name up in full (their opcode weight is that of the cached access).
pub const NAME_LOOKUP_FUEL: u64 = 8;

/// Fuel charged when `SetPropertyByName` cannot use its inline cache: adding a property to an
/// object (a shape transition, as every `this.x = ..` of a constructor does) or a full lookup.
/// Class-heavy code ran at 0.59x the fuel per CPU second of a loop of operators without it
/// (engine.wasm in V8), 0.73x with it and the other charges of that calibration.
pub const PROPERTY_SET_FUEL: u64 = 8;

/// Fuel charged per call of a builtin (native) function, whose work its caller's instructions
/// do not show: `Map.prototype.set`, `Date` getters, `padStart` ran at about half the fuel per
/// CPU second of interpreted code without it, and at 0.53-0.57x of a loop of operators' at 4
/// (Date, Map/Set, engine.wasm in V8); at 12, 0.70-0.76x.
pub const NATIVE_ENTRY_FUEL: u64 = 12;

/// Fuel charged per property a spread (`{...o}`, `CopyDataProperties`) or `Object.assign`
/// copies: a lookup, a read and a full definition each, about 30x the CPU time of a 1-unit
/// instruction natively. Their flat opcode or call weight let a cell copying large objects run at
/// a 30th of the fuel per CPU second of other code; at 24 per property, at half a loop of
/// operators' (engine.wasm in V8); at 36, 0.71x.
pub const COPY_PROPERTY_FUEL: u64 = 36;

/// Fuel charged per key `Object.keys`, `values` and `entries` look at (a descriptor lookup and
/// a string each): `Object.keys` of a 1000-property object ran at a 15th of the fuel per CPU
/// second of a plain loop natively.
pub const ENUMERATE_KEY_FUEL: u64 = 12;

thread_local! {
    static FUEL: Cell<u64> = const { Cell::new(u64::MAX) };
    static TRIPPED: Cell<Option<Exhausted>> = const { Cell::new(None) };
    /// Fuel left when the budget tripped, so usage can be reported after `trip` zeroes it.
    static FUEL_AT_TRIP: Cell<u64> = const { Cell::new(0) };
    static FORCED_COLLECTIONS: Cell<u32> = const { Cell::new(0) };
    static MEMORY_IN_USE: Cell<usize> = const { Cell::new(0) };
    static MEMORY_BASE: Cell<usize> = const { Cell::new(0) };
    static MEMORY_LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
    static MEMORY_PEAK: Cell<usize> = const { Cell::new(0) };
    /// edge-sandbox patch: fuel of the execution beyond the current segment. With a yield hook
    /// set, `FUEL` holds only the fuel left until the next yield (a moving mark), so the VM's
    /// per-instruction check stays `FUEL == 0`; the slow path refills it from here.
    static RESERVE: Cell<u64> = const { Cell::new(0) };
    static YIELD_EVERY: Cell<u64> = const { Cell::new(0) };
    static YIELD_HOOK: Cell<Option<fn()>> = const { Cell::new(None) };
}

/// edge-sandbox patch: calls `hook` at an instruction boundary about every `every` units of fuel
/// an execution spends (from the next [`begin`] on), so a host can flush output or let its
/// event loop run during a long execution. `every == 0` or no hook turns it off. The hook must
/// not run guest code; allocations it makes are charged like any other.
pub fn set_yield(every: u64, hook: Option<fn()>) {
    YIELD_EVERY.set(if hook.is_some() { every } else { 0 });
    YIELD_HOOK.set(hook);
}

/// edge-sandbox patch: runs `f`, host work during an execution, without charging the execution
/// for what it allocates and frees (as the collector's bookkeeping: no fuel, never growth).
/// Whatever `f` allocates must be freed inside an `uncounted` scope too, or after the execution.
pub fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    boa_gc::bookkeeping(f)
}

/// Fuel left in the execution: the current segment and the reserve.
fn total() -> u64 {
    FUEL.get().saturating_add(RESERVE.get())
}

/// Moves fuel from the reserve so that `units` can be spent now; false if the execution does
/// not have them (the caller trips the budget). Leaves `FUEL` at 0, so the next instruction
/// takes the slow path and yields.
#[cold]
fn spill(units: u64) -> bool {
    if TRIPPED.get().is_some() || total() < units {
        return false;
    }
    RESERVE.set(total() - units);
    FUEL.set(0);
    true
}

/// Starts an execution with `fuel` units of work and `memory` bytes of heap growth.
pub fn begin(fuel: u64, memory: usize) {
    // edge-sandbox patch: with a yield hook, fuel comes in segments (see `RESERVE`).
    let every = YIELD_EVERY.get();
    if every > 0 && fuel > every && fuel != u64::MAX {
        FUEL.set(every);
        RESERVE.set(fuel - every);
    } else {
        FUEL.set(fuel);
        RESERVE.set(0);
    }
    TRIPPED.set(None);
    FUEL_AT_TRIP.set(0);
    FORCED_COLLECTIONS.set(0);
    boa_gc::set_collection_hook(Some(charge_collection));
    let in_use = MEMORY_IN_USE.get();
    MEMORY_BASE.set(in_use);
    MEMORY_PEAK.set(in_use);
    MEMORY_LIMIT.set(memory);
    arm_search();
    // edge-sandbox patch: rope flattens are charged (boa_string's `vtable/rope.rs`).
    boa_string::set_flatten_hook(Some(charge_flatten));
}

/// Ends an execution: lifts the limits and returns why it tripped, if it did.
pub fn end() -> Option<Exhausted> {
    FUEL.set(u64::MAX);
    RESERVE.set(0);
    MEMORY_LIMIT.set(usize::MAX);
    SCAN_START.set(u64::MAX);
    boa_string::set_scan_budget(u64::MAX);
    // Release the regex engine's copy of its last input, so it does not outlive the execution.
    crate::builtins::regexp::clear_widened();
    TRIPPED.take()
}

/// Fuel left (if the budget tripped, what was left when it did).
pub fn fuel() -> u64 {
    if TRIPPED.get().is_some() {
        FUEL_AT_TRIP.get().saturating_add(RESERVE.get())
    } else {
        total()
    }
}

/// Why the budget tripped, if it did.
pub fn tripped() -> Option<Exhausted> {
    TRIPPED.get()
}

/// Largest heap growth seen since [`begin`], in bytes.
pub fn memory_peak() -> usize {
    MEMORY_PEAK.get().saturating_sub(MEMORY_BASE.get())
}

/// Bytes allocated on this thread and not yet freed: every realm's heap, and the host's.
pub fn memory_in_use() -> usize {
    MEMORY_IN_USE.get()
}

/// Heap growth since [`begin`], in bytes (negative growth counts as zero).
pub fn memory_used() -> usize {
    MEMORY_IN_USE.get().saturating_sub(MEMORY_BASE.get())
}

/// Trips the budget for `reason`: the next instruction throws.
pub fn trip(reason: Exhausted) {
    if TRIPPED.get().is_none() {
        FUEL_AT_TRIP.set(if reason == Exhausted::Fuel { 0 } else { FUEL.get() });
        if reason == Exhausted::Fuel {
            // edge-sandbox patch: out of fuel means out of the reserve too.
            RESERVE.set(0);
        }
        TRIPPED.set(Some(reason));
    }
    FUEL.set(0);
}

/// The error thrown once the budget has tripped.
pub fn error() -> JsError {
    match TRIPPED.get().unwrap_or(Exhausted::Fuel) {
        Exhausted::Fuel => RuntimeLimitError::Fuel.into(),
        Exhausted::Memory => RuntimeLimitError::Memory.into(),
        Exhausted::Output => RuntimeLimitError::Output.into(),
    }
}

/// Spends `cost` units of fuel for one VM instruction (its opcode's weight).
#[inline]
pub(crate) fn tick(cost: u64) -> JsResult<()> {
    // edge-sandbox patch: the `unguarded` build (benchmarks only) spends no fuel.
    if cfg!(feature = "unguarded") {
        return Ok(());
    }
    let fuel = FUEL.get();
    if fuel < cost {
        return tick_slow(cost);
    }
    FUEL.set(fuel - cost);
    Ok(())
}

/// The segment ran out: refill it from the reserve and yield, or stop the execution.
#[cold]
fn tick_slow(cost: u64) -> JsResult<()> {
    if TRIPPED.get() == Some(Exhausted::Memory) && collect_and_recheck() {
        return Ok(());
    }
    // edge-sandbox patch: a moving mark; the reserve refills the segment, then the hook runs.
    let left = total();
    if TRIPPED.get().is_none() && RESERVE.get() > 0 && left >= cost {
        let left = left - cost;
        let segment = left.min(YIELD_EVERY.get().max(1));
        FUEL.set(segment);
        RESERVE.set(left - segment);
        if let Some(hook) = YIELD_HOOK.get() {
            // The host's work is not the execution's: what the hook allocates costs no fuel.
            let (fuel, reserve) = (FUEL.get(), RESERVE.get());
            uncounted(hook);
            if TRIPPED.get().is_none() {
                FUEL.set(fuel);
                RESERVE.set(reserve);
            }
        }
        return Ok(());
    }
    trip(Exhausted::Fuel);
    Err(error())
}

/// Most garbage collections one execution may force before its memory limit stands.
const MAX_FORCED_COLLECTIONS: u32 = 16;

/// The memory budget tripped: garbage may be what fills it (the collector is shared by every
/// realm on the thread, and its threshold grows with their heaps, so it may not have run).
/// Collects, at an instruction boundary, and if the heap is back under the limit, resumes.
#[cold]
fn collect_and_recheck() -> bool {
    let forced = FORCED_COLLECTIONS.get();
    if forced >= MAX_FORCED_COLLECTIONS {
        return false;
    }
    FORCED_COLLECTIONS.set(forced + 1);
    boa_gc::force_collect();
    if memory_used() > MEMORY_LIMIT.get() {
        return false;
    }
    TRIPPED.set(None);
    FUEL.set(FUEL_AT_TRIP.get());
    true
}

/// Spends `units` of fuel for work done natively by a builtin.
#[inline]
pub fn charge(units: u64) -> JsResult<()> {
    if cfg!(feature = "unguarded") {
        return Ok(());
    }
    let fuel = FUEL.get();
    if fuel < units || TRIPPED.get().is_some() {
        // edge-sandbox patch: the reserve may still hold enough.
        if spill(units) {
            return Ok(());
        }
        trip(Exhausted::Fuel);
        return Err(error());
    }
    FUEL.set(fuel - units);
    Ok(())
}

/// Charges the work of scanning `len` code units (one unit of fuel per 16).
#[inline]
pub fn charge_scan(len: usize) -> JsResult<()> {
    charge((len as u64 >> 4) + 1)
}

/// Checks, before allocating, that `bytes` more fit in the memory budget.
pub fn reserve(bytes: usize) -> JsResult<()> {
    let fits = || memory_used().saturating_add(bytes) <= MEMORY_LIMIT.get();
    if !fits() && FORCED_COLLECTIONS.get() < MAX_FORCED_COLLECTIONS && TRIPPED.get().is_none() {
        // Garbage may be what fills the budget (see `collect_and_recheck`).
        FORCED_COLLECTIONS.set(FORCED_COLLECTIONS.get() + 1);
        boa_gc::force_collect();
    }
    if !fits() {
        trip(Exhausted::Memory);
        return Err(error());
    }
    Ok(())
}

/// Called by the host's global allocator before it allocates `bytes`; the bytes are counted as
/// in use. Growth past the memory budget trips it, and the VM stops at the next instruction.
#[inline]
pub fn record_alloc(bytes: usize) {
    if cfg!(feature = "unguarded") {
        return;
    }
    // edge-sandbox patch: the collector's own lists are not the execution's (boa_gc patch).
    if boa_gc::in_bookkeeping() {
        MEMORY_IN_USE.set(MEMORY_IN_USE.get().saturating_add(bytes));
        MEMORY_BASE.set(MEMORY_BASE.get().saturating_add(bytes));
        MEMORY_PEAK.set(MEMORY_PEAK.get().saturating_add(bytes));
        return;
    }
    // Allocating (and later collecting) costs CPU that instructions alone do not show: an
    // allocation-heavy loop ran 5x fewer instructions per second than an empty one. Charging
    // each allocation keeps fuel proportional to CPU time.
    let cost = ALLOC_FUEL + (bytes as u64 >> 6);
    let fuel = FUEL.get();
    if fuel != u64::MAX {
        if fuel <= cost {
            // edge-sandbox patch: the reserve may still hold more than the cost.
            if !spill(cost.saturating_add(1)) {
                trip(Exhausted::Fuel);
            } else {
                RESERVE.set(RESERVE.get() + 1);
            }
        } else {
            FUEL.set(fuel - cost);
        }
    }
    let in_use = MEMORY_IN_USE.get().saturating_add(bytes);
    MEMORY_IN_USE.set(in_use);
    if in_use > MEMORY_PEAK.get() {
        MEMORY_PEAK.set(in_use);
    }
    if in_use.saturating_sub(MEMORY_BASE.get()) > MEMORY_LIMIT.get() {
        trip(Exhausted::Memory);
    }
}

/// edge-sandbox patch: a garbage collection during an execution walked `objects` objects.
/// Collections cost CPU in proportion to the whole heap, which instructions and allocations do
/// not show (a loop allocating under a large live heap ran several times fewer fuel units per
/// CPU second than the same loop under a small one), so the execution pays for them too.
fn charge_collection(objects: usize) {
    let fuel = FUEL.get();
    if fuel == u64::MAX || cfg!(feature = "unguarded") {
        return;
    }
    spend_or_trip((objects as u64).saturating_mul(COLLECTED_OBJECT_FUEL));
}

/// Spends `cost` from work that cannot fail where it happens (a collection, a rope flatten):
/// out of fuel only trips the budget, and the VM stops at its next instruction.
fn spend_or_trip(cost: u64) {
    let fuel = FUEL.get();
    if fuel >= cost && TRIPPED.get().is_none() {
        FUEL.set(fuel - cost);
    } else if !spill(cost) {
        trip(Exhausted::Fuel);
    }
}

/// Called by the host's global allocator when memory is freed.
#[inline]
pub fn record_dealloc(bytes: usize) {
    if cfg!(feature = "unguarded") {
        return;
    }
    MEMORY_IN_USE.set(MEMORY_IN_USE.get().saturating_sub(bytes));
    if boa_gc::in_bookkeeping() {
        MEMORY_BASE.set(MEMORY_BASE.get().saturating_sub(bytes));
        MEMORY_PEAK.set(MEMORY_PEAK.get().saturating_sub(bytes));
    }
}

// edge-sandbox patch: helpers for builtins that search, produce or collect natively.

thread_local! {
    static SCAN_START: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// Lets `boa_string` searches compare up to 16 code units per unit of fuel left.
fn arm_search() {
    let units = total().saturating_mul(16);
    SCAN_START.set(units);
    boa_string::set_scan_budget(units);
}

/// Charges the fuel for the code units that `boa_string` searches compared since the last call,
/// and fails if a search ran out of its scan budget (its result is then meaningless). Call after
/// every `index_of`/`last_index_of`.
pub fn charge_search() -> JsResult<()> {
    let left = boa_string::scan_budget();
    let spent = SCAN_START.get().saturating_sub(left);
    if left == 0 {
        trip(Exhausted::Fuel);
        return Err(error());
    }
    charge(spent >> 4)?;
    arm_search();
    Ok(())
}

/// edge-sandbox patch: charges a rope flatten (`boa_string`'s flatten hook): its copy of `units`
/// code units like a scan, and one unit per rope node walked. It runs inside string accesses,
/// which cannot fail, so it only trips the budget (the VM stops at its next instruction);
/// outside an execution it charges nothing. The flat string's allocation is counted by the
/// allocator, within the size `+` reserved for the rope.
fn charge_flatten(units: usize, nodes: usize) {
    if cfg!(feature = "unguarded") || FUEL.get() == u64::MAX {
        return;
    }
    spend_or_trip((units as u64 >> 4) + nodes as u64);
}

/// Charges and reserves for producing a string of `units` UTF-16 code units.
#[inline]
pub fn produce(units: usize) -> JsResult<()> {
    reserve(units.saturating_mul(2))?;
    charge_scan(units)
}

/// Charges one unit of fuel per element for `added` more elements of a collection that then
/// holds `total`, and reserves `bytes_each` bytes for each of the `total`.
#[inline]
pub fn charge_elements(added: u64, total: u64, bytes_each: usize) -> JsResult<()> {
    reserve(usize::try_from(total).unwrap_or(usize::MAX).saturating_mul(bytes_each))?;
    charge(added)
}

/// Charges for appending `added` code units to a buffer that then holds `total`, and reserves
/// the whole buffer (a growing `Vec` briefly holds its old and new storage).
#[inline]
pub fn grow(total: usize, added: usize) -> JsResult<()> {
    reserve(total.saturating_mul(2))?;
    charge_scan(added)
}

/// How deep builtins may recurse natively (nested native calls, proxy and prototype chains,
/// JSON, `join`, `flat`) before they throw a `RangeError`. Sized so that the deepest native
/// frames found fit in an 8 MiB stack in release builds and a 16 MiB one in debug builds.
pub const NATIVE_DEPTH_LIMIT: u32 = 256;

thread_local! {
    static NATIVE_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// One level of native recursion; leaving it (dropping the guard) gives the level back.
#[derive(Debug)]
pub struct DepthGuard(());

impl Drop for DepthGuard {
    fn drop(&mut self) {
        NATIVE_DEPTH.set(NATIVE_DEPTH.get().saturating_sub(1));
    }
}

/// Enters one level of native recursion, or throws a catchable `RangeError` once
/// [`NATIVE_DEPTH_LIMIT`] levels are live (the stack unwinds before a `catch` runs).
#[inline]
pub fn enter() -> JsResult<DepthGuard> {
    let depth = NATIVE_DEPTH.get();
    if depth >= NATIVE_DEPTH_LIMIT {
        return Err(crate::JsNativeError::range()
            .with_message("Maximum call stack size exceeded")
            .into());
    }
    NATIVE_DEPTH.set(depth + 1);
    Ok(DepthGuard(()))
}
