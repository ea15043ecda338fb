//! The KMIP key management server `qkms-server`. Filled by a later issue.
