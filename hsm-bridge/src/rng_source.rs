//! The HSM's own generator (C_GenerateRandom) as one more entropy source of the pool (`[hsm.rng]`).
//!
//! Only the `entropy` crate runs randomness sources: it health-tests, conditions and credits them. This module
//! is the *driver* of one: it implements `entropy`'s [`EntropySource`] trait and the server registers it with
//! [`entropy::EntropyPool::with_extra_sources`]. It lives here, not in `entropy`, because reaching an HSM is a
//! PKCS#11 client's job (cryptoki, sessions, PINs, reconnection) and `entropy` must not depend on that stack.
//! The source is uncredited by default (mixed in as additional input): an HSM's DRBG output is not a noise
//! source an operator can assess, so crediting it takes an explicit `credited = true` and an assessed H.

use std::sync::Arc;

use cryptoki::error::Error as CkError;
use entropy::source::{EntropySource, SourceError, SourceInfo, SourceKind};

use crate::error::HsmError;
use crate::Hsm;

/// `[hsm.rng]`
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RngSourceSettings {
    /// Whether the HSM of `[root_key]` feeds the pool. Default false.
    pub enabled: bool,
    /// Whether its bytes count towards seeds. Default false (additional input only).
    pub credited: bool,
    /// Min-entropy per byte assumed for the health tests' cutoffs (and for credit when `credited`). Default 1.0:
    /// the tests then only catch a stuck or repeating generator, and nothing is credited on a vendor's word.
    pub min_entropy_per_sample: f64,
}

impl Default for RngSourceSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            credited: false,
            min_entropy_per_sample: 1.0,
        }
    }
}

/// Largest C_GenerateRandom call made at once.
const MAX_CALL: usize = 4096;

/// An HSM's C_GenerateRandom, labelled with the token's manufacturer, model and serial number.
#[derive(Debug)]
pub struct HsmRngSource {
    hsm: Arc<Hsm>,
    info: SourceInfo,
}

impl HsmRngSource {
    /// The source for `hsm`: asks the token who it is (the label names the model and serial), so a token that
    /// cannot be reached at start-up is an error here.
    pub fn new(hsm: Arc<Hsm>, settings: &RngSourceSettings) -> Result<Self, HsmError> {
        let who = hsm.identity()?;
        let info = SourceInfo {
            id: format!(
                "pkcs11:{} {} serial {} (token {})",
                who.manufacturer, who.model, who.serial, who.label
            ),
            kind: SourceKind::Pkcs11,
            quantum: false,
            sample_bits: 8,
            min_entropy_per_sample: settings.min_entropy_per_sample,
            credited: settings.credited,
        };
        Ok(Self { hsm, info })
    }
}

impl EntropySource for HsmRngSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        let n = out.len().min(MAX_CALL);
        let bytes = self
            .hsm
            .with_connection("C_GenerateRandom", |c| {
                c.session()
                    .generate_random_vec(n as u32)
                    .map(zeroize::Zeroizing::new)
                    .map_err(|e: CkError| self.hsm.call_error("C_GenerateRandom", e))
            })
            .map_err(|error| SourceError::Failed {
                id: self.info.id.clone(),
                reason: error.to_string(),
            })?;
        if bytes.len() != n {
            return Err(SourceError::Failed {
                id: self.info.id.clone(),
                reason: format!("C_GenerateRandom returned {} bytes for {n}", bytes.len()),
            });
        }
        out[..n].copy_from_slice(&bytes);
        Ok(n)
    }
}
