//! What the integration tests share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// `sslwrite conformance --quiet` on the scenarios in `scenarios` with the known file `known`,
/// the report written to `json`, and `extra` arguments.
// Not every test file plays a whole folder.
#[allow(dead_code)]
pub fn conformance(scenarios: &Path, known: &Path, json: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(["conformance", "--quiet"])
        .args(extra)
        .arg("--scenarios")
        .arg(scenarios)
        .arg("--known")
        .arg(known)
        .arg("--json")
        .arg(json)
        .output()
        .expect("the sslwrite binary runs")
}
