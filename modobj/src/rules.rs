//! Every kernel rule and limit the tools model, with the release it
//! applies from: one home, so that a fact corrected here is corrected for
//! the validator, the dry run and the emulator alike.
//!
//! Where the release at which behaviour changed is not confirmed, it is a
//! named constant below marked UNVERIFIED.
//!
//! Depends only on `osrev`; the port tables in `machine` read the
//! relocation gates from here.

use libmodctl::ModName;

use crate::osrev::OsRevision;

/// The release a kernel is taken to be when nothing names one: the
/// emulated kernel's default profile.
pub const DEFAULT_RELEASE: OsRevision = OsRevision::new(10, 1, 0);

/// The kernel a module is judged for.
#[derive(Debug, Clone)]
pub struct Target {
    /// `kern.osrevision`, e.g. 1001000000 for NetBSD 10.1.
    pub osrevision: u32,
    /// `hw.machine` or `hw.machine_arch`, e.g. "amd64".
    pub machine: String,
}

impl Target {
    pub fn new(osrevision: u32, machine: &str) -> Target {
        Target {
            osrevision,
            machine: machine.to_string(),
        }
    }

    /// A -current kernel (minor version 99).
    pub fn is_current(&self) -> bool {
        OsRevision(self.osrevision).is_current()
    }
}

/// Kernels from this version on refuse a module class outside
/// `1..MODULE_CLASS_MAX` with EINVAL; older ones (kern_module.c 1.106,
/// 2015) do not look at the class. UNVERIFIED: the exact version; taken
/// as NetBSD 8.0, the first release after 1.106.
pub const CLASS_CHECK_SINCE: u32 = OsRevision::new(8, 0, 0).get();

/// Kernels from this version on know `MODULE_CLASS_BUFQ` (6). UNVERIFIED:
/// absent in module.h 1.38 (2015), present in 1.48 (2021); taken as 8.0
/// like `abi::MODULE_CLASS_MAX`.
pub const BUFQ_CLASS_SINCE: u32 = OsRevision::new(8, 0, 0).get();

/// amd64 kernels from this version on accept `R_X86_64_PLT32`, which
/// binutils ≥ 2.31 emits for every call. UNVERIFIED: kobj_machdep.c 1.6
/// (2017) refuses it; NetBSD 9.0 ships binutils 2.31, so its kernel must
/// accept it. -current kernels of the 8.99 series are not distinguished.
pub const AMD64_PLT32_SINCE: u32 = OsRevision::new(9, 0, 0).get();

/// i386 kernels from this version on accept `R_386_PLT32`. UNVERIFIED:
/// kobj_machdep.c 1.5.8.1 (2009) refuses it and no newer revision was
/// read, so no version is assumed to accept it.
pub const I386_PLT32_SINCE: Option<u32> = None;

/// arm kernels from this version on apply R_ARM_CALL, R_ARM_JUMP24,
/// R_ARM_PC24, R_ARM_REL32, R_ARM_V4BX, R_ARM_MOVW_ABS_NC and
/// R_ARM_MOVT_ABS; kobj_machdep.c 1.1.2.2 (2008) applied only NONE,
/// ABS32, JUMP_SLOT and RELATIVE. UNVERIFIED: they are in 1.9.4.1
/// (2014/11/14, a netbsd-7 pull-up); taken as NetBSD 7.0.
pub const ARM_BRANCHES_SINCE: Option<u32> = Some(OsRevision::new(7, 0, 0).get());

/// powerpc kernels from this version on apply R_PPC_REL32, R_PPC_REL16
/// and its _LO/_HI/_HA forms, R_PPC_ADDR16 and R_PPC_ADDR16_HI;
/// kobj_machdep.c 1.1 (2008) applied only ADDR32, ADDR16_LO, ADDR16_HA
/// and RELATIVE. UNVERIFIED: they are in 1.4.2.1 (2011/06/23, a branch
/// copy of HEAD); taken as NetBSD 6.0, the first release after.
pub const POWERPC_REL16_SINCE: Option<u32> = Some(OsRevision::new(6, 0, 0).get());

/// riscv kernels from this version on have the rewritten linker
/// (kobj_machdep.c 1.5, 2023/05/07): R_RISCV_RELAX, PCREL_LO12_S, HI20,
/// the ADD/SUB/SET types, RVC_BRANCH, RVC_JUMP and 32_PCREL; 1.3 (2020)
/// applied only NONE, 64, BRANCH, JAL, CALL, CALL_PLT, PCREL_HI20,
/// PCREL_LO12_I, LO12_I and LO12_S. UNVERIFIED: the -current version of
/// May 2023 is taken as 10.99.4 (netbsd-10 branched before, so 10.x
/// kernels keep the old set), and no revision between 1.3 and 1.5 was
/// read.
pub const RISCV_REWRITE_SINCE: Option<u32> = Some(OsRevision::new(10, 99, 4).get());

