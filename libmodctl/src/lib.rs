//! `libmodctl`: NetBSD's modctl(2) for Rust, with a module object
//! validator, the kernel's module path rules and an emulated kernel.
//!
//! The library never prints and never exits: every failure is a typed
//! error, carrying a NetBSD errno where a kernel gave one.

pub mod abi;
pub mod backend;
pub mod errno;
pub mod modctl;
pub mod stat;

pub use errno::Errno;
pub mod cli;
pub mod diagnose;
pub mod dryrun;
pub mod json;
pub mod jsontext;
pub mod kmod;
mod mapping;
pub mod path;
pub mod plist;
pub mod tool;
pub mod validate;
