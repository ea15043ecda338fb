//! OpenSC's pkcs11-spy can wrap the module: pkcs11-tool lists, generates and signs through it against a real
//! server (`tests/clients/pkcs11_spy.sh`). The spy rewrites the CK_INTERFACE the module hands out, which crashed
//! while that structure lived in read-only memory.

mod client_support;
mod common;

#[test]
fn pkcs11_spy_wraps_the_module_for_pkcs11_tool() {
    client_support::require_programs(&[("pkcs11-tool", "opensc"), ("openssl", "openssl")]);
    client_support::require_files(&[("/usr/lib/x86_64-linux-gnu/pkcs11-spy.so", "opensc")]);
    client_support::run_client_script("pkcs11_spy");
}
