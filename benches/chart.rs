//! `cargo bench --bench chart`: draws the timeline of a generated program of 200 milestones
//! (the one tenth of `fixture::Size::FULL`: 20 projects, 500 dependencies, 100 risks) and
//! prints the median time against two baselines measured in the same run: the analysis it
//! reads (forecasts, critical path, health) and encoding a blank PNG of the same size. Then
//! the other three charts, for the record.
//!
//! Target: the timeline in ≤ 100 ms. The last line is one JSON object of the figures.
//! `DRUMBEAT_BENCH_RUNS=N` changes the runs (median reported).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use drumbeat::analysis::Analysed;
use drumbeat::chart::{self, Input};
use drumbeat::domain::{ChartKind, Key, Tenant};
use drumbeat::fixture::{self, Size};
use drumbeat::store::{self, Options, Store};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = f();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    (median(times), out)
}

fn main() {
    let runs: usize = std::env::var("DRUMBEAT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = Options::new(dir.path().join("bench.db"));
        let store = Store::open(&settings).await.expect("open");
        let tenant = Tenant::local();
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
        let size = Size::TENTH;
        fixture::generate(&store, &tenant, "big", size, now)
            .await
            .expect("generate");
        let mut tx = store.read().await.expect("read");
        let (scope, program) = store::find_program(&mut tx, &tenant, &Key::parse("big").unwrap())
            .await
            .expect("lookup")
            .expect("generated program");
        let snap = store::load_snapshot(&mut tx, &scope, program, now, Some(now))
            .await
            .expect("snapshot");

        let (analyse, _) = time(runs, || Analysed::of(&snap));
        let a = Analysed::of(&snap);
        let (timeline, png) = time(runs, || chart::render(Input::Timeline, &a).expect("timeline"));
        let header = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .expect("a PNG");
        let (w, h) = (header.info().width, header.info().height);
        let white = vec![255u8; w as usize * h as usize * 3];
        let (blank, _) = time(runs, || chart::encode(w, h, &white).expect("encode"));
        let (risks, _) = time(runs, || chart::render(Input::Risks, &a).expect("risks"));
        let (deps, _) = time(runs, || chart::render(Input::Deps, &a).expect("deps"));
        let mut trend_times = Vec::new();
        for _ in 0..=runs {
            let t = Instant::now();
            let kinds = [ChartKind::Trend];
            let since = chart::history_since(&a, &kinds, chart::DEFAULT_WEEKS).expect("a trend");
            let history = store::status_history(&mut tx, &scope, since)
                .await
                .expect("history");
            chart::draw_from(&a, &kinds, chart::DEFAULT_WEEKS, Some(&history)).expect("trend");
            trend_times.push(t.elapsed());
        }
        let trend = median(trend_times);
        tx.commit().await.expect("commit");

        let drawn = a
            .snap
            .milestones
            .len()
            .min(drumbeat::chart::TIMELINE_MAX_ROWS);
        println!(
            "timeline of {} milestones ({drawn} drawn, {w}x{h} px, {} KB): {:.2} ms (median of {runs})",
            size.milestones,
            png.len() / 1024,
            ms(timeline)
        );
        println!(
            "  baselines: the analysis alone {:.2} ms ({:.1}x); a blank PNG of the same size {:.2} ms ({:.1}x)",
            ms(analyse),
            timeline.as_secs_f64() / analyse.as_secs_f64(),
            ms(blank),
            timeline.as_secs_f64() / blank.as_secs_f64()
        );
        println!(
            "  target 100 ms: {}",
            if ms(timeline) <= 100.0 { "met" } else { "NOT met" }
        );
        println!(
            "other charts: risks {:.2} ms, deps {:.2} ms, trend {:.2} ms (with its status history)",
            ms(risks),
            ms(deps),
            ms(trend)
        );
        println!(
            "{}",
            serde_json::json!({
                "runs": runs,
                "milestones": size.milestones,
                "timeline_ms": ms(timeline),
                "analysis_ms": ms(analyse),
                "blank_png_ms": ms(blank),
                "ratio_to_analysis": ((timeline.as_secs_f64() / analyse.as_secs_f64()) * 100.0).round() / 100.0,
                "ratio_to_blank_png": ((timeline.as_secs_f64() / blank.as_secs_f64()) * 100.0).round() / 100.0,
                "risks_ms": ms(risks),
                "deps_ms": ms(deps),
                "trend_ms": ms(trend),
                "width": w,
                "height": h,
                "target_ms": 100,
            })
        );
        store.close().await;
    });
}
