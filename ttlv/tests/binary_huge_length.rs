//! A huge declared length with a tiny input fails at once, without allocating anything near that length.
//!
//! This file holds a single test: it installs a counting global allocator, and other tests running on
//! parallel threads would disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ttlv::{binary, DecodeError, Limits, Tag};

/// The system allocator, recording the largest single request.
struct LargestAllocation;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is updated on the side.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `layout` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

#[test]
fn huge_declared_length_fails_fast_without_allocating() {
    let tag = Tag(0x42_0020);
    let no_size_limit = Limits {
        max_message_size: usize::MAX,
        ..Limits::default()
    };
    // Byte String, Text String and Big Integer (its length must be a multiple of 8) with ~4 GiB declared.
    let cases = [
        (0x08u8, u32::MAX),
        (0x07, u32::MAX),
        (0x04, 0xFFFF_FFF8),
        (0x01, 0xFFFF_FFF8),
    ];
    let mut inputs = Vec::new();
    for (code, length) in cases {
        let mut bytes = vec![0x42, 0x00, 0x20, code];
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(b"tiny");
        inputs.push((bytes, u64::from(length).next_multiple_of(8)));
    }

    LARGEST.store(0, Ordering::Relaxed);
    let results: Vec<_> = inputs
        .iter()
        .map(|(bytes, _)| binary::decode_with(bytes, &no_size_limit))
        .collect();
    let largest = LARGEST.load(Ordering::Relaxed);

    for (result, (_, needed)) in results.into_iter().zip(&inputs) {
        assert_eq!(
            result,
            Err(DecodeError::TruncatedValue {
                offset: 0,
                tag,
                needed: *needed,
                available: 4
            })
        );
    }
    assert!(
        largest < 4096,
        "decoding a 12-byte input allocated {largest} bytes at once"
    );

    // Under the default limits the declared length alone rejects it.
    assert!(matches!(
        binary::decode(&inputs[0].0),
        Err(DecodeError::MessageTooLarge { .. })
    ));
}
