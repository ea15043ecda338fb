//! One slot's token: its identity, its way to the server, its login state and its random buffer.

use std::sync::{Arc, Mutex, MutexGuard};

use cryptoki_sys::*;
use kmip::payloads::{ResponsePayload, RngRetrieveRequest, RngSeedRequest, SecretBytes};
use zeroize::Zeroizing;

use crate::client::ServerLink;
use crate::config::{Credentials, Identity, ModuleConfig, TokenConfig};
use crate::error::{fail, Pkcs11Error, Result};

/// Bytes fetched per RNG Retrieve when refilling the buffer: C_GenerateRandom of small sizes is then served
/// locally, one round trip per 64 KiB.
pub const RANDOM_REFILL: usize = 64 * 1024;
/// Requests at least this large bypass the buffer.
const RANDOM_DIRECT: usize = 16 * 1024;
/// Largest single RNG Retrieve (the server's default limit is 16 MiB).
const RANDOM_MAX_REQUEST: usize = 1024 * 1024;

#[derive(Debug)]
pub struct Token {
    pub label: String,
    credentials: Credentials,
    config: Arc<ModuleConfig>,
    state: Mutex<TokenState>,
    random: Mutex<RandomBuffer>,
}

#[derive(Debug, Default)]
struct TokenState {
    logged_in: bool,
    link: Option<Arc<ServerLink>>,
}

#[derive(Default)]
struct RandomBuffer {
    bytes: Zeroizing<Vec<u8>>,
    used: usize,
}

impl std::fmt::Debug for RandomBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RandomBuffer({} left)", self.bytes.len() - self.used)
    }
}

impl Token {
    pub fn new(config: Arc<ModuleConfig>, token: &TokenConfig) -> Self {
        Self {
            label: token.label.clone(),
            credentials: token.credentials.clone(),
            config,
            state: Mutex::new(TokenState::default()),
            random: Mutex::new(RandomBuffer::default()),
        }
    }

    /// Whether the user PIN guards this token (a PKCS#12 identity).
    pub fn has_pin(&self) -> bool {
        matches!(self.credentials, Credentials::Pkcs12 { .. })
    }

    pub fn logged_in(&self) -> bool {
        self.state().map(|s| s.logged_in).unwrap_or(false)
    }

    /// The connection pool; a PEM identity connects without login, a PKCS#12 identity only after C_Login.
    pub fn link(&self) -> Result<Arc<ServerLink>> {
        let mut state = self.state()?;
        if let Some(link) = &state.link {
            return Ok(link.clone());
        }
        match &self.credentials {
            Credentials::Pem(identity) => {
                let link = Arc::new(ServerLink::new(&self.config, identity)?);
                state.link = Some(link.clone());
                Ok(link)
            }
            Credentials::Pkcs12 { .. } => fail(
                CKR_USER_NOT_LOGGED_IN,
                "the token's identity is locked until C_Login unlocks it with the PIN",
            ),
        }
    }

    pub fn login(&self, pin: &[u8]) -> Result<()> {
        let bundle = match &self.credentials {
            Credentials::Pem(_) => {
                return fail(
                    CKR_USER_PIN_NOT_INITIALIZED,
                    "this token's identity has no PIN",
                )
            }
            Credentials::Pkcs12 { bundle, .. } => bundle,
        };
        let mut state = self.state()?;
        if state.logged_in {
            return fail(CKR_USER_ALREADY_LOGGED_IN, "the user is already logged in");
        }
        let pin = Zeroizing::new(
            std::str::from_utf8(pin)
                .map_err(|_| Pkcs11Error::rv(CKR_PIN_INCORRECT, "the PIN is not UTF-8"))?
                .to_owned(),
        );
        let identity = match Identity::from_pkcs12(bundle, &pin)? {
            Some(identity) => identity,
            None => {
                return fail(
                    CKR_PIN_INCORRECT,
                    "the PIN does not open the PKCS#12 bundle",
                )
            }
        };
        state.link = Some(Arc::new(ServerLink::new(&self.config, &identity)?));
        state.logged_in = true;
        Ok(())
    }

