//! GnuTLS's p11tool and certtool use the module against a real server: key pairs generated on the token, the
//! tool's signature self-test, random bytes and a self-signed certificate (`tests/clients/gnutls.sh`).

mod client_support;
mod common;

#[test]
fn gnutls_p11tool_generates_keys_signs_draws_random_and_certtool_self_signs() {
    client_support::require_programs(&[
        ("p11tool", "gnutls-bin"),
        ("certtool", "gnutls-bin"),
        ("openssl", "openssl"),
    ]);
    client_support::run_client_script("gnutls");
}
