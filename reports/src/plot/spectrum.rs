//! The percentile spectrum (the classic HDR histogram plot): latency against percentile on a
//! log axis of 1 / (1 − q), so 90%, 99%, 99.9% and 99.99% are evenly spaced and the tail is as
//! visible as the median. One line per operation, read from the whole run's histogram.

use plotters::prelude::*;

use super::{colour, draw_error, headroom, legend, svg, Error, FONT, LABEL_SIZE, TITLE_SIZE};
use results::histogram::Encoded;

/// Steps per halving of the distance to 100% (HdrHistogram's "percentile ticks per half
/// distance"): 5 gives a smooth line with a few hundred points.
const TICKS: u32 = 5;

/// `lines`: (operation, its colour index, its latency histogram).
pub fn spectrum(lines: &[(&str, usize, &Encoded)]) -> Result<String, Error> {
    const FIGURE: &str = "percentile spectrum";
    let e = draw_error(FIGURE);
    let mut curves = Vec::with_capacity(lines.len());
    for (name, index, encoded) in lines {
        if encoded.count == 0 {
            continue;
        }
        let h = encoded.decode()?;
        // The last step reaches q = 1 (infinitely far right): it is drawn at the count's
        // own resolution instead, the largest x one sample can mean.
        let x_end = h.len() as f64;
        let points: Vec<(f64, f64)> = h
            .iter_quantiles(TICKS)
            .map(|v| {
                let q = v.quantile_iterated_to();
                let x = if q >= 1.0 { x_end } else { 1.0 / (1.0 - q) };
                (
                    x.clamp(1.0, x_end.max(1.0)),
                    v.value_iterated_to() as f64 / 1e3,
                )
            })
            .collect();
        curves.push((*name, *index, points));
    }
    if curves.is_empty() {
        return empty();
    }
    let x_max = curves
        .iter()
        .flat_map(|c| c.2.iter().map(|p| p.0))
        .fold(10.0, f64::max);
    // Log latency axis too: a 2 ms cart and a 200 ms payment both stay readable.
    let y_max = headroom(
        curves
            .iter()
            .flat_map(|c| c.2.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let y_min = curves
        .iter()
        .flat_map(|c| c.2.iter().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .fold(y_max, f64::min)
        * 0.8;
    svg(super::WIDE, FIGURE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Latency by percentile (ms, from the intended start; log axes)",
                (FONT, TITLE_SIZE),
            )
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(54)
            .build_cartesian_2d((1f64..x_max).log_scale(), (y_min..y_max).log_scale())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_label_formatter(&|x| percentile_label(*x))
            .y_desc("ms (log)")
            .y_label_formatter(&|y| crate::format::ms_f(*y))
            .label_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(&e)?;
        for (name, index, points) in &curves {
            let c = colour(*index);
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|&(x, y)| (x, y.max(y_min))),
                    c.stroke_width(2),
                ))
                .map_err(&e)?
                .label(*name)
                .legend(legend(c));
        }
        super::legend_box(&mut chart, SeriesLabelPosition::LowerRight, FIGURE)?;
        Ok(())
    })
}

/// 1 → 0%, 10 → 90%, 100 → 99%, 1000 → 99.9%.
fn percentile_label(x: f64) -> String {
    let p = 100.0 - 100.0 / x;
    let mut text = format!("{p:.4}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    format!("{text}%")
}

/// The chart of a run that measured nothing.
fn empty() -> Result<String, Error> {
    svg(super::WIDE, "percentile spectrum", |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_labelled_by_their_distance_to_100() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(1000.0), "99.9%");
    }
}
