//! Admission control, shared by the TTLV and HTTPS listeners: who may take the server's resources before and
//! after they have proven who they are.
//!
//! Why: a connection slot used to be taken before the TLS handshake and held for the whole handshake timeout,
//! so 500 bare TCP connects (no certificate needed) kept a legitimate client waiting 38 s; and 20 slow senders
//! each pinned a 16 MiB body for the 30 s read timeout (328 MB). Now:
//! - [`HandshakeGate`]: a connection that has not finished its handshake holds a handshake ticket, of which
//!   there are `[limits] max_handshakes` server-wide and `max_handshakes_per_address` per source IP address,
//!   for at most `handshake_timeout_secs`. A connection that finds no ticket is closed at once (it never waits
//!   in a queue where it could delay others). Only an authenticated connection takes a connection slot.
//! - [`RequestMemory`]: the bytes of requests being read or answered are reserved, server-wide, from
//!   `[limits] max_pending_request_bytes` once the header has declared the length and before the body is
//!   read; a request that cannot reserve is read and dropped (its framing kept) and answered with an error.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Handshake tickets: bounded server-wide and per source address.
#[derive(Debug)]
pub struct HandshakeGate {
    global: Arc<Semaphore>,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    max_per_address: usize,
}

/// Held by a connection during its handshake; gives its place back when dropped.
#[derive(Debug)]
pub struct HandshakeTicket {
    gate: Arc<HandshakeGate>,
    address: IpAddr,
    _global: OwnedSemaphorePermit,
}

impl HandshakeGate {
    pub fn new(max_handshakes: usize, max_per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            global: Arc::new(Semaphore::new(max_handshakes)),
            per_address: Mutex::new(HashMap::new()),
            max_per_address,
        })
    }

    /// A ticket for a new connection from `address`, or `None` when the server-wide or the address's share of
    /// handshakes is taken (the caller closes the connection).
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Option<HandshakeTicket> {
        let global = Arc::clone(&self.global).try_acquire_owned().ok()?;
        let mut counts = self
            .per_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(address).or_insert(0);
        if *count >= self.max_per_address {
            return None;
        }
        *count += 1;
        Some(HandshakeTicket {
            gate: Arc::clone(self),
            address,
            _global: global,
        })
    }

    /// Handshakes in progress from `address` (for tests and diagnostics).
    pub fn in_progress(&self, address: IpAddr) -> usize {
        self.per_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&address)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for HandshakeTicket {
    fn drop(&mut self) {
        let mut counts = self
            .gate
            .per_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// Server-wide memory for requests being read or answered, reserved in KiB units.
#[derive(Clone, Debug)]
pub struct RequestMemory {
    kib: Arc<Semaphore>,
    limit_bytes: usize,
}

/// A request's reservation; released when dropped (after its answer is written).
#[derive(Debug)]
pub struct Reservation {
    _permit: OwnedSemaphorePermit,
}

impl RequestMemory {
    pub fn new(limit_bytes: usize) -> Self {
        Self {
            kib: Arc::new(Semaphore::new(limit_bytes.div_ceil(1024))),
            limit_bytes,
        }
    }

    /// The configured limit, in bytes (for error messages).
    pub fn limit_bytes(&self) -> usize {
        self.limit_bytes
    }

    /// Reserves `bytes` now, or `None` when they are not free.
    pub fn try_reserve(&self, bytes: usize) -> Option<Reservation> {
        let kib = u32::try_from(bytes.div_ceil(1024)).ok()?;
        Arc::clone(&self.kib)
            .try_acquire_many_owned(kib.max(1))
            .ok()
            .map(|permit| Reservation { _permit: permit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_share_and_tickets_come_back() {
        let gate = HandshakeGate::new(3, 2);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let first = gate.admit(a).expect("first");
        let second = gate.admit(a).expect("second");
        assert!(gate.admit(a).is_none(), "the address's share is taken");
        let third = gate.admit(b).expect("another address still gets in");
        assert!(gate.admit(b).is_none(), "the server-wide share is taken");
        drop(first);
        assert_eq!(gate.in_progress(a), 1);
        assert!(gate.admit(a).is_some());
        drop((second, third));
    }

    #[test]
    fn request_memory_is_reserved_and_given_back() {
        let memory = RequestMemory::new(64 * 1024);
        let big = memory.try_reserve(48 * 1024).expect("fits");
        assert!(memory.try_reserve(32 * 1024).is_none());
        assert!(memory.try_reserve(usize::MAX).is_none());
        drop(big);
        assert!(memory.try_reserve(64 * 1024).is_some());
    }
}
