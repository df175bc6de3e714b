//! Online sync of the NVD CVE API 2.0: paging by `startIndex`/`resultsPerPage`, incremental by
//! `lastModStartDate`/`lastModEndDate` in windows of at most 120 days, the `apiKey` header, and
//! NVD's documented rate limits (5 requests per rolling 30 s without a key, 50 with one).
//!
//! Resumable: each fetched page is appended to a staging file and the cursor (window, next
//! `startIndex`) saved before the next request, so an interrupted sync picks up where it
//! stopped. The NVD snapshot is replaced only when every window has been fetched whole; a failed
//! or truncated response never touches it.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use ooda_core::Clock;

use crate::error::{PatchError, Result};
use crate::feed::store::{commit, FeedStore, Records};
use crate::feed::{CveRecord, FeedKind, Parsed};

pub const NVD_API_URL: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";
/// NVD refuses date ranges longer than this.
pub const MAX_WINDOW_DAYS: i64 = 120;
/// NVD's page size limit.
pub const MAX_RESULTS_PER_PAGE: u32 = 2000;

/// At most `requests` in any rolling `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: usize,
    pub per: Duration,
}

impl RateLimit {
    /// NVD's documented limits.
    pub fn nvd(with_key: bool) -> Self {
        Self {
            requests: if with_key { 50 } else { 5 },
            per: Duration::from_secs(30),
        }
    }
}

/// Sliding-window limiter. Pure bookkeeping: the caller sleeps.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: RateLimit,
    sent: VecDeque<Instant>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            sent: VecDeque::new(),
        }
    }

    /// How long to wait before the next request may go out at `now`.
    pub fn wait(&mut self, now: Instant) -> Duration {
        while let Some(&oldest) = self.sent.front() {
            if now.duration_since(oldest) >= self.limit.per {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        if self.sent.len() < self.limit.requests.max(1) {
            return Duration::ZERO;
        }
        let oldest = self.sent[self.sent.len() - self.limit.requests.max(1)];
        (oldest + self.limit.per).saturating_duration_since(now)
    }

    pub fn record(&mut self, at: Instant) {
        self.sent.push_back(at);
    }
}

/// Sync settings.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub base_url: String,
    pub api_key: Option<String>,
    pub results_per_page: u32,
    /// First sync only: start from this date instead of fetching everything.
    pub since: Option<NaiveDate>,
    /// Override NVD's limits (tests against a local fake).
    pub rate_limit: Option<RateLimit>,
    pub show_progress: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            base_url: NVD_API_URL.to_owned(),
            api_key: None,
            results_per_page: MAX_RESULTS_PER_PAGE,
            since: None,
            rate_limit: None,
            show_progress: false,
        }
    }
}

/// A lastModified window; `None` bounds mean a full (unfiltered) sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// A sync in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Windows still to fetch; the first is the current one.
    pub windows: Vec<Window>,
    pub start_index: u64,
    /// The high-water mark this sync will reach.
    pub until: DateTime<Utc>,
}

/// Persisted sync state: `<data-dir>/feeds/nvd-sync.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Every change up to here is in the snapshot.
    pub synced_until: Option<DateTime<Utc>>,
    pub pending: Option<Pending>,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOutcome {
    pub requests: usize,
    pub fetched: usize,
    pub skipped: usize,
    pub total: usize,
    pub resumed: bool,
}

