//! The calibration as text (`shopbench calibrate`'s output and the parity bench's): each rate's
//! percentiles and start lag beside pgbench's with the ratios, the closed rounds and their
//! medians, every target with PASS or FAIL. Reads the judged checks; judges nothing.

use std::fmt::Write;

use results::calibration::{Calibration, Check, Closed, Round};

fn verdict(c: &Check) -> &'static str {
    match c.pass {
        true => "PASS",
        false => "FAIL",
    }
}

fn targets(checks: &[Check]) -> String {
    checks
        .iter()
        .map(|c| format!("{} {}", c.target.label(), verdict(c)))
        .collect::<Vec<_>>()
        .join("   ")
}

/// The whole calibration, one table per rate and one for the closed model.
pub fn text(c: &Calibration) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "calibration: point_read vs {}, same statements and round trips, scale {}, {} connections on {} client threads, {} s per run, {} cores",
        c.pgbench, c.scale, c.connections, c.client_threads, c.seconds, c.cores
    );
    for o in &c.open {
        let _ = writeln!(
            s,
            "\nopen model, {}/s (Poisson)   latency p50    p90      p99     start lag p50  p99    client CPU/op",
            o.rate
        );
        for (name, side) in [("pgbench -R", &o.pgbench), ("shopbench", &o.shopbench)] {
            let (l, g) = (&side.latency, &side.lag);
            let _ = writeln!(
                s,
                "  {name:<28} {:>7.3} ms {:>7.3} ms {:>7.3} ms {:>7} µs {:>6} µs {:>7.1} µs   ({} done)",
                l.p50_us as f64 / 1e3,
                l.p90_us as f64 / 1e3,
                l.p99_us as f64 / 1e3,
                g.p50_us,
                g.p99_us,
                side.cpu_us,
                l.count
            );
        }
        let [r50, r90, r99] = o.ratios();
        let _ = writeln!(
            s,
            "  {:<28} {r50:>7.2}×    {r90:>7.2}×    {r99:>7.2}×",
            "shopbench / pgbench"
        );
        let _ = writeln!(
            s,
            "  pacing: {:.1} µs per operation waited out by yielding before the intended start",
            o.pacing_us
        );
        let _ = writeln!(s, "  targets: {}", targets(&o.checks()));
    }
    if let Some(closed) = &c.closed {
        closed_text(&mut s, c.connections, closed);
    }
    let _ = writeln!(
        s,
        "\ncalibration: {}",
        match c.pass() {
            true => "every target met",
            false => "a target was missed",
        }
    );
    s
}

fn closed_text(s: &mut String, connections: u32, closed: &Closed) {
    let _ = writeln!(
        s,
        "\nclosed model, {connections} connections, no think time, {} alternating rounds of {} s",
        closed.rounds.len(),
        closed.round_seconds
    );
    for (k, r) in closed.rounds.iter().enumerate() {
        let _ = writeln!(
            s,
            "  round {:>2}: shopbench {:>7.0}/s ({:.1} µs CPU/op)   pgbench {:>7.0}/s ({:.1} µs)   bare driver {:>7.0}/s ({:.1} µs)   {:.2}×",
            k + 1,
            r.shopbench.per_s,
            r.shopbench.cpu_us,
            r.pgbench.per_s,
            r.pgbench.cpu_us,
            r.bare.per_s,
            r.bare.cpu_us,
            Closed::ratio(r)
        );
    }
    let _ = writeln!(
        s,
        "  medians                     throughput       client CPU/op"
    );
    type Pick = fn(&Round) -> results::calibration::ClosedSide;
    let sides: [(&str, Pick); 3] = [
        ("pgbench -M prepared", |r| r.pgbench),
        ("shopbench", |r| r.shopbench),
        ("bare driver (libpq on tokio)", |r| r.bare),
    ];
    for (name, side) in sides {
        let _ = writeln!(
            s,
            "  {name:<28} {:>8.0}/s {:>9.1} µs",
            closed.median(|r| side(r).per_s),
            closed.median(|r| side(r).cpu_us)
        );
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let _ = writeln!(
        s,
        "  bare driver / pgbench {:.2}×: the driver's floor; shopbench / bare driver {:.2}×: the engine's own cost",
        closed.median(|r| ratio(r.bare.per_s, r.pgbench.per_s)),
        closed.median(|r| ratio(r.shopbench.per_s, r.bare.per_s))
    );
    let cpu = closed.interval(Closed::cpu_ratio);
    let _ = writeln!(
        s,
        "  client CPU per operation, shopbench / pgbench (median of the rounds' ratios) {:.2}× ({:.0}% confidence interval {:.2}–{:.2}×)",
        cpu.median,
        cpu.coverage * 100.0,
        cpu.low,
        cpu.high
    );
    let m = closed.interval(Closed::ratio);
    let check = closed.check();
    let _ = writeln!(
        s,
        "  shopbench / pgbench (median of the rounds' ratios) {:.2}× ({:.0}% confidence interval of the median {:.2}–{:.2}×)   target {} {}",
        m.median,
        m.coverage * 100.0,
        m.low,
        m.high,
        check.target.label(),
        verdict(&check)
    );
}
