//! A loopback TCP proxy for fault tests: its first connection is handed to the test, to damage
//! as it needs (a reply swallowed, a request cut short); every later one passes both ways.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpStream;

/// Listens on a loopback port in front of `server` and returns the port. The first connection
/// (the client's, the upstream one) goes to `first`; later ones are copied both ways.
pub async fn proxy<F, Fut>(server: SocketAddr, first: F) -> u16
where
    F: FnOnce(TcpStream, TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut first = Some(first);
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let mut upstream = TcpStream::connect(server).await.unwrap();
            match first.take() {
                Some(f) => {
                    tokio::spawn(f(client, upstream));
                }
                None => {
                    tokio::spawn(async move {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    });
                }
            }
        }
    });
    port
}
