//! A small tmpfs mounted for one test (needs root, as CI runs; otherwise the test fails saying so), and a filler
//! that takes all its free space: a real "file system full" for the audit log. Unmounted on drop.
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs; unmounted (lazily if busy) when dropped.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. "256k") on a fresh directory.
    pub fn mount(size: &str) -> Self {
        let uid = Command::new("id").arg("-u").output().expect("id(1) runs");
        let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
        assert_eq!(
            uid, "0",
            "this test mounts a tmpfs to fill a file system and must run as root (CI does); it cannot run as uid {uid}"
        );
        let dir = tempfile::tempdir().expect("mount point");
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .expect("mount(8) runs");
        assert!(
            mounted.status.success(),
            "mount -t tmpfs failed: {}",
            String::from_utf8_lossy(&mounted.stderr)
        );
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a filler file until the file system is full; returns its path (delete it to free the space).
    pub fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("create the filler");
        let chunk = vec![0u8; 4096];
        loop {
            if let Err(error) = file.write_all(&chunk) {
                assert_eq!(
                    error.raw_os_error(),
                    Some(28),
                    "expected ENOSPC, got {error}"
                );
                break;
            }
        }
        // Small writes may still fit in a partly used page: take those bytes too.
        while file.write_all(&[0u8; 64]).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(self.dir.path()).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}
