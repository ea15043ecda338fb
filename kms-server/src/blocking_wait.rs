//! Waiting on a tokio worker thread without stalling the other connections that worker serves.
//!
//! Why a module of its own: the dispatcher (for flushes) and the PostgreSQL store (for every statement) both
//! wait this way, and the store must not depend on the dispatcher.

/// Runs `wait`, which blocks on the disk or the network. Quick messages (Get among them) are dispatched on an async worker of the
/// listener, and only a message that turned out to write waits for a flush: on a multi-threaded runtime the
/// worker hands its other connections to another thread first, so one flush never stalls them. Elsewhere (a
/// blocking thread, no runtime, a single-threaded test runtime) it simply waits. Handlers that run inline use it
/// for any wait they cannot rule out beforehand (an HSM round trip), and the PostgreSQL store for every statement
/// (a Get served from its object cache waits for nothing).
pub(crate) fn off_the_async_workers<T>(wait: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}
