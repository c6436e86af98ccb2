//! `libmodctl`: NetBSD's modctl(2) for Rust: the ABI, NetBSD's errnos, the
//! stat buffers of both layouts, proplib's XML, the safe API over them,
//! and the kernel backends (`netbsd`, `rump`).
//!
//! The library never prints and never exits: every failure is a typed
//! error, carrying a NetBSD errno where a kernel gave one.

pub mod abi;
pub mod backend;
pub mod cnum;
pub mod errno;
pub mod modctl;
pub mod name;
pub mod plist;
pub mod stat;

pub use errno::Errno;
pub use name::ModName;
