//! The audit trail as data. Inside a bulk-load window (migration 0012) the per-row INSERT audit
//! triggers are off and the seed writes each financial row's audit entry itself, in the same
//! chunk transaction as the row: the very text the trigger would have written (`to_json` of the
//! row, migration 0018: every column in the table's order, the generated `order_number` too,
//! timestamps in UTC, no spaces), dated at the row's own time so the audit log's monthly
//! partitions have the sizes the history would give them, and tied to the window's run id.
//! `verify` compares a sample of entries with their rows (as jsonb); the seed test compares them
//! with `to_json` of their rows text for text.
//!
//! Hand-written rather than serde: the values are the encoder's own (10⁻⁴ money units, Unix µs,
//! byte strings) and must come out exactly as PostgreSQL writes them (`12.3400`, `\\x…`,
//! `2025-06-01T12:34:56.5+00:00`), one buffer reused for millions of rows.

use std::fmt::Write;

use uuid::Uuid;

use super::{Batch, Table};
use crate::model::uuid7;

/// One row's JSON object, built key by key into a reused buffer.
#[derive(Debug, Default)]
pub struct RowJson {
    buf: String,
    empty: bool,
}

impl RowJson {
    /// Starts a new object (the buffer keeps its memory).
    pub fn begin(&mut self) -> &mut Self {
        self.buf.clear();
        self.buf.push('{');
        self.empty = true;
        self
    }

    fn key(&mut self, k: &str) -> &mut String {
        if !self.empty {
            self.buf.push(',');
        }
        self.empty = false;
        self.buf.push('"');
        self.buf.push_str(k);
        self.buf.push_str("\":");
        &mut self.buf
    }

    pub fn uuid(&mut self, k: &str, id: Uuid) -> &mut Self {
        let b = self.key(k);
        b.push('"');
        b.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        b.push('"');
        self
    }

    pub fn opt_uuid(&mut self, k: &str, id: Option<Uuid>) -> &mut Self {
        match id {
            Some(id) => self.uuid(k, id),
            None => self.null(k),
        }
    }

    /// A timestamptz as `to_json` writes it in UTC: fractional seconds without trailing zeros.
    /// Digits pushed directly: chrono's `format` parses its pattern on every call, and was a
    /// fifth of the orders phase's generation time.
    pub fn ts(&mut self, k: &str, unix_us: i64) -> &mut Self {
        use chrono::{Datelike, Timelike};
        let b = self.key(k);
        let secs = unix_us.div_euclid(1_000_000);
        let micros = unix_us.rem_euclid(1_000_000) as u32;
        let t = chrono::DateTime::from_timestamp(secs, 0)
            .expect("timestamps are in range")
            .naive_utc();
        let year = t.year();
        debug_assert!((0..=9999).contains(&year), "four-digit years only");
        let mut out = *b"\"0000-00-00T00:00:00";
        digits(&mut out[1..5], year as u32);
        digits(&mut out[6..8], t.month());
        digits(&mut out[9..11], t.day());
        digits(&mut out[12..14], t.hour());
        digits(&mut out[15..17], t.minute());
        digits(&mut out[18..20], t.second());
        b.push_str(std::str::from_utf8(&out).expect("ASCII digits"));
        if micros > 0 {
            let mut frac = *b".000000";
            digits(&mut frac[1..], micros);
            let len = frac.iter().rposition(|&c| c != b'0').expect("micros > 0") + 1;
            b.push_str(std::str::from_utf8(&frac[..len]).expect("ASCII digits"));
        }
        b.push_str("+00:00\"");
        self
    }

    pub fn opt_ts(&mut self, k: &str, unix_us: Option<i64>) -> &mut Self {
        match unix_us {
            Some(t) => self.ts(k, t),
            None => self.null(k),
        }
    }

