//! What reading and rendering results costs: HDR recording and exact merges, results.json
//! serialization both ways, and rendering report.html / summary.md / junit.xml and a
//! comparison, for the recorded 20-second storefront run and for a 10-minute run (the same
//! seconds repeated thirty times: 600 intervals × 13 operations). Target: a 10-minute report in
//! well under a second.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use reports::compare::{self, Thresholds};
use reports::{html, junit, markdown};
use results::histogram::{self, Encoded};
use results::run::Interval;
use results::RunResults;

fn fixture() -> RunResults {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/storefront.json");
    RunResults::read(&path).expect("the recorded storefront run")
}

/// The recorded run stretched to `seconds` by repeating its intervals.
fn stretched(seconds: u32) -> RunResults {
    let mut r = fixture();
    let base: Vec<Interval> = r.intervals.clone();
    let n = base.len() as u32;
    r.intervals = (0..seconds)
        .map(|t| {
            let mut i = base[(t % n) as usize].clone();
            i.t_s = t + 1;
            i
        })
        .collect();
    r.measured_s = seconds as f64;
    r
}

fn histograms(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram");
    let values: Vec<u64> = (0..1_000_000u64)
        .map(|i| 200 + (i * 7919) % 900_000)
        .collect();
    g.throughput(Throughput::Elements(values.len() as u64));
    g.bench_function("record 1M", |b| {
        b.iter(|| {
            let mut h = histogram::empty();
            for v in &values {
                h.record(*v).unwrap();
            }
            black_box(h.len())
        })
    });
    let r = stretched(600);
    let parts: Vec<&Encoded> = r
        .intervals
        .iter()
        .filter_map(|i| i.operations.get("browse"))
        .map(|o| &o.latency)
        .collect();
    g.throughput(Throughput::Elements(parts.len() as u64));
    g.bench_function("merge 600 encoded intervals", |b| {
        b.iter(|| black_box(histogram::merge(parts.iter().copied()).unwrap().count))
    });
    g.finish();
}

fn serialization(c: &mut Criterion) {
    let mut g = c.benchmark_group("results");
    for (name, r) in [("20 s", fixture()), ("10 min", stretched(600))] {
        let text = serde_json::to_string(&r).unwrap();
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("serialize", name), &r, |b, r| {
            b.iter(|| black_box(serde_json::to_vec(r).unwrap().len()))
        });
        g.bench_with_input(BenchmarkId::new("deserialize", name), &text, |b, t| {
            b.iter(|| black_box(serde_json::from_str::<RunResults>(t).unwrap().measured_s))
        });
    }
    g.finish();
}

fn rendering(c: &mut Criterion) {
    let mut g = c.benchmark_group("render");
    g.sample_size(20);
    for (name, r) in [("20 s", fixture()), ("10 min", stretched(600))] {
        g.bench_with_input(BenchmarkId::new("report.html", name), &r, |b, r| {
            b.iter(|| black_box(html::render(r).unwrap().len()))
        });
        g.bench_with_input(
            BenchmarkId::new("summary.md + junit.xml", name),
            &r,
            |b, r| b.iter(|| black_box(markdown::render(r).len() + junit::render(r).len())),
        );
        g.bench_with_input(BenchmarkId::new("compare", name), &r, |b, r| {
            b.iter(|| {
                let c = compare::compare(r, r, ("a", "b"), Thresholds::default()).unwrap();
                black_box(compare::html(&c).len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, histograms, serialization, rendering);
criterion_main!(benches);
