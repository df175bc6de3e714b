use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// A frame from `(node:metric, values)` with timestamps every minute from `start`.
fn frame(start: f64, series: &[(&str, Vec<Option<f64>>)]) -> MetricFrame {
    let rows = series.first().map(|(_, v)| v.len()).unwrap_or(0);
    MetricFrame {
        timestamps: (0..rows).map(|i| start + 60.0 * i as f64).collect(),
        columns: series
            .iter()
            .map(|(name, values)| {
                let (node, metric) = frame::split_series(name).expect("test column names");
                Column {
                    node,
                    metric,
                    values: values.clone(),
                }
            })
            .collect(),
    }
}

/// Deterministic wiggle so the normal period has a spread.
fn noise(i: usize, salt: usize) -> f64 {
    (((i * 7919 + salt * 104_729) % 97) as f64 / 97.0) - 0.5
}

fn series(
    base: f64,
    spread: f64,
    rows: usize,
    salt: usize,
    bump: impl Fn(usize) -> f64,
) -> Vec<Option<f64>> {
    (0..rows)
        .map(|i| Some(base + spread * noise(i, salt) + bump(i)))
        .collect()
}

/// checkout → payments → payments-db, plus an unrelated `search`. The database's connection
/// errors rise at minute 20, latencies follow one minute later along the path.
fn chain_case(graph: CallGraph) -> Case {
    let rows = 40;
    let normal = frame(
        0.0,
        &[
            ("checkout:latency", series(120.0, 10.0, rows, 1, |_| 0.0)),
            ("payments:latency", series(60.0, 6.0, rows, 2, |_| 0.0)),
            ("payments-db:latency", series(10.0, 1.0, rows, 3, |_| 0.0)),
            (
                "payments-db:connection_errors",
                series(1.0, 1.0, rows, 4, |_| 0.0),
            ),
            ("search:latency", series(30.0, 3.0, rows, 5, |_| 0.0)),
            ("search:cpu", series(40.0, 4.0, rows, 6, |_| 0.0)),
        ],
    );
    let start = 100_000.0;
    let after = |at: usize, size: f64| move |i: usize| if i >= at { size } else { 0.0 };
    let metrics = frame(
        start,
        &[
            (
                "checkout:latency",
                series(120.0, 10.0, rows, 11, after(21, 300.0)),
            ),
            (
                "payments:latency",
                series(60.0, 6.0, rows, 12, after(21, 290.0)),
            ),
            (
                "payments-db:latency",
                series(10.0, 1.0, rows, 13, after(20, 280.0)),
            ),
            (
                "payments-db:connection_errors",
                series(1.0, 1.0, rows, 14, after(20, 40.0)),
            ),
            ("search:latency", series(30.0, 3.0, rows, 15, |_| 0.0)),
            ("search:cpu", series(40.0, 4.0, rows, 16, |_| 0.0)),
        ],
    );
    Case::new(
        metrics,
        normal,
        graph,
        "checkout:latency".parse().expect("symptom"),
        start + 22.0 * 60.0,
        start + 39.0 * 60.0,
    )
    .expect("case")
}

fn chain_graph() -> CallGraph {
    CallGraph::from_csv(
        "source,target\ncheckout,payments\npayments,payments-db\ncheckout,search\n".as_bytes(),
        "GRAPH",
    )
    .expect("graph")
}

#[test]
fn names_the_database_behind_the_front_door() {
    let ranking = localise(&chain_case(chain_graph()));
    assert_eq!(ranking.nodes()[0], "payments-db", "{:#?}", ranking.suspects);
    let top = &ranking.suspects[0];
    assert_eq!(top.path, ["checkout", "payments", "payments-db"]);
    assert!(top.explained < 0.2);
    // The two victims on the path rank above the healthy component.
    assert_eq!(ranking.nodes()[3], "search");
    let sentence = ranking.headline().expect("headline");
    assert!(
        sentence.starts_with("payments-db: ")
            && sentence.contains("path checkout → payments → payments-db"),
        "{sentence}"
    );
    assert!(
        sentence.contains("before the checkout latency"),
        "{sentence}"
    );
}

