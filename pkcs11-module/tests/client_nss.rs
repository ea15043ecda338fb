//! NSS uses the module against a real server: modutil adds it to a fresh database, certutil generates key pairs
//! and self-signed certificates on the token, cmsutil signs with the token keys (`tests/clients/nss.sh`).

mod client_support;
mod common;

#[test]
fn nss_certutil_generates_keys_and_certificates_and_cmsutil_signs() {
    client_support::require_programs(&[
        ("modutil", "libnss3-tools"),
        ("certutil", "libnss3-tools"),
        ("cmsutil", "libnss3-tools"),
        ("openssl", "openssl"),
    ]);
    client_support::run_client_script("nss");
}
