//! A minimal `ooda detect` without the CLI, for tuning runs: `detect_csv IN OUT [CONFIG.toml]`.

use std::fs::File;
use std::io::BufReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: detect_csv IN OUT [CONFIG.toml]".into());
    }
    let config = match args.get(3) {
        Some(path) => ooda_monitor::MonitorConfig::from_toml(&std::fs::read_to_string(path)?)?,
        None => ooda_monitor::MonitorConfig::default(),
    };
    let input = BufReader::new(File::open(&args[1])?);
    let output = File::create(&args[2])?;
    let options = ooda_monitor::DetectOptions::default();
    let summary = ooda_monitor::detect(input, output, &config, &options)?;
    eprintln!("{summary:?}");
    Ok(())
}
