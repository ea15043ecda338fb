//! Which store errors are a full disk: sled's errors reach the store as text (its sticky error after a failed
//! write is a copy of the first, formatted with `Debug`), so this reads the OS message, the error kind's name or
//! the errno.

use super::super::StoreError;

/// What kind of I/O failure a store error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoFailure {
    /// The file system is full (ENOSPC) or over quota (EDQUOT), first-hand or as sled's sticky error.
    NoSpace,
    /// Any other I/O failure of the database.
    Other,
}

/// Classifies a store error: `None` for errors that say nothing about the disk (not found, corrupt data...).
/// sled's errors reach us as text (its sticky error is a copy of the first, formatted with `Debug`), so the
/// classification reads the text: the OS message, the error kind name or the errno.
pub fn classify(error: &StoreError) -> Option<IoFailure> {
    const NO_SPACE: [&str; 7] = [
        "no space left on device",
        "disk quota exceeded",
        "storagefull",
        "quotaexceeded",
        "os error 28",
        "code: 28,",
        "os error 122",
    ];
    match error {
        StoreError::DiskFull { .. } => Some(IoFailure::NoSpace),
        StoreError::Io(message) => {
            let message = message.to_ascii_lowercase();
            if NO_SPACE.iter().any(|marker| message.contains(marker)) {
                Some(IoFailure::NoSpace)
            } else {
                Some(IoFailure::Other)
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn no_space_is_recognised_first_hand_and_as_sleds_sticky_copy() {
        let first_hand = io::Error::from_raw_os_error(28);
        let sticky = format!("{:?}", first_hand);
        for message in [
            format!("store I/O: {first_hand}"),
            format!("flush failed: {sticky}"),
            sticky,
            "Io(Custom { kind: StorageFull, error: \"...\" })".to_owned(),
            io::Error::from_raw_os_error(122).to_string(),
        ] {
            assert_eq!(
                classify(&StoreError::Io(message.clone())),
                Some(IoFailure::NoSpace),
                "{message}"
            );
        }
    }

    #[test]
    fn other_io_errors_and_non_io_errors_are_told_apart() {
        let eio = io::Error::from_raw_os_error(5).to_string();
        assert_eq!(classify(&StoreError::Io(eio)), Some(IoFailure::Other));
        // Errno 280 is not ENOSPC even though its text holds "28".
        assert_eq!(
            classify(&StoreError::Io(
                "Os { code: 280, kind: Uncategorized }".into()
            )),
            Some(IoFailure::Other)
        );
        assert_eq!(classify(&StoreError::NotFound("x".into())), None);
        assert_eq!(classify(&StoreError::Corrupt("x".into())), None);
        assert_eq!(
            classify(&StoreError::DiskFull {
                path: "/s".into(),
                cause: "c".into()
            }),
            Some(IoFailure::NoSpace)
        );
    }
}
