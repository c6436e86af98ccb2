//! `cfg(with_emul)`: the emulated kernel is in this build. Off NetBSD it is
//! always in, unless `MODCTL_NO_EMUL=1` is set at build time; on NetBSD
//! only when the `emul` feature asks for it.
//!
//! `MODCTL_NO_EMUL=1` is for measurements only: it builds the programs on
//! another host as they are built for NetBSD, without the emulator, so that
//! bench/run can report their size (such a build has no kernel to talk to
//! there, and the tests need the emulator).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(with_emul)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=MODCTL_NO_EMUL");
    let netbsd = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "netbsd");
    let no_emul = std::env::var("MODCTL_NO_EMUL").is_ok_and(|v| !v.is_empty() && v != "0");
    let feature = std::env::var_os("CARGO_FEATURE_EMUL").is_some();
    if feature || !(netbsd || no_emul) {
        println!("cargo::rustc-cfg=with_emul");
    }
}
