//! What one connection may take, over a real socket: headers and bodies
//! that do not arrive in time, and the connection limit, which closes the
//! connection idle the longest to make room.

use std::net::SocketAddr;
use std::time::Duration;

use kb_server::app::{router, serve_within};
use kb_server::limits::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::helpers::{ALICE, TestApp, bearer};

/// Guards against a hang; never a measurement.
const HANG: Duration = Duration::from_secs(30);

/// Serves the test app within `limits` until the returned sender is
/// dropped.
async fn serve(limits: Limits) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = kb_server::app::bind("127.0.0.1", 0).await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = router(TestApp::game().state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_within(listener, app, limits, async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Everything the server sends until it closes the connection.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(HANG, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection");
    String::from_utf8_lossy(&received).into_owned()
}

const SHORT: Limits = Limits {
    max_connections: 100,
    header_timeout: Duration::from_secs(1),
    body_timeout: Duration::from_secs(1),
};

#[tokio::test]
async fn headers_that_never_finish_are_cut_off() {
    let (address, _stop) = serve(SHORT).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x")
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn a_body_that_never_finishes_gets_408_and_the_connection_closes() {
    let (address, _stop) = serve(SHORT).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /sessions HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"dev",
        bearer(ALICE)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("\"code\":\"REQUEST_TIMEOUT\""), "{answer}");
}

#[tokio::test]
async fn at_the_connection_limit_an_idle_connection_makes_room() {
    let limits = Limits {
        max_connections: 2,
        header_timeout: Duration::from_secs(60),
        ..SHORT
    };
    let (address, _stop) = serve(limits).await;
    // One connection still to send its first request, one kept alive after
    // an answer: the kept-alive one goes first.
    let mut fresh = TcpStream::connect(address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut kept = TcpStream::connect(address).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0_u8; 1024];
    let read = kept.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
    let mut third = TcpStream::connect(address).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(until_closed(&mut third).await.starts_with("HTTP/1.1 200"));
    assert_eq!(until_closed(&mut kept).await, "");
    // With no kept-alive connection left, the next one closes the
    // connection that waited the longest for its first request.
    let mut newer = TcpStream::connect(address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut fourth = TcpStream::connect(address).await.unwrap();
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(until_closed(&mut fourth).await.starts_with("HTTP/1.1 200"));
    assert_eq!(until_closed(&mut fresh).await, "");
    newer
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(until_closed(&mut newer).await.starts_with("HTTP/1.1 200"));
}
