//! Words: product vocabulary per department with realistic (Zipf) term frequencies, and pools of
//! personal data made once per seed with the `fake` crate (drawing from a pool is ~100× faster
//! than calling `fake` per row, and a pool of thousands keeps values varied).

use fake::faker::address::en::{CityName, StateAbbr, StreetName, ZipCode};
use fake::faker::company::en::CompanyName;
use fake::faker::internet::en::UserAgent;
use fake::faker::name::en::{FirstName, LastName};
use fake::Fake;

use crate::rng::{key, Draw, Stream};

/// A department: its name and the nouns its products are called by, most common first.
pub struct Department {
    pub name: &'static str,
    pub nouns: &'static [&'static str],
    /// Median price in cents and the log-normal shape.
    pub median_cents: f64,
    pub sigma: f64,
}

pub const DEPARTMENTS: &[Department] = &[
    Department {
        name: "Electronics",
        nouns: &[
            "headphones",
            "charger",
            "cable",
            "speaker",
            "keyboard",
            "mouse",
            "monitor",
            "laptop",
            "tablet",
            "camera",
            "earbuds",
            "router",
            "smartwatch",
            "projector",
            "microphone",
        ],
        median_cents: 6_900.0,
        sigma: 1.0,
    },
    Department {
        name: "Clothing",
        nouns: &[
            "shirt", "jeans", "jacket", "dress", "sweater", "hoodie", "socks", "shorts", "coat",
            "skirt", "blouse", "vest", "scarf", "leggings", "cardigan",
        ],
        median_cents: 3_500.0,
        sigma: 0.6,
    },
    Department {
        name: "Home",
        nouns: &[
            "lamp", "pillow", "blanket", "rug", "curtain", "mirror", "vase", "clock", "towel",
            "candle", "basket", "shelf", "frame", "duvet", "stool",
        ],
        median_cents: 2_900.0,
        sigma: 0.8,
    },
    Department {
        name: "Kitchen",
        nouns: &[
            "pan",
            "knife",
            "mug",
            "kettle",
            "blender",
            "skillet",
            "bowl",
            "spatula",
            "toaster",
            "grinder",
            "teapot",
            "cutting board",
            "colander",
            "whisk",
            "pot",
        ],
        median_cents: 2_400.0,
        sigma: 0.8,
    },
    Department {
        name: "Sports",
        nouns: &[
            "yoga mat",
            "dumbbell",
            "bottle",
            "backpack",
            "tent",
            "helmet",
            "gloves",
            "racket",
            "ball",
            "bike light",
            "jump rope",
            "sleeping bag",
            "kettlebell",
            "trekking poles",
            "bandana",
        ],
        median_cents: 3_200.0,
        sigma: 0.9,
    },
    Department {
        name: "Beauty",
        nouns: &[
            "serum",
            "moisturizer",
            "shampoo",
            "conditioner",
            "lipstick",
            "mascara",
            "cleanser",
            "sunscreen",
            "perfume",
            "lotion",
            "toner",
            "brush",
            "nail polish",
            "face mask",
            "body wash",
        ],
        median_cents: 1_800.0,
        sigma: 0.7,
    },
    Department {
        name: "Toys",
        nouns: &[
            "puzzle",
            "doll",
            "building set",
            "plush",
            "board game",
            "car",
            "robot",
            "kite",
            "train set",
            "action figure",
            "blocks",
            "drone",
            "yo-yo",
            "marbles",
            "play tent",
        ],
        median_cents: 2_200.0,
        sigma: 0.8,
    },
    Department {
        name: "Books",
        nouns: &[
            "novel",
            "cookbook",
            "notebook",
            "journal",
            "atlas",
            "guide",
            "planner",
            "sketchbook",
            "biography",
            "anthology",
            "workbook",
            "dictionary",
            "comic",
            "poetry collection",
            "field guide",
        ],
        median_cents: 1_600.0,
        sigma: 0.5,
    },
    Department {
        name: "Garden",
        nouns: &[
            "planter",
            "hose",
            "shovel",
            "pruner",
            "seed kit",
            "watering can",
            "rake",
            "bird feeder",
            "trellis",
            "gloves",
            "wheelbarrow",
            "sprinkler",
            "lantern",
            "compost bin",
            "hammock",
        ],
        median_cents: 2_700.0,
        sigma: 0.9,
    },
    Department {
        name: "Grocery",
        nouns: &[
            "coffee",
            "tea",
            "olive oil",
            "chocolate",
            "honey",
            "granola",
            "pasta",
            "spice set",
            "hot sauce",
            "almonds",
            "maple syrup",
            "rice",
            "jam",
            "crackers",
            "vinegar",
        ],
        median_cents: 900.0,
        sigma: 0.6,
    },
];

