//! When things happen: an hourly intensity over the seeded period with growth, daily and weekly
//! cycles and holiday peaks; times are drawn by inverse transform on its cumulative sum.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};

const HOUR_US: i64 = 3_600_000_000;

/// Relative traffic per hour of day (UTC is the stores' local time here): quiet nights, an
/// evening peak.
const DAILY: [f64; 24] = [
    0.35, 0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.55, 0.75, 0.9, 1.0, 1.05, 1.1, 1.05, 1.0, 1.0, 1.05,
    1.15, 1.3, 1.45, 1.5, 1.4, 1.0, 0.6,
];

/// Relative traffic per weekday, Monday first.
const WEEKLY: [f64; 7] = [1.0, 0.96, 0.97, 1.0, 1.07, 1.12, 1.1];

/// Total growth of traffic from the first to the last hour.
pub const GROWTH: f64 = 2.5;

#[derive(Debug, Clone)]
pub struct Timeline {
    start_us: i64,
    hours: usize,
    /// cum[h] = total weight of hours 0..=h
    cum: Vec<f64>,
}

/// The holiday multiplier of a day: Black Friday and Cyber Monday, the pre-Christmas season, a
/// mid-July sale; quiet Christmas days.
pub fn holiday(date: NaiveDate) -> f64 {
    let (m, d) = (date.month(), date.day());
    // Thanksgiving: the fourth Thursday of November.
    let nov1 = NaiveDate::from_ymd_opt(date.year(), 11, 1).expect("valid date");
    let offset = (7 + Weekday::Thu.num_days_from_monday() as i64
        - nov1.weekday().num_days_from_monday() as i64)
        % 7;
    let thanksgiving = nov1 + chrono::Duration::days(offset + 21);
    let black_friday = thanksgiving + chrono::Duration::days(1);
    let cyber_monday = thanksgiving + chrono::Duration::days(4);
    if date == black_friday {
        3.5
    } else if date == cyber_monday {
        2.8
    } else if date > thanksgiving && date < cyber_monday {
        2.0
    } else if (m == 12 && (24..=26).contains(&d)) || (m == 1 && d == 1) {
        0.6
    } else if (m == 11 && d >= 20) || (m == 12 && d <= 20) {
        1.4
    } else if m == 7 && (11..=12).contains(&d) {
        1.8
    } else {
        1.0
    }
}

impl Timeline {
    /// The `hours` hours ending at `end_us` (Unix microseconds, rounded down to the hour).
    pub fn new(end_us: i64, hours: usize) -> Self {
        let end_us = end_us - end_us.rem_euclid(HOUR_US);
        let start_us = end_us - hours as i64 * HOUR_US;
        let mut cum = Vec::with_capacity(hours);
        let mut acc = 0.0;
        for h in 0..hours {
            let t = Utc.timestamp_micros(start_us + h as i64 * HOUR_US).unwrap();
            acc += Self::weight_at(&t, h as f64 / hours as f64);
            cum.push(acc);
        }
        Timeline {
            start_us,
            hours,
            cum,
        }
    }

    fn weight_at(t: &DateTime<Utc>, progress: f64) -> f64 {
        GROWTH.powf(progress)
            * DAILY[t.hour() as usize]
            * WEEKLY[t.weekday().num_days_from_monday() as usize]
            * holiday(t.date_naive())
    }

    pub fn start_us(&self) -> i64 {
        self.start_us
    }

    pub fn end_us(&self) -> i64 {
        self.start_us + self.hours as i64 * HOUR_US
    }

    pub fn hours(&self) -> usize {
        self.hours
    }

    /// Weight of hour `h` (its share of the total is weight / total).
    pub fn hour_weight(&self, h: usize) -> f64 {
        self.cum[h] - if h == 0 { 0.0 } else { self.cum[h - 1] }
    }

    pub fn hour_start_us(&self, h: usize) -> i64 {
        self.start_us + h as i64 * HOUR_US
    }

    /// The cumulative share of the timeline before `t_us` (0 at the start, 1 at the end).
    pub fn cdf(&self, t_us: i64) -> f64 {
        if t_us <= self.start_us {
            return 0.0;
        }
        if t_us >= self.end_us() {
            return 1.0;
        }
        let h = ((t_us - self.start_us) / HOUR_US) as usize;
        let within = ((t_us - self.start_us) % HOUR_US) as f64 / HOUR_US as f64;
        let before = if h == 0 { 0.0 } else { self.cum[h - 1] };
        (before + within * self.hour_weight(h)) / self.cum[self.hours - 1]
    }

    /// The instant at cumulative share `u` in [0, 1), to the microsecond.
    pub fn at(&self, u: f64) -> i64 {
        let total = self.cum[self.hours - 1];
        let target = u.clamp(0.0, 1.0) * total;
        let h = self
            .cum
            .partition_point(|&c| c <= target)
            .min(self.hours - 1);
        let before = if h == 0 { 0.0 } else { self.cum[h - 1] };
        let within = ((target - before) / self.hour_weight(h)).clamp(0.0, 0.999_999_9);
        self.hour_start_us(h) + (within * HOUR_US as f64) as i64
    }

    /// An instant drawn from the timeline after `not_before_us`, from uniform `u`.
    pub fn after(&self, not_before_us: i64, u: f64) -> i64 {
        let lo = self.cdf(not_before_us);
        self.at(lo + (1.0 - lo) * u)
            .max(not_before_us.min(self.end_us() - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_friday_is_the_peak_day() {
        assert_eq!(holiday(NaiveDate::from_ymd_opt(2025, 11, 28).unwrap()), 3.5);
        assert_eq!(holiday(NaiveDate::from_ymd_opt(2024, 11, 29).unwrap()), 3.5);
        assert_eq!(holiday(NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()), 1.0);
    }

    #[test]
    fn draws_grow_over_time_and_stay_inside() {
        let end = 1_767_225_600_000_000; // 2026-01-01
        let tl = Timeline::new(end, 3 * 365 * 24);
        let n = 20_000;
        let mut first_year = 0;
        let mut last_year = 0;
        for i in 0..n {
            let t = tl.at((i as f64 + 0.5) / n as f64);
            assert!(t >= tl.start_us() && t < tl.end_us());
            if t < tl.start_us() + 365 * 24 * HOUR_US {
                first_year += 1;
            }
            if t >= tl.end_us() - 365 * 24 * HOUR_US {
                last_year += 1;
            }
        }
        assert!(
            last_year as f64 > first_year as f64 * 1.6,
            "{first_year} {last_year}"
        );
        let mid = tl.start_us() + 400 * 24 * HOUR_US;
        for i in 0..100 {
            assert!(tl.after(mid, i as f64 / 100.0) >= mid);
        }
    }
}
