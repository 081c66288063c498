//! `cargo bench --bench import`: `import-csv` of 2,000 milestones and 5,000 dependencies
//! into a fresh SQLite database, against the ≤ 2 s target; first the same at one fifth of
//! the size, to show how the cost grows. `DRUMBEAT_BENCH_SMALL=1` runs only the small size.

#[path = "support/import.rs"]
mod import;

fn main() {
    let small_only = std::env::var("DRUMBEAT_BENCH_SMALL").is_ok_and(|s| s.trim() == "1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let small = rt.block_on(import::measure_import_at(400, 1_000));
    println!(
        "one fifth (400 milestones, 1,000 dependencies): {:.0} ms ({})",
        small.measured.as_secs_f64() * 1000.0,
        small.detail
    );
    if small_only {
        return;
    }
    let full = import::measure_import();
    println!("{} ({})", full.line(), full.detail);
    println!(
        "{}",
        serde_json::json!({
            "import_ms": full.measured.as_millis() as u64,
            "import_target_ms": full.target.as_millis() as u64,
            "fifth_ms": small.measured.as_millis() as u64,
        })
    );
}
