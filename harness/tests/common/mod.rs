//! What the integration tests share.

use std::path::PathBuf;

/// A fresh temporary folder, removed when dropped: `sslwrite-<tag>-<pid>-<name>`, with the
/// `subdirs` created inside.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str, name: &str, subdirs: &[&str]) -> TempDir {
        let d = std::env::temp_dir().join(format!("sslwrite-{tag}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for s in subdirs {
            std::fs::create_dir_all(d.join(s)).unwrap();
        }
        TempDir(d)
    }

    // Not every test file joins paths through it.
    #[allow(dead_code)]
    pub fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
