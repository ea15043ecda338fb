//! Where a draw's entropy came from: attached to every key (as KMIP `x-` attributes) and every API response.

use crate::drbg::DrbgMechanism;
use crate::health::HealthState;
use crate::source::SourceKind;

/// The label every status and provenance record uses for the non-quantum OS fallback.
pub const OS_FALLBACK_LABEL: &str = "OS getrandom (not quantum)";

/// One source's part in a seed.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceUse {
    pub id: String,
    pub kind: SourceKind,
    pub quantum: bool,
    /// Whether its samples were credited (counted towards the seed) or mixed in without credit.
    pub credited: bool,
    /// Its health-test state when the seed was taken (`None` for a source read without health tests, such as
    /// additional input).
    pub health: Option<HealthState>,
    /// Raw samples (or bytes, for uncredited input) taken from it for this seed.
    pub samples: u64,
    /// Min-entropy credited to it, in whole bits (0 when uncredited).
    pub credited_bits: u64,
}

/// The record of one seed (instantiation or reseed): which sources fed it and when.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeedRecord {
    /// Pool-wide sequence number of this seed (1 for the first seed the pool took).
    pub epoch: u64,
    pub sources: Vec<SourceUse>,
    /// Total credited min-entropy, in bits; at least the seed length + 64.
    pub credited_bits: u64,
    /// Entropy in the seed, in bits (384 for an instantiation, 256 for a reseed, SP 800-90C).
    pub seed_bits: u64,
    /// Whether uncredited additional input (`add_input`, KMIP RNG Seed, uncredited sources) was mixed in.
    pub additional_input: bool,
    /// The conditioning function.
    pub conditioner: String,
    /// When the seed was taken, milliseconds since the Unix epoch.
    pub seeded_at_unix_ms: u64,
}

impl SeedRecord {
    /// Whether a credited quantum source contributed credited min-entropy to this seed and was passing its
    /// health tests when the seed was taken. A quantum source that failed during the seed does not count.
    pub fn quantum(&self) -> bool {
        self.sources.iter().any(|s| {
            s.credited && s.quantum && s.credited_bits > 0 && s.health == Some(HealthState::Healthy)
        })
    }

    /// Whether source `id` fed this seed (credited bits, or uncredited bytes).
    pub fn fed_by(&self, id: &str) -> bool {
        self.sources
            .iter()
            .any(|s| s.id == id && (s.credited_bits > 0 || (!s.credited && s.samples > 0)))
    }
}

/// Provenance of one draw: the seed behind it and the DRBG that produced it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// Sources of the seed the producing DRBG state descends from (its latest (re)seed).
    pub sources: Vec<SourceUse>,
    /// True when a credited quantum source contributed to that seed while passing its health tests.
    pub quantum: bool,
    /// Epoch of that seed (see [`SeedRecord::epoch`]).
    pub seed_epoch: u64,
    pub seeded_at_unix_ms: u64,
    pub conditioner: String,
    pub drbg_mechanism: DrbgMechanism,
    /// The DRBG instance (shard index in the pool).
    pub drbg_instance: u32,
    /// The instance's SP 800-90A reseed counter after the draw's last generate call.
    pub reseed_counter: u64,
    /// Whether the draw asked for prediction resistance (a fresh reseed immediately before generating).
    pub prediction_resistance: bool,
    /// When the draw was served, milliseconds since the Unix epoch.
    pub generated_at_unix_ms: u64,
}

impl Provenance {
    /// A one-line human summary, e.g. `quantum: quantis0 (char-device, Healthy)` or the OS fallback label.
    pub fn summary(&self) -> String {
        let credited: Vec<&SourceUse> = self
            .sources
            .iter()
            .filter(|s| s.credited && s.credited_bits > 0)
            .collect();
        if credited.iter().all(|s| s.kind == SourceKind::Os) {
            return OS_FALLBACK_LABEL.to_owned();
        }
        let names: Vec<String> = credited
            .iter()
            .map(|s| match s.health {
                Some(h) => format!("{} ({}, {:?})", s.id, kind_name(s.kind), h),
                None => format!("{} ({})", s.id, kind_name(s.kind)),
            })
            .collect();
        let label = if self.quantum {
            "quantum"
        } else {
            "not quantum"
        };
        format!("{label}: {}", names.join(", "))
    }

    /// The record as KMIP custom attributes (name, text value), `x-qkms-entropy-*`.
    pub fn kmip_attributes(&self) -> Vec<(String, String)> {
        let sources = self
            .sources
            .iter()
            .map(|s| {
                format!(
                    "{}:{}:{}:{}:{}",
                    s.id,
                    kind_name(s.kind),
                    if s.quantum { "quantum" } else { "classical" },
                    if s.credited { "credited" } else { "uncredited" },
                    s.health.map_or("untested".to_owned(), |h| format!("{h:?}")),
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        vec![
            ("x-qkms-entropy-summary".into(), self.summary()),
            ("x-qkms-entropy-quantum".into(), self.quantum.to_string()),
            ("x-qkms-entropy-sources".into(), sources),
            (
                "x-qkms-entropy-seed-epoch".into(),
                self.seed_epoch.to_string(),
            ),
            (
                "x-qkms-entropy-conditioner".into(),
                self.conditioner.clone(),
            ),
            (
                "x-qkms-entropy-drbg".into(),
                format!("{:?}#{}", self.drbg_mechanism, self.drbg_instance),
            ),
            (
                "x-qkms-entropy-reseed-counter".into(),
                self.reseed_counter.to_string(),
            ),
            (
                "x-qkms-entropy-time-ms".into(),
                self.generated_at_unix_ms.to_string(),
            ),
        ]
    }
}

/// The kind's configuration name (`char-device`, `os`, ...), as serde spells it.
pub(crate) fn kind_name(kind: SourceKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{kind:?}"),
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub(crate) fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
