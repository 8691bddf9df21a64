//! The clients of the fault suite: a polite one (one keep-alive connection,
//! one request at a time, reconnecting after a failure) and a vanishing one
//! (raw bytes on a socket, then a reset).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The token every request presents (the server runs without a token
/// table, on loopback).
pub const TOKEN: &str = "local-dev";

/// How long a polite request may take before it counts as unanswered.
/// Generous: the machine is shared and slow; this is never a measurement.
pub const REQUEST_PATIENCE: Duration = Duration::from_secs(60);

/// One answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl Reply {
    /// The session version the body shows.
    pub fn version(&self) -> Option<u64> {
        self.body["version"].as_u64()
    }

    /// The error code of an error envelope.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A polite client: one keep-alive connection, opened again after a
/// failure.
pub struct Client {
    address: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client of the server at `address` (connects on first use).
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            sender: None,
        }
    }

    /// Sends a request and reads the whole answer; `Err` when none came
    /// (refused, reset, timed out): then the request may or may not have
    /// been applied.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let result = tokio::time::timeout(REQUEST_PATIENCE, self.try_send(method, path, body))
            .await
            .unwrap_or_else(|_| Err("no answer in time".to_owned()));
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            let stream = TcpStream::connect(self.address)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("connected");
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("authorization", format!("Bearer {TOKEN}"));
        let payload = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|e| e.to_string())?;
        sender.ready().await.map_err(|e| format!("ready: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            retry_after,
        })
    }
}

/// The raw bytes of a request, with its body.
pub fn raw_request(method: &str, path: &str, body: Option<&Value>) -> (Vec<u8>, Vec<u8>) {
    let body = body.map(Value::to_string).unwrap_or_default().into_bytes();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {TOKEN}\r\n");
    if !body.is_empty() {
        head.push_str("content-type: application/json\r\n");
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    (head.into_bytes(), body)
}

/// Where a vanishing client gives up on its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VanishPoint {
    /// Before its body is complete (the request can never run).
    MidBody,
    /// As soon as the request is sent (it may still be queued).
    AfterSending,
    /// A moment after sending: queued, or while its commit runs.
    AfterDelay(Duration),
    /// Once the first bytes of the answer arrive, while it is written.
    MidAnswer,
}

impl VanishPoint {
    /// A point chosen by `roll`, a random number.
    pub fn pick(roll: u64) -> VanishPoint {
        match roll % 4 {
            0 => VanishPoint::MidBody,
            1 => VanishPoint::AfterSending,
            2 => VanishPoint::AfterDelay(Duration::from_micros((roll >> 8) % 5_000)),
            _ => VanishPoint::MidAnswer,
        }
    }
}

/// Sends (part of) a request and resets the connection (`SO_LINGER` 0, so
/// the server sees a reset, not a polite close) at `point`. Returns whether
/// the whole request was sent (only then can it have been applied).
pub async fn vanish(
    address: SocketAddr,
    (head, body): &(Vec<u8>, Vec<u8>),
    point: VanishPoint,
) -> std::io::Result<bool> {
    let mut stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    stream.set_zero_linger()?;
    stream.write_all(head).await?;
    let sent_all = match point {
        VanishPoint::MidBody => {
            stream.write_all(&body[..body.len() / 2]).await?;
            false
        }
        VanishPoint::AfterSending => {
            stream.write_all(body).await?;
            true
        }
        VanishPoint::AfterDelay(delay) => {
            stream.write_all(body).await?;
            tokio::time::sleep(delay).await;
            true
        }
        VanishPoint::MidAnswer => {
            stream.write_all(body).await?;
            let mut first = [0_u8; 16];
            let _ = tokio::time::timeout(REQUEST_PATIENCE, stream.read(&mut first)).await;
            true
        }
    };
    // Dropped with a zero linger: the kernel sends RST.
    drop(stream);
    Ok(sent_all)
}
