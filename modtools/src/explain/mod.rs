//! Explanations over a view of the kernel: what a load would do (the dry
//! run) and why the kernel refused one (diagnosis, built on the dry run),
//! and what a boot would do with the modules a `boot.cfg` names.

pub mod bootcfg;
pub mod diagnose;
pub mod dryrun;
pub mod reason;
pub mod release;
mod text;
pub mod view;

use libmodctl::ModName;
use modobj::engine::{Refusal, Why};
use reason::Reason;

/// The names of a refusal's chain of requirements, ending with the
/// refused module (`with_own`: the chain's last entry is kept).
fn chain(r: &Refusal, with_own: bool) -> Vec<ModName> {
    let mut names = r.chain.clone();
    if !with_own {
        names.pop();
    }
    names.push(r.module.clone());
    names
}

/// The reason for the refusals every explanation words alike (the
/// dependency walk's), with the check it belongs to; `None` for those
/// each explanation words from what it knows.
pub(crate) fn walk_reason(r: &Refusal) -> Option<(&'static str, Reason)> {
    let why = match &r.why {
        Why::TooDeep { depth, max } => Reason::TooDeep {
            chain: chain(r, true),
            depth: *depth,
            max: *max,
        },
        Why::Circular => Reason::Circular {
            chain: chain(r, false),
        },
        Why::SelfDependency => Reason::Circular {
            chain: chain(r, true),
        },
        Why::NoAutoload => {
            let module = r.module.clone();
            return Some(("Properties", Reason::NoAutoload { module }));
        }
        _ => return None,
    };
    Some(("Dependencies", why))
}

/// The kernel's own words for a refusal no explanation words otherwise.
pub(crate) fn kernel_reason(r: &Refusal) -> (&'static str, Reason) {
    (
        if r.isdep { "Dependencies" } else { "Kernel" },
        r.error_text()
            .map_or(Reason::Errno(r.errno), Reason::Console),
    )
}
