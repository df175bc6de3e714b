//! The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0, parsed in one pass over
//! the body without copying names or label values (a label value is only copied when it holds
//! an escape).
//!
//! Never panics and never gives up on a body: a malformed line becomes a [`LineError`] with its
//! 1-based line number and every other line is still read, because one bad exporter line must
//! not blind us to the rest of a host.

use std::borrow::Cow;
use std::collections::HashMap;

/// Which grammar a body follows; picked from the response's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `text/plain; version=0.0.4`: timestamps are integer milliseconds, `# EOF` is a comment.
    Prometheus,
    /// `application/openmetrics-text`: timestamps are (float) seconds, `# EOF` ends the body.
    OpenMetrics,
}

impl Format {
    /// Anything that is not OpenMetrics is read as Prometheus text, as Prometheus itself does.
    pub fn from_content_type(content_type: &str) -> Format {
        if content_type
            .to_ascii_lowercase()
            .contains("application/openmetrics-text")
        {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// A family's declared type (`# TYPE`). Both formats' vocabularies; `untyped` reads as Unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    StateSet,
    Info,
    Unknown,
}

impl MetricType {
    fn parse(word: &str) -> Option<MetricType> {
        Some(match word {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "stateset" => MetricType::StateSet,
            "info" => MetricType::Info,
            "untyped" | "unknown" => MetricType::Unknown,
            _ => return None,
        })
    }
}

/// Name suffixes a family's samples may carry (`_bucket` of a histogram, `_total` of a counter).
const SUFFIXES: [&str; 8] = [
    "_total", "_bucket", "_count", "_sum", "_created", "_gcount", "_gsum", "_info",
];

/// One metric family: what `# HELP`, `# TYPE` and `# UNIT` said about a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Family<'a> {
    pub name: &'a str,
    pub kind: MetricType,
    pub help: Option<Cow<'a, str>>,
    pub unit: Option<&'a str>,
}

/// One label pair, borrowed from the body unless its value held an escape.
#[derive(Debug, Clone, PartialEq)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

/// One sample line. Its labels live in the [`Exposition`]'s shared label buffer (one allocation
/// per body, not per sample); read them with [`Exposition::labels`].
#[derive(Debug, Clone, PartialEq)]
pub struct RawSample<'a> {
    pub name: &'a str,
    pub value: f64,
    /// Milliseconds since the epoch, when the line carried a timestamp.
    pub timestamp_ms: Option<i64>,
    /// True for monotonic counters (counter samples, histogram buckets/count/sum, summary
    /// count/sum, untyped `_total`): the client turns these into rates.
    pub cumulative: bool,
    /// 1-based line number in the body.
    pub line: u32,
    labels_start: u32,
    labels_end: u32,
    family: u32,
}

/// A line that could not be read. The rest of the body was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct LineError {
    pub line: u32,
    pub reason: String,
}

/// A parsed body.
#[derive(Debug, Clone, Default)]
pub struct Exposition<'a> {
    samples: Vec<RawSample<'a>>,
    labels: Vec<Label<'a>>,
    families: Vec<Family<'a>>,
    family_index: HashMap<&'a str, u32>,
    /// Malformed lines, in order.
    pub errors: Vec<LineError>,
    /// Whether `# EOF` was seen (OpenMetrics requires it; its absence means a cut body).
    pub eof: bool,
}

const NO_FAMILY: u32 = u32::MAX;

impl<'a> Exposition<'a> {
    pub fn samples(&self) -> &[RawSample<'a>] {
        &self.samples
    }

    pub fn labels(&self, sample: &RawSample<'a>) -> &[Label<'a>] {
        self.labels
            .get(sample.labels_start as usize..sample.labels_end as usize)
            .unwrap_or(&[])
    }

    pub fn families(&self) -> &[Family<'a>] {
        &self.families
    }

