//! Explanations over a view of the kernel: what a load would do (the dry
//! run) and why the kernel refused one (diagnosis, built on the dry run),
//! and what a boot would do with the modules a `boot.cfg` names.

pub mod bootcfg;
pub mod diagnose;
pub mod dryrun;
pub mod release;
pub mod view;
