//! The report's charts, drawn by plotters into SVG strings that the HTML inlines. One function
//! per figure, sharing the style below; every function returns `Result`, none unwraps.
//!
//! Text is laid out with plotters' built-in metrics (no system fonts are read), so the same
//! results always draw the same SVG: the golden tests rely on it.

mod capacity;
mod errors;
mod spectrum;
mod timeline;

pub use capacity::curve;
pub use errors::by_class;
pub use spectrum::spectrum;
pub use timeline::{latency, throughput};

use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("drawing the {figure} chart: {detail}")]
    Draw {
        figure: &'static str,
        detail: String,
    },
    #[error(transparent)]
    Histogram(#[from] results::histogram::Error),
}

/// Plotters' drawing errors carry the backend's error type; the figure names itself.
fn draw_error<E: std::error::Error + Send + Sync>(
    figure: &'static str,
) -> impl Fn(DrawingAreaErrorKind<E>) -> Error {
    move |e| Error::Draw {
        figure,
        detail: e.to_string(),
    }
}

/// Full-width charts.
pub const WIDE: (u32, u32) = (960, 340);
/// One operation in the small-multiples grid.
pub const SMALL: (u32, u32) = (460, 220);
pub const FONT: &str = "sans-serif";
pub const TITLE_SIZE: u32 = 16;
pub const LABEL_SIZE: u32 = 12;

/// Colours given to operations in the order the results list them, so an operation keeps its
/// colour across every chart (Tableau 10, then darker variants).
const PALETTE: [RGBColor; 16] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(20, 80, 120),
    RGBColor(170, 90, 10),
    RGBColor(30, 110, 30),
    RGBColor(150, 25, 30),
    RGBColor(100, 70, 130),
    RGBColor(90, 55, 50),
];

pub fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The fixed colours of percentile lines and of the SLO.
pub const P50: RGBColor = RGBColor(44, 160, 44);
pub const P95: RGBColor = RGBColor(255, 127, 14);
pub const P99: RGBColor = RGBColor(214, 39, 40);
pub const TARGET: RGBColor = RGBColor(60, 60, 60);
pub const ERRORS: RGBColor = RGBColor(214, 39, 40);

/// Draws into an SVG string of `size` pixels.
fn svg(
    size: (u32, u32),
    figure: &'static str,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), Error>,
) -> Result<String, Error> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error(figure))?;
        draw(&root)?;
        root.present().map_err(draw_error(figure))?;
    }
    Ok(out)
}

/// A y range that shows `max` with some headroom and never collapses to nothing.
fn headroom(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.15
    } else {
        1.0
    }
}

/// The legend box every chart uses, at `position`.
fn legend_box<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
    figure: &'static str,
) -> Result<(), Error> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, LABEL_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(draw_error(figure))
}

/// Short legend entry for a series.
fn legend(colour: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
}
