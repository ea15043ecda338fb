//! Typed KMIP messages over the `ttlv` codec, converted per protocol version, and the async mTLS client.
