//! Records the git revision shopbench was built from (results files carry it as provenance).

fn main() {
    println!("cargo:rerun-if-env-changed=SHOPBENCH_GIT_REVISION");
    // A build without the repository's history (the Dockerfile's) is told the revision.
    if let Ok(rev) = std::env::var("SHOPBENCH_GIT_REVISION") {
        println!("cargo:rustc-env=SHOPBENCH_GIT_REVISION={rev}");
        return;
    }
    let rev = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    println!(
        "cargo:rustc-env=SHOPBENCH_GIT_REVISION={rev}{}",
        if dirty { "-dirty" } else { "" }
    );
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
