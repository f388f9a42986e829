//! A small HTML page builder for the report and the comparison: sections, paragraphs, tables
//! and figures. Every piece of text goes through `format::esc` on its way in, so no value from a
//! results file can become markup; SVG comes only from the plotters figures (which escape their
//! own text). The page shell and its stylesheet are compiled in from `template.html`.

use crate::format::esc;

const TEMPLATE: &str = include_str!("template.html");

#[derive(Default)]
pub struct Page {
    body: String,
    contents: Vec<(String, String)>,
}

/// How a table cell is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Right-aligned figure.
    Number,
    Good,
    Bad,
    /// Neither good nor bad (no data, unchanged).
    Quiet,
    /// Monospace (queries, identifiers).
    Code,
}

pub struct Cell {
    text: String,
    kind: Kind,
}

impl Cell {
    pub fn new(text: impl Into<String>, kind: Kind) -> Self {
        Cell {
            text: text.into(),
            kind,
        }
    }
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(text, Kind::Text)
    }
    pub fn num(text: impl Into<String>) -> Self {
        Self::new(text, Kind::Number)
    }
}

pub struct Table {
    groups: Vec<(String, usize)>,
    head: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(head: &[&str]) -> Self {
        Table {
            groups: Vec::new(),
            head: head.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// A header row above the column names: (label, columns spanned).
    pub fn groups(mut self, groups: &[(&str, usize)]) -> Self {
        self.groups = groups.iter().map(|(l, n)| (l.to_string(), *n)).collect();
        self
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Page {
    pub fn section(&mut self, id: &str, title: &str) {
        self.contents.push((id.to_string(), title.to_string()));
        self.body
            .push_str(&format!("<h2 id=\"{}\">{}</h2>\n", esc(id), esc(title)));
    }

    pub fn heading(&mut self, title: &str) {
        self.body.push_str(&format!("<h3>{}</h3>\n", esc(title)));
    }

    pub fn para(&mut self, text: &str) {
        self.body.push_str(&format!("<p>{}</p>\n", esc(text)));
    }

    /// A paragraph styled by kind (the verdict banner, a warning).
    pub fn banner(&mut self, text: &str, kind: Kind) {
        self.body.push_str(&format!(
            "<p class=\"banner {}\">{}</p>\n",
            class(kind),
            esc(text)
        ));
    }

    pub fn list(&mut self, items: &[String]) {
        if items.is_empty() {
            return;
        }
        self.body.push_str("<ul>\n");
        for item in items {
            self.body.push_str(&format!("<li>{}</li>\n", esc(item)));
        }
        self.body.push_str("</ul>\n");
    }

    pub fn pre(&mut self, text: &str) {
        self.body.push_str(&format!("<pre>{}</pre>\n", esc(text)));
    }

    /// An inline SVG drawn by `plot`, with a caption.
    pub fn figure(&mut self, svg: &str, caption: &str) {
        self.body.push_str(&format!(
            "<figure>{svg}<figcaption>{}</figcaption></figure>\n",
            esc(caption)
        ));
    }

    /// Several small figures side by side.
    pub fn grid(&mut self, figures: &[String]) {
        self.body.push_str("<div class=\"grid\">\n");
        for svg in figures {
            self.body.push_str(&format!("<figure>{svg}</figure>\n"));
        }
        self.body.push_str("</div>\n");
    }

    pub fn table(&mut self, table: &Table) {
        let b = &mut self.body;
        b.push_str("<div class=\"scroll\"><table>\n<thead>\n");
        if !table.groups.is_empty() {
            b.push_str("<tr class=\"groups\">");
            for (label, span) in &table.groups {
                b.push_str(&format!("<th colspan=\"{span}\">{}</th>", esc(label)));
            }
            b.push_str("</tr>\n");
        }
        b.push_str("<tr>");
        for h in &table.head {
            b.push_str(&format!("<th>{}</th>", esc(h)));
        }
        b.push_str("</tr>\n</thead>\n<tbody>\n");
        for row in &table.rows {
            b.push_str("<tr>");
            for cell in row {
                b.push_str(&format!(
                    "<td class=\"{}\">{}</td>",
                    class(cell.kind),
                    esc(&cell.text)
                ));
            }
            b.push_str("</tr>\n");
        }
        b.push_str("</tbody>\n</table></div>\n");
    }

    /// The whole document: the template with the title, contents and body filled in.
    pub fn render(self, title: &str) -> String {
        let contents: String = self
            .contents
            .iter()
            .map(|(id, t)| format!("<a href=\"#{}\">{}</a>", esc(id), esc(t)))
            .collect::<Vec<_>>()
            .join(" · ");
        // One pass over the template, so text inside a value is never taken for a placeholder.
        let mut out = String::with_capacity(TEMPLATE.len() + self.body.len() + contents.len());
        let mut rest = TEMPLATE;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").unwrap_or(after.len());
            match &after[..end] {
                "title" => out.push_str(&esc(title)),
                "contents" => out.push_str(&contents),
                "body" => out.push_str(&self.body),
                other => out.push_str(other),
            }
            rest = after.get(end + 2..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

fn class(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "text",
        Kind::Number => "num",
        Kind::Good => "good",
        Kind::Bad => "bad",
        Kind::Quiet => "quiet",
        Kind::Code => "code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped() {
        let mut page = Page::default();
        page.section("x", "<script>alert(1)</script>");
        let mut t = Table::new(&["<b>"]);
        t.row(vec![Cell::text("\"><img src=x onerror=alert(1)>")]);
        page.table(&t);
        page.para("a & b {{title}}");
        let html = page.render("<title>");
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("a &amp; b {{title}}"));
    }
}
