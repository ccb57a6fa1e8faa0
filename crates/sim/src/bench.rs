//! `whalewatch sim bench`: how fast a world is generated and served.
//!
//! Generation time and peak memory are measured in-process; serving is measured
//! end to end over loopback HTTP (token, then one `runHuntingQuery` per day of
//! `EmailEvents`), with a minimal HTTP/1.1 client so the figure is the server's,
//! not a client library's.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::kql::TICKS_PER_SECOND;
use super::kql::table::format_datetime;
use super::params::WorldParams;
use super::server::{SimConfig, SimServer};
use super::world::World;

/// The figures `sim bench` prints.
#[derive(Debug, Serialize)]
pub struct SimBench {
    pub email_events_rows: usize,
    pub generate_seconds: f64,
    pub peak_rss_bytes_after_generate: Option<u64>,
    pub hunting_calls: usize,
    pub rows_served: usize,
    pub bytes_served: usize,
    pub serve_seconds: f64,
    pub rows_per_second: f64,
    pub megabytes_per_second: f64,
    pub peak_rss_bytes: Option<u64>,
}

/// Peak resident memory of this process (Linux `VmHWM`).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A one-connection HTTP/1.1 client: just enough to time the server.
struct RawClient {
    stream: BufReader<TcpStream>,
    host: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("I/O with the simulator failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("unexpected response from the simulator: {0}")]
    Protocol(String),
    #[error(transparent)]
    Serve(#[from] super::server::ServeError),
    #[error(transparent)]
    Params(#[from] super::params::ParamsError),
}

impl RawClient {
    async fn connect(addr: SocketAddr) -> Result<Self, BenchError> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(RawClient {
            stream: BufReader::with_capacity(1 << 20, s),
            host: addr.to_string(),
        })
    }

    /// Sends one request and returns (status, body).
    async fn request(
        &mut self,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), BenchError> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n{headers}\r\n",
            self.host,
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let b = self.stream.read_u8().await?;
            head.push(b);
        }
        let text = String::from_utf8_lossy(&head);
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| BenchError::Protocol("no status line".into()))?;
        let len: usize = text
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_string())
            })
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| BenchError::Protocol("no Content-Length".into()))?;
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// Generates the world for `params`, serves it, and pulls every `EmailEvents` row.
pub async fn run(params: WorldParams) -> Result<SimBench, BenchError> {
    let started = Instant::now();
    let world = tokio::task::spawn_blocking(move || World::generate(&params))
        .await
        .map_err(|e| BenchError::Protocol(e.to_string()))??;
    let generate_seconds = started.elapsed().as_secs_f64();
    let peak_after_generate = peak_rss_bytes();
    let rows = world.rows.len();
    let (now, days) = (world.now(), world.params.days);
    let config = SimConfig {
        hunting_calls_per_minute: u32::MAX,
        ..SimConfig::new(world.params.clone())
    };
    let server = SimServer::start_with_world(
        "127.0.0.1:0"
            .parse()
            .map_err(|_| BenchError::Protocol("address".into()))?,
        config,
        world,
    )
    .await?;
    let addr: SocketAddr = server
        .base_url
        .trim_start_matches("http://")
        .parse()
        .map_err(|_| BenchError::Protocol("base url".into()))?;
    let mut client = RawClient::connect(addr).await?;

    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        server.client_id, server.client_secret
    );
    let (status, body) = client
        .request(
            &format!("/{}/oauth2/v2.0/token", server.tenant_id),
            "Content-Type: application/x-www-form-urlencoded\r\n",
            form.as_bytes(),
        )
        .await?;
    let token: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| BenchError::Protocol(e.to_string()))?;
    let token = token["access_token"]
        .as_str()
        .filter(|_| status == 200)
        .ok_or_else(|| BenchError::Protocol(format!("token request failed ({status})")))?
        .to_string();
    let auth = format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n");

    // One window per day, pulled by two connections at once (as a refresh does),
    // so the server renders one window while the client parses another.
    let day = 86_400 * TICKS_PER_SECOND;
    let start = now - i64::from(days) * day;
    let windows: Vec<(i64, i64)> = (0..days)
        .map(|d| {
            (
                start + i64::from(d) * day,
                (start + i64::from(d + 1) * day).min(now),
            )
        })
        .collect();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..2usize {
        let mine: Vec<(i64, i64)> = windows.iter().copied().skip(worker).step_by(2).collect();
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = RawClient::connect(addr).await?;
            let (mut rows, mut bytes) = (0usize, 0usize);
            for (from, to) in mine {
                let query = format!(
                    "EmailEvents | where Timestamp >= datetime({}) and Timestamp < datetime({})",
                    format_datetime(from),
                    format_datetime(to)
                );
                let req = serde_json::json!({ "Query": query }).to_string();
                let (status, body) = client
                    .request("/v1.0/security/runHuntingQuery", &auth, req.as_bytes())
                    .await?;
                if status != 200 {
                    return Err(BenchError::Protocol(format!(
                        "hunting query failed ({status}): {}",
                        String::from_utf8_lossy(&body)
                    )));
                }
                #[derive(serde::Deserialize)]
                struct Results {
                    results: Vec<serde::de::IgnoredAny>,
                }
                let parsed: Results = serde_json::from_slice(&body)
                    .map_err(|e| BenchError::Protocol(e.to_string()))?;
                rows += parsed.results.len();
                bytes += body.len();
            }
            Ok::<_, BenchError>((rows, bytes))
        }));
    }
    let (mut served, mut bytes) = (0usize, 0usize);
    for t in tasks {
        let (r, b) = t.await.map_err(|e| BenchError::Protocol(e.to_string()))??;
        served += r;
        bytes += b;
    }
    let calls = windows.len();
    let serve = t0.elapsed().max(Duration::from_micros(1)).as_secs_f64();
    server.shutdown().await;
    Ok(SimBench {
        email_events_rows: rows,
        generate_seconds,
        peak_rss_bytes_after_generate: peak_after_generate,
        hunting_calls: calls,
        rows_served: served,
        bytes_served: bytes,
        serve_seconds: serve,
        rows_per_second: served as f64 / serve,
        megabytes_per_second: bytes as f64 / serve / 1e6,
        peak_rss_bytes: peak_rss_bytes(),
    })
}
