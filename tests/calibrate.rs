//! `calibrate` through the real binary against a seeded database and the machine's pgbench: both
//! sides measured on the same statements, the figures written and read back, the exit code the
//! verdict's; without a seed or with a bad flag, bad input. Nothing here asserts a duration or a
//! ratio: which side is faster is the machine's business, what must hold is that both were
//! measured and the numbers add up.

use results::calibration::{Calibration, Target};

use crate::common::seeder::Seeder;
use crate::common::text;

#[tokio::test(flavor = "multi_thread")]
async fn calibrate_measures_both_sides_and_writes_what_it_judged() {
    let s = Seeder::new().await;
    let seeded = s.run(&["seed", "--scale", "tiny", "--quiet"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let out = std::env::temp_dir().join(format!("{}-calibrate", s.db.name));
    let o = s.run(&[
        "calibrate",
        "--duration",
        "2s",
        "--rate",
        "100",
        "--rounds",
        "1",
        "--connections",
        "2",
        "--client-threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let printed = text(&o);
    let c: Calibration =
        serde_json::from_slice(&std::fs::read(out.join("calibration.json")).unwrap())
            .unwrap_or_else(|e| panic!("calibration.json: {e}\n{printed}"));
    // The exit code is the verdict: 0 every target met, 1 one missed.
    assert_eq!(
        o.status.code(),
        Some(if c.pass() { 0 } else { 1 }),
        "{printed}"
    );
    assert_eq!((c.connections, c.client_threads, c.seconds), (2, 1, 2));
    assert_eq!(c.scale, "tiny");
    assert!(c.pgbench.starts_with("pgbench"), "{}", c.pgbench);
    assert_eq!(c.open.len(), 1);
    let open = &c.open[0];
    assert_eq!(open.rate, 100.0);
    // 2 s at 100/s, Poisson: about 200 operations on each side (a count far from it would mean
    // a side did not run at that rate), each histogram holding every one of them.
    for (side, figures) in [("pgbench", &open.pgbench), ("shopbench", &open.shopbench)] {
        let n = figures.latency.count;
        assert!((100..400).contains(&n), "{side}: {n} operations\n{printed}");
        assert_eq!(figures.lag.count, n, "{side}: a start lag per operation");
        assert_eq!(figures.latency.decode().unwrap().len(), n);
        assert!(figures.latency.p50_us > 0 && figures.cpu_us > 0.0, "{side}");
        assert!(
            figures.latency.p50_us <= figures.latency.p99_us,
            "{side}: percentiles in order"
        );
    }
    assert_eq!(open.checks().len(), 4);
    let closed = c.closed.as_ref().expect("one closed round");
    assert_eq!(closed.rounds.len(), 1);
    let round = closed.rounds[0];
    for side in [round.shopbench, round.pgbench, round.bare] {
        assert!(side.per_s > 0.0 && side.cpu_us > 0.0, "{round:?}");
    }
    let checks = c.checks();
    assert_eq!(checks.len(), 5);
    assert_eq!(checks[4].target, Target::ClosedRatio);
    // What was printed is what was written.
    assert!(
        printed.contains(&format!("({} done)", open.pgbench.latency.count))
            && printed.contains(&format!("({} done)", open.shopbench.latency.count)),
        "{printed}"
    );
    // pgbench got the password through its environment: nothing printed holds it.
    let password =
        s.db.target
            .app
            .expose()
            .password()
            .unwrap_or("")
            .to_string();
    if !password.is_empty() {
        assert!(!printed.contains(&password), "{printed}");
    }
    let _ = std::fs::remove_dir_all(&out);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn calibrating_without_a_seed_is_bad_input() {
    let s = Seeder::new().await;
    let o = s.run(&["calibrate", "--duration", "1s", "--rounds", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("seed"),
        "{}",
        text(&o)
    );
    s.finish().await;
}
