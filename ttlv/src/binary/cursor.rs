//! A bounded cursor over borrowed bytes. A Structure's body is read through a sub-cursor of exactly its
//! declared length, so no child can read past its parent: overruns are impossible by construction.

/// Reads forward through `bytes`; `base` is the absolute offset of `bytes[0]` within the whole message, so
/// errors can name positions in the message rather than in the sub-slice.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    base: usize,
}

/// A read asked for more bytes than the cursor holds; `available` is how many it held.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shortfall {
    pub(super) available: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, base: 0 }
    }

    /// The absolute offset of the next unread byte.
    pub(super) fn offset(&self) -> usize {
        self.base
    }

    pub(super) fn remaining(&self) -> usize {
        self.bytes.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next `len` bytes, consumed; nothing is consumed on failure.
    pub(super) fn take(&mut self, len: usize) -> Result<&'a [u8], Shortfall> {
        if len > self.bytes.len() {
            return Err(Shortfall {
                available: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        self.base += len;
        Ok(head)
    }

    /// The next 8 bytes as an array (an item header or a fixed-size padded value).
    pub(super) fn take_8(&mut self) -> Result<[u8; 8], Shortfall> {
        match self.bytes.split_first_chunk::<8>() {
            Some((head, tail)) => {
                self.bytes = tail;
                self.base += 8;
                Ok(*head)
            }
            None => Err(Shortfall {
                available: self.bytes.len(),
            }),
        }
    }

    /// A cursor over exactly the next `len` bytes, which this cursor skips.
    pub(super) fn sub(&mut self, len: usize) -> Result<Cursor<'a>, Shortfall> {
        let base = self.base;
        self.take(len).map(|bytes| Cursor { bytes, base })
    }
}
