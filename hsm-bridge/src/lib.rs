//! PKCS#11 client to existing HSMs (root key custody, QRNG seeding). Filled by a later issue.