    /// The family a sample belongs to (by name, then by name without a known suffix).
    pub fn family(&self, sample: &RawSample<'a>) -> Option<&Family<'a>> {
        self.families.get(sample.family as usize)
    }

    /// The sample's declared type, Unknown when no `# TYPE` covered it.
    pub fn kind(&self, sample: &RawSample<'a>) -> MetricType {
        self.family(sample)
            .map(|f| f.kind)
            .unwrap_or(MetricType::Unknown)
    }

    fn family_slot(&mut self, name: &'a str) -> u32 {
        if let Some(&index) = self.family_index.get(name) {
            return index;
        }
        let index = u32::try_from(self.families.len()).unwrap_or(NO_FAMILY);
        self.families.push(Family {
            name,
            kind: MetricType::Unknown,
            help: None,
            unit: None,
        });
        self.family_index.insert(name, index);
        index
    }

    /// Finds the family of a sample name. Samples nearly always follow their own `# TYPE`
    /// line, so the current family is tried first and the map only on a miss.
    fn family_for(&self, name: &str, current: u32) -> u32 {
        if let Some(family) = self.families.get(current as usize) {
            if let Some(suffix) = name.strip_prefix(family.name) {
                if suffix.is_empty() || SUFFIXES.contains(&suffix) {
                    return current;
                }
            }
        }
        if let Some(&index) = self.family_index.get(name) {
            return index;
        }
        for suffix in SUFFIXES {
            if let Some(base) = name.strip_suffix(suffix) {
                if let Some(&index) = self.family_index.get(base) {
                    return index;
                }
            }
        }
        NO_FAMILY
    }

    fn is_cumulative(&self, name: &str, family: u32) -> bool {
        let Some(family) = self.families.get(family as usize) else {
            return name.ends_with("_total");
        };
        let suffix = name.get(family.name.len()..).unwrap_or("");
        match family.kind {
            MetricType::Counter => matches!(suffix, "" | "_total"),
            MetricType::Histogram => matches!(suffix, "_bucket" | "_count" | "_sum"),
            MetricType::Summary => matches!(suffix, "_count" | "_sum"),
            MetricType::Unknown => name.ends_with("_total"),
            _ => false,
        }
    }
}

/// Parses a whole body. Never fails: problems are in [`Exposition::errors`].
pub fn parse(text: &str, format: Format) -> Exposition<'_> {
    let mut out = Exposition {
        // A sample line is rarely shorter than ~40 bytes; reserving avoids regrowth on big bodies.
        samples: Vec::with_capacity(text.len() / 48),
        labels: Vec::with_capacity(text.len() / 32),
        ..Exposition::default()
    };
    let mut current = NO_FAMILY;
    let mut after_eof_reported = false;
    let mut last_line = 0u32;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        last_line = line_no;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let line = line.trim_start_matches([' ', '\t']);
        if line.is_empty() {
            continue;
        }
        if out.eof && format == Format::OpenMetrics {
            if !after_eof_reported {
                out.errors.push(LineError {
                    line: line_no,
                    reason: "expected nothing after \"# EOF\", found more lines".into(),
                });
                after_eof_reported = true;
            }
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Err(reason) = comment_line(&mut out, comment, format, &mut current) {
                out.errors.push(LineError {
                    line: line_no,
                    reason,
                });
            }
            continue;
        }
        let labels_start = out.labels.len();
        match sample_line(line, format, &mut out.labels) {
            Ok((name, value, timestamp_ms)) => {
                let family = out.family_for(name, current);
                let cumulative = out.is_cumulative(name, family);
                out.samples.push(RawSample {
                    name,
                    value,
                    timestamp_ms,
                    cumulative,
                    line: line_no,
                    labels_start: u32::try_from(labels_start).unwrap_or(u32::MAX),
                    labels_end: u32::try_from(out.labels.len()).unwrap_or(u32::MAX),
                    family,
                });
            }
            Err(reason) => {
                out.labels.truncate(labels_start);
                out.errors.push(LineError {
                    line: line_no,
                    reason,
                });
            }
        }
    }
    if format == Format::OpenMetrics && !out.eof {
        out.errors.push(LineError {
            line: last_line,
            reason: "expected \"# EOF\" at the end of an OpenMetrics body, found none (cut short?)"
                .into(),
        });
    }
    out
}

