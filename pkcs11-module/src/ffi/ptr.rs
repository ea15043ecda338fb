//! Checked access to the caller's memory. Each function documents what the caller promised (the PKCS#11
//! contract); NULL pointers and impossible lengths are turned into CKR_ARGUMENTS_BAD here.

use cryptoki_sys::*;

use crate::error::{fail, Result};
use crate::template::Template;

/// `*p`, writable.
///
/// # Safety
/// `p` is NULL or points to a writable, aligned `T` that outlives the call.
pub unsafe fn out<'a, T>(p: *mut T) -> Result<&'a mut T> {
    // SAFETY: the caller guarantees `p` is NULL or valid for writes; NULL is handled by `as_mut`.
    match unsafe { p.as_mut() } {
        Some(r) => Ok(r),
        None => fail(CKR_ARGUMENTS_BAD, "a required output pointer is NULL"),
    }
}

/// `len` bytes at `p` (NULL allowed when `len` is 0).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
pub unsafe fn bytes<'a>(p: *const u8, len: CK_ULONG) -> Result<&'a [u8]> {
    let len = usize::try_from(len).or(fail(CKR_ARGUMENTS_BAD, "length too large"))?;
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return fail(CKR_ARGUMENTS_BAD, "NULL buffer with a non-zero length");
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes at `p`.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// `len` writable bytes at `p`.
///
/// # Safety
/// `p` is NULL or points to `len` writable bytes.
pub unsafe fn bytes_mut<'a>(p: *mut u8, len: CK_ULONG) -> Result<&'a mut [u8]> {
    let len = usize::try_from(len).or(fail(CKR_ARGUMENTS_BAD, "length too large"))?;
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return fail(CKR_ARGUMENTS_BAD, "NULL buffer with a non-zero length");
    }
    // SAFETY: non-NULL, and the caller guarantees `len` writable bytes at `p`.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// The caller's attribute array.
///
/// # Safety
/// `p` is NULL or points to `count` `CK_ATTRIBUTE`s, each with `ulValueLen` readable bytes at `pValue`.
pub unsafe fn attributes<'a>(
    p: *mut CK_ATTRIBUTE,
    count: CK_ULONG,
) -> Result<&'a mut [CK_ATTRIBUTE]> {
    let count = usize::try_from(count).or(fail(CKR_ARGUMENTS_BAD, "count too large"))?;
    if count == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return fail(CKR_ARGUMENTS_BAD, "NULL template with a non-zero count");
    }
    // SAFETY: non-NULL, and the caller guarantees `count` attributes at `p`.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, count) })
}

/// Copies a template's values into owned memory.
///
/// # Safety
/// As [`attributes`].
pub unsafe fn template(p: *mut CK_ATTRIBUTE, count: CK_ULONG) -> Result<Template> {
    // SAFETY: forwarded caller guarantee.
    let attributes = unsafe { attributes(p, count)? };
    let mut out = Vec::with_capacity(attributes.len());
    for attribute in attributes.iter() {
        // SAFETY: the caller guarantees `ulValueLen` readable bytes at each `pValue`.
        let value = unsafe { bytes(attribute.pValue as *const u8, attribute.ulValueLen)? };
        out.push((attribute.type_, value.to_vec()));
    }
    Ok(Template(out))
}

/// The size-query protocol for a list output (slots, mechanisms, interfaces).
///
/// # Safety
/// `count` is NULL or valid for reads and writes; `out` is NULL or points to `*count` writable `T`s.
pub unsafe fn write_list<T: Copy>(items: &[T], out: *mut T, count: *mut CK_ULONG) -> Result<()> {
    // SAFETY: forwarded caller guarantee.
    let count = unsafe { self::out(count)? };
    let needed = items.len() as CK_ULONG;
    if out.is_null() {
        *count = needed;
        return Ok(());
    }
    if *count < needed {
        *count = needed;
        return fail(CKR_BUFFER_TOO_SMALL, "list buffer too small");
    }
    // SAFETY: non-NULL, and the caller guarantees room for `*count >= needed` items at `out`.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), out, items.len()) };
    *count = needed;
    Ok(())
}

/// A blank-padded, not NUL-terminated PKCS#11 string field.
pub fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut field = [b' '; N];
    let mut end = text.len().min(N);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    field[..end].copy_from_slice(&text.as_bytes()[..end]);
    field
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_size_query_then_short_buffer_then_copy() {
        let data = [1u64, 2, 3];
        let mut len: CK_ULONG = 0;
        // SAFETY: valid pointers to locals.
        unsafe { write_list(&data, std::ptr::null_mut(), &mut len).unwrap() };
        assert_eq!(len, 3);
        let mut short = [0u64; 2];
        len = 2;
        // SAFETY: `short` has `len` entries.
        let error = unsafe { write_list(&data, short.as_mut_ptr(), &mut len).unwrap_err() };
        assert_eq!((error.to_rv(), len), (CKR_BUFFER_TOO_SMALL, 3));
        let mut room = [0u64; 8];
        len = 8;
        // SAFETY: `room` has `len` entries.
        unsafe { write_list(&data, room.as_mut_ptr(), &mut len).unwrap() };
        assert_eq!((&room[..3], len), (&data[..], 3));
    }

    #[test]
    fn null_with_length_is_rejected() {
        // SAFETY: NULL is handled before any access.
        let error = unsafe { bytes(std::ptr::null(), 4).unwrap_err() };
        assert_eq!(error.to_rv(), CKR_ARGUMENTS_BAD);
        assert_eq!(&padded::<4>("ab"), b"ab  ");
        assert_eq!(&padded::<2>("abc"), b"ab");
    }
}
