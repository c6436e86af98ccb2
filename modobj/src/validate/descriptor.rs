//! `module_fetch_info` (find `link_set_modules` and the `modinfo_t` it
//! points to) and the checks `module_do_load` makes of the descriptor:
//! name, class, version, required modules, `mi_modcmd`.

use libmodctl::errno::Errno;

use super::{Certainty, Check, Finding, Stage, Validator};
use crate::kmod::{printable_bytes, version_text, Field, ModInfo, Note};
use crate::rules::{version_compatible, MAXMODNAME};

fn class_names(max: i32) -> &'static str {
    if max > 6 {
        "1-6: misc, vfs, driver, exec, secmodel, bufq"
    } else {
        "1-5: misc, vfs, driver, exec, secmodel"
    }
}

/// A descriptor field that cannot be decoded: the kernel would read
/// whatever lies there. Like the emulator, call it an invalid object;
/// the tools do not risk the load.
fn unreadable(n: &Note, stage: Stage) -> Finding {
    let reason = format!("the module descriptor cannot be read: {}", n.reason);
    Finding::new(n.check, reason)
        .with_stage(stage)
        .with_errno(Errno::ENOEXEC)
        .with_certainty(Certainty::Harmful)
}

impl Validator<'_, '_> {
    /// The descriptor, field by field in the order the kernel reads them.
    pub(super) fn descriptor(&mut self) {
        let notes = self.k.notes();
        let of = |field: Field| notes.iter().filter(move |n| n.field == field);
        for n in of(Field::LinkSet).chain(of(Field::Descriptor)) {
            let f = match n.check {
                // The kernel's own refusals, as the reader worded them.
                Check::LinkSetMissing | Check::LinkSetSize => {
                    Finding::new(n.check, n.reason.as_str())
                }
                _ => unreadable(n, Stage::Load),
            };
            self.add(f);
        }
        for n in of(Field::Name) {
            self.add(unreadable(n, Stage::Info));
            if n.check == Check::StringWithoutNul && n.available >= MAXMODNAME as u64 {
                self.push(
                    Check::NameLength,
                    format!(
                        "the module name is at least {} characters; the limit is {}",
                        n.available,
                        MAXMODNAME - 1
                    ),
                );
            }
        }
        let mi = self.k.modinfo();
        if let Some(mi) = mi {
            self.name(mi);
            self.class(mi);
            self.version(mi);
        }
        for n in of(Field::Required) {
            self.add(unreadable(n, Stage::Info));
        }
        if let Some(mi) = mi {
            self.required(mi);
        }
        for n in of(Field::Modcmd) {
            self.add(unreadable(n, Stage::Info));
        }
        if let Some(mi) = mi {
            if !mi.has_modcmd && of(Field::Modcmd).next().is_none() {
                self.push(
                    Check::NoModcmd,
                    "mi_modcmd is NULL: the kernel does not check and would call a NULL function \
                     at MODULE_CMD_INIT",
                );
            }
        }
    }

    fn name(&mut self, mi: &ModInfo) {
        if mi.name.len() >= MAXMODNAME {
            self.push(
                Check::NameLength,
                format!(
                    "the module name `{}` is {} characters; the limit is {}",
                    printable_bytes(mi.name.as_bytes()),
                    mi.name.len(),
                    MAXMODNAME - 1
                ),
            );
        } else if mi.name.is_empty() {
            self.push(
                Check::EmptyName,
                "the module name is empty; it can be loaded only by path and never unloaded by \
                 name",
            );
        }
    }

    fn class(&mut self, mi: &ModInfo) {
        if mi.class > 0 && mi.class < self.rules.class_max {
            return;
        }
        if self.rules.class_checked {
            self.push(
                Check::Class,
                format!(
                    "class {} is not a module class ({})",
                    mi.class,
                    class_names(self.rules.class_max)
                ),
            );
        } else {
            // Older kernels do not look at the class.
            let reason = format!(
                "class {} is not a module class ({}); NetBSD {} does not check, but nothing will \
                 ever autoload it by class",
                mi.class,
                class_names(self.rules.class_max),
                version_text(self.t.osrevision)
            );
            self.add(Finding::new(Check::Class, reason).with_certainty(Certainty::Advisory));
        }
    }

    fn version(&mut self, mi: &ModInfo) {
        if version_compatible(mi.version, self.t.osrevision) {
            return;
        }
        let rule = if self.rules.current {
            "a -current kernel accepts only modules built for exactly its version"
        } else {
            "a release kernel accepts only modules of the same major.minor release"
        };
        self.push(
            Check::Version,
            format!(
                "built for NetBSD {} ({}) but the kernel is NetBSD {} ({}); {rule} (modload -f \
                 overrides)",
                version_text(mi.version),
                mi.version,
                version_text(self.t.osrevision),
                self.t.osrevision
            ),
        );
    }

    /// The required names as `module_do_load` walks them: the first
    /// problem ends the walk.
    fn required(&mut self, mi: &ModInfo) {
        for (i, dep) in mi.required.iter().enumerate() {
            if dep.len() + 1 >= MAXMODNAME {
                self.push(
                    Check::RequiredLength,
                    format!(
                        "required module name `{}` is {} characters; the limit is {}",
                        printable_bytes(dep.as_bytes()),
                        dep.len(),
                        MAXMODNAME - 2
                    ),
                );
                return;
            }
            if let Some(max) = self.rules.max_required.filter(|&max| i >= max) {
                self.push(
                    Check::TooManyRequired,
                    format!(
                        "the module requires {} modules; NetBSD {} allows at most {max}",
                        mi.required.len(),
                        version_text(self.t.osrevision)
                    ),
                );
                return;
            }
            if *dep == mi.name {
                self.push(
                    Check::SelfDependency,
                    format!(
                        "module `{}` lists itself among its required modules",
                        printable_bytes(mi.name.as_bytes())
                    ),
                );
                return;
            }
        }
    }
}
