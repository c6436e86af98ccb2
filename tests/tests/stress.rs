//! Concurrency and crashes against one emulated kernel: several processes
//! loading, unloading and listing the bundled modules at once, and tools
//! killed with SIGKILL at random points (and at the worst one, between
//! writing the new state and renaming it into place). After every step the
//! kernel must list cleanly (`modstat` exits 0) and be consistent: every
//! module's REFS equals the number of listed modules that require it, and
//! everything a module requires is listed.
//!
//! Seeds are printed on failure; set STRESS_SEED to replay one.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::{EmulatedKernel, Rng, Via};

fn seed() -> u64 {
    match std::env::var("STRESS_SEED") {
        Ok(s) => s.parse().expect("STRESS_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// One row of `modstat`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    class: String,
    source: String,
    flags: String,
    refs: u32,
    requires: Vec<String>,
}

/// Parses the listing (NAME CLASS SOURCE FLAG REFS SIZE REQUIRES).
fn parse_modstat(text: &str) -> Result<BTreeMap<String, Row>, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty listing")?;
    if !header.starts_with("NAME ") {
        return Err(format!("bad header {header:?}"));
    }
    let mut rows = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 7 {
            return Err(format!("bad row {line:?}"));
        }
        let refs = f[4].parse().map_err(|_| format!("bad REFS in {line:?}"))?;
        let requires = match f[6] {
            "-" => Vec::new(),
            r => r.split(',').map(String::from).collect(),
        };
        let row = Row {
            class: f[1].into(),
            source: f[2].into(),
            flags: f[3].into(),
            refs,
            requires,
        };
        if rows.insert(f[0].to_string(), row).is_some() {
            return Err(format!("{} listed twice", f[0]));
        }
    }
    Ok(rows)
}

/// Lists the kernel and checks it is consistent; returns the listing.
fn check_consistent(k: &EmulatedKernel, when: &str) -> BTreeMap<String, Row> {
    let out = k.run("modstat", &[] as &[&str]);
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (0, ""),
        "{when}: modstat failed"
    );
    let rows = parse_modstat(&out.stdout).unwrap_or_else(|e| panic!("{when}: {e}"));
    for (name, row) in &rows {
        let users = rows
            .values()
            .filter(|r| r.requires.iter().any(|q| q == name))
            .count() as u32;
        assert_eq!(
            row.refs, users,
            "{when}: {name} has REFS {} but {users} listed modules require it:\n{}",
            row.refs, out.stdout
        );
        for dep in &row.requires {
            assert!(
                rows.contains_key(dep),
                "{when}: {name} requires {dep}, which is not listed:\n{}",
                out.stdout
            );
        }
    }
    rows
}

const MODULES: [&str; 3] = ["example", "hello", "needy"];

/// A random tool invocation on the bundled modules.
fn random_op(rng: &mut Rng) -> (&'static str, Vec<&'static str>) {
    let m = MODULES[rng.below(3) as usize];
    match rng.below(7) {
        0..=2 => ("modload", vec![m]),
        3..=4 => ("modunload", vec![m]),
        5 => ("modstat", vec![]),
        _ => ("modstat", vec![m]),
    }
}

/// The first stderr lines an operation may legitimately end with when
/// another process got there first.
fn acceptable(tool: &str, status: i32, stderr: &str) -> bool {
    let first = stderr.lines().next().unwrap_or("");
    match (tool, status) {
        (_, 0) => stderr.is_empty(),
        ("modload", 1) => first == "modload: File exists",
        ("modunload", 1) => {
            first.ends_with(": Device busy") || first.ends_with(": No such file or directory")
        }
        _ => false,
    }
}

