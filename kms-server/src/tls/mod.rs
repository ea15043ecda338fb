//! What the server's TLS endpoints share beyond the provider (`entropy::tls`): the handshake signer that keeps
//! ECDSA nonces hedged with pool bytes ([`signing`]) and the handshake counters behind
//! `qkms_tls_handshakes_total` ([`handshakes`]).

pub mod handshakes;
pub mod signing;

pub use handshakes::{HandshakeCounters, TlsListener};
pub use signing::server_signing_key;
