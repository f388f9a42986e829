//! Generation alone: rows encoded to COPY BINARY in memory, per big table, one core.
//! Throughput is the table's rows; the order tables include computing each order's lifecycle,
//! since an order line cannot be made without its order. Target: ≥ 2M rows/s per core.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use generator::rows::{Batch, Table};
use generator::{Model, Phase, Profile, Scale, SeedConfig};

fn model() -> Model {
    Model::new(SeedConfig {
        profile: Profile::of(Scale::Small),
        seed: 42,
        as_of_us: 1_764_547_200_000_000,
        images: 16,
        image_base: "s3://shopbench-images".into(),
        product_zipf: generator::model::PRODUCT_ZIPF,
    })
}

fn encode(c: &mut Criterion) {
    let m = model();
    let mut group = c.benchmark_group("encode");
    group.sample_size(20);
    let cases: [(Phase, Table); 6] = [
        (Phase::Orders, Table::Orders),
        (Phase::Orders, Table::OrderItems),
        (Phase::Orders, Table::PaymentTransactions),
        (Phase::Users, Table::Users),
        (Phase::Catalog, Table::Products),
        (Phase::Events, Table::Events),
    ];
    for (phase, table) in cases {
        let chunk = if phase == Phase::Orders { 3 } else { 0 };
        let rows = {
            let mut b = Batch::new(&[table]);
            generate_into(&m, phase, chunk, &mut b);
            b.rows()
        };
        group.throughput(Throughput::Elements(rows));
        group.bench_function(BenchmarkId::new(table.name(), rows), |bench| {
            bench.iter(|| {
                let mut b = Batch::new(&[table]);
                generate_into(&m, phase, chunk, &mut b);
                b.finish();
                b.bytes()
            })
        });
    }
    // The whole orders phase: all six tables of a chunk together, as the loader makes them.
    let all = Phase::Orders.generate(&m, 3);
    group.throughput(Throughput::Elements(all.rows()));
    group.bench_function(
        BenchmarkId::new("orders_phase_all_tables", all.rows()),
        |bench| bench.iter(|| Phase::Orders.generate(&m, 3).bytes()),
    );
    group.finish();
}

fn generate_into(m: &Model, phase: Phase, chunk: u64, batch: &mut Batch) {
    let range = phase.range(m, chunk);
    match phase {
        Phase::Orders => generator::rows::orders::orders(m, range, batch),
        Phase::Users => generator::rows::users::users(m, range, batch),
        Phase::Catalog => generator::rows::catalog::products(m, range, batch),
        Phase::Events => generator::rows::events::events(m, range, batch),
        _ => unreachable!(),
    }
}

criterion_group!(benches, encode);
criterion_main!(benches);
