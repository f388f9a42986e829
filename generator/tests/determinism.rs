//! Generated data is part of the product: the same seed must give the same rows on every machine
//! and in every release. This test holds a digest of a sample of every table (the first chunk of
//! each PostgreSQL phase, the first rows of each ClickHouse table) at `tiny`, seed 42, so any
//! change in generated data (a dependency's new algorithm, an edit to a generator) fails here and
//! must be made deliberately: rerun with SHOPBENCH_UPDATE_GOLDEN=1 and say why in the commit.

use generator::{Model, Profile, Scale, SeedConfig};

fn tiny(image_base: &str) -> Model {
    Model::new(SeedConfig {
        profile: Profile::of(Scale::Tiny),
        seed: 42,
        as_of_us: 1_764_547_200_000_000, // 2025-12-01
        images: 16,
        image_base: image_base.into(),
        product_zipf: generator::model::PRODUCT_ZIPF,
    })
}

#[test]
fn where_the_images_live_is_not_what_the_data_is() {
    let digest = |base: &str| generator::sample::digest(&generator::sample::tables(&tiny(base)));
    assert_eq!(
        digest("s3://shopbench-images"),
        digest("http://127.0.0.1:41234/shopbench-images")
    );
}

#[test]
fn the_tiny_seed_is_the_same_data_as_ever() {
    let model = tiny("s3://shopbench-images");
    let samples = generator::sample::tables(&model);
    let mut text = String::new();
    for s in &samples {
        assert!(s.rows > 0, "{}: an empty sample", s.table);
        text.push_str(&format!("{} {} {}\n", s.table, s.rows, s.sha256));
    }
    text.push_str(&format!("all {}\n", generator::sample::digest(&samples)));
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/tiny-sample.txt");
    if std::env::var_os("SHOPBENCH_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let golden = std::fs::read_to_string(&path).expect("tests/golden/tiny-sample.txt");
    for (want, got) in golden.lines().zip(text.lines()) {
        assert_eq!(
            want, got,
            "generated data changed (table, rows, SHA-256 of the sample); if deliberate, rerun with SHOPBENCH_UPDATE_GOLDEN=1"
        );
    }
    assert_eq!(
        golden.lines().count(),
        text.lines().count(),
        "tables added or removed"
    );
}
