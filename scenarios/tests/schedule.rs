//! The operation schedule is part of a run's identity: the same mix, seed and rate must give the
//! same operations at the same intended starts on every machine and in every release (that is
//! what makes two runs comparable and what `--shard` will split). This test holds a digest of
//! the first 1,000 operations of the storefront mix at 100/s, Poisson, seed 1.

use std::time::Duration;

use results::load::Shard;
use scenarios::alarm::Timer;
use scenarios::engine::{first_operations, scheduled, Plan};
use scenarios::pacing::{Arrivals, Pacing, Profile};

#[test]
fn the_storefront_schedule_is_the_same_as_ever() {
    let mix = scenarios::mix::load("storefront").unwrap();
    let weights: Vec<f64> = mix.operations.iter().map(|o| o.weight).collect();
    let plan = Plan {
        pacing: Pacing::Open {
            rate: 100.0,
            arrivals: Arrivals::Poisson,
        },
        profile: Profile::Constant,
        warmup: Duration::ZERO,
        duration: Duration::from_secs(60),
        concurrency: 8,
        seed: 1,
        timeout: Duration::from_secs(10),
        max_lag: Duration::from_secs(5),
        timer: Timer::Runtime,
        shard: Shard::WHOLE,
        start: None,
    };
    let ops = first_operations(&plan, &weights, 1_000);
    assert_eq!(ops.len(), 1_000);
    // Every operation of the mix appears, in about its share.
    for (i, op) in mix.operations.iter().enumerate() {
        let n = ops.iter().filter(|(k, _)| *k == i).count() as f64;
        let share = op.weight / weights.iter().sum::<f64>();
        assert!(n > 0.0 || share < 0.005, "{} never scheduled", op.name);
    }
    let text: String = ops
        .iter()
        .map(|(k, at)| format!("{} {}\n", mix.operations[*k].name, at.as_nanos()))
        .collect();
    let digest = format!("{:016x}", fnv(text.as_bytes()));
    let first: String = text.lines().take(5).collect::<Vec<_>>().join("\n");
    let actual = format!("{first}\n...\nfirst 1000 operations: fnv-1a {digest}\n");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/storefront-schedule.txt");
    if std::env::var_os("SHOPBENCH_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let golden = std::fs::read_to_string(&path).expect("tests/golden/storefront-schedule.txt");
    assert_eq!(
        golden, actual,
        "the schedule changed; if deliberate, rerun with SHOPBENCH_UPDATE_GOLDEN=1"
    );
}

/// Shards 0, 1, 2 of 3 take every third operation of the one-generator schedule: together,
/// operation by operation (sequence number, operation, intended start), they are that schedule.
#[test]
fn three_shards_together_are_the_one_generator_schedule() {
    let mix = scenarios::mix::load("storefront").unwrap();
    let weights: Vec<f64> = mix.operations.iter().map(|o| o.weight).collect();
    let plan = |shard: Shard| Plan {
        pacing: Pacing::Open {
            rate: 300.0,
            arrivals: Arrivals::Poisson,
        },
        profile: Profile::Ramp {
            over: Duration::from_secs(5),
        },
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(10),
        concurrency: 8,
        seed: 5,
        timeout: Duration::from_secs(10),
        max_lag: Duration::from_secs(5),
        timer: Timer::Runtime,
        shard,
        start: None,
    };
    let within = |shard: Shard| -> Vec<(u64, usize, Duration)> {
        scheduled(&plan(shard), &weights)
            .take_while(|(_, _, at)| *at < Duration::from_secs(11))
            .collect()
    };
    let whole = within(Shard::WHOLE);
    assert!(whole.len() > 1_500, "{}", whole.len());
    let mut union: Vec<(u64, usize, Duration)> = (0..3)
        .flat_map(|i| {
            let part = within(Shard::new(i, 3).unwrap());
            assert!(part.iter().all(|(seq, _, _)| seq % 3 == i as u64));
            part
        })
        .collect();
    union.sort_by_key(|(seq, _, _)| *seq);
    assert_eq!(union, whole);
}

/// FNV-1a, 64 bits: written out so the digest itself cannot change with a dependency.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
