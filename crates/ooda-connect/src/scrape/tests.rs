use std::borrow::Cow;

use ooda_core::value::HttpUrl;
use ooda_core::MetricClass;
use proptest::prelude::*;

use super::classify::class_of;
use super::parse::{parse, Format, MetricType};
use super::{ScrapeConfig, Scraper};

const NODE: &str = r#"# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 1000.5
node_cpu_seconds_total{cpu="0",mode="user"} 20
# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 0.25
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} 5
http_request_duration_seconds_bucket{le="+Inf"} 7
http_request_duration_seconds_sum 1.5
http_request_duration_seconds_count 7
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.01
rpc_seconds_sum 3
rpc_seconds_count 300
"#;

#[test]
fn prometheus_text_families_and_kinds() {
    let e = parse(NODE, Format::Prometheus);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    assert_eq!(e.samples().len(), 10);
    let cpu = &e.samples()[0];
    assert_eq!(cpu.name, "node_cpu_seconds_total");
    assert_eq!(e.kind(cpu), MetricType::Counter);
    assert!(cpu.cumulative);
    let labels = e.labels(cpu);
    assert_eq!(labels.len(), 2);
    assert_eq!((labels[0].name, labels[0].value.as_ref()), ("cpu", "0"));
    assert!(
        matches!(labels[1].value, Cow::Borrowed("idle")),
        "zero-copy"
    );
    assert_eq!(
        e.family(cpu).and_then(|f| f.help.as_deref()),
        Some("Seconds the CPUs spent in each mode.")
    );
    let load = &e.samples()[2];
    assert_eq!((load.value, load.cumulative), (0.25, false));
    let bucket_inf = &e.samples()[4];
    assert_eq!(e.kind(bucket_inf), MetricType::Histogram);
    assert!(bucket_inf.cumulative);
    assert_eq!(e.labels(bucket_inf)[0].value, "+Inf");
    let quantile = &e.samples()[7];
    assert_eq!(e.kind(quantile), MetricType::Summary);
    assert!(!quantile.cumulative, "quantiles are gauges");
    assert!(e.samples()[8].cumulative && e.samples()[9].cumulative);
}

#[test]
fn escapes_timestamps_and_special_values() {
    let body = "m{path=\"a\\\"b\\\\c\\nd\",x=\"\\q\"} NaN 1700000000000\n\
                m2{a=\"1\",} +Inf\n\
                m3 -Inf\n\
                m4\t1e3\t-5\n\
                # a free comment\n\
                \n\
                m5 { a = \"x\" } 2\r\n";
    let e = parse(body, Format::Prometheus);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    let s = e.samples();
    assert_eq!(e.labels(&s[0])[0].value, "a\"b\\c\nd");
    assert_eq!(
        e.labels(&s[0])[1].value,
        "\\q",
        "unknown escapes kept as written"
    );
    assert!(s[0].value.is_nan());
    assert_eq!(s[0].timestamp_ms, Some(1_700_000_000_000));
    assert_eq!(e.labels(&s[1]).len(), 1, "trailing comma allowed");
    assert_eq!(s[1].value, f64::INFINITY);
    assert_eq!(s[2].value, f64::NEG_INFINITY);
    assert_eq!((s[3].value, s[3].timestamp_ms), (1000.0, Some(-5)));
    assert_eq!(e.labels(&s[4])[0].value, "x");
}

#[test]
fn malformed_lines_are_reported_with_line_numbers_and_the_rest_kept() {
    let body = "ok1 1\nbad{a=\"1\" 2\nok2 2\n9bad 3\nok3{a=\"x\"} notanumber\nok4 4 12.5\ndup{a=\"1\",a=\"2\"} 1\n# TYPE ok5 wibble\nok5 5\n";
    let e = parse(body, Format::Prometheus);
    let names: Vec<&str> = e.samples().iter().map(|s| s.name).collect();
    assert_eq!(names, ["ok1", "ok2", "ok5"]);
    let lines: Vec<u32> = e.errors.iter().map(|err| err.line).collect();
    assert_eq!(lines, [2, 4, 5, 6, 7, 8]);
    assert!(
        e.errors[2]
            .to_string()
            .starts_with("line 5: expected a number for ok3"),
        "{}",
        e.errors[2]
    );
    assert!(
        e.errors[3].reason.contains("integer milliseconds"),
        "{}",
        e.errors[3]
    );
    assert!(e.errors[4].reason.contains("appears twice"));
}

