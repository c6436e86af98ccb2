//! Explanations over a view of the kernel: what a load would do (the dry
//! run) and why the kernel refused one (diagnosis, built on the dry run).

pub mod diagnose;
pub mod dryrun;
pub mod view;
