//! TLS randomness without a thread: an SP 800-90A HMAC_DRBG from `entropy`, seeded inline from `entropy`'s
//! health-tested sources through its conditioner.
//!
//! Why not `entropy::EntropyPool`: building a pool starts its seeding thread (`entropy/src/pool/seeder.rs`),
//! which a PKCS#11 module must not do when the caller says `CKF_LIBRARY_CANT_CREATE_OS_THREADS`, and a thread
//! does not survive fork() while a forked pool would replay its parent's DRBG state. This generator reads the
//! same configured sources on the caller's thread, with the same health tests and min-entropy accounting, and
//! is re-seeded whenever the process id changes, so a forked child never repeats its parent's output.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use entropy::conditioning::Conditioner;
use entropy::drbg::{Drbg, DrbgError, HmacDrbgSha256};
use entropy::pool::{open_source, TestedSource};
use entropy::source::EntropySource;
use entropy::EntropyConfig;
use rustls::crypto::{GetRandomFailed, SecureRandom};
use zeroize::Zeroizing;

/// Entropy input at instantiation: 384 bits (3s/2 for s = 256, SP 800-90C).
const SEED_BYTES: usize = 48;
/// Generate calls between reseeds: TLS handshakes ask a few times each, so this reseeds every few thousand
/// handshakes, well inside SP 800-90A's limit.
const RESEED_INTERVAL: u64 = 1 << 14;
/// Instantiations in this process: part of the nonce, so two instantiations never share one.
static INSTANTIATIONS: AtomicU32 = AtomicU32::new(0);
const PERSONALIZATION: &[u8] = b"qkms-pkcs11 TLS";

/// The generator rustls draws from.
#[derive(Debug)]
pub struct InlineTlsRandom {
    config: EntropyConfig,
    state: Mutex<Option<Seeded>>,
}

#[derive(Debug)]
struct Seeded {
    pid: u32,
    sources: Vec<TestedSource>,
    drbg: HmacDrbgSha256,
}

impl InlineTlsRandom {
    /// Validates the entropy configuration and opens its sources lazily at the first draw.
    pub fn new(config: EntropyConfig) -> Result<Self, entropy::EntropyError> {
        config.validate()?;
        Ok(Self {
            config,
            state: Mutex::new(None),
        })
    }

    fn fill_checked(&self, out: &mut [u8]) -> Result<(), String> {
        let mut guard = self.state.lock().map_err(|_| "lock poisoned".to_owned())?;
        let pid = std::process::id();
        if guard.as_ref().is_none_or(|s| s.pid != pid) {
            let sources = match guard.take() {
                Some(previous) if previous.pid == pid => previous.sources,
                _ => open_sources(&self.config)?,
            };
            *guard = Some(instantiate(pid, sources)?);
        }
        let state = guard.as_mut().ok_or("generator not seeded")?;
        for chunk in out.chunks_mut(entropy::drbg::MAX_BYTES_PER_REQUEST) {
            match state.drbg.generate(chunk, &[]) {
                Ok(()) => {}
                Err(DrbgError::ReseedRequired) => {
                    let seed = gather(&mut state.sources, 32)?;
                    state.drbg.reseed(&seed, &[]).map_err(|e| e.to_string())?;
                    state.drbg.generate(chunk, &[]).map_err(|e| e.to_string())?;
                }
                Err(other) => return Err(other.to_string()),
            }
        }
        Ok(())
    }
}

/// Every configured source (the OS fallback when none is), behind its health tests.
fn open_sources(config: &EntropyConfig) -> Result<Vec<TestedSource>, String> {
    config
        .effective_sources()
        .iter()
        .map(|source| open_source(source, &config.health).map_err(|e| e.to_string()))
        .collect()
}

fn instantiate(pid: u32, mut sources: Vec<TestedSource>) -> Result<Seeded, String> {
    let seed = gather(&mut sources, SEED_BYTES)?;
    let mut nonce = [0u8; 16];
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nonce[..8].copy_from_slice(&nanos.to_be_bytes());
    nonce[8..12].copy_from_slice(&pid.to_be_bytes());
    nonce[12..].copy_from_slice(&INSTANTIATIONS.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    let mut drbg =
        HmacDrbgSha256::instantiate(&seed, &nonce, PERSONALIZATION).map_err(|e| e.to_string())?;
    drbg.set_reseed_interval(RESEED_INTERVAL)
        .map_err(|e| e.to_string())?;
    Ok(Seeded { pid, sources, drbg })
}

/// Reads credited samples until the conditioner can extract `bytes` of full entropy; uncredited sources are
/// mixed in without credit. Fails closed when a source fails its health tests or cannot deliver.
fn gather(sources: &mut [TestedSource], bytes: usize) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut conditioner = Conditioner::new();
    let mut buffer = Zeroizing::new(vec![0u8; 256]);
    for source in sources.iter_mut().filter(|s| !s.info().credited) {
        if let Ok(n) = source.read_samples(&mut buffer[..64]) {
            conditioner.absorb_uncredited(&buffer[..n]);
        }
    }
    let mut rounds = 0u32;
    while !conditioner.can_extract(bytes) {
        rounds += 1;
        if rounds > 4096 {
            return Err("entropy sources did not deliver enough credited samples".into());
        }
        let mut progressed = false;
        for source in sources.iter_mut().filter(|s| s.info().credited) {
            let h = source.info().min_entropy_per_sample;
            let n = source
                .read_samples(&mut buffer)
                .map_err(|e| format!("entropy source {}: {e}", source.info().id))?;
            conditioner
                .absorb_credited(&buffer[..n], h)
                .map_err(|e| e.to_string())?;
            progressed = true;
        }
        if !progressed {
            return Err("no credited entropy source is configured".into());
        }
    }
    let mut seed = Zeroizing::new(vec![0u8; bytes]);
    conditioner.extract(&mut seed).map_err(|e| e.to_string())?;
    Ok(seed)
}

impl SecureRandom for InlineTlsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.fill_checked(buf).map_err(|reason| {
            eprintln!("qkms-pkcs11: TLS randomness refused: {reason}");
            buf.fill(0);
            GetRandomFailed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_distinct_and_fill_large_buffers() {
        let random = InlineTlsRandom::new(EntropyConfig::default()).unwrap();
        let mut a = vec![0u8; 100_000];
        let mut b = vec![0u8; 32];
        random.fill(&mut a).unwrap();
        random.fill(&mut b).unwrap();
        assert_ne!(&a[..32], &b[..]);
        assert!(a.iter().any(|&x| x != 0));
    }
}
