//! The PostgreSQL COPY BINARY format, written by hand: no crate encodes it into a plain buffer
//! without a live connection (tokio-postgres' `BinaryCopyInWriter` needs one and boxes every
//! value as `dyn ToSql`), and the generator must encode millions of rows per second per core.
//! Format: <https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.4>.

use uuid::Uuid;

const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// One table's rows of one chunk, in COPY BINARY form.
#[derive(Debug, Clone)]
pub struct CopyBuffer {
    buf: Vec<u8>,
    rows: u64,
    finished: bool,
}

impl Default for CopyBuffer {
    fn default() -> Self {
        Self::with_capacity(1 << 16)
    }
}

impl CopyBuffer {
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes.max(HEADER.len() + 2));
        buf.extend_from_slice(HEADER);
        CopyBuffer {
            buf,
            rows: 0,
            finished: false,
        }
    }

    /// Starts a row of `fields` columns.
    #[inline]
    pub fn row(&mut self, fields: i16) -> &mut Self {
        debug_assert!(!self.finished);
        self.rows += 1;
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self
    }

    #[inline]
    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf
            .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    #[inline]
    pub fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    #[inline]
    pub fn uuid(&mut self, id: Uuid) -> &mut Self {
        self.field(id.as_bytes())
    }

    #[inline]
    pub fn opt_uuid(&mut self, id: Option<Uuid>) -> &mut Self {
        match id {
            Some(id) => self.uuid(id),
            None => self.null(),
        }
    }

    /// A timestamptz given as Unix microseconds.
    #[inline]
    pub fn ts_us(&mut self, unix_us: i64) -> &mut Self {
        self.field(&(unix_us - PG_EPOCH_US).to_be_bytes())
    }

    #[inline]
    pub fn opt_ts_us(&mut self, unix_us: Option<i64>) -> &mut Self {
        match unix_us {
            Some(t) => self.ts_us(t),
            None => self.null(),
        }
    }

    #[inline]
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.field(s.as_bytes())
    }

    #[inline]
    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    #[inline]
    pub fn bytea(&mut self, b: &[u8]) -> &mut Self {
        self.field(b)
    }

    #[inline]
    pub fn opt_bytea(&mut self, b: Option<&[u8]>) -> &mut Self {
        match b {
            Some(b) => self.bytea(b),
            None => self.null(),
        }
    }

    #[inline]
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.field(&[v as u8])
    }

    #[inline]
    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    #[inline]
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    /// jsonb: a version byte, then the JSON text.
    #[inline]
    pub fn jsonb(&mut self, json: &str) -> &mut Self {
        self.buf
            .extend_from_slice(&(json.len() as i32 + 1).to_be_bytes());
        self.buf.push(1);
        self.buf.extend_from_slice(json.as_bytes());
        self
    }

    /// inet holding one IPv4 host address.
    #[inline]
    pub fn inet4(&mut self, addr: [u8; 4]) -> &mut Self {
        self.field(&[2, 32, 0, 4, addr[0], addr[1], addr[2], addr[3]])
    }

    /// numeric from a fixed-point value with 4 decimals (`units` = value × 10⁴), the scale of
    /// every money column (numeric(19,4)); weights and dimensions use 3 and are passed ×10.
    pub fn numeric4(&mut self, units: i64) -> &mut Self {
        self.numeric_scaled(units, 4)
    }

    /// numeric(p, 3) from `units` = value × 10³.
    pub fn numeric3(&mut self, units: i64) -> &mut Self {
        self.numeric_scaled(units * 10, 3)
    }

    /// `units10k` is value × 10⁴; `dscale` is the display scale (3 or 4).
    fn numeric_scaled(&mut self, units10k: i64, dscale: i16) -> &mut Self {
        let negative = units10k < 0;
        let mut int = units10k.unsigned_abs() / 10_000;
        let frac = (units10k.unsigned_abs() % 10_000) as i16;
        // Base-10000 digits of the integer part, most significant first.
        let mut int_digits = [0i16; 5];
        let mut n_int = 0;
        while int > 0 {
            int_digits[n_int] = (int % 10_000) as i16;
            int /= 10_000;
            n_int += 1;
        }
        int_digits[..n_int].reverse();
        let mut digits = [0i16; 6];
        digits[..n_int].copy_from_slice(&int_digits[..n_int]);
        let mut n = n_int;
        let mut weight = n_int as i16 - 1;
        if frac != 0 {
            digits[n] = frac;
            n += 1;
        }
        // Strip leading zero digits (only possible when the integer part is 0) and trailing ones.
        let mut start = 0;
        while start < n && digits[start] == 0 {
            start += 1;
            weight -= 1;
        }
        while n > start && digits[n - 1] == 0 {
            n -= 1;
        }
        let ndigits = (n - start) as i16;
        if ndigits == 0 {
            weight = 0;
        }
        let len = 8 + 2 * ndigits as i32;
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(&ndigits.to_be_bytes());
        self.buf.extend_from_slice(&weight.to_be_bytes());
        let sign: u16 = if negative && ndigits > 0 { 0x4000 } else { 0 };
        self.buf.extend_from_slice(&sign.to_be_bytes());
        self.buf.extend_from_slice(&dscale.to_be_bytes());
        for d in &digits[start..n] {
            self.buf.extend_from_slice(&d.to_be_bytes());
        }
        self
    }

    /// Appends the trailer; the buffer is then ready to send.
    pub fn finish(&mut self) -> &[u8] {
        if !self.finished {
            self.buf.extend_from_slice(&(-1i16).to_be_bytes());
            self.finished = true;
        }
        &self.buf
    }

    /// Empties the buffer (keeps its allocation).
    pub fn clear(&mut self) {
        self.buf.truncate(HEADER.len());
        self.rows = 0;
        self.finished = false;
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The encoded bytes (call `finish` first to include the trailer).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(units: i64) -> Vec<u8> {
        let mut b = CopyBuffer::with_capacity(64);
        let start = b.len();
        b.numeric4(units);
        b.bytes()[start..].to_vec()
    }

    #[test]
    fn numeric_encodes_base_10000_digits() {
        // 12345.6789 = digits [1, 2345, 6789], weight 1
        let b = numeric_bytes(123_456_789);
        assert_eq!(&b[4..6], &3i16.to_be_bytes());
        assert_eq!(&b[6..8], &1i16.to_be_bytes());
        assert_eq!(&b[12..14], &1i16.to_be_bytes());
        assert_eq!(&b[14..16], &2345i16.to_be_bytes());
        assert_eq!(&b[16..18], &6789i16.to_be_bytes());
        // 0.5 = digits [5000], weight -1
        let b = numeric_bytes(5_000);
        assert_eq!(&b[4..6], &1i16.to_be_bytes());
        assert_eq!(&b[6..8], &(-1i16).to_be_bytes());
        // 0 = no digits
        let b = numeric_bytes(0);
        assert_eq!(&b[4..6], &0i16.to_be_bytes());
        // 20000 = digits [2], weight 1 (trailing zero digit stripped)
        let b = numeric_bytes(200_000_000);
        assert_eq!(&b[4..6], &1i16.to_be_bytes());
        assert_eq!(&b[6..8], &1i16.to_be_bytes());
    }
}
