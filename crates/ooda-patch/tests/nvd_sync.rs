//! NVD sync against a local fake of the CVE API 2.0 that serves the shared real records in the
//! API's paging shape (`startIndex`, `resultsPerPage`, `totalResults`, `lastModStartDate` /
//! `lastModEndDate` filters), records every request, and injects faults on demand.

mod common;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::fixture as shared;
use ooda_core::ManualClock;
use ooda_patch::feed::nvd::client::{NvdClient, RateLimit, SyncOptions, MAX_WINDOW_DAYS};
use ooda_patch::feed::store::FeedStore;
use ooda_patch::feed::FeedKind;

#[derive(Debug, Clone)]
struct Seen {
    query: HashMap<String, String>,
    api_key: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Status(u16),
    Truncate,
}

struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    faults: Arc<Mutex<VecDeque<Option<Fault>>>>,
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first 23 characters of NVD timestamps (`2021-08-04T13:00:00.000`) compare as text.
fn stamp(text: &str) -> String {
    text.chars().take(23).collect()
}

impl Fake {
    fn start() -> Fake {
        let text = std::fs::read_to_string(shared("nvd/nvd-api2-records.jsonl")).unwrap();
        let mut records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        records.sort_by_key(|r| r["cve"]["id"].as_str().unwrap_or("").to_owned());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/rest/json/cves/2.0",
            listener.local_addr().unwrap()
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let faults = Arc::new(Mutex::new(VecDeque::new()));
        let (seen_in, faults_in) = (seen.clone(), faults.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let fault = faults_in.lock().unwrap().pop_front().flatten();
                serve(stream, &records, &seen_in, fault);
            }
        });
        Fake { url, seen, faults }
    }

    fn fail_next(&self, plan: &[Option<Fault>]) {
        self.faults.lock().unwrap().extend(plan.iter().copied());
    }

    fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn serve(
    stream: TcpStream,
    records: &[serde_json::Value],
    seen: &Mutex<Vec<Seen>>,
    fault: Option<Fault>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut api_key = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("apikey") {
                api_key = Some(value.trim().to_owned());
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let query: HashMap<String, String> = target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    seen.lock().unwrap().push(Seen {
        query: query.clone(),
        api_key,
    });
    let mut stream = stream;
    if let Some(Fault::Status(code)) = fault {
        let _ = write!(
            stream,
            "HTTP/1.1 {code} Fault\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    }
    let start: usize = query
        .get("startIndex")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let per_page: usize = query
        .get("resultsPerPage")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let window = match (query.get("lastModStartDate"), query.get("lastModEndDate")) {
        (Some(a), Some(b)) => Some((stamp(a), stamp(b))),
        _ => None,
    };
    let matching: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| match &window {
            None => true,
            Some((a, b)) => {
                let modified = stamp(r["cve"]["lastModified"].as_str().unwrap_or(""));
                &modified >= a && &modified <= b
            }
        })
        .collect();
    let page: Vec<&serde_json::Value> = matching
        .iter()
        .skip(start)
        .take(per_page)
        .copied()
        .collect();
    let body = serde_json::json!({
        "resultsPerPage": page.len(),
        "startIndex": start,
        "totalResults": matching.len(),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-07-01T00:00:00.000",
        "vulnerabilities": page,
    })
    .to_string();
    let body = match fault {
        Some(Fault::Truncate) => body[..body.len() / 2].to_owned(),
        _ => body,
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    );
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn client(fake: &Fake, per_page: u32, api_key: Option<&str>) -> NvdClient {
    NvdClient::new(SyncOptions {
        base_url: fake.url.clone(),
        api_key: api_key.map(str::to_owned),
        results_per_page: per_page,
        since: None,
        // The fake has no limit; the real limits are unit-tested on the limiter.
        rate_limit: Some(RateLimit {
            requests: 1000,
            per: Duration::from_secs(1),
        }),
        show_progress: false,
    })
    .unwrap()
    .with_retries(2, Duration::ZERO)
}

#[tokio::test]
async fn full_sync_pages_through_everything_with_the_api_key() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    let clock = ManualClock::new(time("2026-07-01T00:00:00Z"));
    let outcome = client(&fake, 50, Some("secret-key"))
        .sync(&store, &clock)
        .await
        .unwrap();
    assert_eq!(outcome.requests, 3, "127 records in pages of 50");
    assert_eq!(
        (outcome.fetched, outcome.skipped, outcome.total),
        (126, 1, 126)
    );
    let seen = fake.take_seen();
    let starts: Vec<&str> = seen
        .iter()
        .map(|s| s.query["startIndex"].as_str())
        .collect();
    assert_eq!(starts, ["0", "50", "100"]);
    assert!(seen
        .iter()
        .all(|s| s.api_key.as_deref() == Some("secret-key")));
    assert!(seen.iter().all(|s| s.query["resultsPerPage"] == "50"));
    assert!(
        seen.iter()
            .all(|s| !s.query.contains_key("lastModStartDate")),
        "first sync is full"
    );
    assert_eq!(
        store.load(FeedKind::Nvd).unwrap().unwrap().records.len(),
        126
    );
    let cursor = NvdClient::load_cursor(&store).unwrap();
    assert_eq!(cursor.synced_until, Some(time("2026-07-01T00:00:00Z")));
    assert!(cursor.pending.is_none());
}

#[tokio::test]
async fn interrupted_sync_resumes_at_the_failed_page() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    let clock = ManualClock::new(time("2026-07-01T00:00:00Z"));
    fake.fail_next(&[None, Some(Fault::Status(500))]);
    let error = client(&fake, 50, None)
        .sync(&store, &clock)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("HTTP 500"), "{error}");
    assert!(
        store.load(FeedKind::Nvd).unwrap().is_none(),
        "nothing applied half-way"
    );
    let cursor = NvdClient::load_cursor(&store).unwrap();
    assert_eq!(cursor.pending.as_ref().unwrap().start_index, 50);
    fake.take_seen();

    let outcome = client(&fake, 50, None).sync(&store, &clock).await.unwrap();
    assert!(outcome.resumed);
    let starts: Vec<String> = fake
        .take_seen()
        .iter()
        .map(|s| s.query["startIndex"].clone())
        .collect();
    assert_eq!(starts, ["50", "100"], "resumes, does not start over");
    assert_eq!(
        outcome.total, 126,
        "first page kept from the interrupted run"
    );
}

