//! Log templating: variable parts of a line (times, UUIDs, IPs, hex, quoted strings, numbers)
//! are masked so lines from the same statement collapse into one template, and templates are
//! counted. 10 000 identical errors with different request ids become one line with a count.
//!
//! Pure; never reorders counts by anything but count (ties keep first-seen order).

use std::collections::HashMap;
use std::sync::OnceLock;

use ooda_core::alert::EnrichmentLine;
use regex::{Captures, Regex};

/// Longest template or example kept: a stack trace on one line should not fill an alert.
const MAX_LINE: usize = 512;

fn masker() -> &'static Regex {
    static MASK: OnceLock<Regex> = OnceLock::new();
    MASK.get_or_init(|| {
        // Order matters: the alternation is leftmost-first, so specific shapes come before
        // the generic number rule that would otherwise eat their parts.
        let pattern = concat!(
            r#"(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"#,
            r#"|(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"#,
            r#"|(?P<ip>\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b|\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7}\b)"#,
            r#"|(?P<hex>\b0[xX][0-9a-fA-F]+\b|\b[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b)"#,
            r#"|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"#,
            r#"|(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"#,
        );
        Regex::new(pattern).unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    })
}

/// The template of one line.
pub fn mask(line: &str) -> String {
    let masked = masker().replace_all(line, |caps: &Captures<'_>| {
        let name = ["ts", "uuid", "ip", "hex", "str", "num"]
            .into_iter()
            .find(|n| caps.name(n).is_some())
            .unwrap_or("var");
        // Short hex-looking words are usually words ("add", "bad", "cafe"): only runs of 8+
        // are ids. The regex cannot say "length ≥ 8" per branch, so it is checked here.
        // The IPv6 shape also fits clock times (`07:00:01`): only `::` or eight groups make it
        // an address.
        if name == "ip" {
            let text = &caps[0];
            if !text.contains('.') && !text.contains("::") && text.matches(':').count() != 7 {
                return mask_digits(text);
            }
        }
        if name == "hex" {
            let text = &caps[0];
            if !text.starts_with("0x") && !text.starts_with("0X") && text.len() < 8 {
                return mask_digits(text);
            }
        }
        format!("<{name}>")
    });
    let collapsed: Vec<&str> = masked.split_whitespace().collect();
    truncate(&collapsed.join(" "))
}

fn mask_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push_str("<num>");
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_LINE {
        return text.to_owned();
    }
    let mut end = MAX_LINE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Whether a line looks like an error, for sources that cannot filter server-side.
pub fn is_error_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "error",
        "fail",
        "fatal",
        "panic",
        "exception",
        "critical",
        "crit]",
        "emerg",
        "traceback",
        "segfault",
        "oom",
        "out of memory",
        "killed process",
        "denied",
        "refused",
        "timeout",
        "timed out",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Clusters lines into templates; returns the `top` most frequent, each with a count and one
/// real example (the first seen).
pub fn cluster<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    source: &str,
    top: usize,
) -> Vec<EnrichmentLine> {
    struct Entry {
        count: u64,
        first: usize,
        example: String,
    }
    let mut by_template: HashMap<String, Entry> = HashMap::new();
    for (index, line) in lines.into_iter().enumerate() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let template = mask(line);
        by_template
            .entry(template)
            .and_modify(|e| e.count += 1)
            .or_insert_with(|| Entry {
                count: 1,
                first: index,
                example: truncate(line),
            });
    }
    let mut entries: Vec<(String, Entry)> = by_template.into_iter().collect();
    entries.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.1.first.cmp(&b.1.first)));
    entries
        .into_iter()
        .take(top)
        .map(|(template, e)| EnrichmentLine {
            source: source.to_owned(),
            template,
            count: e.count,
            example: e.example,
        })
        .collect()
}