/// Kernels from this version on size text, read-only data and data as
/// three regions (`subr_kobj.c` r1.57, the 7.99.34 kernel, already does);
/// older ones used one region and refused only an entirely empty module
/// ("no text/data/bss"). UNVERIFIED: the split landed in 2016 during
/// 7.99.x; taken as 7.99.34, the first kernel known to have it.
pub const SPLIT_REGIONS_SINCE: u32 = OsRevision::new(7, 99, 34).get();

/// Kernels from this version on refuse only a module without text; from
/// [`SPLIT_REGIONS_SINCE`] until this one, `kobj_load` refused a module
/// whose text, data/bss or rodata region was empty, each with ENOEXEC
/// ("no text", "no data/bss", "no rodata"; r1.57, observed on a real
/// 7.99.34 kernel). r1.76 (2023) refuses only "no text". UNVERIFIED:
/// the revision between that relaxed it; taken as NetBSD 8.0.
pub const EMPTY_REGIONS_ALLOWED_SINCE: u32 = OsRevision::new(8, 0, 0).get();

/// `MODULE_MAX_DEPTH`: older kernels count `module_do_load` calls of one
/// load, the requested module being 1, and refuse the seventh with EMLINK
/// ("recursion too deep for `%s' %d > %d").
pub const MODULE_MAX_DEPTH: usize = 6;

/// Kernels from this version on have no dependency depth limit (the
/// pending-list rework of kern_module.c). UNVERIFIED: taken as NetBSD 9.0,
/// like [`DYNAMIC_REQUIRED_SINCE`], which came with the same rework.
pub const DEPTH_UNLIMITED_SINCE: u32 = OsRevision::new(9, 0, 0).get();

/// Kernels before this version keep required modules in a fixed array and
/// refuse a tenth requirement with EINVAL (kern_module.c 1.106);
/// kern_module.c 1.155 grows the array. UNVERIFIED: taken as NetBSD 9.0.
pub const DYNAMIC_REQUIRED_SINCE: u32 = OsRevision::new(9, 0, 0).get();

/// Kernels from this version on fill the 64-byte `modstat_t` of the v2
/// `MODCTL_STAT` ABI (NetBSD 9.0; older ones the 392-byte one).
pub const STAT_V2_SINCE: u32 = OsRevision::new(9, 0, 0).get();

/// `ELF_MAXSHNUM`: the most section headers `kobj_load` accepts.
pub const MAX_SHNUM: u16 = 32768;
/// `MAXMODDEPS`: the old kernels' fixed array of required modules.
pub use libmodctl::abi::MAXMODDEPS;
/// `MAXMODNAME`: a module name, its NUL included, fits in this many bytes.
pub use libmodctl::abi::MAXMODNAME;
/// `module_load_vfs` refuses a module's `.plist` of this size or more
/// (EFBIG), and reads at most one byte less.
pub const MAX_PLIST_FILE: u64 = 8191;

/// The version-dependent rules of a target kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRules {
    /// -current: versions must match exactly.
    pub current: bool,
    /// The kernel refuses an out-of-range class.
    pub class_checked: bool,
    /// One past the highest valid class (`MODULE_CLASS_MAX`).
    pub class_max: i32,
    /// `kern.osrevision`, for the relocation types a port's linker
    /// implements from some release on (the `*_PLT32_SINCE` constants,
    /// used by the port tables in `machine`).
    pub osrevision: u32,
    /// Which empty load regions the kernel refuses.
    pub regions: RegionRule,
    /// Longest chain of `module_do_load` calls in one load, if limited.
    pub max_depth: Option<usize>,
    /// Most required modules the kernel accepts, if limited.
    pub max_required: Option<usize>,
}

/// How `kobj_load` sizes a module's memory, and which empty parts it
/// refuses (ENOEXEC each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRule {
    /// One region for everything: refused only when all of it is empty.
    SingleRegion,
    /// Text, data/bss and rodata apart, and none of them may be empty.
    EveryRegionRequired,
    /// Text, data/bss and rodata apart; only text is required.
    TextRequired,
}

impl KernelRules {
    pub fn for_target(t: &Target) -> KernelRules {
        let v = t.osrevision;
        KernelRules {
            current: t.is_current(),
            class_checked: v >= CLASS_CHECK_SINCE,
            class_max: if v >= BUFQ_CLASS_SINCE { 7 } else { 6 },
            osrevision: v,
            regions: if v >= EMPTY_REGIONS_ALLOWED_SINCE {
                RegionRule::TextRequired
            } else if v >= SPLIT_REGIONS_SINCE {
                RegionRule::EveryRegionRequired
            } else {
                RegionRule::SingleRegion
            },
            max_depth: (v < DEPTH_UNLIMITED_SINCE).then_some(MODULE_MAX_DEPTH),
            max_required: (v < DYNAMIC_REQUIRED_SINCE).then_some(MAXMODDEPS - 1),
        }
    }

    // `accepts_relocation` is in `machine`, beside the port tables it
    // reads.
}

