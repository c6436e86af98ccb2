//! Booting: `module_prime` for each object the boot loader passed,
//! `module_builtin_add` for the kernel's `link_set_modules`, then
//! `module_init_class` pass by pass (kern_module.c r1.155; the passes are
//! [`crate::boot::BOOT_CLASS_PASSES`]). A boot module's requirements come
//! from the built-ins and the boot list: the file system is not mounted
//! yet, so anything else fails with `EOPNOTSUPP`.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use libmodctl::abi::{ModClass, MODFLG_MUST_FORCE};
use libmodctl::errno::Errno;
use libmodctl::ModName;

use super::load::Call;
use super::{Engine, Host, Module, Modules, Refusal, Why};
use crate::boot::BOOT_CLASS_PASSES;
use crate::kobj;

/// One object the boot loader passed: the name `module_prime` gets, the
/// file it came from, and what the linker made of it.
#[derive(Debug, Clone)]
pub struct BootEntry {
    pub name: ModName,
    /// The file, as the host knows it (kept in the module's record).
    pub path: Option<Vec<u8>>,
    pub object: Result<kobj::Loaded, kobj::Refusal>,
}

/// What became of one boot entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// `module_prime` refused it: not on the boot list.
    NotPrimed(Refusal),
    /// Initialised: the `nth` (from 0) boot module to become active.
    Loaded {
        nth: usize,
        pass: ModClass,
        dependency_of: Option<ModName>,
    },
    /// Taken off the boot list and refused. `causes` are the refusals of
    /// its load, innermost first; the last is its own.
    Failed {
        errno: Errno,
        pass: ModClass,
        dependency_of: Option<ModName>,
        causes: Vec<Refusal>,
    },
    /// Still on the boot list after every pass.
    Left,
}

