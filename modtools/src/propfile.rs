//! `modload -m plist`: the property list proplib's
//! `prop_dictionary_internalize_from_file` reads. It maps the file's
//! `st_size` bytes (a device of size 0 gives an empty text) and fails on
//! what cannot be mapped (a FIFO, a socket); so does this, bounded and
//! without blocking.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use libmodctl::plist::Dict;

/// The largest file read (proplib has no limit of its own; the file is a
/// user's, and a property list this size is already absurd).
pub const MAX_PROPERTY_FILE: u64 = 64 << 20;

/// The dictionary in the file, or `None` when proplib would fail.
pub fn read_dictionary(path: &Path) -> Option<Dict> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    let kind = meta.file_type();
    if kind.is_fifo() || kind.is_socket() || kind.is_dir() || meta.len() > MAX_PROPERTY_FILE {
        return None;
    }
    let mut text = Vec::with_capacity(meta.len() as usize);
    file.take(meta.len()).read_to_end(&mut text).ok()?;
    // The mapping is read as a C string.
    let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
    Dict::internalize(&text[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_directories_give_nothing() {
        assert_eq!(read_dictionary(Path::new("/dev/zero")), None);
        assert_eq!(read_dictionary(Path::new("/")), None);
        let dir = std::env::temp_dir().join(format!("propfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("f");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(read_dictionary(&fifo), None);
        let good = dir.join("g.plist");
        std::fs::write(&good, Dict::new().externalize()).unwrap();
        assert_eq!(read_dictionary(&good), Some(Dict::new()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
