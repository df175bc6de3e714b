//! Scores the engine on a generated, labelled corpus of server hosts with the same metrics as the
//! ASD reference scorer: point-wise precision/recall/F1 over the test rows (no point
//! adjustment), event recall, and false-alarm episodes (runs of alerting rows touching no
//! labelled row) per server-day.
//!
//!     eval_corpus [--seeds N] [--first SEED] [--config FILE.toml] [--write DIR]
//!
//! Every host is run through `ooda_monitor::detect` (the `ooda detect` CSV contract) with its
//! history rows first, as `scripts/eval-asd` does with ASD's train rows. `--write DIR` writes
//! the generated CSVs and their labels instead of scoring them.

mod corpus;

use ooda_monitor::{DetectOptions, MonitorConfig};

#[derive(Default, Clone)]
struct Tally {
    tp: u64,
    fp: u64,
    fn_: u64,
    events: u64,
    caught: u64,
    fa_episodes: u64,
    days: f64,
    hosts: u64,
    clean_hosts_alerting: u64,
    clean_hosts: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
        self.events += other.events;
        self.caught += other.caught;
        self.fa_episodes += other.fa_episodes;
        self.days += other.days;
        self.hosts += other.hosts;
        self.clean_hosts += other.clean_hosts;
        self.clean_hosts_alerting += other.clean_hosts_alerting;
    }
    fn line(&self, label: &str) -> String {
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        format!(
            "| {label} | {} | {:.1} | {f1:.3} | {p:.3} | {r:.3} | {}/{} | {:.2} | {}/{} |",
            self.hosts,
            self.days,
            self.caught,
            self.events,
            self.fa_episodes as f64 / self.days.max(1e-9),
            self.clean_hosts_alerting,
            self.clean_hosts,
        )
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn runs(flags: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &f) in flags.iter().chain(std::iter::once(&false)).enumerate() {
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mut seeds = 60u64;
    let mut first = 1u64;
    let mut config = MonitorConfig::default();
    let mut write_dir: Option<String> = None;
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().ok_or("missing value")?;
        match args[i].as_str() {
            "--seeds" => seeds = value.parse()?,
            "--first" => first = value.parse()?,
            "--config" => config = MonitorConfig::from_toml(&std::fs::read_to_string(value)?)?,
            "--write" => write_dir = Some(value),
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 2;
    }
    let options = DetectOptions {
        host: "corpus".into(),
        ..DetectOptions::default()
    };
    let mut total = Tally::default();
    let mut by_step: std::collections::BTreeMap<i64, Tally> = Default::default();
    let mut by_width: std::collections::BTreeMap<usize, Tally> = Default::default();
    for seed in first..first + seeds {
        let host = corpus::host(seed);
        if let Some(dir) = &write_dir {
            std::fs::create_dir_all(dir)?;
            std::fs::write(format!("{dir}/host-{seed}.csv"), &host.csv)?;
            let labels: String = host
                .labels
                .iter()
                .map(|l| if *l { "1\n" } else { "0\n" })
                .collect();
            std::fs::write(
                format!("{dir}/host-{seed}.labels"),
                format!("train_rows {}\n{labels}", host.train_rows),
            )?;
            continue;
        }
        let (out, _) = ooda_monitor::detect::detect_bytes(host.csv.as_bytes(), &config, &options)?;
        let text = String::from_utf8(out)?;
        let levels: Vec<bool> = text
            .lines()
            .skip(1)
            .map(|l| !l.split(',').nth(2).unwrap_or("ok").eq("ok"))
            .collect();
        let test = &levels[levels.len().saturating_sub(host.labels.len())..];
        let mut t = Tally {
            hosts: 1,
            days: host.labels.len() as f64 * host.step_s as f64 / 86_400.0,
            ..Tally::default()
        };
        for (&p, &l) in test.iter().zip(&host.labels) {
            t.tp += u64::from(p && l);
            t.fp += u64::from(p && !l);
            t.fn_ += u64::from(!p && l);
        }
        for (s, e) in runs(&host.labels) {
            t.events += 1;
            t.caught += u64::from(test[s..=e].iter().any(|p| *p));
        }
        for (s, e) in runs(test) {
            if !host.labels[s..=e].iter().any(|l| *l) {
                t.fa_episodes += 1;
            }
        }
        if host.faults == 0 && !host.labels.iter().any(|l| *l) {
            t.clean_hosts = 1;
            t.clean_hosts_alerting = u64::from(test.iter().any(|p| *p));
        }
        total.add(&t);
        by_step.entry(host.step_s).or_default().add(&t);
        by_width.entry(host.width).or_default().add(&t);
    }
    if write_dir.is_some() {
        return Ok(());
    }
    println!("| corpus seeds {first}..{} | hosts | server-days | F1 | precision | recall | events caught | FA episodes / server-day | clean hosts alerting |", first + seeds - 1);
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!("{}", total.line("all"));
    for (step, t) in &by_step {
        println!("{}", t.line(&format!("step {step} s")));
    }
    for (width, t) in &by_width {
        println!("{}", t.line(&format!("{width} series")));
    }
    Ok(())
}