impl Fate {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Fate::NotPrimed(r) => Some(r.errno),
            Fate::Failed { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// The kernel after boot.
#[derive(Debug, Clone)]
pub struct BootOutcome {
    pub modules: Modules,
    /// One per boot entry.
    pub fates: Vec<Fate>,
}

/// A primed object: its descriptor, what the linker made of it, its file.
pub(super) type Primed = (kobj::Info, Box<kobj::Loaded>, Option<Vec<u8>>);

/// `module_bootlist`, with what the boot check needs to know of each.
#[derive(Default)]
pub(super) struct BootList {
    /// By entry: the object while it is primed and not taken.
    slots: Vec<Option<Primed>>,
    /// Entries on the list by `mi_name` (several may share one).
    by_name: HashMap<ModName, SameName>,
    /// Entries taken off the list by `mi_name`.
    taken_names: HashMap<ModName, usize>,
    /// Entries still on the list, in list order.
    on_list: BTreeSet<usize>,
    /// By entry: taken off the list, and its load has not ended.
    in_progress: Vec<bool>,
    /// By entry in progress: where it started in `log`.
    log_start: Vec<usize>,
    fates: Vec<Fate>,
    loaded: usize,
    /// Every refusal while booting, in order.
    pub(super) log: Vec<Refusal>,
}

/// The entries on the list of one `mi_name`, first first: almost always
/// one, which then takes no allocation (100,000 boot modules are primed
/// in a boot).
enum SameName {
    One(usize),
    More(VecDeque<usize>),
}

impl BootList {
    /// Takes the entry of `mi_name` off the list.
    pub(super) fn take(&mut self, name: &[u8]) -> Option<(usize, Primed)> {
        let i = match self.by_name.get_mut(name)? {
            SameName::One(i) => {
                let i = *i;
                self.by_name.remove(name);
                i
            }
            SameName::More(queue) => {
                let i = queue.pop_front()?;
                if queue.is_empty() {
                    self.by_name.remove(name);
                }
                i
            }
        };
        self.on_list.remove(&i);
        let primed = self.slots[i].take()?;
        self.in_progress[i] = true;
        self.taken_names.insert(primed.0.name.clone(), i);
        self.log_start[i] = self.log.len();
        Some((i, primed))
    }

    /// Whether the entry of `mi_name` is being loaded (taken off the list
    /// by a load that has not ended).
    pub(super) fn taken(&self, name: &[u8]) -> bool {
        self.taken_names
            .get(name)
            .is_some_and(|&i| self.in_progress[i])
    }
}

impl Engine<'_> {
    /// A boot entry became active.
    pub(super) fn boot_loaded(&mut self, i: usize, dependency_of: Option<ModName>) {
        let nth = self.bootlist.loaded;
        self.bootlist.loaded += 1;
        self.bootlist.in_progress[i] = false;
        if let Some(f) = self.bootlist.fates.get_mut(i) {
            *f = Fate::Loaded {
                nth,
                pass: self.pass,
                dependency_of,
            };
        }
    }

    /// A boot entry taken off the list failed with `errno`.
    pub(super) fn boot_failed(&mut self, i: usize, errno: Errno, dependency_of: Option<ModName>) {
        if !std::mem::take(&mut self.bootlist.in_progress[i]) {
            return;
        }
        let from = self.bootlist.log_start[i];
        let causes = self.bootlist.log.get(from..).unwrap_or_default().to_vec();
        if let Some(f) = self.bootlist.fates.get_mut(i) {
            *f = Fate::Failed {
                errno,
                pass: self.pass,
                dependency_of,
                causes,
            };
        }
    }

    /// Boots: primes `entries`, adds `builtins`, runs the class passes,
    /// and marks the built-ins left over as needing force.
    pub fn boot(
        host: &mut dyn Host,
        builtins: Vec<Module>,
        entries: Vec<BootEntry>,
    ) -> BootOutcome {
        let mut e = Engine::new(Modules::default(), host);
        e.root_mounted = false;
        e.booting = true;
        let builtin_names: HashSet<ModName> = builtins.iter().map(|b| b.name.clone()).collect();
        e.bootlist.fates = vec![Fate::Left; entries.len()];
        e.bootlist.slots = (0..entries.len()).map(|_| None).collect();
        e.bootlist.in_progress = vec![false; entries.len()];
        e.bootlist.log_start = vec![0; entries.len()];
        e.bootlist.by_name.reserve(entries.len());
        // module_init(): module_init_md() primes before the built-ins
        // are added.
        for (i, entry) in entries.into_iter().enumerate() {
            if let Err(r) = e.prime(i, entry, &builtin_names) {
                e.bootlist.fates[i] = Fate::NotPrimed(r);
            }
        }
        for b in builtins {
            let name = b.name.clone();
            if !e.mods.builtins.push_tail(b) {
                e.refuse(&name, Errno::EEXIST, Why::BuiltinDuplicate, false);
            }
        }
        for class in BOOT_CLASS_PASSES {
            e.init_class(class);
        }
        for m in e.mods.builtins.iter_mut() {
            m.flags |= MODFLG_MUST_FORCE;
        }
        let fates = std::mem::take(&mut e.bootlist.fates);
        BootOutcome {
            modules: e.into_modules(),
            fates,
        }
    }

    /// module_prime().
    fn prime(
        &mut self,
        i: usize,
        entry: BootEntry,
        builtin_names: &HashSet<ModName>,
    ) -> Result<(), Refusal> {
        let name = entry.name.clone();
        let no = |e: &mut Self, errno: Errno, why: Why| -> Result<(), Refusal> {
            e.refuse(&name, errno, why, false);
            Err(e.last_refusal.clone().expect("just refused"))
        };
        if builtin_names.contains(&name) {
            return no(self, Errno::EEXIST, Why::PrimeBuiltinName);
        }
        if self.bootlist.by_name.contains_key(&name)
            || self.bootlist.taken_names.contains_key(&name)
        {
            return no(self, Errno::EEXIST, Why::PrimeDuplicate);
        }
        let o = match entry.object {
            Ok(o) => o,
            Err(refusal) => {
                let errno = refusal.errno;
                return no(self, errno, Why::PrimeLoad { refusal });
            }
        };
        // kobj_load's kobj_checksyms: only the kernel's symbols exist yet.
        let clashes: Vec<String> = crate::validate::clashing_names(&o.defined, &|s| {
            self.host.kernel_defines(s) == Some(true)
        });
        if !clashes.is_empty() {
            return no(self, Errno::ENOEXEC, Why::PrimeClash { symbols: clashes });
        }
        let info = match &o.info {
            Ok(info) => info.clone(),
            Err(r) => {
                let why = Why::PrimeFetchInfo {
                    link_set_missing: r.errno == Errno::ENOENT,
                };
                return no(self, r.errno, why);
            }
        };
        // Entries are primed in list order: `i` is the last of its name.
        match self.bootlist.by_name.entry(info.name.clone()) {
            Entry::Vacant(v) => {
                v.insert(SameName::One(i));
            }
            Entry::Occupied(mut o) => {
                let same = o.get_mut();
                if let SameName::One(first) = *same {
                    *same = SameName::More(VecDeque::from([first]));
                }
                if let SameName::More(queue) = same {
                    queue.push_back(i);
                }
            }
        }
        self.bootlist.slots[i] = Some((info, Box::new(o), entry.path));
        self.bootlist.on_list.insert(i);
        Ok(())
    }

    /// module_init_class(): the built-ins of the class from the head of
    /// the list (failures set aside and put back at the tail afterwards),
    /// then the boot list's modules of the class, each time the first on
    /// the list.
    fn init_class(&mut self, class: ModClass) {
        self.pass = class;
        let matches = |c: i32| class == ModClass::Any || c == class as i32;
        // Nothing joins the built-ins during a pass, so the list as it is
        // now, skipping those gone meanwhile, is the order the kernel
        // takes them in.
        let names: Vec<ModName> = self
            .mods
            .builtins
            .iter()
            .filter(|m| matches(m.class))
            .map(|m| m.name.clone())
            .collect();
        let mut failed = Vec::new();
        for name in names {
            let Some(b) = self.mods.builtins.get(name.as_bytes()) else {
                continue;
            };
            if b.flags & MODFLG_MUST_FORCE != 0
                || self.do_builtin(&name, &name, None, false).is_err()
            {
                if let Some(m) = self.mods.builtins.remove(name.as_bytes()) {
                    failed.push(m);
                }
            }
        }
        // A boot module named like a built-in not yet initialised makes
        // module_do_load initialise the built-in instead; the next round
        // takes the module, so each entry gets two tries.
        let mut cursor = 0;
        loop {
            let next = self.bootlist.on_list.range(cursor..).copied().find(|&i| {
                self.bootlist.slots[i]
                    .as_ref()
                    .is_some_and(|(info, _, _)| matches(info.class))
            });
            let Some(i) = next else { break };
            for _ in 0..2 {
                let Some((info, _, _)) = self.bootlist.slots[i].as_ref() else {
                    break;
                };
                let name = info.name.clone().into_bytes();
                self.pending.clear();
                self.pending_names.clear();
                let _ = self.do_load(Call {
                    name,
                    isdep: false,
                    flags: 0,
                    props: None,
                    class: class as i32,
                    autoload: false,
                });
            }
            cursor = i + 1;
        }
        for m in failed {
            self.mods.builtins.push_tail(m);
        }
    }
}