fn comment_line<'a>(
    out: &mut Exposition<'a>,
    comment: &'a str,
    format: Format,
    current: &mut u32,
) -> Result<(), String> {
    let rest = comment.trim_start_matches([' ', '\t']);
    if rest == "EOF" || (format == Format::Prometheus && rest.trim_end() == "EOF") {
        out.eof = true;
        return Ok(());
    }
    let (keyword, rest) = split_token(rest);
    if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
        // A free comment: allowed in Prometheus text; OpenMetrics has none, but refusing it
        // would cost nothing but a noisy error.
        return Ok(());
    }
    let (name, rest) = split_token(rest);
    if !is_metric_name(name) {
        return Err(format!(
            "expected a metric name after \"# {keyword}\", found {:?}",
            shorten(name)
        ));
    }
    let slot = out.family_slot(name);
    *current = slot;
    let Some(family) = out.families.get_mut(slot as usize) else {
        return Ok(());
    };
    match keyword {
        "HELP" => {
            // The docstring is everything after one separator, escapes included.
            let text = rest.strip_prefix([' ', '\t']).unwrap_or(rest);
            family.help = Some(unescape(text, format == Format::OpenMetrics));
        }
        "TYPE" => {
            let word = rest.trim_matches([' ', '\t']);
            let Some(kind) = MetricType::parse(word) else {
                return Err(format!(
                    "expected a type (counter, gauge, histogram, summary, untyped, …) for {name}, found {:?}",
                    shorten(word)
                ));
            };
            family.kind = kind;
        }
        _ => {
            family.unit = Some(rest.trim_matches([' ', '\t']));
        }
    }
    Ok(())
}

fn split_token(text: &str) -> (&str, &str) {
    match text.find([' ', '\t']) {
        Some(at) => {
            let (token, rest) = text.split_at(at);
            (token, rest.trim_start_matches([' ', '\t']))
        }
        None => (text, ""),
    }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty() && is_name_start(bytes[0]) && bytes[1..].iter().all(|&b| is_name_char(b))
}

fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at] == b' ' || bytes[at] == b'\t') {
        at += 1;
    }
    at
}

/// Error text quotes at most a few dozen bytes of what it found: bodies come from outside and
/// may be huge or binary.
fn shorten(text: &str) -> &str {
    if text.len() <= 40 {
        return text;
    }
    let mut end = 40;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Reads one sample line; pushes its labels into `labels` and returns name, value, timestamp.
/// All slicing is at ASCII bytes found by the scan, so it always lands on char boundaries.
fn sample_line<'a>(
    line: &'a str,
    format: Format,
    labels: &mut Vec<Label<'a>>,
) -> Result<(&'a str, f64, Option<i64>), String> {
    let bytes = line.as_bytes();
    let first = labels.len();
    let mut at = 0;
    if !bytes.first().is_some_and(|&b| is_name_start(b)) {
        return Err(format!("expected a metric name, found {:?}", shorten(line)));
    }
    while at < bytes.len() && is_name_char(bytes[at]) {
        at += 1;
    }
    let name = &line[..at];
    at = skip_blanks(bytes, at);
    if bytes.get(at) == Some(&b'{') {
        at = label_set(line, at + 1, first, labels)?;
        at = skip_blanks(bytes, at);
    } else if at == name.len() {
        // Neither labels nor a blank after the name: junk glued to it (`metric-x 1`).
        return Err(format!(
            "expected labels or a blank after {name}, found {:?}",
            shorten(&line[at..])
        ));
    }
    let value_start = at;
    while at < bytes.len() && bytes[at] != b' ' && bytes[at] != b'\t' {
        at += 1;
    }
    let value_text = &line[value_start..at];
    if value_text.is_empty() {
        return Err(format!(
            "expected a value after {name}, found the end of the line"
        ));
    }
    let value = parse_value(value_text).ok_or_else(|| {
        format!(
            "expected a number for {name}, found {:?}",
            shorten(value_text)
        )
    })?;
    at = skip_blanks(bytes, at);
    if at >= bytes.len() {
        return Ok((name, value, None));
    }
    if bytes[at] == b'#' && format == Format::OpenMetrics {
        // An exemplar without a sample timestamp: not a series of its own, skipped.
        return Ok((name, value, None));
    }
    let ts_start = at;
    while at < bytes.len() && bytes[at] != b' ' && bytes[at] != b'\t' {
        at += 1;
    }
    let ts_text = &line[ts_start..at];
    let timestamp_ms = match format {
        Format::Prometheus => ts_text.parse::<i64>().ok(),
        Format::OpenMetrics => ts_text
            .parse::<f64>()
            .ok()
            .map(|seconds| seconds * 1000.0)
            .filter(|ms| ms.is_finite() && ms.abs() < 9.0e18)
            .map(|ms| ms.round() as i64),
    };
    let Some(timestamp_ms) = timestamp_ms else {
        let unit = match format {
            Format::Prometheus => "integer milliseconds",
            Format::OpenMetrics => "seconds",
        };
        return Err(format!(
            "expected a timestamp ({unit}) after the value of {name}, found {:?}",
            shorten(ts_text)
        ));
    };
    at = skip_blanks(bytes, at);
    if at < bytes.len() && !(bytes[at] == b'#' && format == Format::OpenMetrics) {
        return Err(format!(
            "expected the end of the line after the timestamp of {name}, found {:?}",
            shorten(&line[at..])
        ));
    }
    Ok((name, value, Some(timestamp_ms)))
}

