//! p11-kit finds the module through the shipped module file (`p11-kit list-modules`, p11tool without
//! --provider), and a PEM identity shows public objects and random numbers without login
//! (`tests/clients/p11kit.sh`).

mod client_support;
mod common;

#[test]
fn p11_kit_lists_the_shipped_module_and_public_objects_need_no_login() {
    client_support::require_programs(&[
        ("p11-kit", "p11-kit"),
        ("p11tool", "gnutls-bin"),
        ("pkcs11-tool", "opensc"),
        ("openssl", "openssl"),
    ]);
    client_support::run_client_script("p11kit");
}
