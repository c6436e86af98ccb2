//! `module_unload`, `module_do_unload` and the auto-unload pass of
//! `module_thread` (kern_module.c r1.155).

use libmodctl::abi::{ModClass, MODFLG_MUST_FORCE};
use libmodctl::errno::Errno;
use libmodctl::ModName;

use super::{Engine, Why};

impl Engine<'_> {
    /// `MODCTL_UNLOAD` of a name as the caller gave it: kauth, then
    /// `module_do_unload`.
    pub fn module_unload(&mut self, name: &[u8]) -> Result<(), Errno> {
        if !self.host.may_load(false) {
            let asked = ModName::from(name);
            return Err(self.refuse(&asked, Errno::EPERM, Why::NotPermitted, false));
        }
        self.do_unload(name, true)
    }

    /// `module_do_unload()`.
    fn do_unload(&mut self, name: &[u8], load_requires_force: bool) -> Result<(), Errno> {
        let asked = ModName::from(name);
        let Some(m) = self.mods.active.get(name) else {
            return Err(self.refuse(&asked, Errno::ENOENT, Why::NotFound, false));
        };
        if m.refcnt != 0 {
            return Err(self.refuse(&asked, Errno::EBUSY, Why::Busy, false));
        }
        // Built-in secmodels are there to stay.
        if m.is_builtin() && m.class == ModClass::Secmodel as i32 {
            return Err(self.refuse(&asked, Errno::EPERM, Why::BuiltinSecmodel, false));
        }
        if let Err(e) = self.host.fini(name) {
            return Err(self.refuse(&asked, e, Why::Fini, false));
        }
        let Some(mut m) = self.mods.active.remove(name) else {
            return Err(Errno::ENOENT);
        };
        for d in &m.deps {
            if let Some(dep) = self.mods.active.get_mut(d.as_bytes()) {
                dep.refcnt = dep.refcnt.saturating_sub(1);
            }
        }
        // Its symbols are gone: the set is built again when next needed.
        self.module_symbols = None;
        if m.is_builtin() {
            m.deps.clear();
            m.props = None;
            if load_requires_force {
                m.flags |= MODFLG_MUST_FORCE;
            }
            self.mods.builtins.push_tail(m);
        }
        Ok(())
    }

    /// One pass of the auto-unload thread at the host's `now`: each
    /// auto-loaded module whose deadline has passed gets one try, from
    /// the head of the list (so a module goes before those it requires).
    /// Memory-pressure unloading is not modelled; a module answers
    /// `MODULE_CMD_AUTOUNLOAD` with ENOTTY ("go ahead").
    pub fn autounload_pass(&mut self) {
        if self.host.autotime() == 0 {
            return;
        }
        let now = self.host.now();
        // The modules due, found in one pass; each is then one look-up.
        let due: Vec<ModName> = self
            .mods
            .active
            .iter()
            .filter(|m| !m.is_builtin() && m.auto_loaded() && m.autotime != 0 && now >= m.autotime)
            .map(|m| m.name.clone())
            .collect();
        for name in due {
            let Some(m) = self.mods.active.get_mut(name.as_bytes()) else {
                continue;
            };
            m.autotime = 0;
            let _ = self.do_unload(name.as_bytes(), false);
        }
    }
}
