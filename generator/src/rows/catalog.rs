//! Products with their variants, images and stock. Names and descriptions come from the
//! department vocabulary with Zipf-like term frequencies, so full-text search sees common and
//! rare terms as a real catalog has them.

use std::fmt::Write;

use super::{Batch, Table};
use crate::model::{uuid7, Model, Tenant};
use crate::rng::{key, mix, unit, Stream};
use crate::rows::tenants::push_capitalised;
use crate::vocab::{slugify, ADJECTIVES, COLORS, DEPARTMENTS, DESCRIPTION_WORDS, MATERIALS, SIZES};

pub const TABLES: &[Table] = &[
    Table::Products,
    Table::ProductVariants,
    Table::ProductImages,
    Table::ProductInventory,
];

/// An index into a list of `len` words, rank k drawn with probability about 1/(k+1) (Zipf, s=1).
#[inline]
pub fn zipf_word(len: usize, u: f64) -> usize {
    ((((len + 1) as f64).powf(u) - 1.0) as usize).min(len - 1)
}

/// The product's display name (also used for order lines).
pub fn product_name(m: &Model, t: &Tenant, p: u64, out: &mut String) {
    let h = key(m.seed(), Stream::Product, p);
    let dept = &DEPARTMENTS[m.category_department(t, m.product_category(t, p))];
    let brand = &m.pools.brands[zipf_word(m.pools.brands.len(), unit(mix(h ^ 17)))];
    let adj = ADJECTIVES[zipf_word(ADJECTIVES.len(), unit(mix(h ^ 19)))];
    let noun = dept.nouns[zipf_word(dept.nouns.len(), unit(mix(h ^ 23)))];
    out.clear();
    out.push_str(brand);
    out.push(' ');
    push_capitalised(out, adj);
    if h % 3 == 0 {
        out.push(' ');
        push_capitalised(
            out,
            MATERIALS[zipf_word(MATERIALS.len(), unit(mix(h ^ 29)))],
        );
    }
    out.push(' ');
    push_capitalised(out, noun);
}

pub fn sku(p_local: u64, out: &mut String) {
    out.clear();
    let _ = write!(out, "SKU-{p_local:08}");
}

/// A variant's display name, colour and size.
pub fn variant_name(v: u64, h: u64) -> (String, &'static str, &'static str) {
    let color = COLORS[((h >> 8) as usize + v as usize) % COLORS.len()];
    let size = SIZES[((h >> 16) as usize + v as usize) % SIZES.len()];
    (
        format!("{} / {}", crate::rows::tenants::capitalise(color), size),
        color,
        size,
    )
}

pub fn products(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let mut name = String::new();
    let mut slug = String::new();
    let mut sku_buf = String::new();
    let mut desc = String::new();
    for p in range {
        let t = m.tenant_of_product(p);
        let local = p - t.product_start;
        let h = key(m.seed(), Stream::Product, p);
        let id = m.product_id(p);
        let created = m.product_created_us(t, p);
        let cat = m.product_category(t, p);
        let dept = &DEPARTMENTS[m.category_department(t, cat)];
        product_name(m, t, p, &mut name);
        slug.clear();
        slugify(&name, &mut slug);
        let _ = write!(slug, "-{local}");
        sku(local, &mut sku_buf);
        desc.clear();
        let words = 20 + h % 21;
        let _ = write!(desc, "{name}. ");
        for w in 0..words {
            let u = unit(mix(h ^ (w + 100)));
            let word = if w % 7 == 3 {
                dept.nouns[zipf_word(dept.nouns.len(), u)]
            } else if w % 5 == 1 {
                COLORS[zipf_word(COLORS.len(), u)]
            } else {
                DESCRIPTION_WORDS[zipf_word(DESCRIPTION_WORDS.len(), u)]
            };
            desc.push_str(word);
            desc.push(if w + 1 == words { '.' } else { ' ' });
        }
        let short = &desc[..name.len() + 1];
        let digital = dept.name == "Books" && h % 10 == 0;
        let weight_g =
            (crate::distribution::log_normal(unit(mix(h ^ 41)), unit(mix(h ^ 43)), 600.0, 0.9))
                as i64;
        let dims = format!(
            r#"{{"length": {}, "width": {}, "height": {}}}"#,
            10 + h % 60,
            5 + h / 60 % 40,
            2 + h / 2400 % 30
        );
        batch
            .buffer(Table::Products)
            .row(17)
            .uuid(t.id)
            .uuid(id)
            .text(&sku_buf)
            .text(&name)
            .text(&slug)
            .text(&desc)
            .text(short)
            .uuid(m.category_id(t, cat))
            .text(name.split(' ').next().unwrap_or(""))
            .text(&format!("M{}", h % 1000))
            .numeric3(weight_g)
            .jsonb(&dims)
            .bool(h % 33 != 0)
            .bool(digital)
            .bool(!digital)
            .ts_us(created)
            .ts_us(created);
        for v in 0..m.variants(p) {
            let vh = key(m.seed(), Stream::Variant, p * 8 + v + 1);
            let vid = m.variant_id(t, p, v);
            let (vname, color, size) = variant_name(v, vh);
            let price = m.variant_price(t, p, v);
            let attributes = if dept.name == "Clothing" {
                format!(r#"{{"color": "{color}", "size": "{size}"}}"#)
            } else {
                format!(r#"{{"color": "{color}"}}"#)
            };
            let b = batch.buffer(Table::ProductVariants);
            b.row(14)
                .uuid(t.id)
                .uuid(vid)
                .uuid(id)
                .text(&format!("{sku_buf}-{v}"))
                .text(&vname)
                .jsonb(&attributes)
                .numeric4(price);
            if vh % 5 == 0 {
                b.numeric4(price / 4 * 5 / 100 * 100);
            } else {
                b.null();
            }
            b.numeric4(price * 55 / 100 / 100 * 100)
                .text(t.currency)
                .numeric3(weight_g)
                .bool(vh % 40 != 0)
                .ts_us(created)
                .ts_us(created);
            // Stock: log-normal around 60, 3% sold out; hot products run out first under load.
            let quantity = if vh % 33 == 0 {
                0
            } else {
                crate::distribution::log_normal(unit(mix(vh ^ 3)), unit(mix(vh ^ 5)), 60.0, 0.8)
                    as i32
            };
            let reserved = (vh % 3) as i32;
            batch
                .buffer(Table::ProductInventory)
                .row(9)
                .uuid(t.id)
                .uuid(uuid7(created / 1000, vh ^ 7))
                .uuid(vid)
                .i32(quantity)
                .i32(reserved.min(quantity))
                .i32(10)
                .i32(5)
                .ts_us(created)
                .ts_us(created);
        }
        let variants = m.variants(p);
        for k in 0..m.images(p) {
            let ih = key(m.seed(), Stream::Variant, p * 8 + 5 + k);
            let n = ih % m.config.images.max(1) as u64;
            let b = batch.buffer(Table::ProductImages);
            b.row(9)
                .uuid(t.id)
                .uuid(uuid7(created / 1000, ih))
                .uuid(id)
                .opt_uuid((k > 0 && k <= variants).then(|| m.variant_id(t, p, k - 1)))
                .text(&image_url(m, n))
                .text(&name)
                .i32(k as i32)
                .bool(k == 0)
                .ts_us(created);
        }
    }
}

/// URL of sample image `n` in the object store.
pub fn image_url(m: &Model, n: u64) -> String {
    format!("{}/products/sample-{n:04}.png", m.config.image_base)
}
