//! The kernel's checks on a module object, as a list of findings.
//!
//! The kernel refuses a bad module with a bare errno and explains only on
//! the console. [`validate`] walks the same checks in the same order
//! (`kobj_load`, `module_fetch_info`, `module_do_load`, `kobj_affix`) and
//! says, for each problem, which errno the kernel would return and why, in
//! plain words. What each check is (its name, stage, errno, certainty) is
//! in the table of [`crate::checks`].
//!
//! Checks that changed between NetBSD releases take the target kernel's
//! version from a [`Target`], so one file can be judged for NetBSD 8, 9,
//! 10 or -current; the versions are in [`crate::rules`].
//!
//! One file per part of the kernel's walk: `header` (the ELF header),
//! `sections` (the section scan, string tables, overlaps, load regions),
//! `relocations` (both relocation passes), `descriptor`
//! (`module_fetch_info` and `module_do_load`'s checks of `modinfo_t`),
//! `symbols` (clashes and unresolved symbols). This file holds the entry
//! points and the walk's order. What a finding says is data, a
//! [`Detail`]; its words are in [`crate::findings`].

use libmodctl::errno::Errno;

use crate::kmod::{Elf, Kmod, Shdr};
use crate::rules::MAX_PLIST_FILE;

pub use crate::checks::{Certainty, Check, CheckInfo, Stage};
pub use crate::findings::{Detail, SectionRef};
pub use crate::rules::{version_compatible, KernelRules, RegionRule, Target};
pub use symbols::{
    clashing_names, clashing_symbols, required_symbols, unresolved_names, unresolved_symbols,
    RequiredSymbols,
};

mod descriptor;
mod header;
mod relocations;
mod sections;
mod symbols;
#[cfg(test)]
mod tests;

/// One problem, as the kernel would see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: Check,
    pub stage: Stage,
    /// What the kernel would return (for `certain: false` findings, the
    /// errno it most likely returns, or the closest one when the kernel
    /// would misbehave instead of refusing).
    pub errno: Errno,
    /// What was found, naming the offending values; [`Finding::reason`]
    /// words it on one line.
    pub detail: Detail,
    /// The kernel always refuses this (otherwise: advisory, or the kernel
    /// would misbehave rather than refuse).
    pub certain: bool,
    /// `MODCTL_LOAD_FORCE` (`modload -f`) overrides it (version mismatch).
    pub forceable: bool,
}

impl Finding {
    /// Whether this finding stops a load (with `force`: `modload -f`):
    /// the kernel refuses it, or it would misbehave (read or write outside
    /// the module, call a NULL pointer), which the tools do not risk.
    /// Advisories never stop a load.
    pub fn blocks(&self, force: bool) -> bool {
        self.stage != Stage::Advisory && !(self.forceable && force)
    }

    /// The finding in words: one line, naming the offending values.
    pub fn reason(&self) -> String {
        self.detail.to_string()
    }

    /// A finding of `check` as the table in [`crate::checks`] describes it.
    pub fn new(check: Check, detail: Detail) -> Finding {
        let info = check.info();
        Finding {
            check,
            stage: info.stage,
            errno: info.errno,
            detail,
            certain: info.certainty == Certainty::Refused,
            forceable: info.forceable,
        }
    }

    /// At another stage than the table's: relocation problems belong to
    /// the pass that meets them, descriptor problems to the step that
    /// reads the field.
    fn with_stage(mut self, stage: Stage) -> Finding {
        self.stage = stage;
        self
    }

    fn with_errno(mut self, errno: Errno) -> Finding {
        self.errno = errno;
        self
    }

    /// With another certainty than the table's; an advisory moves to the
    /// advisory stage.
    fn with_certainty(mut self, certainty: Certainty) -> Finding {
        self.certain = certainty == Certainty::Refused;
        if certainty == Certainty::Advisory {
            self.stage = Stage::Advisory;
        }
        self
    }
}

/// The errno the kernel would return for a module with these findings:
/// that of the first certain finding, skipping forceable ones when the
/// load is forced. `None` when nothing certain stands in the way.
pub fn kernel_errno(findings: &[Finding], force: bool) -> Option<Errno> {
    findings
        .iter()
        .find(|f| f.certain && !(f.forceable && force))
        .map(|f| f.errno)
}

/// The kernel's checks that need only the file and the target kernel, in
/// the kernel's order; advisories last.
pub fn validate(k: &Kmod, t: &Target) -> Vec<Finding> {
    Validator::new(k, t, None).run()
}

