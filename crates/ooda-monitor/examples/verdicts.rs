//! Tuning aid: prints every row's members with detector kind and strength:
//! `verdicts IN.csv [CONFIG.toml]` → `row level score name:kind:ratio ...` (timestamps in column 0).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let config = match args.get(2) {
        Some(path) => ooda_monitor::MonitorConfig::from_toml(&std::fs::read_to_string(path)?)?,
        None => ooda_monitor::MonitorConfig::default(),
    };
    let mut lines = BufReader::new(File::open(&args[1])?).lines();
    let header = lines.next().ok_or("empty")??;
    let names: Vec<String> = header.split(',').skip(1).map(str::to_string).collect();
    let mut host = ooda_monitor::HostMonitor::new("h", names.clone(), &config);
    let out = std::io::stdout();
    let mut out = out.lock();
    for (row, line) in lines.enumerate() {
        let line = line?;
        let mut cells = line.split(',');
        let t = ooda_monitor::detect::parse_timestamp(cells.next().unwrap_or("")).ok_or("ts")?;
        let values: Vec<Option<f64>> = cells.map(|c| c.parse().ok()).collect();
        let v = host.observe_row(t, &values);
        let members: Vec<String> = v
            .members
            .iter()
            .map(|m| format!("{}:{}:{:.2}", names[m.series], m.kind.as_str(), m.ratio))
            .collect();
        writeln!(
            out,
            "{row} {} {:.3} {}",
            v.level.as_str(),
            v.score,
            members.join(" ")
        )?;
    }
    Ok(())
}
