//! Runs one benchmark program natively through the session engine (notebook rewrite, budget and
//! all), for profiling the engine with `perf` outside Wasm:
//!
//!   cargo build --profile profiling --example engine_profile
//!   perf record -g target/profiling/examples/engine_profile 'function fib(n) { ... } fib(25)' 5
//!
//! Prints the completion, the fuel spent and the median time of the repetitions.
use std::time::Instant;

use edge_sandbox::engine::{Engine, Limits};

fn main() {
    let mut args = std::env::args().skip(1);
    let code = args
        .next()
        .expect("usage: engine_profile <code> [repeats] [limits json]");
    let repeats: usize = args.next().map_or(3, |n| n.parse().expect("repeats"));
    let limits: Limits = args.next().map_or_else(Limits::default, |j| {
        serde_json::from_str(&j).expect("limits json")
    });
    let mut times = Vec::new();
    for _ in 0..repeats {
        let mut engine = Engine::new(42, limits).expect("engine");
        let start = Instant::now();
        let out = engine.execute(&code, 1_700_000_000_000.0);
        times.push(start.elapsed().as_secs_f64() * 1e3);
        println!(
            "{:?} value={} error={:?} {:?}",
            out.status,
            out.value,
            out.error.as_ref().map(|e| format!("{e:?}")),
            out.usage
        );
    }
    times.sort_by(f64::total_cmp);
    println!("median {:.2} ms of {:?}", times[times.len() / 2], times);
}
