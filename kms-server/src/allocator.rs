//! How quickly the server's allocator (mimalloc, the `qkms-server` binary's global allocator) gives freed memory
//! back to the operating system.
//!
//! Why: mimalloc 3 keeps freed pages for `purge_delay` ms (1000 by default) and purges them lazily, on later
//! allocator activity. A thread that frees a lot and then idles (the argon2id derivation at start, a
//! blocking-pool worker after a burst of sled writes) never triggers that purge, so its pages stay resident.
//! Measured, the server held 146 MB at rest after opening a 115k-object store and 273 MB under sustained Create
//! load, against 65 MB and 163 MB with purging at once, at the same Create rate (BENCHMARKS.md, "The sled store
//! at scale"). `[server] allocator_purge_delay_ms` sets the delay.
//!
//! Two more things decide how much of a store of a million objects stays resident (BENCHMARKS.md, "RSS at a
//! million objects"): mimalloc asks the kernel for transparent huge pages on its arenas, and a 2 MiB page stays
//! whole in RSS while any 4 KiB of it is in use (139 MB of the server's 368 MB under Create load were huge
//! pages), so the server turns them off unless `[server] allocator_transparent_huge_pages` is set; and what
//! start-up frees (argon2id's 64 MiB, sled's snapshot while it rebuilds its page table) is freed on the thread
//! that then only waits for a signal, so lazy purging never reaches it: [`release_freed_memory`] purges it once
//! the server is up.
//!
//! This calls mimalloc's C API (`mi_option_set`), the one C boundary here. `libmimalloc-sys` (pinned in
//! Cargo.lock) builds mimalloc 3.x unless its `v2` feature is on; the option number is the same in 2.x and 3.x's
//! `mi_option_e`, and the unit test checks it by reading 3.x's documented default back.
#![allow(unsafe_code)]

use std::os::raw::c_long;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (ms before freed memory is returned; -1 never).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// `mi_option_allow_thp` in mimalloc 3's `mi_option_e` (1: madvise its arenas for transparent huge pages).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Makes mimalloc return freed memory to the OS `delay_ms` milliseconds after it is freed (0: at once). Takes
/// effect for every later free; memory already waiting is purged on the next allocation activity.
pub fn set_purge_delay_ms(delay_ms: u32) {
    // SAFETY: `mi_option_set` only stores an integer in mimalloc's option table (an atomic store); it takes no
    // pointers, and any value is accepted for this option (negative means "never", which u32 cannot express).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, c_long::from(delay_ms)) }
}

/// The purge delay mimalloc uses now, in milliseconds.
pub fn purge_delay_ms() -> c_long {
    // SAFETY: `mi_option_get` reads one integer of mimalloc's option table; no pointers are involved.
    unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
}

/// Keeps this process's memory in 4 KiB pages: mimalloc stops advising huge pages for its later mappings, and
/// the kernel's per-process THP switch (`prctl(PR_SET_THP_DISABLE)`) covers the arena mimalloc mapped before
/// `main`. An error means the kernel refused the switch (not Linux, or a seccomp filter); huge pages then stay
/// possible and only memory use is affected.
pub fn disable_transparent_huge_pages() -> Result<(), String> {
    // SAFETY: as in `set_purge_delay_ms`: one integer stored in mimalloc's option table, no pointers.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0) }
    nix::sys::prctl::set_thp_disable(true)
        .map_err(|e| format!("cannot turn transparent huge pages off for this process: {e}"))
}

/// Whether mimalloc may still advise transparent huge pages.
pub fn transparent_huge_pages_allowed() -> bool {
    // SAFETY: `mi_option_get` reads one integer of mimalloc's option table; no pointers are involved.
    unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_ALLOW_THP) != 0 }
}

/// Returns to the OS, now, the memory every thread has freed so far (start-up's transient buffers), whatever the
/// purge delay. Costs a walk over the calling thread's heap and the arenas: call it once, not per request.
pub fn release_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers; it frees only memory mimalloc itself holds as free.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_reaches_mimalloc() {
        // mimalloc 3's default is 1000 ms (2.x's was 10): reading it proves the option number names purge_delay.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay_ms(), 1000);
        }
        set_purge_delay_ms(250);
        assert_eq!(purge_delay_ms(), 250);
        set_purge_delay_ms(0);
        assert_eq!(purge_delay_ms(), 0);
    }

    #[test]
    fn huge_pages_are_turned_off_in_mimalloc_and_the_kernel() {
        // mimalloc 3's default on Linux is 1: reading it proves the option number names allow_thp.
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert!(transparent_huge_pages_allowed());
        }
        disable_transparent_huge_pages().unwrap();
        assert!(!transparent_huge_pages_allowed());
        assert!(nix::sys::prctl::get_thp_disable().unwrap());
        release_freed_memory();
    }
}
