//! PyKMIP (PyPI `pykmip` 0.11.0) driving qkms's cryptographic services over mutual TLS, at KMIP 1.2 and 2.0:
//! Create Key Pair (RSA-2048, EC P-256), Register of an X.509 certificate, Sign / Signature Verify (PKCS#1 v1.5,
//! PSS, ECDSA), Encrypt / Decrypt (AES-CBC, AES-GCM, RSA-OAEP) and MAC (HMAC-SHA256), each result also checked
//! with Python `cryptography`. The checks are in `tests/pykmip/crypto.py`.

mod pykmip_support;
mod support;

#[test]
fn pykmip_signs_encrypts_and_macs_at_kmip_1_2_and_2_0() {
    pykmip_support::require_pykmip();
    let server = support::Server::start();
    pykmip_support::run_script(&server, "crypto.py", "1.2", "cryptographic services");
    pykmip_support::run_script(&server, "crypto.py", "2.0", "cryptographic services");
}
