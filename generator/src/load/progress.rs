//! Progress: a bar per table (indicatif) with rows/s and ETA, or nothing (`--quiet`), or one
//! JSON object per finished phase (`seed --json`, for CI logs).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bars,
    Quiet,
    Json,
}

pub struct Progress {
    mode: Mode,
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Progress {
    pub fn new(mode: Mode) -> Self {
        let multi = MultiProgress::with_draw_target(match mode {
            Mode::Bars => ProgressDrawTarget::stderr_with_hz(4),
            _ => ProgressDrawTarget::hidden(),
        });
        Progress {
            mode,
            multi,
            bars: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Adds a bar for `table` expecting `total` rows, `done` of them already loaded.
    pub fn table(&self, table: &str, total: u64, done: u64) {
        let bar = self.multi.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:<28} {bar:30} {human_pos:>12}/{human_len:<12} {per_sec:>14} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(table.to_string());
        bar.set_position(done);
        bar.enable_steady_tick(Duration::from_millis(500));
        self.bars
            .lock()
            .expect("progress lock")
            .insert(table.to_string(), bar);
    }

    pub fn add(&self, table: &str, rows: u64) {
        if let Some(bar) = self.bars.lock().expect("progress lock").get(table) {
            bar.inc(rows);
        }
    }

    pub fn finish(&self, table: &str) {
        if let Some(bar) = self.bars.lock().expect("progress lock").get(table) {
            bar.finish();
        }
    }

    /// A line above the bars (or on stderr when there are none), unless quiet.
    pub fn say(&self, line: &str) {
        match self.mode {
            Mode::Bars => {
                let _ = self.multi.println(line);
            }
            Mode::Json => {}
            Mode::Quiet => {}
        }
    }

    /// Something went wrong and the seed carries on: a line above the bars, a `warning` event
    /// in JSON mode, a line on stderr when quiet (never silent).
    pub fn warn(&self, line: &str) {
        match self.mode {
            Mode::Bars => {
                let _ = self.multi.println(format!("warning: {line}"));
            }
            Mode::Json => self.event(serde_json::json!({"event": "warning", "message": line})),
            Mode::Quiet => eprintln!("warning: {line}"),
        }
    }

    /// A JSON event line on stdout in JSON mode.
    pub fn event(&self, value: serde_json::Value) {
        if self.mode == Mode::Json {
            println!("{value}");
        }
    }

    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}
