//! The capacity curve: p99 latency against the achieved throughput of each `capacity` step,
//! with the p99 target of the operation that broke first dashed and the knee (the highest rate
//! that met every target) marked.

use plotters::prelude::*;

use super::{draw_error, headroom, legend, svg, Error, FONT, LABEL_SIZE, TITLE_SIZE, WIDE};
use super::{P50, P99, TARGET};
use results::run::Capacity;

/// `limit`: the operation that broke first and its p99 target, ms, when a step failed.
pub fn curve(capacity: &Capacity, limit: Option<(&str, f64)>) -> Result<String, Error> {
    const FIGURE: &str = "capacity curve";
    let e = draw_error(FIGURE);
    let mut steps: Vec<_> = capacity.steps.iter().collect();
    steps.sort_by(|a, b| a.target_rate.total_cmp(&b.target_rate));
    let worst: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| (s.achieved_rate, s.worst_p99_ms))
        .collect();
    let limited: Vec<(f64, f64)> = match limit {
        Some((name, _)) => steps
            .iter()
            .filter_map(|s| s.p99_ms.get(name).map(|p99| (s.achieved_rate, *p99)))
            .collect(),
        None => Vec::new(),
    };
    let knee = steps
        .iter()
        .filter(|s| s.pass && Some(s.target_rate) == capacity.sustainable_rate)
        .map(|s| (s.achieved_rate, s.worst_p99_ms))
        .next();
    let x_max = headroom(worst.iter().map(|p| p.0).fold(0.0, f64::max));
    // Log latency axis: an overloaded step's seconds must not flatten the passing steps' ms.
    let values = || {
        worst
            .iter()
            .chain(limited.iter())
            .map(|p| p.1)
            .chain(limit.map(|l| l.1))
            .filter(|v| *v > 0.0)
    };
    let y_max = headroom(values().fold(0.0, f64::max));
    let y_min = values().fold(y_max, f64::min) * 0.7;
    svg(WIDE, FIGURE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Capacity: p99 latency (ms) against achieved throughput (operations/s)",
                (FONT, TITLE_SIZE),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(54)
            .build_cartesian_2d(0f64..x_max, (y_min..y_max).log_scale())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("operations / s achieved")
            .y_desc("p99 ms (log)")
            .y_label_formatter(&|y| crate::format::ms_f(*y))
            .label_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(&e)?;
        let grey = RGBColor(110, 110, 110);
        chart
            .draw_series(LineSeries::new(
                worst.iter().map(|&(x, y)| (x, y.max(y_min))),
                grey.stroke_width(2),
            ))
            .map_err(&e)?
            .label("worst p99 of any operation")
            .legend(legend(grey));
        chart
            .draw_series(steps.iter().map(|s| {
                let colour = if s.pass { P50 } else { P99 };
                Circle::new(
                    (s.achieved_rate, s.worst_p99_ms.max(y_min)),
                    4,
                    colour.filled(),
                )
            }))
            .map_err(&e)?;
        if let Some((name, target)) = limit {
            let c = super::colour(0);
            if !limited.is_empty() {
                chart
                    .draw_series(LineSeries::new(
                        limited.iter().map(|&(x, y)| (x, y.max(y_min))),
                        c.stroke_width(2),
                    ))
                    .map_err(&e)?
                    .label(format!("{name} p99 (broke first)"))
                    .legend(legend(c));
            }
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, target), (x_max, target)],
                    8,
                    5,
                    TARGET.stroke_width(2),
                ))
                .map_err(&e)?
                .label(format!("{name} p99 target {target} ms"))
                .legend(legend(TARGET));
        }
        if let Some((x, y)) = knee {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, y_min), (x, y_max)],
                    4,
                    4,
                    P50.stroke_width(2),
                ))
                .map_err(&e)?
                .label(format!(
                    "knee: {} operations/s sustained",
                    crate::format::rate(x)
                ))
                .legend(legend(P50));
            chart
                .draw_series([Circle::new((x, y.max(y_min)), 7, P50.stroke_width(3))])
                .map_err(&e)?;
        }
        super::legend_box(&mut chart, SeriesLabelPosition::UpperLeft, FIGURE)?;
        Ok(())
    })
}
