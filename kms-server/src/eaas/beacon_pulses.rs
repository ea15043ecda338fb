//! The node's randomness beacon, as the service publishes it: the latest or a given pulse, the next pulse emitted
//! (its local random value committed to by the previous pulse, a fresh commitment to the following one, signed,
//! chained and recorded in the state file before its own file is written), and the task that emits one per period.
//! The pulse format and its files are in [`super::beacon`].

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::watch;
use zeroize::Zeroizing;

use super::{BeaconState, EaasService, Refusal, PULSE_RANDOM_BYTES};

impl EaasService {
    /// The latest pulse, or the one of `index`.
    pub fn pulse(&self, index: Option<u64>) -> std::io::Result<Option<eaas::Pulse>> {
        match index {
            None => Ok(self.lock_beacon().last.clone()),
            Some(index) => self.pulse_files.read(index),
        }
    }

    /// Publishes the next pulse: local random value (committed to by the previous pulse), a fresh commitment
    /// to the next one, signed and chained; recorded in the state file before its own file is written.
    pub fn emit_pulse(&self) -> Result<eaas::Pulse, Refusal> {
        let mut next_random = Zeroizing::new(vec![0u8; PULSE_RANDOM_BYTES]);
        let next_quantum = self
            .pool
            .fill(&mut next_random)
            .map_err(|e| Refusal::PoolFailed(e.to_string()))?
            .quantum;
        let chain = self.lock_chain();
        let (pulse, previous_state) = {
            let mut beacon = self.lock_beacon();
            let mut local = std::mem::take(&mut beacon.pending);
            let mut quantum = beacon.pending_quantum;
            if local.len() != PULSE_RANDOM_BYTES {
                // The first pulse (nothing committed yet).
                local = Zeroizing::new(vec![0u8; PULSE_RANDOM_BYTES]);
                let provenance = self
                    .pool
                    .fill(&mut local)
                    .map_err(|e| Refusal::PoolFailed(e.to_string()))?;
                quantum = provenance.quantum;
            }
            let (index, previous) = match &beacon.last {
                Some(last) => (last.index + 1, last.output.clone()),
                None => (0, eaas::GENESIS_PULSE.to_owned()),
            };
            let mut pulse = eaas::Pulse {
                version: eaas::ENVELOPE_VERSION,
                server: self.node.clone(),
                index,
                time: OffsetDateTime::now_utc()
                    .format(&Rfc3339)
                    .unwrap_or_default(),
                period_secs: self.config.beacon_interval_secs,
                local_random: hex::encode(&local[..]),
                precommitment: eaas::Pulse::precommitment_of(&next_random),
                previous,
                quantum,
                algorithm: eaas::ALGORITHM_ED25519.into(),
                certificate: self.certificate_base64.clone(),
                signature: String::new(),
                output: String::new(),
            };
            let signed = pulse.signed_bytes();
            let signature = self.key.sign(&signed);
            pulse.output = eaas::Pulse::output_for(&signed, &signature);
            pulse.signature = base64::engine::general_purpose::STANDARD.encode(signature);
            let previous_state = BeaconState {
                last: beacon.last.replace(pulse.clone()),
                pending: local,
                pending_quantum: beacon.pending_quantum,
            };
            beacon.pending = next_random;
            beacon.pending_quantum = next_quantum;
            (pulse, previous_state)
        };
        if let Err(error) = self.persist(chain.reserved_until, &chain.previous) {
            let mut beacon = self.lock_beacon();
            *beacon = previous_state;
            return Err(Refusal::State(error.to_string()));
        }
        drop(chain);
        self.pulse_files
            .write(&pulse)
            .map_err(|e| Refusal::State(format!("{}: {e}", self.config.beacon_dir.display())))?;
        Ok(pulse)
    }

    /// Emits a pulse every `beacon_interval_secs` until shutdown (the first one at start).
    pub async fn run_beacon(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let period = Duration::from_secs(self.config.beacon_interval_secs);
        if period.is_zero() {
            return;
        }
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.changed() => break,
            }
            let service = Arc::clone(&self);
            match tokio::task::spawn_blocking(move || service.emit_pulse()).await {
                Ok(Ok(pulse)) => tracing::debug!(index = pulse.index, "beacon pulse published"),
                Ok(Err(refusal)) => tracing::error!(?refusal, "beacon pulse not published"),
                Err(error) => tracing::error!(%error, "beacon pulse task failed"),
            }
        }
    }
}
