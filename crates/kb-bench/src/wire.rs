//! `kingdom bench wire`: what compression costs the server. One real
//! snapshot (a default game against the `normal` AI, played to seat A's
//! action phase of turn 2) is read over and over with each
//! `Accept-Encoding` the server answers (identity, gzip, br, zstd, as the
//! server compresses them: tower-http's default levels), and with an
//! `If-None-Match` that matches (304). For each, the server's CPU time
//! (`utime + stime` of `/proc/PID/stat`, all its threads) over the
//! requests answered gives the CPU per answer; what an encoding adds over
//! identity is what compressing costs. The bytes are the answer's body.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::server::cpu_time;

/// The encodings measured, as sent in `Accept-Encoding` (`identity`:
/// none), and `304` for a matching `If-None-Match`.
pub const ENCODINGS: [&str; 5] = ["identity", "gzip", "br", "zstd", "304"];

/// One encoding's figures.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EncodingReport {
    /// `identity`, `gzip`, `br`, `zstd` or `304`.
    pub encoding: String,
    /// Answers read.
    pub answers: u64,
    /// Answers per second.
    pub per_second: f64,
    /// Body bytes of an answer.
    pub bytes: u64,
    /// The server's CPU time per answer, in microseconds.
    pub server_cpu_us: f64,
    /// The median latency, in milliseconds.
    pub p50_ms: f64,
    /// The 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
}

/// The snapshot measured and each encoding's figures.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireReport {
    /// The session's version when measured.
    pub version: u64,
    /// Each encoding, in [`ENCODINGS`] order.
    pub encodings: Vec<EncodingReport>,
}

struct Client {
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    async fn open(address: SocketAddr) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Client { sender })
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(StatusCode, hyper::HeaderMap, Bytes)> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("authorization", "Bearer local-dev");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        Ok((
            parts.status,
            parts.headers,
            body.collect().await?.to_bytes(),
        ))
    }
}

/// Plays a default game against the `normal` AI to seat A's action phase
/// of turn 2; returns its id and version.
async fn prepare(client: &mut Client) -> anyhow::Result<(String, u64)> {
    let (status, _, bytes) = client
        .send(
            Method::POST,
            "/sessions",
            Some(r#"{"aiLevel":"normal"}"#),
            &[],
        )
        .await?;
    ensure!(status == StatusCode::CREATED, "create: {status}");
    let state: Value = serde_json::from_slice(&bytes)?;
    let id = state["sessionId"].as_str().context("an id")?.to_owned();
    for _ in 0..200 {
        let (status, _, bytes) = client
            .send(Method::GET, &format!("/sessions/{id}/snapshot"), None, &[])
            .await?;
        ensure!(status == StatusCode::OK, "snapshot: {status}");
        let state: Value = serde_json::from_slice(&bytes)?;
        let game = &state["snapshot"]["game"];
        let (turn, active, phase) = (
            game["turn"].as_u64().unwrap_or(0),
            game["activePlayerId"].as_str().unwrap_or(""),
            game["currentPhase"].as_str().unwrap_or(""),
        );
        if turn == 2 && active == "A" && phase == "main" {
            return Ok((id, state["version"].as_u64().unwrap_or(0)));
        }
        let (path, body) = if active == "B" {
            (
                format!("/sessions/{id}/ai-turn"),
                Some(r#"{"playerId":"B","mode":"turn"}"#),
            )
        } else {
            (format!("/sessions/{id}/advance"), None)
        };
        let (status, _, bytes) = client.send(Method::POST, &path, body, &[]).await?;
        ensure!(
            status == StatusCode::OK,
            "{path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    bail!("the game did not reach A's action phase of turn 2")
}

/// Measures every encoding for `duration` each, with `clients`
/// connections, against the server `pid` at `address`.
pub async fn run(
    address: SocketAddr,
    pid: u32,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<WireReport> {
    let mut client = Client::open(address).await?;
    let (id, version) = prepare(&mut client).await?;
    let path = format!("/sessions/{id}/snapshot");
    let (_, headers, _) = client.send(Method::GET, &path, None, &[]).await?;
    let etag = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .context("an ETag")?
        .to_owned();
    let mut encodings = Vec::new();
    for encoding in ENCODINGS {
        let pairs: Vec<(&'static str, String)> = match encoding {
            "identity" => vec![("accept-encoding", "identity".to_owned())],
            "304" => vec![("if-none-match", etag.clone())],
            other => vec![("accept-encoding", other.to_owned())],
        };
        let expected = if encoding == "304" {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        };
        // Warm up, and check what the server answers.
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, answer_headers, body) =
            client.send(Method::GET, &path, None, &borrowed).await?;
        ensure!(status == expected, "{encoding}: {status}");
        let content_encoding = answer_headers
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity");
        if matches!(encoding, "gzip" | "br" | "zstd") {
            ensure!(
                content_encoding == encoding,
                "{encoding}: answered {content_encoding}"
            );
        }
        let bytes = body.len() as u64;
        let cpu_before = cpu_time(pid)?;
        let started = Instant::now();
        let deadline = started + duration;
        let mut tasks = Vec::new();
        for _ in 0..clients.max(1) {
            let (path, pairs) = (path.clone(), pairs.clone());
            tasks.push(tokio::spawn(async move {
                let mut client = Client::open(address).await?;
                let borrowed: Vec<(&str, &str)> =
                    pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let (status, _, body) =
                        client.send(Method::GET, &path, None, &borrowed).await?;
                    latencies.push(sent.elapsed());
                    ensure!(
                        status == expected && body.len() as u64 == bytes,
                        "an answer changed"
                    );
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        let elapsed = started.elapsed();
        let cpu = cpu_time(pid)?.saturating_sub(cpu_before);
        latencies.sort_unstable();
        let pick = |p: f64| {
            latencies
                .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let answers = latencies.len() as u64;
        encodings.push(EncodingReport {
            encoding: encoding.to_owned(),
            answers,
            per_second: answers as f64 / elapsed.as_secs_f64(),
            bytes,
            server_cpu_us: cpu.as_secs_f64() * 1e6 / answers.max(1) as f64,
            p50_ms: pick(0.5),
            p99_ms: pick(0.99),
        });
    }
    Ok(WireReport { version, encodings })
}
