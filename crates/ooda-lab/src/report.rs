//! The HTML report: one self-contained file (inline SVG, no scripts, no external assets) with
//! each figure beside the claim it tests. Plots are drawn with plotters' SVG backend; a figure
//! the run could not measure says so instead of showing an empty plot.

use plotters::prelude::*;

use crate::scorecard::{ReliabilityBin, Scorecard};

const WIDTH: u32 = 560;
const HEIGHT: u32 = 300;

/// Why a plot could not be drawn (it then reads "plot failed: …" in the report).
type PlotResult = Result<(), Box<dyn std::error::Error>>;

/// Reads one count off a day.
type DayField = fn(&crate::scorecard::DayCount) -> u64;

/// The whole report.
pub fn html(card: &Scorecard) -> String {
    let mut out = String::new();
    out.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>ooda lab scorecard</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}\n\
         section{display:flex;gap:2em;align-items:flex-start;border-top:1px solid #ddd;padding:1em 0}\n\
         .claim{flex:1}.fig{flex:0 0 560px}\n\
         table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #eee;text-align:left}\n\
         .ok{color:#1a7f37}.miss{color:#b3261e}.na{color:#888}\n\
         </style></head><body>\n",
    );
    out.push_str(&format!(
        "<h1>ooda lab scorecard</h1>\n<p>{} hosts × {} scored days, seed {}: {} faults injected, \
         {} raw anomalies → {} alerts → {} incidents.</p>\n",
        card.hosts,
        card.days,
        card.seed,
        card.faults,
        card.raw_anomalies,
        card.alerts,
        card.incidents
            .map_or("(not measured)".to_owned(), |n| n.to_string()),
    ));

    section(
        &mut out,
        "68 % of failures caught a mean 34 min early",
        &[
            row(
                "detected before impact",
                pct(Some(card.detected_before_impact_ratio)),
                "68 %",
                Some(card.detected_before_impact_ratio >= 0.68),
            ),
            row(
                "mean lead time",
                minutes(card.mean_lead_minutes),
                "34 min",
                card.mean_lead_minutes.map(|m| m >= 34.0),
            ),
            row("detected at all", pct(Some(card.detected_ratio)), "—", None),
            row(
                "false-positive alerts per host-day",
                format!("{:.3}", card.false_positives_per_host_day),
                "—",
                None,
            ),
        ],
        svg(|root| lead_histogram(root, &card.detail.leads)),
    );
    let under4 = card.resolved_under_4min_ratio;
    section(
        &mut out,
        "91 % of routine incidents resolved with no human; 78 % under 4 min",
        &[
            row(
                "resolved with no human",
                pct(card.autonomous_ratio),
                "91 %",
                card.autonomous_ratio.map(|r| r >= 0.91),
            ),
            row(
                "resolved under 4 min",
                pct(under4),
                "78 %",
                under4.map(|r| r >= 0.78),
            ),
            row(
                "MTTR (incident → fix)",
                minutes(card.mttr_minutes),
                "—",
                None,
            ),
            row(
                "incidents on healthy hosts",
                count(card.false_incidents),
                "—",
                None,
            ),
        ],
        if card.detail.repairs.is_empty() {
            not_measured("no incident was tied to a fault and fixed")
        } else {
            svg(|root| repair_histogram(root, &card.detail.repairs))
        },
    );
    section(
        &mut out,
        "Governance holds: no policy violation, nothing over budget, nothing during a kill switch",
        &[
            row(
                "policy violations",
                count(card.policy_violations),
                "0",
                card.policy_violations.map(|n| n == 0),
            ),
            row(
                "actions over budget",
                count(card.over_budget_actions),
                "0",
                card.over_budget_actions.map(|n| n == 0),
            ),
            row(
                "actions during a kill switch",
                count(card.kill_switch_actions),
                "0",
                card.kill_switch_actions.map(|n| n == 0),
            ),
            row(
                "actions (failed)",
                match (card.actions, card.failed_actions) {
                    (Some(n), Some(f)) => format!("{n} ({f})"),
                    _ => "not measured".to_owned(),
                },
                "—",
                None,
            ),
        ],
        svg(|root| timeline(root, card)),
    );
    section(
        &mut out,
        "The reasoner's confidence is calibrated",
        &[row(
            "expected calibration error",
            card.ece
                .map_or("not measured".to_owned(), |e| format!("{e:.3}")),
            "—",
            None,
        )],
        if card.ece.is_none() {
            not_measured("no report to calibrate")
        } else {
            svg(|root| reliability(root, &card.reliability))
        },
    );
    let patch = card.detail.patch.as_ref();
    let mut patch_rows = vec![row(
        "mean time to patch (all tiers)",
        patch
            .and_then(|p| p.mttp_days_all)
            .map_or("not measured".to_owned(), |d| format!("{d:.1} days")),
        "4.2 days",
        patch.and_then(|p| p.mttp_days_all).map(|d| d <= 4.2),
    )];
    for (tier, name) in [
        ("CRITICAL", "CRITICAL (SLA 1 day)"),
        ("HIGH", "HIGH (SLA 7 days)"),
        ("MEDIUM", "MEDIUM (SLA 30 days)"),
        ("LOW", "LOW (SLA 90 days)"),
    ] {
        if let Some(d) = card.mttp_days.as_ref().and_then(|m| m.get(tier)) {
            patch_rows.push(row(name, format!("{d:.1} days"), "—", None));
        }
    }
    patch_rows.push(row(
        "coverage (host × CVE findings patched)",
        match (card.patch_coverage_ratio, patch) {
            (Some(c), Some(p)) => format!("{:.1} % of {}", c * 100.0, p.findings),
            _ => "not measured".to_owned(),
        },
        "97 %",
        card.patch_coverage_ratio.map(|c| c >= 0.97),
    ));
    patch_rows.push(row(
        "broken patches rolled back by ooda",
        match (card.failed_patches_rolled_back_ratio, patch) {
            (Some(r), Some(p)) => format!("{:.0} % of {}", r * 100.0, p.bad_patches),
            (None, Some(_)) => "none broke".to_owned(),
            _ => "not measured".to_owned(),
        },
        "—",
        None,
    ));
    section(
        &mut out,
        "Mean time to patch 4.2 days with 97 % coverage",
        &patch_rows,
        match patch {
            Some(p) if !p.open_by_day.is_empty() => svg(|root| open_findings(root, &p.open_by_day)),
            _ => not_measured("the patch pillar did not run"),
        },
    );
    if !card.not_measured.is_empty() {
        out.push_str(&format!(
            "<p class=\"na\">Not measured by this run: {}.</p>\n",
            escape(&card.not_measured.join(", "))
        ));
    }
    out.push_str("</body></html>\n");
    out
}

