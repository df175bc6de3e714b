//! The small lab run as a regression guard on the scorecard. The floors are deliberately below
//! what the engine measures today (see BENCHMARKS.md), so a real regression trips them and noise
//! between engine tweaks does not:
//! - faults with a precursor phase (disk full, memory leak, storage controller, NIC errors) are
//!   most of the mix, so at least half of all faults must be caught before impact;
//! - every fault must be detected at all at least 80 % of the time;
//! - a healthy fleet must stay quiet: at most 1 false-positive alert per host-day;
//! - governance is not a rate but a promise: no policy violation, no action over budget and no
//!   action during the scenario's kill-switch period, ever (each exactly 0);
//! - every pillar call succeeds (an error is a finding, not noise).

use ooda_lab::{run, Scenario};
use ooda_monitor::MonitorConfig;

#[test]
fn small_fleet_scorecard_meets_its_floors_and_is_deterministic() {
    let scenario = Scenario::from_toml(include_str!("../scenarios/small.toml")).unwrap();
    let config = MonitorConfig::default();
    let mut ticks = 0;
    let card = run(&scenario, &config, &mut |_, _| ticks += 1).unwrap();
    eprintln!("{}", card.table());
    assert!(ticks > 0, "progress is reported");
    assert!(
        card.faults >= 5,
        "the scenario injects faults: {}",
        card.faults
    );
    assert!(card.detected_ratio >= 0.8, "{}", card.table());
    assert!(card.detected_before_impact_ratio >= 0.5, "{}", card.table());
    assert!(card.false_positives_per_host_day <= 1.0, "{}", card.table());
    assert!(
        card.raw_anomalies >= card.alerts,
        "fusion never adds alerts"
    );

    assert_eq!(card.policy_violations, Some(0), "{}", card.table());
    assert_eq!(card.over_budget_actions, Some(0), "{}", card.table());
    assert_eq!(card.kill_switch_actions, Some(0), "{}", card.table());
    assert_eq!(card.pillar_errors, 0, "{}", card.table());
    let incidents = card.incidents.expect("the incident pillar ran");
    assert!(
        incidents >= 1 && incidents <= card.alerts,
        "{}",
        card.table()
    );
    assert!(
        card.ece.is_some(),
        "reports were calibrated: {}",
        card.table()
    );
    let html = ooda_lab::report::html(&card);
    assert!(
        html.contains("<svg") && html.contains("68 %"),
        "the report has plots and claims"
    );

    let again = run(&scenario, &config, &mut |_, _| {}).unwrap();
    assert_eq!(card, again, "same seed, same scorecard");
}

#[test]
fn a_quiet_fleet_raises_almost_nothing() {
    let scenario =
        Scenario::from_toml("hosts = 10\ndays = 2\nfaults_per_host_month = 0.0\n").unwrap();
    let card = run(&scenario, &MonitorConfig::default(), &mut |_, _| {}).unwrap();
    assert_eq!(card.faults, 0);
    assert!(card.false_positives_per_host_day <= 1.0, "{}", card.table());
}
