//! `cfg(with_emul)`: the emulated kernel is in this build. Always off
//! NetBSD; on NetBSD only when the `emul` feature asks for it.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(with_emul)");
    let netbsd = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "netbsd");
    if !netbsd || std::env::var_os("CARGO_FEATURE_EMUL").is_some() {
        println!("cargo::rustc-cfg=with_emul");
    }
}
