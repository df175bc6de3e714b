use super::*;
use proptest::prelude::*;

const START: i64 = 1_609_718_400; // 2021-01-04T00:00:00Z, a Monday

fn options() -> DetectOptions {
    DetectOptions {
        host: "test".into(),
        ..DetectOptions::default()
    }
}

/// A config that leaves cold start after a day, so short tests reach the baseline.
fn short_config() -> MonitorConfig {
    let mut c = MonitorConfig::default();
    c.cold_start.duration = std::time::Duration::from_secs(86_400);
    c.correlation.warm_up = 300;
    c.correlation.refit_every = 100;
    c
}

fn run(
    input: &str,
    config: &MonitorConfig,
    options: &DetectOptions,
) -> (Vec<Vec<String>>, DetectSummary) {
    let (out, summary) = detect_bytes(input.as_bytes(), config, options).expect("detect runs");
    let text = String::from_utf8(out).expect("utf-8 output");
    let rows = text
        .lines()
        .skip(if options.format == OutputFormat::Csv {
            1
        } else {
            0
        })
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (rows, summary)
}

/// `n` rows of three related noisy series (`b ≈ 2a`, `c` independent); deterministic noise.
fn synthetic(n: usize) -> Vec<(i64, [f64; 3])> {
    (0..n)
        .map(|i| {
            let i = i as i64;
            let a = 40.0 + ((i * 37) % 17) as f64;
            let b = 2.0 * a + ((i * 13) % 5) as f64;
            let c = 100.0 + ((i * 53) % 23) as f64;
            (START + i * 300, [a, b, c])
        })
        .collect()
}

fn to_csv(rows: &[(i64, [f64; 3])]) -> String {
    let mut s = String::from("timestamp,a,b,c\n");
    for (t, v) in rows {
        s.push_str(&format!("{t},{},{},{}\n", v[0], v[1], v[2]));
    }
    s
}

#[test]
fn timestamps_in_every_documented_form() {
    assert_eq!(
        parse_timestamp("2021-01-04T00:00:00Z"),
        Some(1_609_718_400_000)
    );
    assert_eq!(
        parse_timestamp("2021-01-04T01:00:00+01:00"),
        Some(1_609_718_400_000)
    );
    assert_eq!(
        parse_timestamp("2021-01-04 00:00:00"),
        Some(1_609_718_400_000)
    );
    assert_eq!(
        parse_timestamp("2021-01-04 00:00:00.250"),
        Some(1_609_718_400_250)
    );
    assert_eq!(parse_timestamp("1609718400"), Some(1_609_718_400_000));
    assert_eq!(parse_timestamp("1609718400000"), Some(1_609_718_400_000));
    assert_eq!(parse_timestamp("yesterday"), None);
    assert_eq!(parse_timestamp("inf"), None);
    assert_eq!(parse_timestamp(""), None);
    assert_eq!(parse_timestamp("1e300"), None);
}

#[test]
fn one_output_row_per_input_row_with_the_documented_columns() {
    let input = to_csv(&synthetic(50));
    let (out, _) = detect_bytes(input.as_bytes(), &short_config(), &options()).expect("runs");
    let text = String::from_utf8(out).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,score,level,alert,metrics"));
    assert_eq!(lines.count(), 50);
}

#[test]
fn a_spike_opens_one_alert_and_names_the_metrics() {
    let mut rows = synthetic(2000);
    for r in rows.iter_mut().skip(1500).take(5) {
        r.1 = [r.1[0] * 3.0, r.1[1] * 3.0, r.1[2] * 3.0];
    }
    let (out, summary) = run(&to_csv(&rows), &short_config(), &options());
    let alerts: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, r)| r[3] == "1")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        alerts,
        vec![1500],
        "exactly one alert, where the spike starts"
    );
    assert_eq!(summary.alerts, 1);
    assert_eq!(out[1500][2], "critical");
    let metrics: Vec<&str> = out[1500][4].split(';').collect();
    assert!(
        metrics.contains(&"a") && metrics.contains(&"c"),
        "{metrics:?}"
    );
    assert!(out[1500][1].parse::<f64>().expect("score") > 0.5);
    assert!(
        out[..1500].iter().filter(|r| r[2] != "ok").count() < 10,
        "quiet before the spike"
    );
}

#[test]
fn malformed_rows_name_their_line_or_are_skipped() {
    let input = "timestamp,a\n1609718400,1\n1609718700,x\n1609719000\n1609719300,2\n";
    let err = detect_bytes(input.as_bytes(), &short_config(), &options()).unwrap_err();
    assert_eq!(err.to_string(), "line 3: expected a number, found \"x\"");

    let skip = DetectOptions {
        skip_bad_rows: true,
        ..options()
    };
    let (out, summary) = run(input, &short_config(), &skip);
    assert_eq!(out.len(), 2, "skipped rows have no output row");
    assert_eq!(summary.skipped_bad_rows, 2);

    let bad_time = "timestamp,a\nnot-a-time,1\n";
    let err = detect_bytes(bad_time.as_bytes(), &short_config(), &options()).unwrap_err();
    assert!(
        err.to_string().starts_with("line 2: expected a timestamp"),
        "{err}"
    );
}