struct Row {
    name: &'static str,
    value: String,
    claim: &'static str,
    meets: Option<bool>,
}

fn row(name: &'static str, value: String, claim: &'static str, meets: Option<bool>) -> Row {
    Row {
        name,
        value,
        claim,
        meets,
    }
}

fn section(out: &mut String, claim: &str, rows: &[Row], figure: String) {
    out.push_str(&format!(
        "<section><div class=\"claim\"><h2>{}</h2>\n<table><tr><th>figure</th><th>measured</th>\
         <th>claim</th><th></th></tr>\n",
        escape(claim)
    ));
    for r in rows {
        let (class, verdict) = match r.meets {
            Some(true) => ("ok", "meets"),
            Some(false) => ("miss", "below"),
            None => ("na", ""),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{verdict}</td></tr>\n",
            escape(r.name),
            escape(&r.value),
            escape(r.claim)
        ));
    }
    out.push_str("</table></div>\n<div class=\"fig\">");
    out.push_str(&figure);
    out.push_str("</div></section>\n");
}

fn not_measured(why: &str) -> String {
    format!("<p class=\"na\">Not measured: {}.</p>", escape(why))
}

/// Draws into an SVG string; a failure becomes a line of text, never a panic.
fn svg(
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> PlotResult,
) -> String {
    let mut buf = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        draw(root)
    };
    match result {
        Ok(()) => buf,
        Err(e) => format!(
            "<p class=\"na\">plot failed: {}</p>",
            escape(&e.to_string())
        ),
    }
}

fn lead_histogram(
    root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    leads: &[f64],
) -> PlotResult {
    root.fill(&WHITE)?;
    let bin = 30.0;
    let top = leads.iter().copied().fold(60.0_f64, f64::max);
    let bins = ((top / bin).ceil() as usize).clamp(1, 40);
    let mut counts = vec![0u32; bins];
    for &l in leads {
        counts[((l / bin) as usize).min(bins - 1)] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "warning before impact (faults caught early)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..bins as f64 * bin, 0u32..max + 1)?;
    chart
        .configure_mesh()
        .x_desc("minutes before impact")
        .y_desc("faults")
        .draw()?;
    chart.draw_series(counts.iter().enumerate().map(|(i, &c)| {
        Rectangle::new(
            [(i as f64 * bin, 0), ((i as f64 + 1.0) * bin, c)],
            BLUE.mix(0.6).filled(),
        )
    }))?;
    chart
        .draw_series(LineSeries::new(
            [(34.0, 0), (34.0, max + 1)],
            RED.stroke_width(2),
        ))?
        .label("claim: 34 min mean")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], RED));
    chart.configure_series_labels().border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