/// [`validate`], plus symbol resolution: `is_defined` says whether a name
/// is defined by the kernel or an already loaded or required module.
/// Clashes are reported where `kobj_load` checks them (before local
/// relocation), unresolved symbols where `kobj_affix` does.
pub fn validate_with_symbols(
    k: &Kmod,
    t: &Target,
    is_defined: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    Validator::new(k, t, Some(is_defined)).run()
}

/// The one finding for a file truncated while it was being read.
fn file_changed() -> Finding {
    Finding::new(Check::FileChanged, Detail::FileChanged)
}

/// Checks that need the file's location: a file name that does not match
/// the module's name (bare-name loads, autoload and dependencies look for
/// `<name>/<name>.kmod`), and a `.plist` beside it too large to read.
pub fn file_findings(path: &str, k: &Kmod) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(mi) = k.modinfo().filter(|_| !k.changed_while_read()) {
        let base = path.rsplit('/').next().unwrap_or(path);
        let stem = base.strip_suffix(".kmod").unwrap_or(base);
        if stem != mi.name {
            let detail = Detail::FileName {
                file: base.to_string(),
                module: mi.name.clone(),
            };
            out.push(Finding::new(Check::FileName, detail));
        }
    }
    let plist =
        String::from_utf8_lossy(&crate::plistfile::plist_path(path.as_bytes())).into_owned();
    if let Ok(meta) = std::fs::metadata(&plist) {
        if meta.len() >= MAX_PLIST_FILE {
            let detail = Detail::PlistTooLarge {
                path: plist,
                size: meta.len(),
                limit: MAX_PLIST_FILE - 1,
            };
            out.push(Finding::new(Check::PlistTooLarge, detail));
        }
    }
    out
}

/// The finding that stops this load: the first the kernel certainly
/// refuses (its errno is what NetBSD would print), else the first that
/// would make the kernel misbehave (see [`Finding::blocks`]).
pub fn blocking_finding(findings: &[Finding], flags: i32) -> Option<&Finding> {
    let force = flags & libmodctl::abi::MODCTL_LOAD_FORCE != 0;
    let mut blocking = findings.iter().filter(|f| f.blocks(force));
    findings
        .iter()
        .find(|f| f.certain && f.blocks(force))
        .or_else(|| blocking.next())
}

/// A section as findings name it: by index, and by name when it has one.
fn section_ref(elf: &Elf<'_>, s: &Shdr) -> SectionRef {
    SectionRef {
        index: s.index,
        name: elf
            .section_name(s)
            .filter(|n| !n.is_empty())
            .map(<[u8]>::to_vec),
    }
}

/// One walk over a module: findings at the kernel's stages in `out`,
/// advisories apart, to follow them.
struct Validator<'k, 'f> {
    k: &'k Kmod,
    t: &'k Target,
    rules: KernelRules,
    symbols: Option<&'f dyn Fn(&str) -> bool>,
    out: Vec<Finding>,
    advisories: Vec<Finding>,
}

impl<'k, 'f> Validator<'k, 'f> {
    fn new(k: &'k Kmod, t: &'k Target, symbols: Option<&'f dyn Fn(&str) -> bool>) -> Self {
        Validator {
            k,
            t,
            rules: KernelRules::for_target(t),
            symbols,
            out: Vec::new(),
            advisories: Vec::new(),
        }
    }

    /// A finding of `check` as the table describes it.
    fn push(&mut self, check: Check, detail: Detail) {
        self.add(Finding::new(check, detail));
    }

    fn add(&mut self, f: Finding) {
        if f.stage == Stage::Advisory {
            self.advisories.push(f);
        } else {
            self.out.push(f);
        }
    }

    fn run(mut self) -> Vec<Finding> {
        self.check();
        // Asked last, after every read above: findings about zeros that
        // stood in for a truncated file's contents would only mislead.
        if self.k.changed_while_read() {
            return vec![file_changed()];
        }
        let mut out = self.out;
        out.append(&mut self.advisories);
        out
    }

    /// The kernel's order: `kobj_load` (header, sections, clashes, local
    /// relocations), `module_fetch_info` and `module_do_load` (the
    /// descriptor), `kobj_affix` (global relocations, symbols).
    fn check(&mut self) {
        let Some((elf, shstrndx)) = self.header() else {
            return;
        };
        let symtab = self.sections(&elf, shstrndx);
        if let Some(st) = symtab {
            self.symbol_clashes();
            // Relocations are judged with their symbols, whose names are
            // in the section the symbol table's sh_link names.
            let link = match elf.shdr(st.link) {
                Some(_) => self.relocations(&elf, &st),
                None => Vec::new(),
            };
            self.descriptor();
            self.out.extend(link);
            self.unresolved();
        } else {
            self.descriptor();
        }
        self.advisory_sections(&elf);
    }
}
