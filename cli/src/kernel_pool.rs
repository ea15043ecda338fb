//! The Linux kernel's random pool: `RNDADDENTROPY` then `RNDRESEEDCRNG` on `/dev/random`.
//!
//! The only unsafe code in the CLI, at the ioctl boundary: no crate wraps these two ioctls (rand_pool_info has
//! a flexible array member), so the structure is laid out by hand below.
//!
//! Credit: `RNDADDENTROPY` adds the bytes and credits `entropy_count` bits. On current kernels (5.18 and later)
//! the CRNG is fully seeded early in boot and crediting changes nothing afterwards; `RNDRESEEDCRNG` makes the
//! added bytes take effect now instead of at the next scheduled reseed. Both need CAP_SYS_ADMIN.
#![allow(unsafe_code)]

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;

/// `_IOW('R', 0x03, int[2])`
const RNDADDENTROPY: libc::c_ulong = 0x4008_5203;
/// `_IO('R', 0x07)`
const RNDRESEEDCRNG: libc::c_ulong = 0x5207;

/// Adds `bytes` to the kernel pool crediting `credit_bits`, then asks the kernel to reseed its CRNG.
pub fn add_and_reseed(bytes: &[u8], credit_bits: u32) -> Result<(), String> {
    let random = OpenOptions::new()
        .write(true)
        .open("/dev/random")
        .map_err(|e| format!("/dev/random: {e}"))?;
    let length =
        i32::try_from(bytes.len()).map_err(|_| "too many bytes for one ioctl".to_owned())?;
    let credit = i32::try_from(credit_bits.min(bytes.len() as u32 * 8)).unwrap_or(0);
    // struct rand_pool_info { int entropy_count; int buf_size; __u32 buf[]; }, built as a byte buffer.
    let mut info = Vec::with_capacity(8 + bytes.len() + 3);
    info.extend_from_slice(&credit.to_ne_bytes());
    info.extend_from_slice(&length.to_ne_bytes());
    info.extend_from_slice(bytes);
    info.resize(8 + bytes.len().div_ceil(4) * 4, 0);
    // SAFETY: `info` is a live, initialised buffer laid out as struct rand_pool_info with buf_size bytes of
    // buffer after the two ints (padded to whole __u32s); the kernel only reads it during the call, and the file
    // descriptor is open for the duration of the call.
    let added = unsafe { libc::ioctl(random.as_raw_fd(), RNDADDENTROPY, info.as_ptr()) };
    info.fill(0);
    if added != 0 {
        return Err(format!(
            "ioctl RNDADDENTROPY on /dev/random: {} (it needs CAP_SYS_ADMIN: run as root, or use --fifo for rngd)",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: RNDRESEEDCRNG takes no argument; the descriptor is open.
    let reseeded = unsafe { libc::ioctl(random.as_raw_fd(), RNDRESEEDCRNG) };
    if reseeded != 0 {
        return Err(format!(
            "ioctl RNDRESEEDCRNG on /dev/random: {} (the bytes were added; they take effect at the kernel's next reseed)",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}
