//! NetBSD kernel module objects (`.kmod`, ELF relocatable files): reading
//! them the way the kernel does, the kernel's rules and limits by release,
//! and the kernel's checks as findings with reasons.
//!
//! Modules depend on each other one way: `osrev`, `checks`, `rules`
//! (which reads `osrev`) and `machine` (which reads `rules`) know nothing
//! of the rest; `findings` (what a finding says, and its words) reads
//! `machine` and `osrev`; `kmod`, the reader, uses those; `validate`
//! uses everything. A test
//! (`tests/module_layers.rs`) keeps it so.
//!
//! Never prints; every failure is a typed error or a finding.

pub mod boot;
pub mod checks;
pub mod engine;
pub mod findings;
mod image;
pub mod kimage;
pub mod kmod;
pub mod kobj;
pub mod machine;
pub mod osrev;
pub mod path;
pub mod plistfile;
pub mod rules;
pub mod validate;
