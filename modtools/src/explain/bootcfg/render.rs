//! The boot check's report as text and as JSON.

use super::*;

impl ModuleResult {
    /// The result in a few words, for the text report.
    fn summary(&self) -> String {
        let called = match &self.name {
            Some(n) if n.as_bytes() != self.operand.as_slice() => format!(" as `{n}'"),
            _ => String::new(),
        };
        match self.status {
            Status::Loaded => {
                let mut how = format!(
                    "{}, pass {}",
                    ordinal(self.nth.unwrap_or(0) + 1),
                    pass_name(self.pass.unwrap_or(ModClass::Any))
                );
                if let Some(d) = &self.dependency_of {
                    how += &format!(", as a dependency of {d}");
                }
                if self.auto_loaded {
                    how += "; flag a";
                }
                format!(
                    "loaded{called} ({how}) from {}",
                    self.file.as_deref().map_or_else(|| "?".into(), text)
                )
            }
            Status::NotPassed => match &self.reason {
                Some(why) => format!("not passed: {why}"),
                None => "not passed: not passed".to_string(),
            },
            _ => {
                let errno = self
                    .errno
                    .and_then(|e| e.name())
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                let why = self.reason.as_ref().map(ToString::to_string);
                format!("error{errno}{called}: {}", why.unwrap_or_default())
            }
        }
    }
}

impl Report {
    /// The human report.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out += &format!("boot.cfg:    {}\n", self.boot_cfg);
        out += &format!("kernel:      {} ({})\n", self.kernel, self.described_by);
        out += &format!("loader path: {}\n", self.loader_path);
        for n in &self.notes {
            out += &format!("note:        {n}\n");
        }
        for e in &self.entries {
            out += "\n";
            let default = if e.default { " (default)" } else { "" };
            match (e.number, &e.desc) {
                (Some(n), Some(d)) => out += &format!("entry {n}{default}: {d}\n"),
                _ => out += &format!("no menu{default}: the load= lines, then boot\n"),
            }
            if let Some(c) = &e.command {
                out += &format!("  commands:   {}\n", text(c));
            }
            match &e.plan.ends {
                Ends::Boots(Some(f)) => out += &format!("  boots:      {f}\n"),
                Ends::Boots(None) => {}
                Ends::Multiboot(k) => out += &format!("  multiboot:  {k}\n"),
                Ends::Stays(why) => out += &format!("  note:       does not boot: {why}\n"),
            }
            for n in &e.plan.notes {
                out += &format!("  note:       {n}\n");
            }
            if e.modules.is_empty() {
                out += "  modules:    none\n";
            }
            let width = e
                .modules
                .iter()
                .map(|m| text(&m.operand).chars().count())
                .max()
                .unwrap_or(0);
            for m in &e.modules {
                let operand = text(&m.operand);
                let pad = width - operand.chars().count();
                out += &format!(
                    "  {}:{} {}\n",
                    operand.escape_debug(),
                    " ".repeat(pad),
                    m.summary()
                );
            }
            if e.checked && !e.modules.is_empty() {
                let order = if e.load_order.is_empty() {
                    "-".to_string()
                } else {
                    let names: Vec<String> = e.load_order.iter().map(ToString::to_string).collect();
                    names.join(" -> ")
                };
                out += &format!("  load order: {order}\n");
            }
            let bad = e
                .modules
                .iter()
                .filter(|m| !matches!(m.status, Status::Loaded | Status::NotPassed))
                .count();
            let verdict = if !e.checked {
                "not checked".to_string()
            } else if !matches!(e.plan.ends, Ends::Boots(_)) {
                // The modules were checked as if it booted; it does not.
                format!(
                    "no kernel boots, so no module is loaded{}",
                    if bad == 0 {
                        String::new()
                    } else {
                        format!(" ({bad} of {} would not load if it did)", e.modules.len())
                    }
                )
            } else if bad == 0 {
                "every module would load".to_string()
            } else {
                format!("{bad} of {} modules would not load", e.modules.len())
            };
            out += &format!("  verdict:    {verdict}\n");
        }
        out
    }

    /// The `--json` report (members written in byte order of their names,
    /// which `object` makes).
    pub fn to_json(&self) -> String {
        let errno_json = crate::json::errno;
        // A name that may be absent: `null`, or text and maybe bytes.
        let opt_name = |key, bytes_key, n: &Option<ModName>| match n {
            Some(n) => text_and_bytes(key, bytes_key, n.as_bytes()),
            None => vec![(key, Value::Null)],
        };
        let module = |m: &ModuleResult| {
            object(
                [
                    vec![
                        ("auto_loaded", m.auto_loaded.into()),
                        ("class", m.class.map(class_name).into()),
                        ("console", strings(&m.console)),
                    ],
                    opt_name("dependency_of", "dependency_of_bytes", &m.dependency_of),
                    vec![("error", m.errno.map(errno_json).into())],
                    match &m.file {
                        Some(f) => text_and_bytes("file", "file_bytes", f),
                        None => vec![("file", Value::Null)],
                    },
                    opt_name("name", "name_bytes", &m.name),
                    text_and_bytes("operand", "operand_bytes", &m.operand),
                    vec![
                        ("order", m.nth.map(|n| n as u64 + 1).into()),
                        ("pass", m.pass.map(pass_name).into()),
                        ("reason", m.reason.as_ref().map(ToString::to_string).into()),
                        ("status", m.status.name().into()),
                    ],
                    texts_and_bytes("tried", "tried_bytes", &m.tried),
                ]
                .concat(),
            )
        };
        let entry = |e: &EntryReport| {
            let (ends, target) = match &e.plan.ends {
                Ends::Boots(f) => ("boot", f.as_deref().map(Value::from)),
                Ends::Multiboot(k) => ("multiboot", Some(Value::from(k.as_str()))),
                Ends::Stays(why) => ("none", Some(Value::from(why.to_string()))),
            };
            object(
                [
                    vec![("checked", e.checked.into())],
                    match &e.command {
                        Some(c) => text_and_bytes("commands", "commands_bytes", c),
                        None => vec![("commands", Value::Null)],
                    },
                    vec![
                        ("default", e.default.into()),
                        ("description", e.desc.as_deref().into()),
                        ("ends", ends.into()),
                        ("ends_detail", target.into()),
                        ("entry", e.number.map(|n| n as u64).into()),
                    ],
                    texts_and_bytes("load_order", "load_order_bytes", &e.load_order),
                    vec![
                        (
                            "modules",
                            e.modules.iter().map(module).collect::<Vec<_>>().into(),
                        ),
                        ("modules_enabled", e.plan.enabled.into()),
                        ("notes", notes(&e.plan.notes)),
                        ("would_load", e.would_load().into()),
                    ],
                ]
                .concat(),
            )
        };
        let doc = object(vec![
            ("boot_cfg", self.boot_cfg.as_str().into()),
            (
                "default_entry",
                self.default_entry()
                    .and_then(|e| e.number)
                    .map(|n| n as u64)
                    .into(),
            ),
            ("described_by", self.described_by.as_str().into()),
            (
                "entries",
                self.entries.iter().map(entry).collect::<Vec<_>>().into(),
            ),
            ("kernel", self.kernel.as_str().into()),
            ("loader_path", self.loader_path.as_str().into()),
            ("notes", notes(&self.notes)),
            ("schema", REPORT_SCHEMA.into()),
            ("would_load", self.would_load().into()),
        ]);
        doc.to_document()
    }
}

/// Notes as a JSON array of their words.
fn notes(notes: &[Note]) -> Value {
    let words: Vec<String> = notes.iter().map(ToString::to_string).collect();
    strings(&words)
}
