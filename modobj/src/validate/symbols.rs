//! Symbol resolution: global symbols the module defines that already
//! exist (`kobj_load` refuses them before relocating), undefined ones
//! nobody defines (`kobj_affix` fails on them), and the symbols the
//! modules it requires would bring.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use libmodctl::ModName;

use super::{Check, Detail, Validator};
use crate::kmod::Kmod;

/// The kernel's exceptions to the "global symbol redefined" check.
fn clash_exempt(name: &str) -> bool {
    matches!(
        name,
        "_bss_start"
            | "__bss_start"
            | "_bss_end__"
            | "__bss_end__"
            | "_edata"
            | "_end"
            | "__end"
            | "__end__"
    ) || name.starts_with("__start_link_set_")
        || name.starts_with("__stop_link_set_")
}

/// Undefined global symbols of the module that `is_defined` (the kernel's
/// symbols plus those of the modules it requires) does not provide.
/// Reads the file: ask [`Kmod::changed_while_read`] after.
pub fn unresolved_symbols(k: &Kmod, is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    unresolved_names(&k.undefined_globals(), is_defined)
}

/// [`unresolved_symbols`] of a module whose undefined globals are `undefined`.
pub fn unresolved_names(undefined: &[String], is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    undefined
        .iter()
        .filter(|n| !is_defined(n))
        .cloned()
        .collect()
}

/// Defined global symbols of the module that already exist (the kernel
/// refuses to load a module redefining one), minus the kernel's
/// exceptions (`__start_link_set_*`, `__stop_link_set_*`, `_end`, ...).
/// Reads the file: ask [`Kmod::changed_while_read`] after.
pub fn clashing_symbols(k: &Kmod, is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    clashing_names(&k.defined_globals(), is_defined)
}

/// [`clashing_symbols`] of a module whose defined globals are `defined`.
pub fn clashing_names(defined: &[String], is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    defined
        .iter()
        .filter(|n| is_defined(n) && !clash_exempt(n))
        .cloned()
        .collect()
}

/// Symbols the modules a module requires would bring, found where the
/// kernel finds dependencies (`<module_path>/<name>/<name>.kmod`),
/// following their own requirements in turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequiredSymbols {
    /// Defined globals of every required module reached.
    pub defined: BTreeSet<String>,
    /// Required modules that could not be read or decoded.
    pub missing: Vec<ModName>,
}

/// Collects the defined globals of the modules `k` requires (directly or
/// through other required modules). Each file is read and dropped in
/// turn, so memory stays at one module plus the name sets.
pub fn required_symbols(k: &Kmod, module_path: &str) -> RequiredSymbols {
    let mut out = RequiredSymbols::default();
    let mut seen: BTreeSet<ModName> = BTreeSet::new();
    let mut queue: Vec<ModName> = k.modinfo().map(|m| m.required.clone()).unwrap_or_default();
    if let Some(m) = k.modinfo() {
        seen.insert(m.name.clone());
    }
    while let Some(name) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let file = crate::path::module_file_bytes(module_path.as_bytes(), name.as_bytes());
        let dep = Kmod::open(std::path::Path::new(OsStr::from_bytes(&file))).ok();
        let found = dep.as_ref().and_then(|dep| {
            let info = dep.modinfo()?;
            let defined = dep.defined_globals();
            // Asked after reading: a file that shrank meanwhile is unreadable.
            (!dep.changed_while_read()).then(|| (defined, info.required.clone()))
        });
        match found {
            Some((defined, required)) => {
                out.defined.extend(defined);
                queue.extend(required);
            }
            None => out.missing.push(name),
        }
    }
    out
}

impl Validator<'_, '_> {
    /// Defined globals that already exist, when symbols are known.
    pub(super) fn symbol_clashes(&mut self) {
        let Some(is_defined) = self.symbols else {
            return;
        };
        for name in clashing_symbols(self.k, is_defined) {
            self.push(Check::SymbolClash, Detail::SymbolClash { name });
        }
    }

    /// Undefined globals nobody defines, when symbols are known.
    pub(super) fn unresolved(&mut self) {
        let Some(is_defined) = self.symbols else {
            return;
        };
        for name in unresolved_symbols(self.k, is_defined) {
            self.push(Check::UnresolvedSymbol, Detail::Unresolved { name });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clash_exceptions_are_the_kernels() {
        assert!(clash_exempt("__start_link_set_modules"));
        assert!(clash_exempt("__stop_link_set_sysctl_funcs"));
        assert!(clash_exempt("_end"));
        assert!(!clash_exempt("printf"));
        assert!(!clash_exempt("__start_other"));
    }
}