#[test]
fn missing_infinite_and_out_of_order_cells_are_counted_not_scored() {
    let input = "time,a,b\n\
        2021-01-04 00:00:00,1,2\n\
        2021-01-04 00:05:00,,NaN\n\
        2021-01-04 00:10:00,inf,-inf\n\
        2021-01-04 00:10:00,5,5\n\
        2021-01-04 00:02:00,5,5\n\
        2021-01-04 00:15:00,1,2\n";
    let (out, summary) = run(input, &short_config(), &options());
    assert_eq!(out.len(), 6);
    assert_eq!(summary.missing_cells, 2);
    assert_eq!(summary.infinite_cells, 2);
    assert_eq!(summary.out_of_order_rows, 2);
    assert_eq!(out[3][2], "ok");
    assert_eq!(out[3][1], "0.0000");
    assert_eq!(
        out[1][0], "2021-01-04 00:05:00",
        "timestamps are echoed as given"
    );
}

#[test]
fn header_problems_are_explained() {
    let e = detect_bytes(b"", &short_config(), &options()).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let e = detect_bytes(b"timestamp\n1,\n", &short_config(), &options()).unwrap_err();
    assert!(e.to_string().contains("at least one metric column"), "{e}");
    let e = detect_bytes(b"t,a,a\n", &short_config(), &options()).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    let named = DetectOptions {
        timestamp_column: Some("when".into()),
        ..options()
    };
    let e = detect_bytes(b"t,a\n", &short_config(), &named).unwrap_err();
    assert!(e.to_string().contains("no column named \"when\""), "{e}");
}

#[test]
fn the_timestamp_column_can_be_anywhere() {
    let input = "a,when\n1,1609718400\n2,1609718700\n";
    let named = DetectOptions {
        timestamp_column: Some("when".into()),
        ..options()
    };
    let (out, _) = run(input, &short_config(), &named);
    assert_eq!(out[1][0], "1609718700");
}

#[test]
fn counter_columns_become_rates_and_resets_do_not_alert() {
    let mut s = String::from("timestamp,requests_total\n");
    let mut counter = 0.0;
    for i in 0..3000i64 {
        counter += 100.0 + (i % 7) as f64;
        if i == 2500 {
            counter = 3.0; // process restart
        }
        s.push_str(&format!("{},{counter}\n", START + i * 60));
    }
    let (out, summary) = run(&s, &short_config(), &options());
    assert_eq!(summary.counter_columns, 1);
    assert!(
        out.iter().all(|r| r[3] == "0"),
        "a reset is not an incident"
    );
}

#[test]
fn jsonl_output() {
    let input = to_csv(&synthetic(3));
    let jsonl = DetectOptions {
        format: OutputFormat::Jsonl,
        ..options()
    };
    let (out, _) = detect_bytes(input.as_bytes(), &short_config(), &jsonl).expect("runs");
    let text = String::from_utf8(out).expect("utf-8");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(first["level"], "ok");
    assert_eq!(first["alert"], 0);
    assert!(first["metrics"].is_array());
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn output_is_strictly_causal() {
    // The verdicts for a prefix of the input are a prefix of the verdicts for all of it.
    let mut rows = synthetic(1500);
    for r in rows.iter_mut().skip(1200).take(20) {
        r.1[1] *= 0.2;
    }
    let (full, _) = run(&to_csv(&rows), &short_config(), &options());
    let (prefix, _) = run(&to_csv(&rows[..1210]), &short_config(), &options());
    assert_eq!(&full[..1210], &prefix[..]);
}

/// Integer-valued series, so rescaling by a power of two and shifting by an integer is exact
/// and the property can demand equality instead of a tolerance.
fn integer_series() -> impl Strategy<Value = Vec<[i32; 2]>> {
    (any::<u64>(), 600usize..1200).prop_map(|(seed, n)| {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..n)
            .map(|i| {
                let base = (next() % 20) as i32;
                let spike = if next() % 97 == 0 {
                    (next() % 200) as i32
                } else {
                    0
                };
                let a = base + spike + (i % 288 / 24) as i32;
                [a, 2 * a + (next() % 3) as i32]
            })
            .collect()
    })
}

