//! modstat's getopt errors need no kernel. (This test also makes `cargo
//! test` build the modstat binary that the end-to-end tests run.)

use std::process::Command;

#[test]
fn unknown_option_then_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_modstat"))
        .arg("-x")
        .env_remove("MODCTL_EMUL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "modstat: unknown option -- x\nUsage: modstat [-Aaen] [name]\n"
    );
}
