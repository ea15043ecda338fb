//! The files of one audit log: the current file (`audit.log`) and the rotated ones (`audit.log.000001`,
//! `audit.log.000002`, ... numbered in the order they were closed, never reused or overwritten), created
//! owner-only whatever the umask.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Digits of a rotated file's number (`audit.log.000001`); numbers past 999999 simply get longer.
const NUMBER_DIGITS: usize = 6;

/// The path of rotated file `number` of the log whose current file is `current`.
pub fn rotated_path(current: &Path, number: u64) -> PathBuf {
    let mut name = current.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{number:0NUMBER_DIGITS$}"));
    current.with_file_name(name)
}

/// The rotated files beside `current`, by number (the order their records were written in).
pub fn rotated_files(current: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let Some(base) = current.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{base}.");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory_of(current))? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(digits) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if digits.len() >= NUMBER_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(number) = digits.parse::<u64>() {
                found.push((number, entry.path()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The directory a log file lives in (`.` for a bare file name).
pub fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Creates `dir` and missing parents, each new one mode 0700 (set explicitly: the umask could only narrow it,
/// but an operator's odd umask must not leave it unwritable for the server either).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => std::fs::set_permissions(dir, Permissions::from_mode(0o700)),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(error) => Err(error),
    }
}

/// Opens `path` for reading and appending, creating it mode 0600 if absent (an existing file keeps its mode).
pub fn open_append(path: &Path) -> io::Result<File> {
    let existed = path.exists();
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    if !existed {
        // The umask applies to `mode`; set it exactly.
        file.set_permissions(Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Makes a rename or a creation in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_files_are_numbered_and_listed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let current = dir.path().join("audit.log");
        assert_eq!(
            rotated_path(&current, 7),
            dir.path().join("audit.log.000007")
        );
        for name in [
            "audit.log.000010",
            "audit.log.000002",
            "audit.log.12",
            "audit.log.bak",
            "other.log.000001",
            "audit.log.1000000",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let numbers: Vec<u64> = rotated_files(&current)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(numbers, vec![2, 10, 1_000_000]);
    }

    #[test]
    fn files_and_directories_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir(&nested).unwrap();
        let file = nested.join("audit.log");
        drop(open_append(&file).unwrap());
        drop(open_append(&nested.join("audit.log.000001")).unwrap());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&nested.join("audit.log.000001")), 0o600);
    }
}
