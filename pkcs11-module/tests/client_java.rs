//! Java's SunPKCS11 (keytool, jarsigner) uses the module against a real server: EC and RSA key pairs generated on
//! the token and an RSA key imported, a jar signed with each and verified, entries deleted
//! (`tests/clients/java.sh`).

mod client_support;
mod common;

#[test]
fn java_keytool_generates_and_imports_keys_and_jarsigner_signs_with_them() {
    client_support::require_programs(&[
        ("keytool", "default-jdk-headless"),
        ("jarsigner", "default-jdk-headless"),
        ("jar", "default-jdk-headless"),
        ("openssl", "openssl"),
    ]);
    client_support::run_client_script("java");
}
