//! Explanations over a view of the kernel: what a load would do (the dry
//! run) and why the kernel refused one (diagnosis, built on the dry run),
//! and what a boot would do with the modules a `boot.cfg` names.

pub mod bootcfg;
pub mod diagnose;
pub mod dryrun;
pub mod release;
pub mod view;

use modobj::engine::{Refusal, Why};

/// The reason, in plain words, for the refusals every explanation words
/// alike (the dependency walk's), with the check it belongs to; `None`
/// for those each explanation words from what it knows.
pub(crate) fn walk_reason(r: &Refusal) -> Option<(&'static str, String)> {
    let why = match &r.why {
        Why::TooDeep { depth, max } => format!(
            "the chain {} is {depth} deep; this kernel stops at {max}",
            r.chain_text(true)
        ),
        Why::Circular => format!("circular dependency: {}", r.chain_text(false)),
        Why::SelfDependency => format!("circular dependency: {}", r.chain_text(true)),
        Why::NoAutoload => {
            let check = "Properties";
            let name = &r.module;
            return Some((
                check,
                format!(
                    "the .plist of `{name}' sets noautoload, so it cannot be loaded as a dependency"
                ),
            ));
        }
        _ => return None,
    };
    Some(("Dependencies", why))
}

/// The kernel's own words for a refusal no explanation words otherwise.
pub(crate) fn kernel_reason(r: &Refusal) -> (&'static str, String) {
    (
        if r.isdep { "Dependencies" } else { "Kernel" },
        r.error_text().unwrap_or_else(|| r.errno.to_string()),
    )
}
