//! The one monitor stage: each round, every host's row through its monitor, the anomalies they
//! raise fused (with dedup) into alerts, and the fusion tick's resolutions, as one list of
//! events. `ooda up`, the lab, backtest and `ooda detect` all step through here, so none of them
//! can drop the tick's events or swallow a fusion error. Time comes with the rows; no I/O.

use std::sync::Arc;

use ooda_core::Anomaly;

use crate::{Dedup, Fusion, FusionEvent, HostMonitor, MonitorConfig, MonitorError, RowVerdict};

/// Fusion and its dedup port, fed one round at a time.
pub struct Stage {
    fusion: Fusion,
    dedup: Arc<dyn Dedup>,
    /// Anomalies of the round being built.
    pending: Vec<Anomaly>,
    /// Anomalies handed to fusion so far (noise reduction: raw anomalies → alerts).
    raised: u64,
}

impl Stage {
    pub fn new(config: &MonitorConfig, dedup: Arc<dyn Dedup>) -> Self {
        Self {
            fusion: Fusion::new(config),
            dedup,
            pending: Vec::new(),
            raised: 0,
        }
    }

    /// Scores one host's row at `time_ms` and keeps its anomalies for this round.
    pub fn observe(
        &mut self,
        monitor: &mut HostMonitor,
        time_ms: i64,
        row: &[Option<f64>],
    ) -> RowVerdict {
        let verdict = monitor.observe_row(time_ms, row);
        if !verdict.members.is_empty() {
            self.pending.extend(monitor.anomalies(time_ms, &verdict));
        }
        verdict
    }

    /// Adds anomalies found outside [`Stage::observe`] (hosts scored in parallel) to this round.
    pub fn add(&mut self, anomalies: &mut Vec<Anomaly>) {
        self.pending.append(anomalies);
    }

    /// Anomalies the detectors raised and fusion received, over every closed round.
    pub fn anomalies_raised(&self) -> u64 {
        self.raised
    }

    /// Closes the round at `time_ms`: fuses its anomalies, then ticks (alerts quiet for the fusion
    /// window resolve). A dedup failure fails the round before the tick; the next round's tick
    /// resolves whatever this one would have, since resolution depends only on time.
    pub fn close(&mut self, time_ms: i64) -> Result<Vec<FusionEvent>, MonitorError> {
        let anomalies = std::mem::take(&mut self.pending);
        self.raised += anomalies.len() as u64;
        let mut events = self
            .fusion
            .ingest(time_ms, anomalies, self.dedup.as_ref())?;
        events.extend(self.fusion.tick(time_ms));
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryDedup;

    /// A dedup store that is down.
    struct Down;

    impl Dedup for Down {
        fn claim(&self, _: &str, _: std::time::Duration, _: i64) -> Result<bool, MonitorError> {
            Err(MonitorError::Dedup("connection refused".into()))
        }
        fn release(&self, _: &str) -> Result<(), MonitorError> {
            Err(MonitorError::Dedup("connection refused".into()))
        }
    }

    fn spike_round(
        stage: &mut Stage,
        monitor: &mut HostMonitor,
        t: i64,
        value: f64,
    ) -> Vec<FusionEvent> {
        stage.observe(monitor, t, &[Some(value)]);
        stage.close(t).expect("memory dedup never fails")
    }

    /// Two days of a steady series, then a spike: the round opens an alert, and once the series
    /// is quiet for longer than the fusion window a later round resolves it (the tick's events
    /// come back with the round's, never dropped).
    #[test]
    fn a_round_returns_what_fusion_opened_and_what_the_tick_resolved() {
        let config = MonitorConfig::default();
        let mut monitor = HostMonitor::new("web-1", vec!["cpu_busy_percent".into()], &config);
        let mut stage = Stage::new(&config, Arc::new(MemoryDedup::new()));
        let step = 60_000;
        let mut t = 0;
        while t < 2 * 86_400_000 {
            let wobble = (t / step % 7) as f64 * 0.3;
            assert!(spike_round(&mut stage, &mut monitor, t, 20.0 + wobble).is_empty());
            t += step;
        }
        let mut opened = false;
        for _ in 0..10 {
            opened |= spike_round(&mut stage, &mut monitor, t, 99.0)
                .iter()
                .any(|e| matches!(e, FusionEvent::Opened(_)));
            t += step;
        }
        assert!(
            opened,
            "ten minutes at 99 % after two days near 20 % opened no alert"
        );
        let mut resolved = false;
        for _ in 0..120 {
            resolved |= spike_round(&mut stage, &mut monitor, t, 20.0)
                .iter()
                .any(|e| matches!(e, FusionEvent::Resolved(_)));
            t += step;
        }
        assert!(resolved, "two quiet hours did not resolve the alert");
    }

    #[test]
    fn a_dedup_failure_fails_the_round_instead_of_vanishing() {
        let config = MonitorConfig::default();
        let mut monitor = HostMonitor::new("web-1", vec!["cpu_busy_percent".into()], &config);
        let mut stage = Stage::new(&config, Arc::new(Down));
        let step = 60_000;
        let mut t = 0;
        let mut failed = None;
        while t < 3 * 86_400_000 && failed.is_none() {
            let value = if t < 2 * 86_400_000 { 20.0 } else { 99.0 };
            stage.observe(&mut monitor, t, &[Some(value)]);
            failed = stage.close(t).err();
            t += step;
        }
        let error = failed.expect("the spike reached fusion and its dedup claim failed");
        assert!(error.to_string().contains("connection refused"), "{error}");
    }
}
