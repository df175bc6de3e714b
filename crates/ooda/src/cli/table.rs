//! Plain-text tables for the list commands: every column as wide as its widest cell (never
//! truncated: an identifier cut to 16 characters is no identifier), two spaces between columns,
//! the last column unpadded so lines carry no trailing blanks.

use std::io::Write;

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            right: vec![false; header.len()],
        }
    }

    /// Right-align a column (counts).
    pub fn right(mut self, column: usize) -> Self {
        if let Some(r) = self.right.get_mut(column) {
            *r = true;
        }
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths = vec![0usize; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                let last = i + 1 == columns;
                if self.right[i] {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if !last {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Writes the table to stdout in one go.
    pub fn print(&self) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(self.render().as_bytes())?;
        out.flush()
    }
}

/// The same rows as JSON: an array of objects keyed by the column names, for `--json` on lists
/// whose cells are already text.
pub fn json_rows(header: &[&str], body: &[Vec<String>]) -> serde_json::Value {
    serde_json::Value::Array(
        body.iter()
            .map(|row| {
                let object = header
                    .iter()
                    .zip(row)
                    .map(|(h, cell)| ((*h).to_owned(), serde_json::Value::String(cell.clone())))
                    .collect();
                serde_json::Value::Object(object)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_the_widest_cell_and_nothing_is_cut() {
        let long = "alertmanager:0123456789abcdef0123456789abcdef";
        let mut table = Table::new(&["FINGERPRINT", "STATE", "SUMMARY"]);
        table.row(vec![long.into(), "firing".into(), "disk full".into()]);
        table.row(vec!["host:web-1".into(), "resolved".into(), "ok".into()]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with(long), "{text}");
        // STATE starts at the same column on every line.
        let column = lines[0].find("STATE").unwrap();
        assert_eq!(lines[1].find("firing"), Some(column), "{text}");
        assert_eq!(lines[2].find("resolved"), Some(column), "{text}");
        assert!(text.lines().all(|l| l == l.trim_end()), "{text:?}");
    }

    #[test]
    fn json_rows_key_cells_by_column() {
        let rows = json_rows(&["feed", "records"], &[vec!["kev".into(), "12".into()]]);
        assert_eq!(rows, serde_json::json!([{"feed": "kev", "records": "12"}]));
    }

    #[test]
    fn right_aligned_columns_and_wide_characters_count_as_characters() {
        let mut table = Table::new(&["id", "steps", "title"]).right(1);
        table.row(vec!["a".into(), "3".into(), "naïve — é".into()]);
        table.row(vec!["bb".into(), "12".into(), "x".into()]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "a       3  naïve — é");
        assert_eq!(lines[2], "bb     12  x");
    }
}
