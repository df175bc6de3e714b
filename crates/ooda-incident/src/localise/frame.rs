//! The localiser's inputs read from text: wide metric CSVs (`timestamp` plus one `<node>:<metric>`
//! column each) and call-graph CSVs (`source,target`, caller → callee). Outside data: every
//! problem is a [`LocaliseError`] naming the file, line and column; nothing here may panic.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::LocaliseError;

/// One metric series of one node, aligned with its frame's timestamps (`None`: an empty cell).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub node: String,
    pub metric: String,
    pub values: Vec<Option<f64>>,
}

/// A wide table of metrics: timestamps (unix seconds, ascending) and one column per series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricFrame {
    pub timestamps: Vec<f64>,
    pub columns: Vec<Column>,
}

impl MetricFrame {
    /// Reads a wide CSV. `what` names the input in errors (`METRICS`, a file name).
    ///
    /// Rules: a header with a `timestamp` column (any case) and columns named `<node>:<metric>`,
    /// split at the last `:`; cells may be empty (or `NaN`), otherwise they must be numbers;
    /// timestamps must be numbers. Rows are sorted by time; a frame without rows is an error.
    pub fn from_csv(reader: impl Read, what: &str) -> Result<Self, LocaliseError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(reader);
        let mut records = csv.records();
        let header = match records.next() {
            Some(Ok(header)) => header,
            Some(Err(error)) => return Err(csv_error(what, &error)),
            None => return Err(bad(what, 1, "the file is empty: expected a header row")),
        };
        let is_timestamp = |name: &str| {
            name.trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case("timestamp")
        };
        let timestamp_index = match header.iter().filter(|name| is_timestamp(name)).count() {
            0 => return Err(bad(what, 1, "no `timestamp` column in the header")),
            1 => header.iter().position(is_timestamp).unwrap_or_default(),
            _ => return Err(bad(what, 1, "two `timestamp` columns")),
        };
        let mut columns: Vec<(usize, Column)> = Vec::new();
        let mut seen = BTreeSet::new();
        for (index, name) in header.iter().enumerate() {
            if index == timestamp_index {
                continue;
            }
            let (node, metric) = split_series(name).ok_or_else(|| {
                bad(
                    what,
                    1,
                    &format!(
                        "column {} `{name}`: expected `<node>:<metric>` (split at the last `:`)",
                        index + 1
                    ),
                )
            })?;
            if !seen.insert(format!("{node}:{metric}")) {
                return Err(bad(what, 1, &format!("column `{name}` appears twice")));
            }
            columns.push((
                index,
                Column {
                    node,
                    metric,
                    values: Vec::new(),
                },
            ));
        }
        let width = header.len();
        let mut rows: Vec<(f64, Vec<Option<f64>>)> = Vec::new();
        for (row, record) in records.enumerate() {
            let line = row + 2;
            let record = record.map_err(|error| csv_error(what, &error))?;
            if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
                continue; // a blank line
            }
            if record.len() != width {
                return Err(bad(
                    what,
                    line,
                    &format!("{} fields, the header has {width}", record.len()),
                ));
            }
            let stamp = record.get(timestamp_index).unwrap_or("");
            let timestamp = match stamp.parse::<f64>() {
                Ok(value) if value.is_finite() => value,
                _ => {
                    return Err(bad(
                        what,
                        line,
                        &format!("timestamp `{stamp}` is not a number of unix seconds"),
                    ))
                }
            };
            let mut values = Vec::with_capacity(columns.len());
            for (index, column) in &columns {
                let cell = record.get(*index).unwrap_or("");
                values.push(parse_cell(cell).map_err(|()| {
                    bad(
                        what,
                        line,
                        &format!(
                            "column `{}:{}`: `{cell}` is not a number (empty cells are allowed)",
                            column.node, column.metric
                        ),
                    )
                })?);
            }
            rows.push((timestamp, values));
        }
        if rows.is_empty() {
            return Err(bad(what, 2, "no data rows after the header"));
        }
        // Stable, so equal timestamps keep file order and the result stays deterministic.
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut frame = MetricFrame {
            timestamps: rows.iter().map(|(t, _)| *t).collect(),
            columns: columns.into_iter().map(|(_, column)| column).collect(),
        };
        for (t, (_, values)) in rows.into_iter().enumerate() {
            for (column, value) in frame.columns.iter_mut().zip(values) {
                debug_assert_eq!(column.values.len(), t);
                column.values.push(value);
            }
        }
        Ok(frame)
    }

    /// The nodes that have at least one column, sorted.
    pub fn nodes(&self) -> BTreeSet<String> {
        self.columns.iter().map(|c| c.node.clone()).collect()
    }

    /// The median spacing of timestamps (seconds), 60 when it cannot be told.
    pub fn step(&self) -> f64 {
        let mut gaps: Vec<f64> = self
            .timestamps
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|gap| *gap > 0.0)
            .collect();
        if gaps.is_empty() {
            return 60.0;
        }
        gaps.sort_by(f64::total_cmp);
        gaps[gaps.len() / 2]
    }
}

