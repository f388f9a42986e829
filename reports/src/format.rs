//! How figures are written in every renderer: milliseconds, rates, shares and sizes, and the
//! escaping of text into HTML and XML. One place, so the HTML, Markdown and JUnit outputs print
//! the same number the same way.

/// Text made safe for HTML element content and double-quoted attributes (and for XML, whose
/// special characters are the same five).
pub fn esc(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// Microseconds as milliseconds with the precision the magnitude deserves: `0.42`, `7.31`,
/// `42.7`, `1234`.
pub fn ms(us: u64) -> String {
    ms_f(us as f64 / 1e3)
}

pub fn ms_f(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// Operations per second.
pub fn rate(per_s: f64) -> String {
    if per_s < 10.0 {
        format!("{per_s:.2}")
    } else if per_s < 1000.0 {
        format!("{per_s:.1}")
    } else {
        format!("{per_s:.0}")
    }
}

/// A share (0.0123) as a percentage (`1.23%`); exact zero prints as `0%`.
pub fn pct(share: f64) -> String {
    if share == 0.0 {
        "0%".into()
    } else if share < 0.0001 {
        format!("{:.4}%", share * 100.0)
    } else {
        format!("{:.2}%", share * 100.0)
    }
}

/// Bytes in binary units.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Whole numbers with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds as `20 s`, `10 min`, `1 h 5 min`.
pub fn seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{} s", (s * 10.0).round() / 10.0)
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{} h {:.0} min", (s / 3600.0).floor(), (s % 3600.0) / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_naturally() {
        assert_eq!(ms(420), "0.42");
        assert_eq!(ms(42_700), "42.7");
        assert_eq!(ms(1_234_000), "1234");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(pct(0.0123), "1.23%");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(seconds(20.0), "20 s");
        assert_eq!(seconds(600.0), "10 min");
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;'"
        );
    }
}
