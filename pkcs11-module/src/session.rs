//! One session: its token, read/write flag and active operations.

use cryptoki_sys::*;

use crate::error::{fail, Result};
use crate::signing::SignatureOperation;

#[derive(Debug)]
pub struct Session {
    pub token: usize,
    pub read_write: bool,
    /// The C_FindObjects result being walked.
    pub find: Option<FindOperation>,
    pub sign: Option<SignatureOperation>,
    pub verify: Option<SignatureOperation>,
    pub encrypt: Option<crate::encrypt::CipherOperation>,
    pub decrypt: Option<crate::encrypt::CipherOperation>,
    pub digest: Option<crate::digest::DigestOperation>,
    /// Session objects made in this session: destroyed when it closes.
    pub owned: Vec<CK_OBJECT_HANDLE>,
}

#[derive(Debug, Default)]
pub struct FindOperation {
    pub handles: Vec<CK_OBJECT_HANDLE>,
    pub next: usize,
}

impl Session {
    pub fn new(token: usize, read_write: bool) -> Self {
        Self {
            token,
            read_write,
            find: None,
            sign: None,
            verify: None,
            encrypt: None,
            decrypt: None,
            digest: None,
            owned: Vec::new(),
        }
    }

    /// CKR_SESSION_READ_ONLY unless this is a read/write session.
    pub fn require_read_write(&self) -> Result<()> {
        if self.read_write {
            Ok(())
        } else {
            fail(
                CKR_SESSION_READ_ONLY,
                "this operation needs a read/write session",
            )
        }
    }

    /// CKR_OPERATION_ACTIVE while a search is running.
    pub fn require_idle(&self) -> Result<()> {
        if self.find.is_some() {
            fail(CKR_OPERATION_ACTIVE, "a search is active in this session")
        } else {
            Ok(())
        }
    }
}
