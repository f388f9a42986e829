//! Figures over the measured window: one operation's latency percentiles (a small multiple per
//! operation), and the whole run's throughput with its errors and drops.

use plotters::prelude::*;

use super::{draw_error, headroom, legend, svg, Error, FONT, LABEL_SIZE, P50, P95, P99, SMALL};
use super::{ERRORS, TARGET, TITLE_SIZE, WIDE};
use crate::series::Point;
use results::slo::Slo;

/// p50 (green), p95 (orange) and p99 (red) from the intended start, per time step over the
/// measured window of `window_s` seconds, with the p99 target dashed when it is near enough to
/// the measured values to be drawn without flattening them. No legend: the small multiples
/// share one caption.
pub fn latency(name: &str, points: &[Point], slo: &Slo, window_s: f64) -> Result<String, Error> {
    const FIGURE: &str = "latency over time";
    let e = draw_error(FIGURE);
    let t_max = window_s
        .max(points.last().map(|p| p.t_s).unwrap_or(1.0))
        .max(1.0);
    let measured = points.iter().map(|p| p.p99_ms).fold(0.0, f64::max);
    let show_target = slo.p99_ms <= measured * 2.0;
    let y_max = headroom(if show_target {
        measured.max(slo.p99_ms)
    } else {
        measured
    });
    let caption = if show_target {
        format!("{name} (ms; dashed: p99 target {} ms)", slo.p99_ms)
    } else {
        format!("{name} (ms; p99 target {} ms is off scale)", slo.p99_ms)
    };
    svg(SMALL, FIGURE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, TITLE_SIZE - 2))
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..t_max, 0f64..y_max)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|x| format!("{x:.0}s"))
            .label_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(&e)?;
        type Line = (RGBColor, fn(&Point) -> f64);
        let lines: [Line; 3] = [
            (P50, |p| p.p50_ms),
            (P95, |p| p.p95_ms),
            (P99, |p| p.p99_ms),
        ];
        for (colour, value) in lines {
            chart
                .draw_series(LineSeries::new(
                    points
                        .iter()
                        .filter(|p| p.completed > 0)
                        .map(|p| (p.t_s, value(p))),
                    colour.stroke_width(2),
                ))
                .map_err(&e)?;
        }
        if show_target {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, slo.p99_ms), (t_max, slo.p99_ms)],
                    6,
                    4,
                    TARGET.stroke_width(1),
                ))
                .map_err(&e)?;
        }
        Ok(())
    })
}

/// Completions per second (left axis) and system errors and drops per second (right axis),
/// all operations together. Input: (end s, completed/s, errors/s, dropped/s).
pub fn throughput(totals: &[(f64, f64, f64, f64)]) -> Result<String, Error> {
    const FIGURE: &str = "throughput";
    let e = draw_error(FIGURE);
    let t_max = totals.last().map(|p| p.0).unwrap_or(1.0).max(1.0);
    let rate_max = headroom(totals.iter().map(|p| p.1).fold(0.0, f64::max));
    let bad_max = headroom(totals.iter().map(|p| p.2.max(p.3)).fold(0.0, f64::max));
    svg(WIDE, FIGURE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Throughput (operations/s, left) and errors and drops (per s, right)",
                (FONT, TITLE_SIZE),
            )
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(54)
            .right_y_label_area_size(54)
            .build_cartesian_2d(0f64..t_max, 0f64..rate_max)
            .map_err(&e)?
            .set_secondary_coord(0f64..t_max, 0f64..bad_max);
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_label_formatter(&|x| format!("{x:.0}s"))
            .y_desc("completed / s")
            .label_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(&e)?;
        chart
            .configure_secondary_axes()
            .y_desc("errors, drops / s")
            .label_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(&e)?;
        let blue = super::colour(0);
        chart
            .draw_series(LineSeries::new(
                totals.iter().map(|p| (p.0, p.1)),
                blue.stroke_width(2),
            ))
            .map_err(&e)?
            .label("completed / s")
            .legend(legend(blue));
        chart
            .draw_secondary_series(LineSeries::new(
                totals.iter().map(|p| (p.0, p.2)),
                ERRORS.stroke_width(2),
            ))
            .map_err(&e)?
            .label("system errors / s")
            .legend(legend(ERRORS));
        let purple = super::colour(4);
        chart
            .draw_secondary_series(LineSeries::new(
                totals.iter().map(|p| (p.0, p.3)),
                purple.stroke_width(2),
            ))
            .map_err(&e)?
            .label("dropped / s")
            .legend(legend(purple));
        super::legend_box(&mut chart, SeriesLabelPosition::LowerRight, FIGURE)?;
        Ok(())
    })
}
