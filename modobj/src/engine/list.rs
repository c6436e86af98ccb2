//! A kernel module list (a `TAILQ` of `struct module`) that is also found
//! by name: insertion at either end, removal and look-up in logarithmic
//! or constant time, iteration head first.

use std::collections::{BTreeMap, HashMap};

use libmodctl::ModName;

use super::Module;

/// Modules in list order, each name at most once.
#[derive(Debug, Clone, Default)]
pub struct ModList {
    /// By position: smaller keys nearer the head. Boxed: a module is a
    /// couple of hundred bytes, and an insertion at the head shifts the
    /// entries of a tree node (100,000 built-ins: a fifth of a boot).
    slots: BTreeMap<i64, Box<Module>>,
    by_name: HashMap<ModName, i64>,
    /// The keys one before the head and one after the tail.
    head: i64,
    tail: i64,
}

impl ModList {
    pub fn new() -> ModList {
        ModList {
            slots: BTreeMap::new(),
            by_name: HashMap::new(),
            head: 0,
            tail: 1,
        }
    }

    /// The list of `mods`, head first. A repeated name keeps its first
    /// place only.
    pub fn from_vec(mods: Vec<Module>) -> ModList {
        let mut l = ModList::new();
        for m in mods {
            l.push_tail(m);
        }
        l
    }

    /// The modules head first.
    pub fn into_vec(self) -> Vec<Module> {
        self.slots.into_values().map(|m| *m).collect()
    }

    /// `TAILQ_INSERT_HEAD`; `false` (and nothing done) when the name is
    /// there already.
    pub fn push_head(&mut self, m: Module) -> bool {
        if self.by_name.contains_key(&m.name) {
            return false;
        }
        let at = self.head;
        self.head -= 1;
        self.by_name.insert(m.name.clone(), at);
        self.slots.insert(at, Box::new(m));
        true
    }

    /// `TAILQ_INSERT_TAIL`; `false` (and nothing done) when the name is
    /// there already.
    pub fn push_tail(&mut self, m: Module) -> bool {
        if self.by_name.contains_key(&m.name) {
            return false;
        }
        let at = self.tail;
        self.tail += 1;
        self.by_name.insert(m.name.clone(), at);
        self.slots.insert(at, Box::new(m));
        true
    }

    pub fn get(&self, name: &[u8]) -> Option<&Module> {
        self.by_name
            .get(name)
            .and_then(|k| self.slots.get(k))
            .map(|m| &**m)
    }

    pub fn get_mut(&mut self, name: &[u8]) -> Option<&mut Module> {
        self.by_name
            .get(name)
            .and_then(|k| self.slots.get_mut(k))
            .map(|m| &mut **m)
    }

    pub fn contains(&self, name: &[u8]) -> bool {
        self.by_name.contains_key(name)
    }

    pub fn remove(&mut self, name: &[u8]) -> Option<Module> {
        let k = self.by_name.remove(name)?;
        self.slots.remove(&k).map(|m| *m)
    }

    /// Head first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Module> {
        self.slots.values().map(|m| &**m)
    }

    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Module> {
        self.slots.values_mut().map(|m| &mut **m)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Two lists are equal when they hold the same modules in the same order.
impl PartialEq for ModList {
    fn eq(&self, other: &ModList) -> bool {
        self.slots.len() == other.slots.len() && self.slots.values().eq(other.slots.values())
    }
}

impl Eq for ModList {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_lookup_and_removal() {
        let mut l = ModList::new();
        assert!(l.push_tail(Module::builtin("b", 1, None)));
        assert!(l.push_head(Module::builtin("a", 1, None)));
        assert!(l.push_tail(Module::builtin("c", 1, None)));
        assert!(!l.push_head(Module::builtin("c", 2, None)));
        let names: Vec<String> = l.iter().map(|m| m.name.to_string()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(l.get(b"c").unwrap().class, 1);
        assert_eq!(l.remove(b"b").unwrap().name, "b");
        assert!(!l.contains(b"b"));
        assert_eq!(l.len(), 2);
        assert_eq!(l, ModList::from_vec(l.clone().into_vec()));
    }
}
