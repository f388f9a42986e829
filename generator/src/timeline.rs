//! When things happen: an hourly intensity over the seeded period with growth, daily and weekly
//! cycles and holiday peaks; times are drawn by inverse transform on its cumulative sum.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};

const HOUR_US: i64 = 3_600_000_000;

pub use crate::calibration::GROWTH;
use crate::calibration::{
    BLACK_FRIDAY, CYBER_MONDAY, CYBER_WEEKEND, DAILY, QUIET_DAYS, SEASON_LEVEL, SUMMER_SALE,
    THANKSGIVING, WEEKLY,
};

#[derive(Debug, Clone)]
pub struct Timeline {
    start_us: i64,
    hours: usize,
    /// cum[h] = total weight of hours 0..=h
    cum: Vec<f64>,
}

/// The days of a year's Black Friday week that carry published figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyberWeek {
    pub thanksgiving: NaiveDate,
    pub black_friday: NaiveDate,
    pub cyber_monday: NaiveDate,
}

impl CyberWeek {
    pub fn of(year: i32) -> Self {
        // Thanksgiving: the fourth Thursday of November.
        let nov1 = NaiveDate::from_ymd_opt(year, 11, 1).expect("valid date");
        let offset = (7 + Weekday::Thu.num_days_from_monday() as i64
            - nov1.weekday().num_days_from_monday() as i64)
            % 7;
        let thanksgiving = nov1 + chrono::Duration::days(offset + 21);
        CyberWeek {
            thanksgiving,
            black_friday: thanksgiving + chrono::Duration::days(1),
            cyber_monday: thanksgiving + chrono::Duration::days(4),
        }
    }
}

fn weekday_factor(date: NaiveDate) -> f64 {
    let mean = WEEKLY.iter().sum::<f64>() / 7.0;
    WEEKLY[date.weekday().num_days_from_monday() as usize] / mean
}

fn in_season(date: NaiveDate) -> bool {
    date.month() >= 11
}

fn quiet(date: NaiveDate) -> bool {
    let (m, d) = (date.month(), date.day());
    (m == 12 && (24..=26).contains(&d)) || (m == 1 && d == 1)
}

/// A named day's multiplier of an ordinary day, whatever its weekday (the published figures are
/// whole days), or None for the other days.
fn named(date: NaiveDate) -> Option<f64> {
    let week = CyberWeek::of(date.year());
    if date == week.thanksgiving {
        Some(THANKSGIVING * SEASON_LEVEL)
    } else if date == week.black_friday {
        Some(BLACK_FRIDAY * SEASON_LEVEL)
    } else if date > week.black_friday && date < week.cyber_monday {
        Some(CYBER_WEEKEND * SEASON_LEVEL)
    } else if date == week.cyber_monday {
        Some(CYBER_MONDAY * SEASON_LEVEL)
    } else if quiet(date) {
        Some(QUIET_DAYS * weekday_factor(date))
    } else {
        None
    }
}

/// The level of the season's other days, so that the season's days average `SEASON_LEVEL` of an
/// ordinary day (computed for the season of `year`: its named days fall on different dates).
fn season_other_level(year: i32) -> f64 {
    let first = NaiveDate::from_ymd_opt(year, 11, 1).expect("valid date");
    let days = 61;
    let (mut named_sum, mut others) = (0.0, 0.0);
    for d in 0..days {
        let date = first + chrono::Duration::days(d);
        match named(date) {
            Some(w) => named_sum += w,
            None => others += weekday_factor(date),
        }
    }
    (SEASON_LEVEL * days as f64 - named_sum) / others
}

/// A day's traffic against an ordinary day's (the weekday included): Cyber Monday the peak,
/// Black Friday next, the holiday season above the rest of the year, quiet Christmas days, a
/// mid-July sale. Every figure and its source: `calibration.rs`.
pub fn day_weight(date: NaiveDate) -> f64 {
    if let Some(w) = named(date) {
        return w;
    }
    let (m, d) = (date.month(), date.day());
    let level = if in_season(date) {
        season_other_level(date.year())
    } else if m == 7 && (11..=12).contains(&d) {
        SUMMER_SALE
    } else {
        1.0
    };
    level * weekday_factor(date)
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
        GROWTH.powf(progress) * DAILY[t.hour() as usize] * day_weight(t.date_naive())
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
    fn cyber_monday_is_the_peak_day_and_the_season_averages_its_level() {
        let day = |y, m, d| day_weight(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        // 2024: Thanksgiving Nov 28, Black Friday Nov 29, Cyber Monday Dec 2.
        assert_eq!(
            CyberWeek::of(2024).cyber_monday,
            NaiveDate::from_ymd_opt(2024, 12, 2).unwrap()
        );
        assert!(day(2024, 12, 2) > day(2024, 11, 29));
        assert!(day(2024, 11, 29) > day(2024, 11, 28));
        for y in 2023..=2027 {
            let first = NaiveDate::from_ymd_opt(y, 11, 1).unwrap();
            let season: f64 = (0..61)
                .map(|d| day_weight(first + chrono::Duration::days(d)))
                .sum();
            assert!((season / 61.0 - SEASON_LEVEL).abs() < 1e-9, "{y}");
            let week = CyberWeek::of(y);
            let max = (0..61)
                .map(|d| first + chrono::Duration::days(d))
                .max_by(|a, b| day_weight(*a).total_cmp(&day_weight(*b)))
                .unwrap();
            assert_eq!(max, week.cyber_monday);
        }
        // An ordinary week averages 1.
        let monday = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        let week: f64 = (0..7)
            .map(|d| day_weight(monday + chrono::Duration::days(d)))
            .sum();
        assert!((week / 7.0 - 1.0).abs() < 1e-9);
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
