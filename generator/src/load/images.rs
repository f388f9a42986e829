//! Sample product images: small real PNGs (a gradient and a stripe per image, 64×64), uploaded
//! to the object store (`platform::objects`). Uploading is
//! idempotent (same key, same bytes), so a resumed seed simply uploads them again.

use crate::error::{Error, Result};
use crate::rng::{key, mix, Stream};

pub struct Store {
    pub endpoint: url::Url,
    pub bucket: String,
    pub credentials: Option<(String, String)>,
}

/// The base URL the images are served from (path style: `http://host:port/bucket`).
pub fn base_url(store: &Store) -> String {
    format!(
        "{}/{}",
        store.endpoint.as_str().trim_end_matches('/'),
        store.bucket
    )
}

/// PNG image `n` of the seed.
pub fn png(seed: u64, n: u64) -> Vec<u8> {
    const SIDE: u32 = 64;
    let h = key(seed, Stream::Pool, 1_000 + n);
    let (r0, g0, b0) = (
        (h & 0xff) as u32,
        (h >> 8 & 0xff) as u32,
        (h >> 16 & 0xff) as u32,
    );
    let stripe = (mix(h) % SIDE as u64) as u32;
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let on_stripe = (x + y) % SIDE == stripe || (x + y + 1) % SIDE == stripe;
            let shade = |c: u32| if on_stripe { 255 - c } else { (c * (SIDE + x) / (2 * SIDE) + y) .min(255) } as u8;
            pixels.extend_from_slice(&[shade(r0), shade(g0), shade(b0)]);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, SIDE, SIDE);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("PNG header into memory");
        writer
            .write_image_data(&pixels)
            .expect("PNG data into memory");
    }
    out
}

pub fn object_key(n: u64) -> String {
    format!("products/sample-{n:04}.png")
}

/// Uploads images 0..count; returns the bytes sent.
pub async fn upload(store: &Store, seed: u64, count: u32) -> Result<u64> {
    let err = |e: platform::Error| Error::Http {
        service: "S3",
        context: "uploading sample images".into(),
        detail: e.to_string(),
    };
    let endpoint = platform::SecretUrl::new(store.endpoint.clone());
    let objects =
        platform::objects::Objects::new(&endpoint, &store.bucket, store.credentials.clone())
            .map_err(err)?;
    let mut bytes = 0;
    for n in 0..count as u64 {
        let body = png(seed, n);
        bytes += body.len() as u64;
        objects
            .put(&object_key(n), body, "image/png")
            .await
            .map_err(err)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn images_are_real_pngs_and_differ() {
        let a = super::png(1, 0);
        let b = super::png(1, 1);
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        assert_ne!(a, b);
        assert_eq!(a, super::png(1, 0));
    }
}
