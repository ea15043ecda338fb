//! One slot's token: its identity, its way to the server, its login state and its random buffer.

use std::sync::{Arc, Mutex, MutexGuard};

use cryptoki_sys::*;
use kmip::payloads::{
    DiscoverVersionsRequest, ResponsePayload, RngRetrieveRequest, RngSeedRequest, SecretBytes,
};
use zeroize::Zeroizing;

use crate::client::{Presenting, ServerLink};
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
    /// The server checks the user PIN (`user_pin = "server"`); otherwise a PKCS#12 bundle's password is the PIN.
    server_pin: bool,
    config: Arc<ModuleConfig>,
    state: Mutex<TokenState>,
    random: Mutex<RandomBuffer>,
    /// This process's session-object lease id (drawn at the first session object; a forked child draws its own).
    lease: Mutex<Option<String>>,
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
            server_pin: token.server_pin,
            config,
            state: Mutex::new(TokenState::default()),
            random: Mutex::new(RandomBuffer::default()),
            lease: Mutex::new(None),
        }
    }

    /// Whether the user PIN guards this token (checked by the server, or a PKCS#12 identity's password).
    pub fn has_pin(&self) -> bool {
        self.server_pin || matches!(self.credentials, Credentials::Pkcs12 { .. })
    }

    /// Whether private objects are out of reach now (a PIN-guarded token before C_Login).
    pub fn private_locked(&self) -> bool {
        self.has_pin() && !self.logged_in()
    }

    /// CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED, from the server's retry counter (one status round trip; no
    /// flags when the server cannot be asked or the token's PIN is not the server's).
    pub fn pin_flags(&self) -> CK_FLAGS {
        if !self.server_pin || self.logged_in() {
            return 0;
        }
        let Ok(link) = self.link() else {
            return 0;
        };
        match link.call_presenting(DiscoverVersionsRequest::default(), Presenting::StatusProbe) {
            Err(Pkcs11Error::Server { message, .. }) => match tries_left(&message) {
                Some(status) => status.flags(),
                None => 0,
            },
            _ => 0,
        }
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
            // A server-checked PIN: the machine identity connects at once; the PIN rides on each request.
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
        if self.server_pin {
            return self.login_at_server(pin);
        }
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

    /// C_Login of a `user_pin = "server"` token: the server checks the PIN (and counts a wrong one); once it
    /// accepts it, every request carries it.
    fn login_at_server(&self, pin: &[u8]) -> Result<()> {
        if self.logged_in() {
            return fail(CKR_USER_ALREADY_LOGGED_IN, "the user is already logged in");
        }
        let pin = Zeroizing::new(
            std::str::from_utf8(pin)
                .map_err(|_| Pkcs11Error::rv(CKR_PIN_INCORRECT, "the PIN is not UTF-8"))?
                .to_owned(),
        );
        let link = self.link()?;
        match link.call_presenting(DiscoverVersionsRequest::default(), Presenting::Pin(&pin))? {
            ResponsePayload::DiscoverVersions(_) => {}
            other => return Err(Pkcs11Error::Unexpected(format!("{:?}", other.operation()))),
        }
        let mut state = self.state()?;
        if state.logged_in {
            return fail(CKR_USER_ALREADY_LOGGED_IN, "the user is already logged in");
        }
        link.set_pin(Some(pin));
        state.logged_in = true;
        Ok(())
    }

    pub fn logout(&self) -> Result<()> {
        let mut state = self.state()?;
        if !state.logged_in {
            return fail(CKR_USER_NOT_LOGGED_IN, "no user is logged in");
        }
        state.logged_in = false;
        if self.server_pin {
            if let Some(link) = &state.link {
                link.set_pin(None);
            }
        } else if self.has_pin() {
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
        if let Ok(mut lease) = self.lease.lock() {
            *lease = None;
        }
    }

    /// This process's session-object lease: 128 random bits from the server, hex.
    pub fn session_lease(&self) -> Result<String> {
        let mut lease = self
            .lease
            .lock()
            .map_err(|_| Pkcs11Error::rv(CKR_GENERAL_ERROR, "lease lock poisoned"))?;
        if let Some(id) = lease.as_ref() {
            return Ok(id.clone());
        }
        let mut bytes = [0u8; 16];
        self.generate_random(&mut bytes)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        *lease = Some(id.clone());
        Ok(id)
    }

    /// Sends a request that creates objects: a session object's over the lease connection.
    pub fn create_call(
        &self,
        payload: impl Into<kmip::payloads::RequestPayload>,
        session_object: bool,
    ) -> Result<ResponsePayload> {
        let link = self.link()?;
        if session_object {
            link.call_on_lease(payload)
        } else {
            link.call(payload)
        }
    }

    /// C_Finalize: closes the lease connection, so the server destroys whatever session objects remain.
    pub fn end_leases(&self) {
        if let Ok(state) = self.state.lock() {
            if let Some(link) = &state.link {
                link.close_lease();
            }
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

/// The server's PIN retry counter, as its refusals state it: "(tries left: N of M)".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TriesLeft {
    pub left: u32,
    pub max: u32,
}

impl TriesLeft {
    pub fn flags(self) -> CK_FLAGS {
        match self.left {
            0 => CKF_USER_PIN_LOCKED,
            1 => CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW,
            n if n < self.max => CKF_USER_PIN_COUNT_LOW,
            _ => 0,
        }
    }
}

/// Reads "(tries left: N of M)" from a server message.
pub fn tries_left(message: &str) -> Option<TriesLeft> {
    let rest = &message[message.find("tries left: ")? + "tries left: ".len()..];
    let (left, rest) = rest.split_once(" of ")?;
    let max: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(TriesLeft {
        left: left.parse().ok()?,
        max: max.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_retry_counter_becomes_the_token_flags() {
        let read = |m: &str| tries_left(m).map(TriesLeft::flags);
        assert_eq!(read("user PIN status (tries left: 5 of 5)"), Some(0));
        assert_eq!(
            read("user PIN incorrect (tries left: 3 of 5)"),
            Some(CKF_USER_PIN_COUNT_LOW)
        );
        assert_eq!(
            read("user PIN incorrect (tries left: 1 of 5)"),
            Some(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY)
        );
        assert_eq!(
            read("user PIN locked (tries left: 0 of 5): an operator must reset it"),
            Some(CKF_USER_PIN_LOCKED)
        );
        assert_eq!(read("something else"), None);
    }
}
