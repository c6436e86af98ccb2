//! The crate's modules depend on each other one way only: read from the
//! sources, every `crate::<module>` a module's code names is an edge, and
//! the edges must form no cycle. A cycle would make the tables (`checks`,
//! `machine`, `rules`) hard to use from both the reader and the validator.
//!
//! Comments and tests do not count: a test may well check the reader
//! against the validator. Test code is recognised as this crate writes
//! it: a `tests.rs` file, or a `#[cfg(test)]` module at the end of a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The crate's top-level modules and the files of each.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(src()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        if p.is_dir() {
            let mut files = Vec::new();
            collect(&p, &mut files);
            out.insert(name, files);
        } else if p.extension().is_some_and(|x| x == "rs") && name != "lib" {
            out.insert(name, vec![p]);
        }
    }
    out
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs") {
            files.push(p);
        }
    }
}

/// The file without its test module (`#[cfg(test)] mod tests { .. }` at
/// its end; `#[cfg(test)] mod tests;` declares a file skipped anyway).
fn product_code(text: &str) -> String {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            match lines.next() {
                Some(next) if next.trim_end().ends_with(';') => continue,
                _ => break,
            }
        }
        out.push(line);
    }
    out.join("\n")
}

/// The top-level modules `crate::` paths in `code` name, groups included
/// (`crate::{a, b::{c, d}}`, over several lines).
fn named(code: &str) -> BTreeSet<String> {
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            out.insert(ident(rest));
            continue;
        };
        // The group's items at depth 0, each up to its comma.
        let mut depth = 0;
        let mut item_start = true;
        for (j, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => item_start = true,
                _ if item_start && !c.is_whitespace() => {
                    out.insert(ident(&group[j..]));
                    item_start = false;
                }
                _ => {}
            }
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    mods.iter()
        .map(|(m, files)| {
            let mut deps = BTreeSet::new();
            for f in files {
                deps.extend(named(&product_code(&std::fs::read_to_string(f).unwrap())));
            }
            deps.retain(|d| d != m && mods.contains_key(d));
            (m.clone(), deps)
        })
        .collect()
}

/// A cycle through `m`, if any, by depth-first search.
fn cycle(
    g: &BTreeMap<String, BTreeSet<String>>,
    m: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|p| p == m) {
        let mut c = path[at..].to_vec();
        c.push(m.to_string());
        return Some(c);
    }
    if done.contains(m) {
        return None;
    }
    path.push(m.to_string());
    for d in &g[m] {
        if let Some(c) = cycle(g, d, path, done) {
            return Some(c);
        }
    }
    path.pop();
    done.insert(m.to_string());
    None
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let g = graph();
    let mut done = BTreeSet::new();
    for m in g.keys() {
        if let Some(c) = cycle(&g, m, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}\n{g:#?}", c.join(" -> "));
        }
    }
}

#[test]
fn the_tables_depend_on_no_reader() {
    let g = graph();
    let none = BTreeSet::new();
    assert_eq!(g["checks"], none, "checks");
    assert_eq!(g["osrev"], none, "osrev");
    let osrev = BTreeSet::from(["osrev".to_string()]);
    assert_eq!(g["rules"], osrev, "rules");
    assert!(
        g["machine"].is_subset(&BTreeSet::from(["rules".to_string(), "osrev".to_string()])),
        "machine: {:?}",
        g["machine"]
    );
    assert!(!g["kmod"].contains("validate"), "{:?}", g["kmod"]);
}

#[test]
fn paths_are_read_like_the_compiler_reads_them() {
    let names = named(
        "use crate::{\n    kmod::{Elf, Shdr},\n    rules,\n};\n// crate::validate\n\
         let x = crate::path::f(); // crate::y",
    );
    assert_eq!(
        names,
        BTreeSet::from(["kmod".to_string(), "rules".into(), "path".into()])
    );
}