#[test]
fn without_a_graph_it_falls_back_to_metric_evidence() {
    let ranking = localise(&chain_case(CallGraph::new()));
    assert_eq!(ranking.suspects.len(), 4);
    assert_eq!(ranking.suspects[3].node, "search");
    assert!(ranking.suspects.iter().all(|s| s.explained == 0.0));
}

#[test]
fn a_component_without_metrics_does_not_break_the_chain() {
    // payments → (mesh, no metrics) → payments-db.
    let graph = CallGraph::from_csv(
        "source,target\ncheckout,payments\npayments,mesh\nmesh,payments-db\n".as_bytes(),
        "GRAPH",
    )
    .expect("graph");
    let ranking = localise(&chain_case(graph));
    assert_eq!(ranking.nodes()[0], "payments-db");
    assert!(!ranking.nodes().contains(&"mesh".to_string()));
    assert_eq!(
        ranking.suspects[0].path,
        ["checkout", "payments", "mesh", "payments-db"]
    );
}

#[test]
fn the_baseline_follows_anomalous_callees_down() {
    let order = deepest_anomalous_callee(&chain_case(chain_graph()));
    assert_eq!(order[0], "payments-db");
    assert_eq!(order.last().map(String::as_str), Some("search"));
}

#[test]
fn wide_csv_splits_at_the_last_colon_and_allows_empty_cells() {
    let text = "timestamp,host:a:cpu,db:errors\n60,1.5,\n0,,2\n120,NaN,3\n";
    let frame = MetricFrame::from_csv(text.as_bytes(), "METRICS").expect("frame");
    assert_eq!(frame.timestamps, [0.0, 60.0, 120.0]);
    assert_eq!(frame.columns[0].node, "host:a");
    assert_eq!(frame.columns[0].metric, "cpu");
    assert_eq!(frame.columns[0].values, [None, Some(1.5), None]);
    assert_eq!(frame.columns[1].values, [Some(2.0), None, Some(3.0)]);
}

#[test]
fn malformed_inputs_are_named() {
    let cases = [
        ("", "empty"),
        ("time,a:b\n1,2\n", "no `timestamp` column"),
        ("timestamp,ab\n1,2\n", "`ab`"),
        ("timestamp,a:b,a:b\n1,2,3\n", "twice"),
        (
            "timestamp,a:b\n1,x\n",
            "line 2: column `a:b`: `x` is not a number",
        ),
        ("timestamp,a:b\nnoon,1\n", "timestamp `noon`"),
        ("timestamp,a:b\n1,2,3\n", "3 fields"),
        ("timestamp,a:b\n", "no data rows"),
    ];
    for (text, expected) in cases {
        let error = MetricFrame::from_csv(text.as_bytes(), "METRICS").expect_err(text);
        assert!(error.to_string().contains(expected), "{text:?} → {error}");
    }
    let error = CallGraph::from_csv("from,to\na,b\n".as_bytes(), "GRAPH").expect_err("header");
    assert!(
        error.to_string().contains("`source` and `target`"),
        "{error}"
    );
    let error = CallGraph::from_csv("source,target\na,\n".as_bytes(), "GRAPH").expect_err("edge");
    assert!(error.to_string().contains("line 2"), "{error}");
    assert!("checkout".parse::<Symptom>().is_err());
    let symptom: Symptom = "ns:checkout:latency".parse().expect("symptom");
    assert_eq!(symptom.node, "ns:checkout");
}

#[test]
fn graph_reads_edges_and_tolerates_empty_files() {
    assert!(CallGraph::from_csv("".as_bytes(), "GRAPH")
        .expect("empty")
        .is_empty());
    let graph = CallGraph::from_csv(
        "target,source,weight\nb,a,3\nb,a,1\na,a,1\n\nc,b,1\n".as_bytes(),
        "GRAPH",
    )
    .expect("graph");
    let edges: Vec<_> = graph.edges().collect();
    assert_eq!(edges, [("a", "b"), ("b", "c")]);
}

