//! EPSS daily CSV (`epss_scores-YYYY-MM-DD.csv.gz`): an optional `#model_version:…,score_date:…`
//! comment, a `cve,epss[,percentile]` header, then rows. Gzip is detected by its magic bytes.
//! Scores may be in scientific notation; the model version is kept with every score.

use std::io::Read;

use crate::feed::{is_cve_id, EpssScore, Parsed};

/// Refuse to inflate more than this: a decompression bomb must not take the host down.
const MAX_INFLATED_BYTES: u64 = 1 << 30;

/// Parses EPSS bytes, gzipped or plain.
pub fn parse(bytes: &[u8]) -> Result<Parsed<EpssScore>, String> {
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_INFLATED_BYTES)
            .read_to_string(&mut inflated)
            .map_err(|e| format!("EPSS gzip: {e}"))?;
        inflated
    } else {
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("EPSS CSV: {e}"))?
    };
    parse_text(&text)
}

fn parse_text(text: &str) -> Result<Parsed<EpssScore>, String> {
    let mut model_version = None;
    let mut score_date = None;
    let mut header: Option<(usize, usize, Option<usize>)> = None;
    let mut parsed = Parsed::default();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            for pair in comment.split(',') {
                match pair.split_once(':') {
                    Some(("model_version", value)) => model_version = Some(value.to_owned()),
                    Some(("score_date", value)) => score_date = Some(value.to_owned()),
                    _ => {}
                }
            }
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some((cve_at, epss_at, percentile_at)) = header else {
            let find = |name: &str| cells.iter().position(|c| c.eq_ignore_ascii_case(name));
            match (find("cve"), find("epss")) {
                (Some(cve), Some(epss)) => header = Some((cve, epss, find("percentile"))),
                _ => {
                    return Err(format!(
                        "EPSS CSV line {}: expected a cve,epss header, found {line:?}",
                        number + 1
                    ))
                }
            }
            continue;
        };
        let row = || -> Result<EpssScore, String> {
            let cve = cells.get(cve_at).ok_or("missing cve")?;
            if !is_cve_id(cve) {
                return Err(format!("expected a CVE id, found {cve:?}"));
            }
            let probability =
                unit_interval(cells.get(epss_at).copied(), "epss")?.ok_or("missing epss")?;
            let percentile = match percentile_at {
                Some(at) => unit_interval(cells.get(at).copied(), "percentile")?,
                None => None,
            };
            Ok(EpssScore {
                cve: (*cve).to_owned(),
                probability,
                percentile,
                model_version: model_version.clone(),
                score_date: score_date.clone(),
            })
        };
        match row() {
            Ok(score) => parsed.records.push(score),
            Err(error) => parsed.skip(|| format!("line {}: {error}", number + 1)),
        }
    }
    if header.is_none() {
        return Err("EPSS CSV: no header line".to_owned());
    }
    Ok(parsed)
}

fn unit_interval(cell: Option<&str>, name: &str) -> Result<Option<f64>, String> {
    let Some(cell) = cell.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let value: f64 = cell
        .parse()
        .map_err(|_| format!("{name}: expected a number, found {cell:?}"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{name}: expected 0..1, found {value}"));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scientific_notation_and_model_version() {
        let text = "#model_version:v2023.03.01,score_date:2023-03-07T00:00:00+0000\ncve,epss,percentile\nCVE-2020-5902,9.7567e-01,0.99995\nCVE-2020-0001,1.2,0.5\n";
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert!((parsed.records[0].probability - 0.97567).abs() < 1e-9);
        assert_eq!(
            parsed.records[0].model_version.as_deref(),
            Some("v2023.03.01")
        );
        assert_eq!(parsed.skipped, 1);
    }

    #[test]
    fn v1_has_no_percentile() {
        let parsed = parse(b"cve,epss\nCVE-2020-5902,0.65117\n").unwrap();
        assert_eq!(parsed.records[0].percentile, None);
        assert_eq!(parsed.records[0].model_version, None);
    }
}
