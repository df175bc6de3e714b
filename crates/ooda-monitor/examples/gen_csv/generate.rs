//! A deterministic host CSV for benchmarks: `timestamp` (RFC 3339, 15 s steps) and `series`
//! columns of daily waves with noise, a few spikes and one counter (`requests_total`).

use std::io::Write;

pub fn write_csv(out: &mut impl Write, rows: usize, series: usize) -> std::io::Result<()> {
    let names = [
        "cpu_util",
        "mem_used_pct",
        "disk_free_pct",
        "disk_io_util",
        "net_rx",
        "latency_p99",
        "errors",
        "requests_total",
    ];
    let columns: Vec<String> = (0..series)
        .map(|i| match names.get(i) {
            Some(n) => (*n).to_string(),
            None => format!("metric_{i}"),
        })
        .collect();
    writeln!(out, "timestamp,{}", columns.join(","))?;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut counter = 0.0f64;
    let start = 1_767_225_600i64; // 2026-01-01T00:00:00Z
    let mut line = String::with_capacity(256);
    for r in 0..rows {
        line.clear();
        let t = start + r as i64 * 15;
        let secs = t.rem_euclid(86_400);
        let days = t.div_euclid(86_400);
        // Civil date from days since the epoch (Howard Hinnant's algorithm), to print RFC 3339.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        let phase = secs as f64 / 86_400.0 * std::f64::consts::TAU;
        for (c, name) in columns.iter().enumerate() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 10_000) as f64 / 10_000.0;
            let spike = if state.is_multiple_of(50_000) {
                40.0
            } else {
                0.0
            };
            let v = if name.ends_with("_total") {
                counter += 100.0 + 50.0 * phase.sin() + 10.0 * noise;
                counter
            } else {
                50.0 + 20.0 * (phase + c as f64).sin() + 3.0 * noise + spike
            };
            let _ = write!(line, ",{v:.2}");
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}
