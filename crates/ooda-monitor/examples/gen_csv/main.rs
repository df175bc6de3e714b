//! Writes a generated host CSV to stdout: `gen_csv ROWS [SERIES]` (used by scripts/bench-detect).

mod generate;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).ok_or("usage: gen_csv ROWS [SERIES]")?.parse()?;
    let series: usize = args.get(2).map_or(Ok(8), |s| s.parse())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    generate::write_csv(&mut out, rows, series)?;
    Ok(())
}
