//! Failures by class, all operations together: one horizontal bar per class, system failures in
//! red and business outcomes (declined payments, out of stock) in grey.

use plotters::prelude::*;

use super::{draw_error, headroom, svg, Error, ERRORS, FONT, LABEL_SIZE, TITLE_SIZE};

/// `classes`: (class, count, is a business outcome), largest first.
pub fn by_class(classes: &[(String, u64, bool)]) -> Result<String, Error> {
    const FIGURE: &str = "errors by class";
    let e = draw_error(FIGURE);
    let n = classes.len().max(1);
    let height = (60 + 26 * n as u32).min(700);
    let x_max = headroom(classes.iter().map(|c| c.1).max().unwrap_or(0) as f64);
    let labels: Vec<String> = classes.iter().map(|c| c.0.clone()).collect();
    svg((960, height), FIGURE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Failures by class (red: system failures; grey: business outcomes)",
                (FONT, TITLE_SIZE),
            )
            .margin(10)
            .x_label_area_size(24)
            .y_label_area_size(230)
            .build_cartesian_2d(0f64..x_max, (0..n as i32).into_segmented())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .y_labels(n)
            .y_label_formatter(&|y| match y {
                // Largest at the top: row 0 is the bottom bar.
                SegmentValue::CenterOf(i) if (*i as usize) < labels.len() => {
                    labels[labels.len() - 1 - *i as usize].clone()
                }
                _ => String::new(),
            })
            .x_labels((x_max.floor() as usize).clamp(2, 10))
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.1}")
                }
            })
            .label_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(&e)?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(classes.iter().enumerate().map(|(i, (_, count, business))| {
                let row = (classes.len() - 1 - i) as i32;
                let colour = if *business { grey } else { ERRORS };
                Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row)),
                        (*count as f64, SegmentValue::Exact(row + 1)),
                    ],
                    colour.filled(),
                )
            }))
            .map_err(&e)?;
        Ok(())
    })
}
