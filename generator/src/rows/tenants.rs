//! Tenants and their category trees.

use super::{Batch, Table};
use crate::model::Model;
use crate::rng::{key, Stream};
use crate::vocab::{slugify, ADJECTIVES, DEPARTMENTS};

pub const TABLES: &[Table] = &[Table::Tenants];
pub const CATEGORY_TABLES: &[Table] = &[Table::Categories];

pub fn tenants(m: &Model, batch: &mut Batch) {
    let b = batch.buffer(Table::Tenants);
    let mut name = String::new();
    let mut domain = String::new();
    for t in &m.tenants {
        let h = key(m.seed(), Stream::Tenant, t.index);
        name.clear();
        name.push_str(&m.pools.brands[(h % m.pools.brands.len() as u64) as usize]);
        name.push_str(match h % 4 {
            0 => " Store",
            1 => " Outfitters",
            2 => " Market",
            _ => " Shop",
        });
        domain.clear();
        slugify(&name, &mut domain);
        domain.push_str(&format!("-{}.shop.example", t.index));
        let plan = match t.tier {
            crate::model::Tier::Large => "enterprise",
            crate::model::Tier::Medium => "pro",
            crate::model::Tier::Small => "basic",
        };
        let settings = format!(
            r#"{{"currency": "{}", "tax_rate_bp": {}, "timezone": "UTC"}}"#,
            t.currency, t.tax_bp
        );
        b.row(9)
            .uuid(t.id)
            .text(&name)
            .text(&domain)
            .text("active")
            .text(plan)
            .ts_us(t.created_us)
            .ts_us(t.created_us)
            .jsonb(&settings)
            .jsonb(r#"{"billing_email_domain": "example.com", "payment_terms": "net30"}"#);
    }
}

/// Categories of the tenants in `range`.
pub fn categories(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let b = batch.buffer(Table::Categories);
    let mut name = String::new();
    let mut slug = String::new();
    for t in &m.tenants[range.start as usize..range.end as usize] {
        for local in 0..t.categories {
            let dept = &DEPARTMENTS[m.category_department(t, local)];
            let h = key(m.seed(), Stream::Category, t.category_start + local);
            name.clear();
            match crate::model::Model::category_parent(t, local) {
                None => name.push_str(dept.name),
                Some(_) => {
                    let adj = ADJECTIVES[(h % ADJECTIVES.len() as u64) as usize];
                    let noun = dept.nouns[(h / 64 % dept.nouns.len() as u64) as usize];
                    name.push_str(&format!("{} {}s", capitalise(adj), noun));
                }
            }
            slug.clear();
            slugify(&name, &mut slug);
            slug.push_str(&format!("-{local}"));
            let created = t.created_us + local as i64 * 1000;
            b.row(11)
                .uuid(t.id)
                .uuid(m.category_id(t, local))
                .text(&name)
                .text(&slug)
                .text(&format!("{name} from our {} department.", dept.name))
                .opt_uuid(
                    crate::model::Model::category_parent(t, local).map(|p| m.category_id(t, p)),
                )
                .text(&format!("{}/categories/{slug}.png", m.config.image_base))
                .i32(local as i32)
                .bool(h % 50 != 0)
                .ts_us(created)
                .ts_us(created);
        }
    }
}

/// Appends `word` with its first letter upper-cased (no allocation).
pub fn push_capitalised(out: &mut String, word: &str) {
    let mut c = word.chars();
    if let Some(f) = c.next() {
        out.extend(f.to_uppercase());
        out.push_str(c.as_str());
    }
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
