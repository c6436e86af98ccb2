//! `modload -p` needs no kernel. (This test also makes `cargo test` build
//! the modload binary that the workspace's end-to-end tests run.)

use std::process::Command;

#[test]
fn empty_property_list_is_190_bytes() {
    let out = Command::new(env!("CARGO_BIN_EXE_modload"))
        .arg("-p")
        .env_remove("MODCTL_EMUL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), 190);
    assert!(out
        .stdout
        .ends_with(b"<plist version=\"1.0\">\n<dict/>\n</plist>\n"));
    assert!(out.stderr.is_empty());
}
