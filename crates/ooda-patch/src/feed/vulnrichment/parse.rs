//! The summary table (`cve, state, date_published, cna, cvss31_score, cvss31_vector,
//! cvss31_from, cvss40_score, cvss40_vector, ssvc_exploitation, …, kev_date_added, …`), one row
//! per CVE. Columns are found by header name so extra or reordered columns do not break it.

use crate::feed::{is_cve_id, parse_iso_date, Cvss, Parsed, SeverityRecord};

pub fn parse(text: &str) -> Result<Parsed<SeverityRecord>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty());
    let (_, header) = lines.next().ok_or("vulnrichment summary: empty")?;
    let columns: Vec<&str> = header.split('\t').collect();
    let at = |name: &str| columns.iter().position(|c| *c == name);
    let cve_at = at("cve").ok_or("vulnrichment summary: no cve column")?;
    let (v31, v31_vector, v31_from) = (at("cvss31_score"), at("cvss31_vector"), at("cvss31_from"));
    let (v40, v40_vector) = (at("cvss40_score"), at("cvss40_vector"));
    let (exploitation, kev, cna) = (at("ssvc_exploitation"), at("kev_date_added"), at("cna"));

    let mut parsed = Parsed::default();
    for (number, line) in lines {
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| cells.get(i))
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
        };
        let Some(cve) = cell(Some(cve_at)).filter(|c| is_cve_id(c)) else {
            parsed.skip(|| format!("line {}: expected a CVE id in column cve", number + 1));
            continue;
        };
        let score = |index| -> Result<Option<f64>, String> {
            match cell(index) {
                None => Ok(None),
                Some(text) => match text.parse::<f64>() {
                    Ok(value) if (0.0..=10.0).contains(&value) => Ok(Some(value)),
                    _ => Err(format!(
                        "line {}: expected a CVSS score, found {text:?}",
                        number + 1
                    )),
                },
            }
        };
        let (score40, score31) = match (score(v40), score(v31)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(error), _) | (_, Err(error)) => {
                parsed.skip(|| error);
                continue;
            }
        };
        // Same preference as NVD: the newest CVSS version that has a score.
        let cvss = if let Some(score) = score40 {
            Some(Cvss {
                version: "4.0".to_owned(),
                score,
                vector: cell(v40_vector).map(str::to_owned),
                source: cell(cna).unwrap_or("cna").to_owned(),
            })
        } else {
            score31.map(|score| Cvss {
                version: "3.1".to_owned(),
                score,
                vector: cell(v31_vector).map(str::to_owned),
                source: cell(v31_from).unwrap_or("cna").to_owned(),
            })
        };
        parsed.records.push(SeverityRecord {
            cve: cve.to_owned(),
            cvss,
            exploitation: cell(exploitation).map(str::to_ascii_lowercase),
            kev_date_added: cell(kev).and_then(parse_iso_date),
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_cvss4_and_lowercases_ssvc() {
        let text = "cve\tcna\tcvss31_score\tcvss31_vector\tcvss31_from\tcvss40_score\tcvss40_vector\tssvc_exploitation\tkev_date_added\n\
CVE-2024-0001\tacme\t7.5\tCVSS:3.1/X\tcna\t8.1\tCVSS:4.0/Y\tPoC\t2024-02-01\n\
CVE-2024-0002\tacme\t11\t\t\t\t\t\t\n\
CVE-2024-0003\tacme\t\t\t\t\t\tnone\t\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[0].cvss.as_ref().unwrap().version, "4.0");
        assert_eq!(parsed.records[0].exploitation.as_deref(), Some("poc"));
        assert!(parsed.records[1].cvss.is_none());
        assert_eq!(parsed.skipped, 1);
    }
}
