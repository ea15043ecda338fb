//! OpenSSL 3 with pkcs11-provider uses the module against a real server: `storeutl -keys`, `dgst -sign` and
//! `req -new -x509` with token keys, each signature verified by plain OpenSSL (`tests/clients/openssl.sh`).

mod client_support;
mod common;

#[test]
fn openssl_pkcs11_provider_finds_keys_signs_and_makes_certificates() {
    client_support::require_programs(&[("openssl", "openssl"), ("pkcs11-tool", "opensc")]);
    client_support::require_files(&[
        (
            "/usr/lib/x86_64-linux-gnu/ossl-modules/pkcs11.so",
            "pkcs11-provider (bookworm-backports)",
        ),
        ("/usr/lib/x86_64-linux-gnu/pkcs11-spy.so", "opensc"),
    ]);
    client_support::run_client_script("openssl");
}
