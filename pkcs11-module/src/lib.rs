//! The PKCS#11 module `libqkms_pkcs11.so`. Filled by a later issue.
