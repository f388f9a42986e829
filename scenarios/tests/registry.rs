//! The operation registry is the one list of operations: the README's table is generated from
//! it, and every built-in mix names only registered operations.

use scenarios::operation::{markdown_table, spec, REGISTRY};

#[test]
fn the_readme_lists_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- operations:begin -->\n", "<!-- operations:end -->");
    let start = readme
        .find(begin)
        .expect("README has the operations markers")
        + begin.len();
    let stop = readme
        .find(end)
        .expect("README has the operations end marker");
    let table = markdown_table();
    if std::env::var_os("SHOPBENCH_UPDATE_GOLDEN").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[stop..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &readme[start..stop],
        table,
        "README's operation table differs from the registry (SHOPBENCH_UPDATE_GOLDEN=1 rewrites it)"
    );
}

#[test]
fn names_are_unique_and_every_mix_uses_registered_operations() {
    for (i, s) in REGISTRY.iter().enumerate() {
        assert!(
            REGISTRY[..i].iter().all(|o| o.name != s.name),
            "{} twice",
            s.name
        );
        assert!(s.p95_ms <= s.p99_ms && s.p99_ms < 1000.0, "{}", s.name);
    }
    for (name, _) in scenarios::mix::BUILT_IN {
        for op in scenarios::mix::load(name).unwrap().operations {
            assert!(spec(&op.name).is_some(), "{name}: {}", op.name);
        }
    }
}