#[test]
fn openmetrics_units_exemplars_seconds_and_eof() {
    let body = "# TYPE requests counter\n# UNIT requests requests\n# HELP requests Requests \\\"served\\\".\n\
                requests_total{code=\"200\"} 17 1700000000.5 # {trace_id=\"abc\"} 1 1700000000.1\n\
                requests_created{code=\"200\"} 1690000000\n\
                # TYPE temp gaugehistogram\ntemp_bucket{le=\"1\"} 3\ntemp_gcount 3\n# EOF\n";
    let e = parse(body, Format::OpenMetrics);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    assert!(e.eof);
    let s = e.samples();
    assert_eq!(s[0].timestamp_ms, Some(1_700_000_000_500));
    assert!(s[0].cumulative);
    assert!(!s[1].cumulative, "_created is a timestamp, not a counter");
    assert!(
        !s[2].cumulative && !s[3].cumulative,
        "gauge histograms are gauges"
    );
    let family = e.family(&s[0]).expect("family");
    assert_eq!(family.unit, Some("requests"));
    assert_eq!(family.help.as_deref(), Some("Requests \"served\"."));

    let cut = parse("# TYPE a gauge\na 1\n", Format::OpenMetrics);
    assert_eq!(cut.samples().len(), 1);
    assert!(cut.errors[0].reason.contains("# EOF"), "{:?}", cut.errors);
    let after = parse("a 1\n# EOF\nb 2\nc 3\n", Format::OpenMetrics);
    assert_eq!(after.samples().len(), 1);
    assert_eq!(after.errors.len(), 1, "one error for trailing content");
}

#[test]
fn format_from_content_type() {
    assert_eq!(
        Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        Format::OpenMetrics
    );
    assert_eq!(
        Format::from_content_type("text/plain; version=0.0.4"),
        Format::Prometheus
    );
}

fn scraper(metrics: &[&str]) -> Scraper {
    let mut config = ScrapeConfig::new(
        "node",
        HttpUrl::parse("http://127.0.0.1:9100/metrics").expect("url"),
    );
    config.host = Some("web-1".into());
    config.metrics = metrics.iter().map(|s| s.to_string()).collect();
    config.labels.insert("env".into(), "prod".into());
    Scraper::new(config).expect("scraper")
}

#[test]
fn counters_become_rates_with_resets_and_vanishing_series_go_stale() {
    let mut s = scraper(&[]);
    let first = s.ingest(NODE, Format::Prometheus, 10_000);
    // Gauges now, counters only from the second round.
    let names: Vec<&str> = first
        .samples
        .iter()
        .map(|x| x.series.metric.as_str())
        .collect();
    assert_eq!(names, ["node_load1", "rpc_seconds"]);
    assert_eq!(first.samples[0].series.host(), Some("web-1"));
    assert_eq!(first.samples[0].series.labels.get("env"), Some("prod"));

    let second_body = NODE
        .replace("1000.5", "1010.5")
        .replace("\"user\"} 20", "\"user\"} 5")
        .replace("rpc_seconds{quantile=\"0.5\"} 0.01\n", "");
    let second = s.ingest(&second_body, Format::Prometheus, 20_000);
    let idle = second
        .samples
        .iter()
        .find(|x| x.series.labels.get("mode") == Some("idle"))
        .expect("idle rate");
    assert_eq!(idle.value, 1.0, "10 s of idle over 10 s");
    let user = second
        .samples
        .iter()
        .find(|x| x.series.labels.get("mode") == Some("user"))
        .expect("user rate");
    assert_eq!(user.value, 0.5, "a reset counts from zero: 5 over 10 s");
    assert_eq!(second.stale.len(), 1);
    assert_eq!(second.stale[0].metric, "rpc_seconds");
    assert_eq!(s.stats().stale, 1);
}

