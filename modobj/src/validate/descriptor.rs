//! `module_fetch_info` (find `link_set_modules` and the `modinfo_t` it
//! points to) and the checks `module_do_load` makes of the descriptor:
//! name, class, version, required modules, `mi_modcmd`.

use libmodctl::errno::Errno;

use super::{Certainty, Check, Detail, Finding, Stage, Validator};
use crate::kmod::{Field, ModInfo, Note};
use crate::rules::{version_compatible, MAXMODNAME};

/// A descriptor field that cannot be decoded: the kernel would read
/// whatever lies there. Like the emulator, call it an invalid object;
/// the tools do not risk the load.
fn unreadable(n: &Note, stage: Stage) -> Finding {
    Finding::new(n.check, Detail::Unreadable(Box::new(n.detail.clone())))
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
                    Finding::new(n.check, n.detail.clone())
                }
                _ => unreadable(n, Stage::Load),
            };
            self.add(f);
        }
        for n in of(Field::Name) {
            self.add(unreadable(n, Stage::Info));
            if n.check == Check::StringWithoutNul && n.available >= MAXMODNAME as u64 {
                let detail = Detail::NameAtLeast {
                    length: n.available,
                    limit: MAXMODNAME - 1,
                };
                self.push(Check::NameLength, detail);
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
                self.push(Check::NoModcmd, Detail::NoModcmd);
            }
        }
    }

    fn name(&mut self, mi: &ModInfo) {
        if mi.name.len() >= MAXMODNAME {
            let detail = Detail::NameTooLong {
                name: mi.name.clone(),
                limit: MAXMODNAME - 1,
            };
            self.push(Check::NameLength, detail);
        } else if mi.name.is_empty() {
            self.push(Check::EmptyName, Detail::EmptyName);
        }
    }

    fn class(&mut self, mi: &ModInfo) {
        if mi.class > 0 && mi.class < self.rules.class_max {
            return;
        }
        // Older kernels do not look at the class.
        let checked = self.rules.class_checked;
        let detail = Detail::Class {
            class: mi.class,
            max: self.rules.class_max,
            unchecked_by: (!checked).then_some(self.t.osrevision),
        };
        let f = Finding::new(Check::Class, detail);
        if checked {
            self.add(f);
        } else {
            self.add(f.with_certainty(Certainty::Advisory));
        }
    }

    fn version(&mut self, mi: &ModInfo) {
        if version_compatible(mi.version, self.t.osrevision) {
            return;
        }
        let detail = Detail::Version {
            module: mi.version,
            kernel: self.t.osrevision,
            current: self.rules.current,
        };
        self.push(Check::Version, detail);
    }

    /// The required names as `module_do_load` walks them: the first
    /// problem ends the walk.
    fn required(&mut self, mi: &ModInfo) {
        for (i, dep) in mi.required.iter().enumerate() {
            if dep.len() + 1 >= MAXMODNAME {
                let detail = Detail::RequiredTooLong {
                    name: dep.clone(),
                    limit: MAXMODNAME - 2,
                };
                self.push(Check::RequiredLength, detail);
                return;
            }
            if let Some(max) = self.rules.max_required.filter(|&max| i >= max) {
                let detail = Detail::TooManyRequired {
                    count: mi.required.len(),
                    kernel: self.t.osrevision,
                    max,
                };
                self.push(Check::TooManyRequired, detail);
                return;
            }
            if *dep == mi.name {
                let name = mi.name.clone();
                self.push(Check::SelfDependency, Detail::SelfDependency { name });
                return;
            }
        }
    }
}
