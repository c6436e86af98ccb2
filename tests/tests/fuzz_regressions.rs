//! Replays every input in fuzz/regressions/<target>/ through the body of
//! that fuzz target (fuzz/src/lib.rs, included here), so crashes found by
//! fuzzing stay fixed without nightly or libFuzzer. Each directory also
//! holds a few seed inputs, so no replay is ever empty.

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// Runs every input, then reports all that failed at once.
fn replay(target: &str, body: fn(&[u8])) {
    let mut failed = Vec::new();
    for file in inputs(target) {
        let data = std::fs::read(&file).unwrap();
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: failing inputs:\n{}",
        failed.join("\n")
    );
}

#[test]
fn kmod_bytes() {
    replay("kmod_bytes", fuzz::kmod_bytes);
}

#[test]
fn kmod_mutate() {
    replay("kmod_mutate", fuzz::kmod_mutate);
}

#[test]
fn plist() {
    replay("plist", fuzz::plist);
}

#[test]
fn json() {
    replay("json", fuzz::json);
}

#[test]
fn stat_v1() {
    replay("stat_v1", fuzz::stat_v1);
}

#[test]
fn stat_v2() {
    replay("stat_v2", fuzz::stat_v2);
}

#[test]
fn getopt() {
    replay("getopt", fuzz::getopt);
}