#[tokio::test]
async fn incremental_sync_uses_windows_of_at_most_120_days() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    let clock = ManualClock::new(time("2025-09-01T00:00:00Z"));
    client(&fake, 2000, None)
        .sync(&store, &clock)
        .await
        .unwrap();
    let before = store.load(FeedKind::Nvd).unwrap().unwrap().records.len();
    fake.take_seen();

    clock.set(time("2026-06-28T00:00:00Z")); // 300 days later
    let outcome = client(&fake, 2000, None)
        .sync(&store, &clock)
        .await
        .unwrap();
    let seen = fake.take_seen();
    assert_eq!(seen.len(), 3, "300 days = 120 + 120 + 60");
    for request in &seen {
        let start = &request.query["lastModStartDate"];
        let end = &request.query["lastModEndDate"];
        let days = (time(end) - time(start)).num_days();
        assert!(days <= MAX_WINDOW_DAYS, "{start} .. {end}");
    }
    assert_eq!(
        seen[0].query["lastModStartDate"],
        "2025-09-01T00:00:00.000+00:00"
    );
    assert_eq!(
        seen[2].query["lastModEndDate"],
        "2026-06-28T00:00:00.000+00:00"
    );
    assert!(
        outcome.fetched > 0,
        "records modified in the period are fetched again"
    );
    assert_eq!(outcome.total, before, "merged by CVE id, no duplicates");
}

#[tokio::test]
async fn transient_errors_are_retried() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    let clock = ManualClock::new(time("2026-07-01T00:00:00Z"));
    fake.fail_next(&[Some(Fault::Status(503)), Some(Fault::Status(429))]);
    let outcome = client(&fake, 100, None).sync(&store, &clock).await.unwrap();
    assert_eq!(outcome.requests, 4, "two retries, then two pages");
    assert_eq!(outcome.total, 126);
}

#[tokio::test]
async fn truncated_page_never_replaces_the_last_good_copy() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let store = FeedStore::in_data_dir(dir.path());
    let clock = ManualClock::new(time("2025-09-01T00:00:00Z"));
    client(&fake, 2000, None)
        .sync(&store, &clock)
        .await
        .unwrap();
    let good = store.load(FeedKind::Nvd).unwrap().unwrap();

    clock.set(time("2026-06-28T00:00:00Z"));
    fake.fail_next(&[Some(Fault::Truncate)]);
    let error = client(&fake, 2000, None)
        .sync(&store, &clock)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("page at startIndex 0"),
        "{error}"
    );
    assert_eq!(store.load(FeedKind::Nvd).unwrap().unwrap(), good);
}