/// Reads `name="value", …}` starting just after `{`; returns the index after `}`.
fn label_set<'a>(
    line: &'a str,
    mut at: usize,
    first: usize,
    labels: &mut Vec<Label<'a>>,
) -> Result<usize, String> {
    let bytes = line.as_bytes();
    loop {
        at = skip_blanks(bytes, at);
        match bytes.get(at) {
            None => {
                return Err("expected '}' to close the labels, found the end of the line".into())
            }
            Some(b'}') => return Ok(at + 1),
            Some(&b) if is_label_start(b) => {}
            Some(_) => {
                return Err(format!(
                    "expected a label name, found {:?}",
                    shorten(&line[at..])
                ))
            }
        }
        let name_start = at;
        while at < bytes.len() && is_label_char(bytes[at]) {
            at += 1;
        }
        let name = &line[name_start..at];
        at = skip_blanks(bytes, at);
        if bytes.get(at) != Some(&b'=') {
            return Err(format!("expected '=' after label {name}"));
        }
        at = skip_blanks(bytes, at + 1);
        if bytes.get(at) != Some(&b'"') {
            return Err(format!("expected '\"' to open the value of label {name}"));
        }
        at += 1;
        let value_start = at;
        let mut escaped = false;
        loop {
            match bytes.get(at) {
                None => {
                    return Err(format!(
                    "expected '\"' to close the value of label {name}, found the end of the line"
                ))
                }
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    at += 2;
                }
                Some(_) => at += 1,
            }
        }
        // `at` points at the closing quote; an escape can never skip past the end unnoticed
        // because `get` above returns None there.
        let raw = &line[value_start..at];
        let value = if escaped {
            unescape(raw, true)
        } else {
            Cow::Borrowed(raw)
        };
        if labels[first..].iter().any(|l| l.name == name) {
            return Err(format!("label {name} appears twice"));
        }
        labels.push(Label { name, value });
        at = skip_blanks(bytes, at + 1);
        match bytes.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => return Ok(at + 1),
            _ => {
                return Err(format!(
                    "expected ',' or '}}' after the value of label {name}, found {:?}",
                    shorten(line.get(at..).unwrap_or(""))
                ))
            }
        }
    }
}

/// `\\`, `\n` and (in label values and OpenMetrics help) `\"`. Unknown escapes are kept as
/// written, as Prometheus' own parser does, rather than dropping the line.
fn unescape(raw: &str, quotes: bool) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quotes => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Go's ParseFloat spellings that matter here (`+Inf`, `-Inf`, `NaN`) are also Rust's; a fast
/// path for plain integers skips the float parser for the common counter case.
fn parse_value(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    if bytes.len() <= 15 && !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) {
        let mut n: u64 = 0;
        for &b in bytes {
            n = n * 10 + u64::from(b - b'0');
        }
        // Exact: at most 15 digits is below 2^53.
        return Some(n as f64);
    }
    text.parse::<f64>().ok()
}
