//! `report`, `compare` and `report merge` on real runs through the real binary: the report opens
//! in a real browser (headless Chromium) with its charts drawn; a run compared with itself is
//! unchanged, with a copy of itself made much slower it is a regression (exit 1); two runs
//! merge exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

use results::histogram::{self, Encoded};
use results::run::RunResults;

use crate::common::results::checked;
use crate::common::seeder::Seeder;
use crate::common::text;

/// A short point-read run into `dir` (exit 0 or 1: an SLO may fail on a busy machine).
fn run(s: &Seeder, dir: &Path, seed: &str) -> RunResults {
    let out = s.run(&[
        "run",
        "--mix",
        "point-read",
        "--rate",
        "100",
        "--duration",
        "6s",
        "--warmup",
        "1s",
        "--concurrency",
        "2",
        "--seed",
        seed,
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    checked(dir)
}

/// The same results with every latency lengthened by ten times the run's longest (histograms
/// rebuilt value by value). A shift moves every batch's percentile by the same amount and leaves
/// the run's own noise as it was (doubling would double the noise too), and it is larger than
/// any noise the run can have, so every percentile must be flagged whatever the machine's load.
fn slower(r: &RunResults) -> RunResults {
    let longest = r
        .operations
        .iter()
        .map(|o| o.latency.decode().unwrap().max())
        .max()
        .unwrap();
    let shift = 10 * longest.max(1_000);
    let shifted = |e: &Encoded| {
        let h = e.decode().unwrap();
        let mut out = histogram::empty();
        for v in h.iter_recorded() {
            out.record_n(v.value_iterated_to() + shift, v.count_at_value())
                .unwrap();
        }
        Encoded::new(&out)
    };
    let mut slow = r.clone();
    for op in &mut slow.operations {
        op.latency = shifted(&op.latency);
        op.service = shifted(&op.service);
    }
    for i in &mut slow.intervals {
        for op in i.operations.values_mut() {
            op.latency = shifted(&op.latency);
        }
    }
    slow
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_render_in_a_browser_and_compare_and_merge_work_on_real_runs() {
    let s = Seeder::new().await;
    let seeded = s.run(&["seed", "--scale", "tiny", "--quiet"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let root = std::env::temp_dir().join(format!("{}-report", s.db.name));
    let (a, b) = (root.join("a"), root.join("b"));
    let ra = run(&s, &a, "1");
    let rb = run(&s, &b, "2");

    // report DIR: three files, the HTML opens in Chromium with its charts drawn.
    let out = s.run(&["report", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for f in ["report.html", "summary.md", "junit.xml"] {
        assert!(a.join(f).is_file(), "{f} written");
    }
    screenshot_shows_the_charts(&a.join("report.html"));

    // compare: itself is unchanged; a copy made much slower regressed (exit 1, files written).
    let same = s.run(&[
        "compare",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--out",
        root.join("same").to_str().unwrap(),
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let slow_dir = root.join("slow");
    slower(&ra).write(&slow_dir).unwrap();
    let slow = s.run(&["compare", a.to_str().unwrap(), slow_dir.to_str().unwrap()]);
    assert_eq!(slow.status.code(), Some(1), "{}", text(&slow));
    for figure in ["p50", "p95", "p99"] {
        assert!(
            text(&slow).contains(&format!("REGRESSED point_read {figure}")),
            "{figure}: {}",
            text(&slow)
        );
    }
    let md = std::fs::read_to_string(slow_dir.join("compare.md")).unwrap();
    assert!(md.contains("**REGRESSED**"), "{md}");
    assert!(slow_dir.join("compare.html").is_file());
    // Two real runs of the same build: whatever the machine's noise, the comparison runs.
    let real = s.run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(matches!(real.status.code(), Some(0 | 1)), "{}", text(&real));

    // merge: counts add up, histograms are added exactly, and the merged file is a results file.
    let merged_dir = root.join("merged");
    let m = s.run(&[
        "report",
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        merged_dir.to_str().unwrap(),
    ]);
    assert!(matches!(m.status.code(), Some(0 | 1)), "{}", text(&m));
    let merged = checked(&merged_dir);
    assert_eq!(merged.merged_from.len(), 2);
    assert!(merged_dir.join("report.html").is_file());
    for op in &merged.operations {
        let (oa, ob) = (
            ra.operation(&op.name).unwrap(),
            rb.operation(&op.name).unwrap(),
        );
        assert_eq!(op.scheduled, oa.scheduled + ob.scheduled, "{}", op.name);
        let mut both = oa.latency.decode().unwrap();
        both.add(ob.latency.decode().unwrap()).unwrap();
        assert_eq!(
            op.latency.decode().unwrap(),
            both,
            "{}: exact merge",
            op.name
        );
    }
    std::fs::remove_dir_all(&root).ok();
    s.finish().await;
}

/// Opens the report in headless Chromium, takes a screenshot and checks that it shows the
/// charts: the percentile lines' red and green and the operations' blue must cover real areas
/// of the page, which only drawn SVG charts produce (the tables use none of these colours).
fn screenshot_shows_the_charts(html: &Path) {
    let png: PathBuf = html.with_file_name("screenshot.png");
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok())
        .expect("Chromium is needed for the report's screenshot test: scripts/install-deps.sh installs it");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=1200,4000",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("start Chromium");
    assert!(png.is_file(), "no screenshot: {}", text(&out));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let count = |(r, g, b): (u8, u8, u8)| {
        pixels
            .chunks(channels)
            .filter(|p| p[0].abs_diff(r) < 12 && p[1].abs_diff(g) < 12 && p[2].abs_diff(b) < 12)
            .count()
    };
    let (red, green, blue) = (
        count((214, 39, 40)),
        count((44, 160, 44)),
        count((31, 119, 180)),
    );
    let white = count((255, 255, 255));
    println!(
        "screenshot {}x{}: red {red}, green {green}, blue {blue}, white {white} pixels ({})",
        info.width,
        info.height,
        png.display()
    );
    assert!(white > pixels.len() / channels / 4, "the page rendered");
    assert!(
        red > 100 && green > 100 && blue > 300,
        "the charts are drawn"
    );
}
