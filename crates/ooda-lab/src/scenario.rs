//! Scenario files (TOML): the fleet's size, how long to run, and the fault mix. Errors come with
//! the path of the offending key, like `ooda config check`; impossible scenarios (a fault on a
//! host that does not exist) are named, never ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::faults::FaultKind;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Number of simulated hosts (`host-001` …).
    pub hosts: usize,
    /// Days scored.
    pub days: u32,
    /// Fault-free days run first so baselines have history (as a backfill gives a real agent).
    pub warmup_days: u32,
    pub seed: u64,
    /// Seconds between samples.
    pub step_secs: u64,
    /// Random faults per host per 30 days.
    pub faults_per_host_month: f64,
    /// Relative weight of each fault kind in the random mix.
    pub mix: BTreeMap<FaultKind, f64>,
    /// Faults at fixed times, besides the random ones.
    pub faults: Vec<ScheduledFault>,
    /// Run the incident and governance pillars on the alerts (false: detection only).
    pub respond: bool,
    /// Minutes the simulated on-call human takes to answer an approval or an escalation.
    pub human_response_minutes: u32,
    /// Share of actions the lab actuator fails (flaky infrastructure).
    pub actuator_failure_rate: f64,
    /// Periods the kill switch is on; no action may run during them.
    pub kill_switch: Vec<KillSwitchPeriod>,
    /// The governance autonomy level the lab runs at (L4: policy decides alone).
    pub autonomy: ooda_govern::autonomy::Level,
    /// The patch pillar: CVE arrivals and the rollouts that fix them.
    pub patch: PatchScenario,
}

/// `[patch]`: CVE arrivals drawn from real data, rolled out by ooda-patch's engine through a Gate.
/// Every knob has its default in [`PatchScenario::default`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PatchScenario {
    /// Run the patch pillar at all.
    pub enabled: bool,
    /// CVE advisories that reach the fleet per 30 days, over the whole run (warm-up included:
    /// a rollout takes days, and the scored days alone would only show its start).
    pub cves_per_month: f64,
    /// Share of the hosts running an advisory's package that are affected by it.
    pub affected_share: f64,
    /// Share of applied patches that break their host (latency and CPU up until rolled back).
    pub failure_rate: f64,
    /// Share of patch jobs the executor fails before changing anything.
    pub executor_failure_rate: f64,
    /// When the production maintenance window opens (cron, UTC) and for how long.
    pub window_cron: String,
    pub window_minutes: u32,
    /// Share of the fleet that is staging (any-time window, patched first).
    pub staging_share: f64,
    /// How long the staging wave is watched before production.
    pub staging_validation_hours: u32,
    /// How long each production host is watched after its patch.
    pub host_validation_minutes: u32,
    /// Virtual minutes between rollout ticks (the engine is not stepped every sample).
    pub tick_minutes: u32,
    /// Hours after a halted rollout before the on-call human starts a new one for what is left.
    pub retry_hours: u32,
    /// Rollouts per advisory at most (the first and its retries).
    pub max_attempts: u32,
}

impl Default for PatchScenario {
    fn default() -> Self {
        Self {
            enabled: true,
            cves_per_month: 20.0,
            affected_share: 0.5,
            failure_rate: 0.03,
            executor_failure_rate: 0.02,
            window_cron: "0 1 * * *".to_owned(),
            window_minutes: 240,
            staging_share: 0.1,
            staging_validation_hours: 48,
            host_validation_minutes: 30,
            tick_minutes: 10,
            retry_hours: 24,
            max_attempts: 3,
        }
    }
}