#[test]
fn concurrent_tools_keep_the_kernel_consistent() {
    let seed = seed();
    let k = Arc::new(EmulatedKernel::new(Via::Emul));
    check_consistent(&k, "initial");
    let workers = 4;
    let ops = 60;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let k = Arc::clone(&k);
            std::thread::spawn(move || {
                let mut rng = Rng::new(seed.wrapping_add(w));
                for i in 0..ops {
                    let (tool, args) = random_op(&mut rng);
                    let out = k.run(tool, &args);
                    assert!(
                        acceptable(tool, out.status, &out.stderr),
                        "seed {seed} worker {w} op {i}: {tool} {args:?} -> {} {:?}",
                        out.status,
                        out.stderr
                    );
                    if tool == "modstat" && args.is_empty() {
                        // A listing taken mid-storm is a consistent state too.
                        parse_modstat(&out.stdout)
                            .unwrap_or_else(|e| panic!("seed {seed} worker {w} op {i}: {e}"));
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker");
    }
    let rows = check_consistent(&k, &format!("seed {seed}: after the storm"));
    // Drain: unload everything in dependency order; nothing may be stuck.
    for m in ["needy", "example", "hello"] {
        if rows.contains_key(m) {
            let out = k.run("modunload", &[m]);
            assert_eq!((out.status, out.stderr.as_str()), (0, ""), "unload {m}");
        }
    }
    let rows = check_consistent(&k, "after draining");
    assert!(MODULES.iter().all(|m| !rows.contains_key(*m)));
}

fn spawn(
    k: &EmulatedKernel,
    tool: &str,
    args: &[&str],
    sync_marker: Option<&std::path::Path>,
) -> Child {
    let mut c = k.command(tool);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(m) = sync_marker {
        c.env("MODCTL_EMUL_TEST_SYNC_POINT", m);
    }
    c.spawn().expect("spawn")
}

/// SIGKILL; a process that already finished is simply reaped. Returns
/// whether it was still running.
fn kill9(child: &mut Child) -> bool {
    let running = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    running
}

#[test]
fn kill_9_at_random_points_never_breaks_the_state() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    let k = EmulatedKernel::new(Via::Emul);
    check_consistent(&k, "initial");
    // How long one state-changing call takes here, to aim the kills.
    let t = Instant::now();
    for _ in 0..3 {
        assert_eq!(k.run("modload", &["needy"]).status, 0);
        assert_eq!(k.run("modunload", &["needy"]).status, 0);
        assert_eq!(k.run("modunload", &["hello"]).status, 0);
    }
    let per_call = (t.elapsed() / 9).as_micros() as u64 + 1;
    let started = Instant::now();
    let mut iterations = 0;
    let mut interrupted = 0;
    let mut changed = 0;
    while iterations < 300 && started.elapsed() < Duration::from_secs(20) {
        iterations += 1;
        let (tool, args) = random_op(&mut rng);
        let before = check_consistent(&k, &format!("seed {seed} iteration {iterations}: before"));
        let mut child = spawn(&k, tool, &args, None);
        std::thread::sleep(Duration::from_micros(rng.below(per_call)));
        interrupted += u32::from(kill9(&mut child));
        let after = check_consistent(
            &k,
            &format!("seed {seed} iteration {iterations}: after killing {tool} {args:?}"),
        );
        if before != after {
            assert_ne!(
                tool, "modstat",
                "seed {seed}: a killed modstat changed the kernel"
            );
            changed += 1;
        }
    }
    eprintln!(
        "{iterations} iterations, {interrupted} killed while running, {changed} changed the state"
    );
    assert!(iterations >= 20, "only {iterations} iterations ran");
    // The kills must land inside calls, or this tests nothing.
    assert!(
        interrupted >= 5,
        "only {interrupted} of {iterations} kills hit a running tool"
    );
}

#[test]
fn kill_9_between_write_and_rename_leaves_the_old_state() {
    let k = EmulatedKernel::new(Via::Emul);
    let marker_dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("modload", "needy"),
        ("modload", "example"),
        ("modunload", "needy"),
        ("modunload", "hello"),
        ("modunload", "example"),
    ];
    for (i, (tool, module)) in cases.iter().enumerate() {
        let before = check_consistent(&k, "before");
        let marker = marker_dir.path().join(format!("at-sync-{i}"));
        let mut child = spawn(&k, tool, &[module], Some(&marker));
        // Wait until the new state is written and synced, then kill.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !marker.exists() {
            assert!(
                Instant::now() < deadline,
                "{tool} {module} never reached the sync point"
            );
            if let Ok(Some(st)) = child.try_wait() {
                panic!("{tool} {module} ended ({st}) before the sync point");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        kill9(&mut child);
        let after = check_consistent(
            &k,
            &format!("after killing {tool} {module} at the sync point"),
        );
        assert_eq!(
            before, after,
            "{tool} {module}: a half-done call became visible"
        );
        // The same call, not killed, still works afterwards.
        let out = k.run(tool, &[module]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (0, ""),
            "{tool} {module} after the kill"
        );
        check_consistent(&k, "after redoing the call");
    }
}
