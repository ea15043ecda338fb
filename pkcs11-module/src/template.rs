//! A caller's attribute template, copied out of C memory into owned values.

use cryptoki_sys::*;

use crate::error::{fail, Result};

/// `(type, value)` pairs in the caller's order.
#[derive(Debug, Default, Clone)]
pub struct Template(pub Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>);

impl Template {
    pub fn get(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_slice())
    }

    pub fn ulong(&self, kind: CK_ATTRIBUTE_TYPE) -> Result<Option<CK_ULONG>> {
        match self.get(kind) {
            None => Ok(None),
            Some(bytes) => match <[u8; std::mem::size_of::<CK_ULONG>()]>::try_from(bytes) {
                Ok(raw) => Ok(Some(CK_ULONG::from_ne_bytes(raw))),
                Err(_) => fail(
                    CKR_ATTRIBUTE_VALUE_INVALID,
                    "a CK_ULONG attribute has the wrong length",
                ),
            },
        }
    }

    pub fn bool(&self, kind: CK_ATTRIBUTE_TYPE) -> Result<Option<bool>> {
        match self.get(kind) {
            None => Ok(None),
            Some([b]) => Ok(Some(*b != CK_FALSE)),
            Some(_) => fail(
                CKR_ATTRIBUTE_VALUE_INVALID,
                "a CK_BBOOL attribute has the wrong length",
            ),
        }
    }

    pub fn text(&self, kind: CK_ATTRIBUTE_TYPE) -> Result<Option<String>> {
        match self.get(kind) {
            None => Ok(None),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(Some(text.to_owned())),
                Err(_) => fail(CKR_ATTRIBUTE_VALUE_INVALID, "a text attribute is not UTF-8"),
            },
        }
    }

    /// Fails with CKR_ATTRIBUTE_TYPE_INVALID when an attribute outside `allowed` is present.
    pub fn only(&self, allowed: &[CK_ATTRIBUTE_TYPE]) -> Result<()> {
        if self.0.iter().all(|(k, _)| allowed.contains(k)) {
            Ok(())
        } else {
            fail(
                CKR_ATTRIBUTE_TYPE_INVALID,
                "the template holds an attribute this object cannot have",
            )
        }
    }

    /// Whether the template makes a session object: CKA_TOKEN false or absent (the standard's default).
    pub fn is_session_object(&self) -> Result<bool> {
        Ok(!self.bool(CKA_TOKEN)?.unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads_check_lengths() {
        let t = Template(vec![
            (CKA_VALUE_LEN, 32u64.to_ne_bytes().to_vec()),
            (CKA_TOKEN, vec![1]),
            (CKA_LABEL, b"k".to_vec()),
            (CKA_CLASS, vec![1, 2]),
        ]);
        assert_eq!(t.ulong(CKA_VALUE_LEN).unwrap(), Some(32));
        assert_eq!(t.bool(CKA_TOKEN).unwrap(), Some(true));
        assert_eq!(t.text(CKA_LABEL).unwrap().as_deref(), Some("k"));
        assert_eq!(
            t.ulong(CKA_CLASS).unwrap_err().to_rv(),
            CKR_ATTRIBUTE_VALUE_INVALID
        );
        assert_eq!(
            t.only(&[CKA_LABEL]).unwrap_err().to_rv(),
            CKR_ATTRIBUTE_TYPE_INVALID
        );
        assert!(!t.is_session_object().unwrap());
        assert!(Template(vec![(CKA_TOKEN, vec![0])])
            .is_session_object()
            .unwrap());
        assert!(Template(vec![]).is_session_object().unwrap());
    }
}