#[test]
fn selection_and_label_precedence() {
    let mut s = scraper(&["node_load"]);
    let round = s.ingest(
        "node_load1{host=\"inner\",env=\"dev\"} 1\nnode_cpu_x 2\n",
        Format::Prometheus,
        0,
    );
    assert_eq!(round.parsed, 2);
    assert_eq!(round.samples.len(), 1);
    let labels = &round.samples[0].series.labels;
    assert_eq!(labels.get("host"), Some("web-1"));
    assert_eq!(labels.get("exported_host"), Some("inner"));
    assert_eq!(labels.get("env"), Some("prod"));
    assert_eq!(labels.get("exported_env"), Some("dev"));
}

#[test]
fn node_exporter_names_have_classes() {
    assert_eq!(class_of("node_cpu_seconds_total"), MetricClass::Cpu);
    assert_eq!(
        class_of("node_memory_MemAvailable_bytes"),
        MetricClass::Memory
    );
    assert_eq!(class_of("node_memory_SwapFree_bytes"), MetricClass::Swap);
    assert_eq!(class_of("node_filesystem_avail_bytes"), MetricClass::Disk);
    assert_eq!(class_of("node_filesystem_files_free"), MetricClass::Inodes);
    assert_eq!(
        class_of("node_disk_io_time_seconds_total"),
        MetricClass::DiskIo
    );
    assert_eq!(
        class_of("node_network_receive_drop_total"),
        MetricClass::PacketLoss
    );
    assert_eq!(
        class_of("node_network_receive_bytes_total"),
        MetricClass::Network
    );
    assert_eq!(
        class_of("http_request_duration_seconds_bucket"),
        MetricClass::Latency
    );
    assert_eq!(class_of("something_else"), MetricClass::Other);
    for name in super::classify::NODE_EXPORTER_DEFAULT_METRICS {
        assert_ne!(class_of(name), MetricClass::Other, "{name}");
    }
}

fn exposition_line() -> impl Strategy<Value = String> {
    let name = "[a-zA-Z_:][a-zA-Z0-9_:]{0,12}";
    let value = prop_oneof![
        any::<f64>().prop_map(|v| format!("{v}")),
        Just("+Inf".to_string()),
        Just("NaN".to_string())
    ];
    let label = ("[a-zA-Z_][a-zA-Z0-9_]{0,6}", "[^\"\\\\\n]{0,8}");
    (name, proptest::collection::vec(label, 0..4), value).prop_map(|(n, labels, v)| {
        let mut seen = std::collections::BTreeSet::new();
        let set: Vec<String> = labels
            .into_iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        format!("{n}{{{}}} {v}", set.join(","))
    })
}

proptest! {
    /// The fuzz target's twin: no body makes the parser panic, in either format.
    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text, Format::Prometheus);
        let _ = parse(&text, Format::OpenMetrics);
    }

    #[test]
    fn never_panics_on_near_valid_text(body in "[a-z_{}=\",# \\\\\n0-9.+eEINaf\t]{0,256}") {
        let e = parse(&body, Format::Prometheus);
        for s in e.samples() {
            let _ = e.labels(s);
        }
        let _ = parse(&body, Format::OpenMetrics);
    }

    /// Well-formed lines always parse, one sample each, with no error, whatever they hold.
    #[test]
    fn valid_lines_parse(lines in proptest::collection::vec(exposition_line(), 0..20)) {
        let body = lines.join("\n");
        let e = parse(&body, Format::Prometheus);
        prop_assert!(e.errors.is_empty(), "{:?}", e.errors);
        prop_assert_eq!(e.samples().len(), lines.len());
    }
}
