//! The HTML renderers: `report.html` (`report.rs`, `provenance.rs`) and the comparison page
//! (in `compare`), both built with `page.rs` on the compiled-in `template.html`.

pub mod page;
mod provenance;
mod report;

pub use report::render;