/// Adjectives, most common first (drawn by Zipf: "classic" is everywhere, "iridescent" rare).
pub const ADJECTIVES: &[&str] = &[
    "classic",
    "premium",
    "essential",
    "organic",
    "wireless",
    "portable",
    "compact",
    "deluxe",
    "lightweight",
    "vintage",
    "modern",
    "ergonomic",
    "durable",
    "eco",
    "smart",
    "soft",
    "heavy-duty",
    "handmade",
    "slim",
    "waterproof",
    "foldable",
    "rustic",
    "minimalist",
    "bold",
    "luxury",
    "everyday",
    "travel",
    "pro",
    "mini",
    "ultra",
    "cozy",
    "sleek",
    "rechargeable",
    "artisan",
    "iridescent",
];

pub const MATERIALS: &[&str] = &[
    "cotton", "steel", "leather", "bamboo", "wool", "ceramic", "oak", "linen", "glass", "silicone",
    "aluminum", "walnut", "copper", "marble", "hemp", "velvet", "titanium", "cork",
];

pub const COLORS: &[&str] = &[
    "black", "white", "navy", "grey", "red", "green", "blue", "beige", "olive", "pink", "charcoal",
    "teal", "burgundy", "mustard", "lavender", "coral",
];

pub const SIZES: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];

/// Description words after the product's own terms, most common first.
pub const DESCRIPTION_WORDS: &[&str] = &[
    "quality",
    "design",
    "comfort",
    "perfect",
    "gift",
    "daily",
    "use",
    "easy",
    "clean",
    "made",
    "feature",
    "style",
    "fits",
    "great",
    "home",
    "office",
    "outdoor",
    "long-lasting",
    "warranty",
    "sustainable",
    "tested",
    "crafted",
    "finish",
    "care",
    "value",
    "favorite",
    "family",
    "season",
    "weekend",
    "performance",
    "reliable",
    "versatile",
    "limited",
    "edition",
    "exclusive",
    "sourced",
    "responsibly",
    "certified",
    "recycled",
    "packaging",
    "dishwasher",
    "safe",
    "machine",
    "washable",
    "adjustable",
    "breathable",
    "non-slip",
    "lifetime",
    "guarantee",
    "award-winning",
];

/// Event types of browsing, most frequent first (cart and checkout events come from a session's
/// journey: rows/events.rs).
pub const BROWSE_EVENTS: &[&str] = &[
    "product.view",
    "search.query",
    "category.view",
    "wishlist.add",
    "account.login",
    "review.write",
];

/// Pools of personal data and brand names for one seed.
#[derive(Debug, Clone)]
pub struct Pools {
    pub first_names: Vec<String>,
    pub last_names: Vec<String>,
    pub streets: Vec<String>,
    pub cities: Vec<String>,
    pub states: Vec<String>,
    pub zips: Vec<String>,
    pub brands: Vec<String>,
    pub user_agents: Vec<String>,
}

const POOL: usize = 2048;

impl Pools {
    pub fn new(seed: u64) -> Self {
        let mut rng = Draw::new(key(seed, Stream::Pool, 0));
        let mut make = |n: usize, f: &mut dyn FnMut(&mut Draw) -> String| {
            (0..n).map(|_| f(&mut rng)).collect::<Vec<_>>()
        };
        let first_names = make(POOL, &mut |r| FirstName().fake_with_rng(r));
        let last_names = make(POOL, &mut |r| LastName().fake_with_rng(r));
        let streets = make(POOL, &mut |r| {
            let street: String = StreetName().fake_with_rng(r);
            let number: u16 = (1..9999).fake_with_rng(r);
            format!("{number} {street}")
        });
        let cities = make(POOL, &mut |r| CityName().fake_with_rng(r));
        let states = make(POOL, &mut |r| StateAbbr().fake_with_rng(r));
        let zips = make(POOL, &mut |r| ZipCode().fake_with_rng(r));
        let brands = make(512, &mut |r| {
            let name: String = CompanyName().fake_with_rng(r);
            // Brand = the company's first word ("Kuhn and Sons" -> "Kuhn"), trimmed of punctuation.
            name.split([' ', ','])
                .next()
                .unwrap_or("Acme")
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect()
        });
        let user_agents = make(64, &mut |r| UserAgent().fake_with_rng(r));
        Pools {
            first_names,
            last_names,
            streets,
            cities,
            states,
            zips,
            brands,
            user_agents,
        }
    }
}

/// A URL-safe slug of `s` ("Acme Classic Lamp" -> "acme-classic-lamp").
pub fn slugify(s: &str, out: &mut String) {
    let mut dash = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_deterministic_and_filled() {
        let a = Pools::new(9);
        let b = Pools::new(9);
        assert_eq!(a.first_names, b.first_names);
        assert_eq!(a.brands, b.brands);
        assert!(a.brands.iter().all(|b| !b.is_empty()));
        assert_ne!(Pools::new(10).first_names, a.first_names);
    }

    #[test]
    fn slugs_match_the_schema_pattern() {
        let mut s = String::new();
        slugify("  Kuhn's Classic -- Lamp! 42 ", &mut s);
        assert_eq!(s, "kuhn-s-classic-lamp-42");
    }
}
