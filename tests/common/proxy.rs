//! A proxy on loopback in front of the simulator, for tests of a misbehaving
//! endpoint: it forwards every request and lets the test hold a request forever or
//! rewrite an answer.

use std::sync::Arc;
use std::time::Duration;

/// Whether a request is never answered: (path, request body).
pub type Hold = dyn Fn(&str, &str) -> bool + Send + Sync;
/// Rewrites an answer in place: (path, request body, status, answer body).
pub type Rewrite = dyn Fn(&str, &str, u16, &mut Vec<u8>) + Send + Sync;

/// The running proxy; it stops when dropped.
pub struct Proxy {
    pub url: String,
    _runtime: tokio::runtime::Runtime,
}

impl Proxy {
    pub fn start(upstream: &str, hold: Arc<Hold>, rewrite: Arc<Rewrite>) -> Proxy {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.to_string();
        let client = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (upstream, client) = (upstream.clone(), client.clone());
            let (hold, rewrite) = (hold.clone(), rewrite.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let text = String::from_utf8_lossy(&body).into_owned();
                let path = parts.uri.path().to_string();
                if hold(&path, &text) {
                    tokio::time::sleep(Duration::from_secs(600)).await;
                }
                let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let mut out = client.request(parts.method.clone(), format!("{upstream}{target}"));
                for (k, v) in &parts.headers {
                    if k != "host" {
                        out = out.header(k, v);
                    }
                }
                let resp = out.body(body).send().await.unwrap();
                let status = resp.status();
                let ctype = resp.headers().get("content-type").cloned();
                let mut bytes = resp.bytes().await.unwrap().to_vec();
                rewrite(&path, &text, status.as_u16(), &mut bytes);
                let mut r = axum::response::Response::builder().status(status.as_u16());
                if let Some(c) = ctype {
                    r = r.header("content-type", c);
                }
                r.body(axum::body::Body::from(bytes)).unwrap()
            }
        });
        runtime.spawn(async move { axum::serve(listener, app).await });
        Proxy {
            url,
            _runtime: runtime,
        }
    }
}