/// `a:b:c` → (`a:b`, `c`). `None` when either side is empty.
pub fn split_series(name: &str) -> Option<(String, String)> {
    let (node, metric) = name.rsplit_once(':')?;
    let (node, metric) = (node.trim(), metric.trim());
    if node.is_empty() || metric.is_empty() {
        return None;
    }
    Some((node.to_string(), metric.to_string()))
}

/// Empty, `NaN`, `null`, `inf` → `None` (no reading); a number → `Some`; anything else → error.
fn parse_cell(cell: &str) -> Result<Option<f64>, ()> {
    if cell.is_empty()
        || cell.eq_ignore_ascii_case("nan")
        || cell.eq_ignore_ascii_case("null")
        || cell.eq_ignore_ascii_case("none")
    {
        return Ok(None);
    }
    match cell.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Some(value)),
        Ok(_) => Ok(None),
        Err(_) => Err(()),
    }
}

/// The service call graph: caller → callee edges, deduplicated, self-loops dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallGraph {
    /// Caller → its callees, sorted.
    callees: BTreeMap<String, BTreeSet<String>>,
}

impl CallGraph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `caller → callee` (a self-loop says nothing about propagation and is dropped).
    pub fn add_call(&mut self, caller: &str, callee: &str) {
        if caller == callee {
            return;
        }
        self.callees
            .entry(caller.to_string())
            .or_default()
            .insert(callee.to_string());
    }

    /// Reads `source,target` edges (header required, extra columns ignored; an empty file is an
    /// empty graph).
    pub fn from_csv(reader: impl Read, what: &str) -> Result<Self, LocaliseError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(reader);
        let mut records = csv.records();
        let mut graph = CallGraph::new();
        let header = match records.next() {
            Some(Ok(header)) => header,
            Some(Err(error)) => return Err(csv_error(what, &error)),
            None => return Ok(graph),
        };
        let position = |name: &str| {
            header
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
        };
        let (Some(source), Some(target)) = (position("source"), position("target")) else {
            return Err(bad(
                what,
                1,
                "expected a header with `source` and `target` columns (caller → callee)",
            ));
        };
        for (row, record) in records.enumerate() {
            let line = row + 2;
            let record = record.map_err(|error| csv_error(what, &error))?;
            if record.iter().all(str::is_empty) {
                continue;
            }
            match (record.get(source), record.get(target)) {
                (Some(caller), Some(callee)) if !caller.is_empty() && !callee.is_empty() => {
                    graph.add_call(caller, callee)
                }
                _ => {
                    return Err(bad(
                        what,
                        line,
                        "an edge needs a non-empty `source` and `target`",
                    ))
                }
            }
        }
        Ok(graph)
    }

    /// The callees of `node` (empty when it calls nothing or is unknown).
    pub fn callees_of(&self, node: &str) -> impl Iterator<Item = &str> {
        self.callees
            .get(node)
            .into_iter()
            .flat_map(|set| set.iter().map(String::as_str))
    }

    /// Every node named by an edge.
    pub fn nodes(&self) -> BTreeSet<String> {
        let mut nodes = BTreeSet::new();
        for (caller, callees) in &self.callees {
            nodes.insert(caller.clone());
            nodes.extend(callees.iter().cloned());
        }
        nodes
    }

    pub fn is_empty(&self) -> bool {
        self.callees.is_empty()
    }

    /// Every caller → callee edge, sorted.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> {
        self.callees.iter().flat_map(|(caller, callees)| {
            callees
                .iter()
                .map(move |callee| (caller.as_str(), callee.as_str()))
        })
    }
}

fn bad(what: &str, line: usize, reason: &str) -> LocaliseError {
    LocaliseError::Input {
        what: what.to_string(),
        line,
        reason: reason.to_string(),
    }
}

fn csv_error(what: &str, error: &csv::Error) -> LocaliseError {
    let line = error
        .position()
        .map(|p| p.line() as usize)
        .unwrap_or_default();
    bad(what, line, &format!("not valid CSV: {error}"))
}
