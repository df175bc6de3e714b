//! Log sources' answers: Loki query_range and Elasticsearch _search bodies, journald JSON records
//! and the times at the start of file lines.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ooda_connect::elasticsearch::ElasticsearchConfig;
use ooda_core::value::HttpUrl;

fuzz_target!(|data: &[u8]| {
    let status = if data.first().is_some_and(|b| b % 3 == 0) { 500 } else { 200 };
    let _ = ooda_connect::loki::parse::response(status, data, 100);
    if let Ok(url) = HttpUrl::parse("http://127.0.0.1:9200") {
        let config = ElasticsearchConfig::new("fuzz", url);
        let _ = ooda_connect::elasticsearch::parse::response(&config, status, data);
    }
    let text = String::from_utf8_lossy(data);
    let _ = ooda_connect::logfile::parse::journal_record(&text);
    for line in text.lines() {
        let _ = ooda_connect::logfile::parse::line_time(line, 2026);
        let _ = ooda_connect::logs::mask(line);
    }
});
