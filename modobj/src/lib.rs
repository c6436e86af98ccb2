//! NetBSD kernel module objects (`.kmod`, ELF relocatable files): reading
//! them the way the kernel does, the kernel's rules and limits by release,
//! and the kernel's checks as findings with reasons.
//!
//! Never prints; every failure is a typed error or a finding.

mod image;
pub mod kmod;
pub mod path;
pub mod plistfile;
pub mod rules;
pub mod validate;
