//! Decoding limits: the bounds a reader enforces before it trusts anything a peer sent.

/// Bounds on what a decoder accepts. Every limit is checked before the work it bounds is done, so a
/// hostile message costs at most what the limits allow.
///
/// The defaults suit a KMIP server: KMIP messages are small (a 4096-bit RSA private key is ~3 KiB, a
/// large Locate response a few hundred KiB), so 16 MiB leaves ample room while keeping memory per
/// connection bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The largest whole message, in bytes, header included. Default [`Limits::DEFAULT_MAX_MESSAGE_SIZE`].
    pub max_message_size: usize,
    /// The deepest nesting: the top-level item has depth 1, its children depth 2, and so on; no item may lie
    /// deeper than this. Default [`Limits::DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
    /// The most items in one message, the top-level item and every nested item included.
    /// Default [`Limits::DEFAULT_MAX_ITEMS`].
    pub max_items: usize,
}

impl Limits {
    /// 16 MiB.
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
    /// 64 levels; real KMIP messages nest fewer than 12.
    pub const DEFAULT_MAX_DEPTH: usize = 64;
    /// One million items (each takes at least 8 bytes on the wire, so 16 MiB holds at most ~2 million).
    pub const DEFAULT_MAX_ITEMS: usize = 1_000_000;

    /// The default limits (the same as [`Limits::default`]), usable in `const` context.
    pub const fn new() -> Self {
        Self {
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_items: Self::DEFAULT_MAX_ITEMS,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}
