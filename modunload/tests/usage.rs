//! modunload's usage needs no kernel. (This test also makes `cargo test`
//! build the modunload binary that the end-to-end tests run.)

use std::process::Command;

#[test]
fn no_names_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_modunload"))
        .env_remove("MODCTL_EMUL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let prog = std::path::Path::new(env!("CARGO_BIN_EXE_modunload"))
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("Usage: {prog} <module_name ...>\n")
    );
}