    pub fn text(&mut self, k: &str, s: &str) -> &mut Self {
        let b = self.key(k);
        b.push('"');
        if !s.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\') {
            b.push_str(s);
            b.push('"');
            return self;
        }
        for c in s.chars() {
            match c {
                '"' => b.push_str("\\\""),
                '\\' => b.push_str("\\\\"),
                '\n' => b.push_str("\\n"),
                '\r' => b.push_str("\\r"),
                '\t' => b.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(b, "\\u{:04x}", c as u32);
                }
                c => b.push(c),
            }
        }
        b.push('"');
        self
    }

    pub fn opt_text(&mut self, k: &str, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(k, s),
            None => self.null(k),
        }
    }

    /// numeric(19,4) from 10⁻⁴ units: `12.3400`.
    pub fn num4(&mut self, k: &str, units: i64) -> &mut Self {
        let b = self.key(k);
        if units < 0 {
            b.push('-');
        }
        let u = units.unsigned_abs();
        b.push_str(itoa::Buffer::new().format(u / 10_000));
        let mut frac = *b".0000";
        digits(&mut frac[1..], (u % 10_000) as u32);
        b.push_str(std::str::from_utf8(&frac).expect("ASCII digits"));
        self
    }

    pub fn int(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k).push_str(itoa::Buffer::new().format(v));
        self
    }

    pub fn opt_int(&mut self, k: &str, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(k, v),
            None => self.null(k),
        }
    }

    /// bytea in hex, as a JSON string: `"\\x0a1b"`.
    pub fn bytea(&mut self, k: &str, bytes: &[u8]) -> &mut Self {
        let b = self.key(k);
        b.push_str("\"\\\\x");
        let mut hex = [0u8; 64];
        for part in bytes.chunks(32) {
            let out = &mut hex[..part.len() * 2];
            hex::encode_to_slice(part, out).expect("twice the length");
            b.push_str(std::str::from_utf8(out).expect("hex digits"));
        }
        b.push('"');
        self
    }

    /// A jsonb column: its JSON as PostgreSQL writes it (`{"code": "x"}`), as `to_json` embeds it.
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k).push_str(json);
        self
    }

    pub fn null(&mut self, k: &str) -> &mut Self {
        self.key(k).push_str("null");
        self
    }

    /// The finished object.
    pub fn end(&mut self) -> &str {
        self.buf.push('}');
        &self.buf
    }
}

/// Writes `n` as `out.len()` decimal digits, zero-padded (the higher digits are dropped).
fn digits(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// What an audit entry is about.
pub struct Entry<'a> {
    pub tenant: Uuid,
    /// `shop.orders`, …
    pub table: &'static str,
    pub row_id: Uuid,
    /// The row's own time (`created_at`): the entry's `logged_at`.
    pub at_us: i64,
    /// Hash for the entry's id.
    pub h: u64,
    pub row: &'a str,
}

/// Appends the audit entry of one bulk-loaded row, tied to the window of run `run`.
pub fn entry(batch: &mut Batch, run: Uuid, e: Entry<'_>) {
    batch
        .buffer(Table::AuditLog)
        .row(8)
        .uuid(uuid7(e.at_us / 1000, e.h ^ 0xa0d1_7000))
        .ts_us(e.at_us)
        .uuid(e.tenant)
        .text(e.table)
        .text("INSERT")
        .uuid(e.row_id)
        // json's binary form is its text (no version byte, unlike jsonb's).
        .text(e.row)
        .uuid(run);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_postgresql_writes_them() {
        let mut j = RowJson::default();
        j.begin()
            .ts("a", 1_748_781_296_123_000)
            .ts("b", 1_748_781_296_000_000)
            .num4("c", 123_400)
            .bytea("d", &[0x0a, 0x1b])
            .text("e", "a\"b\\c")
            .int("f", 5)
            .null("g")
            .raw("h", r#"{"code": "x"}"#)
            .ts("j", 1_748_781_296_000_001)
            .num4("k", -5);
        assert_eq!(
            j.end(),
            r#"{"a":"2025-06-01T12:34:56.123+00:00","b":"2025-06-01T12:34:56+00:00","c":12.3400,"d":"\\x0a1b","e":"a\"b\\c","f":5,"g":null,"h":{"code": "x"},"j":"2025-06-01T12:34:56.000001+00:00","k":-0.0005}"#
        );
    }
}