/// A random case: `nodes` components with up to three metrics each, some cells missing, some
/// columns constant, random edges.
fn arbitrary_case() -> impl Strategy<Value = Case> {
    (2usize..8, 3usize..20, any::<u64>()).prop_map(|(nodes, rows, seed)| {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let build = |start: f64, next: &mut dyn FnMut() -> u64| {
            let mut columns = Vec::new();
            for n in 0..nodes {
                for m in 0..=(n % 3) {
                    let constant = next().is_multiple_of(4);
                    let values = (0..rows)
                        .map(|_| {
                            if next().is_multiple_of(5) {
                                None
                            } else if constant {
                                Some(7.0)
                            } else {
                                Some((next() % 1000) as f64 / 10.0)
                            }
                        })
                        .collect();
                    columns.push(Column {
                        node: format!("s{n}"),
                        metric: format!("m{m}"),
                        values,
                    });
                }
            }
            MetricFrame {
                timestamps: (0..rows).map(|i| start + 60.0 * i as f64).collect(),
                columns,
            }
        };
        let normal = build(0.0, &mut next);
        let metrics = build(10_000.0, &mut next);
        let mut graph = CallGraph::new();
        for _ in 0..nodes {
            let (a, b) = (next() as usize % (nodes + 1), next() as usize % (nodes + 1));
            graph.add_call(&format!("s{a}"), &format!("s{b}"));
        }
        let symptom = Symptom {
            node: format!("s{}", next() as usize % nodes),
            metric: "m0".into(),
        };
        Case::new(
            metrics,
            normal,
            graph,
            symptom,
            10_000.0 + 60.0,
            10_000.0 + 60.0 * rows as f64,
        )
        .expect("valid window")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ranking_is_a_permutation_of_the_nodes_with_metrics(case in arbitrary_case()) {
        let ranking = localise(&case);
        let names = ranking.nodes();
        let unique: BTreeSet<String> = names.iter().cloned().collect();
        prop_assert_eq!(unique.len(), names.len());
        let mut expected = case.metrics.nodes();
        expected.extend(case.normal.nodes());
        prop_assert_eq!(unique, expected);
        for suspect in &ranking.suspects {
            prop_assert!(suspect.score.is_finite() && suspect.confidence.is_finite());
        }
        let baseline: BTreeSet<String> = deepest_anomalous_callee(&case).into_iter().collect();
        prop_assert_eq!(baseline.len(), names.len());
    }

    #[test]
    fn ranking_is_deterministic(case in arbitrary_case()) {
        prop_assert_eq!(localise(&case), localise(&case));
    }

    #[test]
    fn csv_parsing_never_panics(text in ".{0,200}") {
        let _ = MetricFrame::from_csv(text.as_bytes(), "METRICS");
        let _ = CallGraph::from_csv(text.as_bytes(), "GRAPH");
    }

    #[test]
    fn csv_with_numbers_and_gaps_round_trips(cells in proptest::collection::vec(proptest::option::of(-1e6f64..1e6), 1..40)) {
        let mut text = String::from("timestamp,a:x,b:y\n");
        for (i, pair) in cells.chunks(2).enumerate() {
            let cell = |v: Option<&Option<f64>>| v.and_then(|v| v.map(|v| v.to_string())).unwrap_or_default();
            text.push_str(&format!("{},{},{}\n", i * 60, cell(pair.first()), cell(pair.get(1))));
        }
        let frame = MetricFrame::from_csv(text.as_bytes(), "METRICS").expect("valid");
        prop_assert_eq!(frame.timestamps.len(), cells.len().div_ceil(2));
        prop_assert_eq!(frame.columns[0].values[0], cells[0]);
    }
}

#[test]
fn constant_and_empty_columns_rank_without_nan() {
    let normal = frame(
        0.0,
        &[("a:x", vec![Some(1.0); 10]), ("b:y", vec![None; 10])],
    );
    let metrics = frame(
        1000.0,
        &[("a:x", vec![Some(1.0); 10]), ("b:y", vec![None; 10])],
    );
    let case = Case::new(
        metrics,
        normal,
        CallGraph::new(),
        "a:x".parse().expect("symptom"),
        1000.0,
        1600.0,
    )
    .expect("case");
    let ranking = localise(&case);
    assert_eq!(ranking.nodes(), ["a", "b"]);
    assert!(ranking.suspects.iter().all(|s| s.score == 0.0));
}

#[test]
fn window_must_be_ordered() {
    let error = Case::new(
        MetricFrame::default(),
        MetricFrame::default(),
        CallGraph::new(),
        "a:x".parse().expect("symptom"),
        10.0,
        5.0,
    )
    .expect_err("reversed");
    assert!(error.to_string().contains("after end"));
}
