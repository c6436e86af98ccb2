//! What modload, modunload and modstat share beyond `libmodctl`: NetBSD's
//! getopt, choosing the kernel to talk to, printing NetBSD-style messages,
//! the explanations (dry run and diagnosis of a refusal) and the JSON
//! documents. The programs keep only their own options and output.

pub mod explain;
pub mod getopt;
pub mod json;
pub mod kernel;
pub mod msg;
pub mod params;
pub mod propfile;
