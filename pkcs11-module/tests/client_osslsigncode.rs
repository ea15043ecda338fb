//! osslsigncode signs code with a token key through the module against a real server, then verifies the
//! signature (`tests/clients/osslsigncode.sh`).

mod client_support;
mod common;

#[test]
fn osslsigncode_signs_with_a_token_key_and_the_signature_verifies() {
    client_support::require_programs(&[
        ("osslsigncode", "osslsigncode"),
        ("pkcs11-tool", "opensc"),
        ("openssl", "openssl"),
    ]);
    client_support::require_files(&[(
        "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so",
        "libengine-pkcs11-openssl",
    )]);
    client_support::run_client_script("osslsigncode");
}