    pub fn logout(&self) -> Result<()> {
        let mut state = self.state()?;
        if !state.logged_in {
            return fail(CKR_USER_NOT_LOGGED_IN, "no user is logged in");
        }
        state.logged_in = false;
        if self.has_pin() {
            state.link = None;
        }
        drop(state);
        if let Ok(mut random) = self.random.lock() {
            *random = RandomBuffer::default();
        }
        Ok(())
    }

    /// After fork(): the parent's connections and buffered random bytes must not be used by the child.
    pub fn forget_process_state(&self) {
        if let Ok(state) = self.state.lock() {
            if let Some(link) = &state.link {
                link.close_idle();
            }
        }
        if let Ok(mut random) = self.random.lock() {
            *random = RandomBuffer::default();
        }
    }

    /// Ends the login when the last session closes (PKCS#11 5.6: login state belongs to the open sessions).
    pub fn end_login(&self) {
        if self.logged_in() {
            let _ = self.logout();
        }
    }

    /// Fills `out` from the server's generator: small requests from the local buffer, large ones directly.
    pub fn generate_random(&self, out: &mut [u8]) -> Result<()> {
        if out.len() >= RANDOM_DIRECT {
            for chunk in out.chunks_mut(RANDOM_MAX_REQUEST) {
                let data = self.retrieve(chunk.len())?;
                chunk.copy_from_slice(data.expose());
            }
            return Ok(());
        }
        let mut buffer = self
            .random
            .lock()
            .map_err(|_| Pkcs11Error::rv(CKR_GENERAL_ERROR, "random buffer lock poisoned"))?;
        let mut filled = 0;
        while filled < out.len() {
            if buffer.used == buffer.bytes.len() {
                let data = self.retrieve(RANDOM_REFILL)?;
                buffer.bytes = Zeroizing::new(data.expose().to_vec());
                buffer.used = 0;
            }
            let take = (out.len() - filled).min(buffer.bytes.len() - buffer.used);
            let start = buffer.used;
            out[filled..filled + take].copy_from_slice(&buffer.bytes[start..start + take]);
            // Served bytes are erased from the buffer so that they exist in one place only.
            buffer.bytes[start..start + take].fill(0);
            buffer.used += take;
            filled += take;
        }
        Ok(())
    }

    fn retrieve(&self, length: usize) -> Result<SecretBytes> {
        let request = RngRetrieveRequest {
            data_length: i32::try_from(length)
                .map_err(|_| Pkcs11Error::rv(CKR_ARGUMENTS_BAD, "random request too large"))?,
        };
        match self.link()?.call(request)? {
            ResponsePayload::RngRetrieve(response) if response.data.len() == length => {
                Ok(response.data)
            }
            ResponsePayload::RngRetrieve(response) => Err(Pkcs11Error::Unexpected(format!(
                "RNG Retrieve returned {} bytes, {length} asked",
                response.data.len()
            ))),
            other => Err(Pkcs11Error::Unexpected(format!("{:?}", other.operation()))),
        }
    }

    /// Mixes `seed` into the server's generator (KMIP RNG Seed; the server credits it no entropy).
    pub fn seed_random(&self, seed: &[u8]) -> Result<()> {
        let request = RngSeedRequest {
            data: SecretBytes::new(seed.to_vec()),
        };
        match self.link()?.call(request)? {
            ResponsePayload::RngSeed(_) => Ok(()),
            other => Err(Pkcs11Error::Unexpected(format!("{:?}", other.operation()))),
        }
    }

    fn state(&self) -> Result<MutexGuard<'_, TokenState>> {
        self.state
            .lock()
            .map_err(|_| Pkcs11Error::rv(CKR_GENERAL_ERROR, "token lock poisoned"))
    }
}
