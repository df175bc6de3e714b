//! A scripted HTTP/1.1 server on a loopback port, for tests of the LLM clients and reasoners: it
//! answers each request with the next canned reply (status, headers, body, optional delay or a
//! body cut short) and records the raw bytes of every request, so a test can assert on exactly
//! what left the process (secrets, injected text).
//!
//! Written over a bare `TcpListener` rather than a web framework so replies can be wire-broken on
//! purpose (truncated bodies, wrong lengths). It never listens beyond 127.0.0.1.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One canned reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (client timeouts).
    pub delay: Duration,
    /// Announce the full length but send only this many body bytes, then close.
    pub truncate_at: Option<usize>,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
            truncate_at: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn truncated(mut self, at: usize) -> Self {
        self.truncate_at = Some(at);
        self
    }
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

type Responder = Arc<dyn Fn(usize, &Received) -> Reply + Send + Sync>;

/// The running server; stops when the runtime does.
#[derive(Clone)]
pub struct ScriptedServer {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl ScriptedServer {
    /// Replies in order; once the script is exhausted every further request gets a 500.
    pub async fn start(script: Vec<Reply>) -> Self {
        let queue = Arc::new(Mutex::new(VecDeque::from(script)));
        Self::start_with(Arc::new(move |_, _| {
            queue
                .lock()
                .map(|mut q| q.pop_front())
                .ok()
                .flatten()
                .unwrap_or_else(|| Reply::json(500, r#"{"error":"script exhausted"}"#))
        }))
        .await
    }

    /// Replies computed from the request number (0-based) and the request.
    pub async fn start_with(responder: Responder) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let addr = listener.local_addr().expect("local addr");
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                let responder = Arc::clone(&responder);
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    let index = {
                        let Ok(mut log) = log.lock() else { return };
                        log.push(request.clone());
                        log.len() - 1
                    };
                    let reply = responder(index, &request);
                    if !reply.delay.is_zero() {
                        tokio::time::sleep(reply.delay).await;
                    }
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    for (k, v) in &reply.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let body = match reply.truncate_at {
                        Some(at) => &reply.body[..at.min(reply.body.len())],
                        None => &reply.body[..],
                    };
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            url: format!("http://{addr}"),
            received,
        }
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// All request bytes (heads and bodies) concatenated: what left the client.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for r in self.received() {
            out.extend_from_slice(r.head.as_bytes());
            out.extend_from_slice(&r.body);
        }
        out
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { head, body })
}