impl PatchScenario {
    fn check(&self, errors: &mut Vec<String>) {
        let share = |name: &str, value: f64, errors: &mut Vec<String>| {
            if !(0.0..=1.0).contains(&value) {
                errors.push(format!("patch.{name}: expected 0..=1, found {value}"));
            }
        };
        if !(0.0..=1000.0).contains(&self.cves_per_month) {
            errors.push(format!(
                "patch.cves_per_month: expected 0..=1000, found {}",
                self.cves_per_month
            ));
        }
        share("affected_share", self.affected_share, errors);
        share("failure_rate", self.failure_rate, errors);
        share("executor_failure_rate", self.executor_failure_rate, errors);
        share("staging_share", self.staging_share, errors);
        if let Err(e) = crate::patch::production_window(self) {
            errors.push(format!("patch.window_cron: {e}"));
        }
        if !(1..=1440).contains(&self.tick_minutes) {
            errors.push(format!(
                "patch.tick_minutes: expected 1..=1440, found {}",
                self.tick_minutes
            ));
        }
        if self.max_attempts == 0 {
            errors.push("patch.max_attempts: expected at least 1".to_owned());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchPeriod {
    /// Scored day (0-based) and hour it goes on.
    pub day: u32,
    #[serde(default)]
    pub hour: u32,
    /// How long it stays on.
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    /// Host name (`host-003`).
    pub host: String,
    pub kind: FaultKind,
    /// Scored day (0-based) and hour the fault's impact happens at.
    pub day: u32,
    #[serde(default)]
    pub hour: u32,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            hosts: 20,
            days: 3,
            warmup_days: 14,
            seed: 7,
            step_secs: 60,
            faults_per_host_month: 3.0,
            mix: FaultKind::ALL.iter().map(|k| (*k, 1.0)).collect(),
            faults: Vec::new(),
            respond: true,
            human_response_minutes: 15,
            actuator_failure_rate: 0.05,
            kill_switch: Vec::new(),
            autonomy: ooda_govern::autonomy::Level::Autonomous,
            patch: PatchScenario::default(),
        }
    }
}

/// Every problem in a scenario, each with its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ScenarioError(pub Vec<String>);

impl Scenario {
    pub fn from_toml(text: &str) -> Result<Self, ScenarioError> {
        let de = toml::Deserializer::new(text);
        let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.message().trim().to_owned();
            ScenarioError(vec![if path == "." {
                message
            } else {
                format!("{path}: {message}")
            }])
        })?;
        scenario.check()?;
        Ok(scenario)
    }

    /// Relations serde cannot express.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let mut errors = Vec::new();
        if self.hosts == 0 || self.hosts > 100_000 {
            errors.push(format!("hosts: expected 1..=100000, found {}", self.hosts));
        }
        if self.days == 0 {
            errors.push("days: expected at least 1".to_owned());
        }
        if !(10..=3600).contains(&self.step_secs) {
            errors.push(format!(
                "step_secs: expected 10..=3600, found {}",
                self.step_secs
            ));
        }
        if !(0.0..=100.0).contains(&self.faults_per_host_month) {
            errors.push(format!(
                "faults_per_host_month: expected 0..=100, found {}",
                self.faults_per_host_month
            ));
        }
        for (kind, weight) in &self.mix {
            if !(weight.is_finite() && *weight >= 0.0) {
                errors.push(format!(
                    "mix.{}: expected a weight >= 0, found {weight}",
                    kind.as_str()
                ));
            }
        }
        if self.faults_per_host_month > 0.0 && self.mix.values().all(|w| *w <= 0.0) {
            errors.push("mix: every weight is zero but faults_per_host_month is not".to_owned());
        }
        for (i, fault) in self.faults.iter().enumerate() {
            if crate::fleet::host_index(&fault.host, self.hosts).is_none() {
                errors.push(format!(
                    "faults[{i}].host: no host {:?} in a fleet of {} (host-001 … {})",
                    fault.host,
                    self.hosts,
                    crate::fleet::host_name(self.hosts.saturating_sub(1))
                ));
            }
            if fault.day >= self.days {
                errors.push(format!(
                    "faults[{i}].day: expected a scored day below {}, found {}",
                    self.days, fault.day
                ));
            }
            if fault.hour > 23 {
                errors.push(format!(
                    "faults[{i}].hour: expected 0..=23, found {}",
                    fault.hour
                ));
            }
        }
        if !(1..=1440).contains(&self.human_response_minutes) {
            errors.push(format!(
                "human_response_minutes: expected 1..=1440, found {}",
                self.human_response_minutes
            ));
        }
        if !(0.0..=1.0).contains(&self.actuator_failure_rate) {
            errors.push(format!(
                "actuator_failure_rate: expected 0..=1, found {}",
                self.actuator_failure_rate
            ));
        }
        for (i, period) in self.kill_switch.iter().enumerate() {
            if period.day >= self.days {
                errors.push(format!(
                    "kill_switch[{i}].day: expected a scored day below {}, found {}",
                    self.days, period.day
                ));
            }
            if period.hour > 23 {
                errors.push(format!(
                    "kill_switch[{i}].hour: expected 0..=23, found {}",
                    period.hour
                ));
            }
            if period.minutes == 0 {
                errors.push(format!("kill_switch[{i}].minutes: expected at least 1"));
            }
        }
        self.patch.check(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_scenarios_are_valid() {
        for text in [
            include_str!("../scenarios/small.toml"),
            include_str!("../scenarios/fleet-200.toml"),
        ] {
            Scenario::from_toml(text).unwrap();
        }
    }

    #[test]
    fn errors_name_the_path() {
        let e = Scenario::from_toml("hosts = 3\nbogus = 1").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Scenario::from_toml("hosts = \"many\"").unwrap_err();
        assert!(e.to_string().starts_with("hosts:"), "{e}");
        let e = Scenario::from_toml("[mix]\nmeteor_strike = 1.0").unwrap_err();
        assert!(e.to_string().contains("meteor_strike"), "{e}");
    }

    #[test]
    fn patch_section_is_closed_and_checked() {
        let e = Scenario::from_toml("[patch]\ncves_per_moon = 3").unwrap_err();
        assert!(e.to_string().contains("cves_per_moon"), "{e}");
        let e = Scenario::from_toml("[patch]\nfailure_rate = 2.0\nwindow_cron = \"bogus\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("patch.failure_rate: expected 0..=1"), "{e}");
        assert!(e.contains("patch.window_cron:"), "{e}");
        let s = Scenario::from_toml("[patch]\nenabled = false").unwrap();
        assert!(!s.patch.enabled);
        assert!(
            Scenario::default().patch.enabled,
            "on unless a scenario says otherwise"
        );
    }

    #[test]
    fn impossible_faults_are_named() {
        let e = Scenario::from_toml(
            "hosts = 3\ndays = 2\n[[faults]]\nhost = \"host-009\"\nkind = \"disk_full\"\nday = 5\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("faults[0].host: no host \"host-009\""),
            "{text}"
        );
        assert!(text.contains("faults[0].day"), "{text}");
    }
}