/// Whether a module built for `module` (its `mi_version`) may load into a
/// kernel of version `kernel`, by the kernel's rule: a -current kernel
/// (minor 99) wants the same version; a release kernel accepts versions
/// that differ by less than 10000 (the patch digits only).
pub fn version_compatible(module: u32, kernel: u32) -> bool {
    if OsRevision(kernel).is_current() {
        module == kernel
    } else {
        // module_compatible() takes both as int.
        let diff = i64::from(module as i32) - i64::from(kernel as i32);
        diff.abs() < 10000
    }
}

/// What the kernel does with a required name of `MAXMODNAME - 1` bytes or
/// more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongRequired {
    /// `module_do_load`: the load fails with EINVAL there.
    Refuse,
    /// `module_do_builtin`: the name is cut to `MAXMODNAME - 1` bytes.
    Truncate,
    /// Reading a file: kept whole, for the validator to judge.
    Keep,
}

/// The components of `mi_required` as the kernel walks them: at each step
/// skip one comma, take characters up to the next comma or the end; an
/// empty component ends the list (so `",a,,b"` names only `a`). A long
/// component is handled as `long` says; `Refuse` yields one `Err(EINVAL)`
/// and ends the list.
pub fn required_components(
    list: &[u8],
    long: LongRequired,
) -> impl Iterator<Item = Result<ModName, libmodctl::Errno>> + '_ {
    let mut rest = list;
    let mut done = false;
    std::iter::from_fn(move || {
        if done || rest.is_empty() {
            return None;
        }
        if rest[0] == b',' {
            rest = &rest[1..];
        }
        let end = rest.iter().position(|&c| c == b',').unwrap_or(rest.len());
        let mut comp = &rest[..end];
        rest = &rest[end..];
        if comp.len() + 1 >= MAXMODNAME {
            match long {
                LongRequired::Truncate => comp = &comp[..MAXMODNAME - 1],
                LongRequired::Refuse => {
                    done = true;
                    return Some(Err(libmodctl::Errno::EINVAL));
                }
                LongRequired::Keep => {}
            }
        }
        if comp.is_empty() {
            done = true;
            return None;
        }
        Some(Ok(ModName::from(comp)))
    })
}

/// [`required_components`] of a list read from a file or a listing, every
/// name kept whatever its length (the kernel refuses a long one only when
/// it reaches it, after loading the earlier ones).
pub fn split_required(raw: &[u8]) -> Vec<ModName> {
    required_components(raw, LongRequired::Keep)
        .filter_map(Result::ok)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmodctl::Errno;

    fn comps(list: &str, truncate: bool) -> Vec<Result<ModName, Errno>> {
        let long = if truncate {
            LongRequired::Truncate
        } else {
            LongRequired::Refuse
        };
        required_components(list.as_bytes(), long).collect()
    }

    #[test]
    fn required_list_parsing() {
        assert_eq!(comps("a,b", false), vec![Ok("a".into()), Ok("b".into())]);
        assert_eq!(comps("a,,b", false), vec![Ok("a".into())]);
        assert_eq!(comps("a,", false), vec![Ok("a".into())]);
        assert_eq!(comps(",a", false), vec![Ok("a".into())]);
        assert_eq!(comps("", false), vec![]);
        let long = "x".repeat(31);
        assert_eq!(
            comps(&format!("a,{long}"), false),
            vec![Ok("a".into()), Err(Errno::EINVAL)]
        );
        assert_eq!(
            comps(&"y".repeat(30), false),
            vec![Ok("y".repeat(30).into())]
        );
        assert_eq!(comps(&long, true), vec![Ok("x".repeat(31).into())]);
        assert_eq!(
            comps(&"z".repeat(40), true),
            vec![Ok("z".repeat(31).into())]
        );
    }

    #[test]
    fn required_lists_split_like_the_kernel() {
        assert_eq!(split_required(b"hello"), vec!["hello"]);
        assert_eq!(split_required(b"a,b"), vec!["a", "b"]);
        assert_eq!(split_required(b",a,b"), vec!["a", "b"]);
        assert_eq!(split_required(b"a,,b"), vec!["a"]);
        assert_eq!(split_required(b"a,"), vec!["a"]);
        assert_eq!(split_required(b""), Vec::<ModName>::new());
        assert_eq!(split_required(b",,a"), Vec::<ModName>::new());
        // Bytes, not text: nothing is replaced, and a 0xFF is one byte.
        assert_eq!(split_required(b"h\xffllo,b"), vec![&b"h\xffllo"[..], b"b"]);
        let long = [0xffu8; 31];
        assert_eq!(
            required_components(&long, LongRequired::Refuse).collect::<Vec<_>>(),
            vec![Err(Errno::EINVAL)]
        );
        assert_eq!(
            required_components(&long[..30], LongRequired::Refuse).collect::<Vec<_>>(),
            vec![Ok(ModName::from(&long[..30]))]
        );
    }
}
