//! An OpenSearch-compatible server for the search tests: osmem-server (PyPI `osmem-server`,
//! installed by scripts/install-deps.sh), in memory, one per test on a free loopback port, gone
//! when the test process ends. It proves API compatibility, not performance.

use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SearchServer {
    child: Child,
    /// Held open: the server exits when its stdin closes (the test process ended).
    _stdin: ChildStdin,
    pub url: String,
    port: u16,
}

/// The osmem-server binary, if installed.
fn binary() -> Option<String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import osmem_server; print(osmem_server.resolve_binary())",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl SearchServer {
    /// A server on a free port; `None` (the test is skipped) when osmem-server is not installed
    /// and SHOPBENCH_REQUIRE_SEARCH is not set (scripts/test.sh sets it).
    pub fn start() -> Option<SearchServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        SearchServer::start_on(port)
    }

    /// A server on `port` (a restart: the same address, empty).
    pub fn start_on(port: u16) -> Option<SearchServer> {
        let Some(bin) = binary() else {
            assert!(
                std::env::var_os("SHOPBENCH_REQUIRE_SEARCH").is_none(),
                "osmem-server is not installed: run scripts/install-deps.sh"
            );
            eprintln!("skipped: osmem-server is not installed (scripts/install-deps.sh)");
            return None;
        };
        let mut child = Command::new(bin)
            .args(["-addr", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start osmem-server");
        let stdin = child.stdin.take().unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "osmem-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(SearchServer {
            child,
            _stdin: stdin,
            url: format!("http://127.0.0.1:{port}"),
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for SearchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