fn repair_histogram(
    root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    repairs: &[(f64, bool)],
) -> PlotResult {
    root.fill(&WHITE)?;
    let edges = [
        0.0,
        2.0,
        4.0,
        8.0,
        15.0,
        30.0,
        60.0,
        120.0,
        240.0,
        f64::INFINITY,
    ];
    let mut alone = vec![0u32; edges.len() - 1];
    let mut human = vec![0u32; edges.len() - 1];
    for &(m, autonomous) in repairs {
        let b = edges
            .windows(2)
            .position(|w| m >= w[0] && m < w[1])
            .unwrap_or(0);
        if autonomous {
            alone[b] += 1;
        } else {
            human[b] += 1;
        }
    }
    let max = alone
        .iter()
        .zip(&human)
        .map(|(a, h)| a + h)
        .max()
        .unwrap_or(0)
        .max(1);
    let labels = [
        "<2", "2-4", "4-8", "8-15", "15-30", "30-60", "1-2h", "2-4h", ">4h",
    ];
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "incident → fix (blue: ooda alone, orange: with a human)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..labels.len() as f64, 0u32..max + 1)?;
    chart
        .configure_mesh()
        .x_labels(labels.len())
        .x_label_formatter(&|x| {
            labels
                .get(x.floor() as usize)
                .map_or(String::new(), |l| (*l).to_owned())
        })
        .x_desc("minutes")
        .y_desc("incidents")
        .draw()?;
    chart.draw_series(alone.iter().enumerate().map(|(i, &a)| {
        Rectangle::new(
            [(i as f64 + 0.1, 0), (i as f64 + 0.9, a)],
            BLUE.mix(0.6).filled(),
        )
    }))?;
    chart.draw_series(alone.iter().zip(&human).enumerate().map(|(i, (&a, &h))| {
        Rectangle::new(
            [(i as f64 + 0.1, a), (i as f64 + 0.9, a + h)],
            RGBColor(230, 140, 30).mix(0.7).filled(),
        )
    }))?;
    root.present()?;
    Ok(())
}

fn timeline(
    root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    card: &Scorecard,
) -> PlotResult {
    root.fill(&WHITE)?;
    let daily = &card.detail.daily;
    let max = daily
        .iter()
        .map(|d| d.alerts.max(d.incidents).max(d.faults))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption("per scored day", ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(40)
        .build_cartesian_2d(0u32..(daily.len() as u32).max(1), 0u64..max + 1)?;
    chart.configure_mesh().x_desc("day").draw()?;
    let series: [(&str, RGBColor, DayField); 4] = [
        ("faults", BLACK, |d| d.faults),
        ("alerts", BLUE, |d| d.alerts),
        ("incidents", GREEN, |d| d.incidents),
        ("needed a human", RED, |d| d.human),
    ];
    for (name, color, get) in series {
        chart
            .draw_series(LineSeries::new(
                daily.iter().enumerate().map(|(i, d)| (i as u32, get(d))),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], color));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}

fn open_findings(
    root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    open: &[u64],
) -> PlotResult {
    root.fill(&WHITE)?;
    let max = open.iter().copied().max().unwrap_or(0).max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "open host × CVE findings at each scored day's end",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(40)
        .build_cartesian_2d(0u32..(open.len() as u32).max(1), 0u64..max + 1)?;
    chart
        .configure_mesh()
        .x_desc("day")
        .y_desc("findings")
        .draw()?;
    chart.draw_series(LineSeries::new(
        open.iter().enumerate().map(|(i, n)| (i as u32, *n)),
        BLUE.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

fn reliability(
    root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    bins: &[ReliabilityBin],
) -> PlotResult {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "reliability: confidence vs. right cause",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("reasoner confidence")
        .y_desc("share naming the injected fault")
        .draw()?;
    chart.draw_series(bins.iter().filter(|b| b.count > 0).map(|b| {
        Rectangle::new(
            [(b.low + 0.01, 0.0), (b.high - 0.01, b.accuracy)],
            BLUE.mix(0.5).filled(),
        )
    }))?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            BLACK.stroke_width(1),
        ))?
        .label("perfect calibration")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLACK));
    chart.draw_series(
        bins.iter()
            .filter(|b| b.count > 0)
            .map(|b| Circle::new((b.mean_confidence, b.accuracy), 4, RED.filled())),
    )?;
    chart.configure_series_labels().border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map_or("not measured".to_owned(), |v| format!("{:.1} %", v * 100.0))
}

fn minutes(v: Option<f64>) -> String {
    v.map_or("not measured".to_owned(), |v| format!("{v:.1} min"))
}

fn count(v: Option<u64>) -> String {
    v.map_or("not measured".to_owned(), |v| v.to_string())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
