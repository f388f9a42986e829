//! HDR histograms as they travel in results files: the histogram itself (HdrHistogram V2 format,
//! DEFLATE-compressed, base64: the format every HdrHistogram implementation reads) beside its
//! percentile summary, so readers that only want p99 need not decode. Values are microseconds.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("histogram {what}: {detail}")]
    Histogram { what: &'static str, detail: String },
}

/// The histogram every recorder starts from: 1 µs resolution, 3 significant digits, resizing
/// itself to whatever it is given (nothing is clipped).
pub fn empty() -> Histogram<u64> {
    let mut h = Histogram::new(3).expect("3 significant digits is valid");
    h.auto(true);
    h
}

/// A serialized histogram and its summary (microseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Encoded {
    pub count: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    /// HdrHistogram V2 + DEFLATE, base64 (standard alphabet, padded).
    pub hdr: String,
}

impl Encoded {
    pub fn new(h: &Histogram<u64>) -> Self {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(h, &mut bytes)
            .expect("serializing into memory cannot fail");
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        Encoded {
            count: h.len(),
            min_us: if h.is_empty() { 0 } else { h.min() },
            max_us: if h.is_empty() { 0 } else { h.max() },
            mean_us: if h.is_empty() { 0.0 } else { h.mean() },
            p50_us: q(0.5),
            p90_us: q(0.9),
            p95_us: q(0.95),
            p99_us: q(0.99),
            p999_us: q(0.999),
            hdr: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The histogram back, auto-resizing so that others can be added into it.
    pub fn decode(&self) -> Result<Histogram<u64>, Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.hdr)
            .map_err(|e| Error::Histogram {
                what: "is not base64",
                detail: e.to_string(),
            })?;
        let mut h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| Error::Histogram {
                what: "is not HdrHistogram V2",
                detail: format!("{e:?}"),
            })?;
        h.auto(true);
        if h.len() != self.count {
            return Err(Error::Histogram {
                what: "does not match its summary",
                detail: format!("{} values decoded, count says {}", h.len(), self.count),
            });
        }
        Ok(h)
    }

    /// The value at quantile `q` in milliseconds (the summary's own figures where it has them).
    pub fn quantile_ms(&self, q: Quantile) -> f64 {
        let us = match q {
            Quantile::P50 => self.p50_us,
            Quantile::P90 => self.p90_us,
            Quantile::P95 => self.p95_us,
            Quantile::P99 => self.p99_us,
            Quantile::P999 => self.p999_us,
            Quantile::Max => self.max_us,
        };
        us as f64 / 1000.0
    }
}

/// Exact merge: the histograms are added bucket by bucket, then summarised again.
pub fn merge<'a>(parts: impl IntoIterator<Item = &'a Encoded>) -> Result<Encoded, Error> {
    let mut total = empty();
    for p in parts {
        add(&mut total, p)?;
    }
    Ok(Encoded::new(&total))
}

/// Adds an encoded histogram into `total`, bucket by bucket.
pub fn add(total: &mut Histogram<u64>, part: &Encoded) -> Result<(), Error> {
    total.add(part.decode()?).map_err(|e| Error::Histogram {
        what: "cannot be added",
        detail: format!("{e:?}"),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Quantile {
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
}

impl Quantile {
    /// The quantile as a fraction (1.0 for the maximum).
    pub fn fraction(self) -> f64 {
        match self {
            Quantile::P50 => 0.5,
            Quantile::P90 => 0.9,
            Quantile::P95 => 0.95,
            Quantile::P99 => 0.99,
            Quantile::P999 => 0.999,
            Quantile::Max => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_merge_are_exact() {
        let mut a = empty();
        let mut b = empty();
        let mut all = empty();
        for i in 0..50_000u64 {
            let v = 50 + (i * 7919) % 2_000_000;
            if i % 3 == 0 {
                a.record(v).unwrap()
            } else {
                b.record(v).unwrap()
            }
            all.record(v).unwrap();
        }
        let (ea, eb) = (Encoded::new(&a), Encoded::new(&b));
        assert_eq!(ea.decode().unwrap(), a);
        let merged = merge([&ea, &eb]).unwrap();
        let direct = Encoded::new(&all);
        // The bytes may differ (a merged histogram can cover a wider range); the values may not.
        assert_eq!(merged.decode().unwrap(), all);
        assert_eq!(
            (
                merged.p50_us,
                merged.p99_us,
                merged.p999_us,
                merged.max_us,
                merged.mean_us
            ),
            (
                direct.p50_us,
                direct.p99_us,
                direct.p999_us,
                direct.max_us,
                direct.mean_us
            )
        );
        assert_eq!(merged.count, 50_000);
        assert!(merged.p99_us > merged.p50_us);
    }

    #[test]
    fn empty_histograms_summarise_to_zero() {
        let e = Encoded::new(&empty());
        assert_eq!((e.count, e.p99_us, e.max_us), (0, 0, 0));
        assert_eq!(e.decode().unwrap().len(), 0);
    }

    #[test]
    fn damaged_histograms_are_refused() {
        let mut e = Encoded::new(&empty());
        e.hdr = "not base64!".into();
        assert!(e.decode().is_err());
    }
}