/// Splits `[start, end)` into windows of at most [`MAX_WINDOW_DAYS`].
pub fn windows(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Window> {
    let step = chrono::Duration::days(MAX_WINDOW_DAYS);
    let mut out = Vec::new();
    let mut from = start;
    while from < end {
        let to = (from + step).min(end);
        out.push(Window {
            start: Some(from),
            end: Some(to),
        });
        from = to;
    }
    out
}

fn nvd_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

pub struct NvdClient {
    options: SyncOptions,
    http: reqwest::Client,
    retry_delay: Duration,
    max_retries: u32,
}

impl NvdClient {
    pub fn new(options: SyncOptions) -> Result<Self> {
        if options.results_per_page == 0 || options.results_per_page > MAX_RESULTS_PER_PAGE {
            return Err(PatchError::Sync(format!(
                "results per page must be 1..={MAX_RESULTS_PER_PAGE}, found {}",
                options.results_per_page
            )));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("ooda/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| PatchError::Sync(e.to_string()))?;
        Ok(Self {
            options,
            http,
            retry_delay: Duration::from_secs(6),
            max_retries: 3,
        })
    }

    /// Retries of 429/503/connection errors, and the pause between them.
    pub fn with_retries(mut self, max_retries: u32, delay: Duration) -> Self {
        self.max_retries = max_retries;
        self.retry_delay = delay;
        self
    }

    fn cursor_path(store: &FeedStore) -> PathBuf {
        store.dir().join("nvd-sync.json")
    }

    fn staging_path(store: &FeedStore) -> PathBuf {
        store.dir().join("nvd-staging.jsonl")
    }

    pub fn load_cursor(store: &FeedStore) -> Result<Cursor> {
        let path = Self::cursor_path(store);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PatchError::Snapshot {
                path,
                message: e.to_string(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Cursor::default()),
            Err(error) => Err(PatchError::io(path, error)),
        }
    }

    fn save_cursor(store: &FeedStore, cursor: &Cursor) -> Result<()> {
        let path = Self::cursor_path(store);
        let temp = store.dir().join(".nvd-sync.json.tmp");
        let bytes =
            serde_json::to_vec_pretty(cursor).map_err(|e| PatchError::Sync(e.to_string()))?;
        let mut file = File::create(&temp).map_err(|e| PatchError::io(&temp, e))?;
        file.write_all(&bytes)
            .map_err(|e| PatchError::io(&temp, e))?;
        file.sync_all().map_err(|e| PatchError::io(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| PatchError::io(&path, e))
    }

    /// Runs [`Self::sync`] on a private single-threaded runtime (for the CLI).
    pub fn sync_blocking(&self, store: &FeedStore, clock: &dyn Clock) -> Result<SyncOutcome> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PatchError::Sync(e.to_string()))?;
        runtime.block_on(self.sync(store, clock))
    }

    /// Fetches everything modified since the last completed sync (or everything, the first
    /// time) and merges it into the NVD snapshot.
    pub async fn sync(&self, store: &FeedStore, clock: &dyn Clock) -> Result<SyncOutcome> {
        fs::create_dir_all(store.dir()).map_err(|e| PatchError::io(store.dir(), e))?;
        let mut cursor = Self::load_cursor(store)?;
        let staging = Self::staging_path(store);
        let resumed = cursor.pending.is_some();
        if cursor.pending.is_none() {
            let until = clock.now();
            let from = cursor.synced_until.or_else(|| {
                self.options
                    .since
                    .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
            });
            let windows = match from {
                Some(from) => windows(from, until),
                None => vec![Window {
                    start: None,
                    end: None,
                }],
            };
            cursor.pending = Some(Pending {
                windows,
                start_index: 0,
                until,
            });
            File::create(&staging).map_err(|e| PatchError::io(&staging, e))?;
            Self::save_cursor(store, &cursor)?;
        }

        let limit = self
            .options
            .rate_limit
            .unwrap_or_else(|| RateLimit::nvd(self.options.api_key.is_some()));
        let mut limiter = RateLimiter::new(limit);
        let progress = if self.options.show_progress {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        progress.set_style(
            indicatif::ProgressStyle::with_template("NVD {bar:40} {pos}/{len} records {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut requests = 0usize;
        let mut fetched = 0usize;
        let mut skipped = 0usize;

        while let Some(pending) = cursor.pending.as_mut() {
            let Some(window) = pending.windows.first().copied() else {
                break;
            };
            let (page, parsed) = self
                .fetch_page(window, pending.start_index, &mut limiter, &mut requests)
                .await?;
            append_staging(&staging, &parsed.records)?;
            fetched += parsed.records.len();
            skipped += parsed.skipped;
            let received = page.vulnerabilities_len as u64;
            progress.set_length(page.total_results);
            progress.set_position((pending.start_index + received).min(page.total_results));
            pending.start_index += received;
            if pending.start_index >= page.total_results || received == 0 {
                if received == 0 && pending.start_index < page.total_results {
                    return Err(PatchError::Sync(format!(
                        "empty page at startIndex {} of {}; will resume there",
                        pending.start_index, page.total_results
                    )));
                }
                pending.windows.remove(0);
                pending.start_index = 0;
            }
            Self::save_cursor(store, &cursor)?;
            if cursor
                .pending
                .as_ref()
                .is_some_and(|p| p.windows.is_empty())
            {
                break;
            }
        }
        progress.finish_and_clear();

        // Every window fetched whole: merge the staged records, then move the high-water mark.
        let until = cursor.pending.as_ref().map(|p| p.until);
        let staged = read_staging(&staging)?;
        let total = if staged.is_empty() {
            store.load(FeedKind::Nvd)?.map_or(0, |s| s.records.len())
        } else {
            let parsed = Parsed {
                records: vec![Records::Cves(staged)],
                skipped,
                first_error: None,
            };
            commit(
                store,
                FeedKind::Nvd,
                &PathBuf::from(&self.options.base_url),
                parsed,
                None,
                clock.now(),
            )?
            .total
        };
        cursor.synced_until = until.or(cursor.synced_until);
        cursor.pending = None;
        Self::save_cursor(store, &cursor)?;
        let _ = fs::remove_file(&staging);
        Ok(SyncOutcome {
            requests,
            fetched,
            skipped,
            total,
            resumed,
        })
    }

    async fn fetch_page(
        &self,
        window: Window,
        start_index: u64,
        limiter: &mut RateLimiter,
        requests: &mut usize,
    ) -> Result<(PageInfo, Parsed<CveRecord>)> {
        let mut query: Vec<(&str, String)> = vec![
            ("startIndex", start_index.to_string()),
            ("resultsPerPage", self.options.results_per_page.to_string()),
        ];
        if let (Some(start), Some(end)) = (window.start, window.end) {
            query.push(("lastModStartDate", nvd_time(start)));
            query.push(("lastModEndDate", nvd_time(end)));
        }
        let mut attempt = 0;
        loop {
            let wait = limiter.wait(Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            limiter.record(Instant::now());
            *requests += 1;
            let mut request = self.http.get(&self.options.base_url).query(&query);
            if let Some(key) = &self.options.api_key {
                request = request.header("apiKey", key);
            }
            let retryable = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        let body = response.text().await.map_err(|e| {
                            PatchError::Sync(format!("reading page at {start_index}: {e}"))
                        })?;
                        let (page, parsed) = super::parse::parse_page(&body).map_err(|e| {
                            PatchError::Sync(format!("page at startIndex {start_index}: {e}"))
                        })?;
                        return Ok((
                            PageInfo {
                                total_results: page.total_results,
                                vulnerabilities_len: parsed.records.len() + parsed.skipped,
                            },
                            parsed,
                        ));
                    }
                    let retryable =
                        status.as_u16() == 429 || status.as_u16() == 503 || status.as_u16() == 502;
                    if !retryable || attempt >= self.max_retries {
                        return Err(PatchError::Sync(format!(
                            "HTTP {status} at startIndex {start_index}{}",
                            if status.as_u16() == 403 {
                                " (API key refused or rate limit exceeded)"
                            } else {
                                ""
                            }
                        )));
                    }
                    format!("HTTP {status}")
                }
                Err(error) => {
                    if attempt >= self.max_retries {
                        return Err(PatchError::Sync(format!(
                            "request at startIndex {start_index}: {error}"
                        )));
                    }
                    error.to_string()
                }
            };
            attempt += 1;
            tracing::warn!(start_index, attempt, error = %retryable, "NVD request failed; retrying");
            tokio::time::sleep(self.retry_delay).await;
        }
    }
}

struct PageInfo {
    total_results: u64,
    vulnerabilities_len: usize,
}

fn append_staging(path: &PathBuf, records: &[CveRecord]) -> Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| PatchError::io(path, e))?;
    let mut buffer = Vec::new();
    for record in records {
        serde_json::to_writer(&mut buffer, record).map_err(|e| PatchError::Sync(e.to_string()))?;
        buffer.push(b'\n');
    }
    file.write_all(&buffer)
        .map_err(|e| PatchError::io(path, e))?;
    file.sync_all().map_err(|e| PatchError::io(path, e))
}

/// Staged records; a torn last line (crash mid-append) is dropped, its page is re-fetched.
fn read_staging(path: &PathBuf) -> Result<Vec<CveRecord>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(PatchError::io(path, error)),
    };
    let mut records: Vec<CveRecord> = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| PatchError::io(path, e))?;
        if let Ok(record) = serde_json::from_str::<CveRecord>(&line) {
            records.push(record);
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_a_burst_then_waits_for_the_oldest() {
        let mut limiter = RateLimiter::new(RateLimit::nvd(false));
        let t0 = Instant::now();
        for i in 0..5 {
            let at = t0 + Duration::from_secs(i);
            assert_eq!(limiter.wait(at), Duration::ZERO);
            limiter.record(at);
        }
        // Sixth request at t0+5s must wait until the first leaves the 30 s window.
        assert_eq!(
            limiter.wait(t0 + Duration::from_secs(5)),
            Duration::from_secs(25)
        );
        assert_eq!(limiter.wait(t0 + Duration::from_secs(30)), Duration::ZERO);
        assert_eq!(RateLimit::nvd(true).requests, 50);
    }

    #[test]
    fn windows_never_exceed_120_days() {
        let start = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let end = DateTime::parse_from_rfc3339("2024-12-31T12:00:00Z")
            .unwrap()
            .to_utc();
        let all = windows(start, end);
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].start, Some(start));
        assert_eq!(all[3].end, Some(end));
        for pair in all.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "contiguous");
        }
        for window in &all {
            let days = (window.end.unwrap() - window.start.unwrap()).num_days();
            assert!(days <= MAX_WINDOW_DAYS);
        }
        assert!(windows(end, start).is_empty());
    }

    #[test]
    fn nvd_time_format() {
        let t = DateTime::parse_from_rfc3339("2021-08-04T13:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(nvd_time(t), "2021-08-04T13:00:00.000+00:00");
    }
}