fn series_csv(rows: &[[i32; 2]], scale: f64, shift: f64) -> String {
    let mut s = String::from("timestamp,a,b\n");
    for (i, r) in rows.iter().enumerate() {
        let a = f64::from(r[0]) * scale + shift;
        s.push_str(&format!("{},{a},{}\n", START + i as i64 * 300, r[1]));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn constant_series_never_alert(value in -1e9f64..1e9, n in 1usize..3000, step in 1i64..4000) {
        let mut s = String::from("timestamp,a,b\n");
        for i in 0..n as i64 {
            s.push_str(&format!("{},{value},0.5\n", START + i * step));
        }
        let (out, summary) = run(&s, &short_config(), &options());
        prop_assert_eq!(summary.alerts, 0);
        prop_assert!(out.iter().all(|r| r[2] == "ok" && r[3] == "0"));
    }

    #[test]
    fn scores_are_invariant_to_affine_rescaling(
        rows in integer_series(),
        exponent in -3i32..6,
        negative in any::<bool>(),
        shift in -1000i32..1000,
    ) {
        let scale = 2f64.powi(exponent) * if negative { -1.0 } else { 1.0 };
        let (plain, _) = run(&series_csv(&rows, 1.0, 0.0), &short_config(), &options());
        let (scaled, _) = run(&series_csv(&rows, scale, f64::from(shift)), &short_config(), &options());
        prop_assert_eq!(plain.len(), scaled.len());
        for (p, s) in plain.iter().zip(&scaled) {
            let (ps, ss): (f64, f64) = (p[1].parse().unwrap_or(-1.0), s[1].parse().unwrap_or(-2.0));
            prop_assert!((ps - ss).abs() <= 2e-4, "score {} vs {} at {}", ps, ss, p[0]);
            prop_assert_eq!(&p[2], &s[2], "level at {}", &p[0]);
        }
    }

    #[test]
    fn replay_gives_identical_output(rows in integer_series()) {
        let input = series_csv(&rows, 1.0, 0.0);
        let first = detect_bytes(input.as_bytes(), &short_config(), &options()).map(|r| r.0).ok();
        let second = detect_bytes(input.as_bytes(), &short_config(), &options()).map(|r| r.0).ok();
        prop_assert_eq!(first, second);
    }

    /// The twin of `fuzz/fuzz_targets/detect_csv.rs`: arbitrary bytes never panic.
    #[test]
    fn never_panics_on_arbitrary_input(bytes in proptest::collection::vec(any::<u8>(), 0..2000), skip in any::<bool>()) {
        let opts = DetectOptions { skip_bad_rows: skip, ..options() };
        let _ = detect_bytes(&bytes, &short_config(), &opts);
    }

    /// Arbitrary but CSV-shaped input: numbers, blanks, NaN, inf, junk, disorder.
    #[test]
    fn never_panics_on_csv_shaped_input(
        cells in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    any::<f64>().prop_map(|v| v.to_string()),
                    Just(String::new()),
                    Just("NaN".to_string()),
                    Just("-inf".to_string()),
                    "[a-z\"]{0,3}",
                ],
                3,
            ),
            0..200,
        ),
        times in proptest::collection::vec(-10i64..10, 0..200),
    ) {
        let mut s = String::from("timestamp,a,b,c\n");
        let mut t = START;
        for (i, row) in cells.iter().enumerate() {
            t += times.get(i).copied().unwrap_or(1) * 60;
            s.push_str(&format!("{t},{}\n", row.join(",")));
        }
        let opts = DetectOptions { skip_bad_rows: true, ..options() };
        let result = detect_bytes(s.as_bytes(), &short_config(), &opts);
        prop_assert!(result.is_ok(), "{:?}", result.err());
    }
}

/// Issue 19: a CSV with one column alerts on that column, on a spike and on a level shift, with
/// the default configuration (no cold-start override) and a daily cycle in the data.
#[test]
fn a_single_column_alerts_on_a_spike_and_on_a_level_shift() {
    let step = 300;
    let rows = 5 * 288;
    let spike = 3 * 288 + 100;
    let shift = 4 * 288 + 30;
    let mut csv = String::from("timestamp,requests\n");
    for i in 0..rows {
        let t = START + i as i64 * step;
        let day = (i % 288) as f64 / 288.0;
        let mut x = 100.0 + 40.0 * (day * std::f64::consts::TAU).sin() + ((i * 37) % 7) as f64;
        if i == spike {
            x *= 10.0;
        }
        if i >= shift {
            x += 200.0;
        }
        csv.push_str(&format!("{t},{x}\n"));
    }
    let (out, summary) = run(&csv, &MonitorConfig::default(), &options());
    let alerts: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, r)| r[3] == "1")
        .map(|(i, _)| i)
        .collect();
    assert!(alerts.contains(&spike), "{alerts:?}");
    assert!(alerts.contains(&shift), "{alerts:?}");
    assert_eq!(out[spike][4], "requests");
    // Nothing else after the first two days: the daily cycle is learned.
    assert!(
        alerts
            .iter()
            .all(|&i| i < 2 * 288 || i == spike || i == shift),
        "{alerts:?} {summary:?}"
    );
}
