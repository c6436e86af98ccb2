//! A module's property list file, found and read as the kernel's
//! `module_load_plist_vfs` does (kern_module_vfs.c):
//! beside the module, at most `MAX_PLIST_FILE - 1` bytes, exactly as many
//! as the file's size says, text ending at the first NUL, a dictionary at
//! the top. Every reader of `.plist` files (the dry run, the emulator)
//! goes through here.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use libmodctl::errno::Errno;
use libmodctl::plist::Dict;

use crate::rules::MAX_PLIST_FILE;

/// The property list beside a module: a trailing `.kmod` replaced by
/// `.plist`, otherwise `.plist` appended (bytes, as the kernel has them).
pub fn plist_path(kmod_path: &[u8]) -> Vec<u8> {
    let stem = kmod_path.strip_suffix(b".kmod").unwrap_or(kmod_path);
    let mut p = stem.to_vec();
    p.extend_from_slice(b".plist");
    p
}

/// Why a property list file was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum PlistFileError {
    /// It has `MAX_PLIST_FILE` bytes or more, or fewer than its size said
    /// could be read (EFBIG).
    TooLarge(u64),
    /// A FIFO: the kernel's open would wait for a writer. We do not wait.
    Fifo,
    /// Opening or reading failed with this errno.
    Io(Errno),
    /// It holds no dictionary (EINVAL); the parser's reason.
    NotDictionary(String),
}

impl PlistFileError {
    /// The errno the kernel's load returns.
    pub fn errno(&self) -> Errno {
        match self {
            PlistFileError::TooLarge(_) => Errno::EFBIG,
            // What the load would end with, were the wait interrupted.
            PlistFileError::Fifo => Errno::EINTR,
            PlistFileError::Io(e) => *e,
            PlistFileError::NotDictionary(_) => Errno::EINVAL,
        }
    }
}

/// Reads the property list at `path`: `Ok(None)` when there is none.
pub fn read(path: &Path) -> Result<Option<Dict>, PlistFileError> {
    // O_NONBLOCK: a FIFO must not hold us up (it is refused below).
    let file = match File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PlistFileError::Io(io_errno(&e))),
    };
    let meta = file
        .metadata()
        .map_err(|e| PlistFileError::Io(io_errno(&e)))?;
    let kind = meta.file_type();
    if kind.is_fifo() {
        return Err(PlistFileError::Fifo);
    }
    if kind.is_socket() {
        // vn_open refuses a socket.
        return Err(PlistFileError::Io(Errno::EOPNOTSUPP));
    }
    let size = meta.len();
    if size >= MAX_PLIST_FILE {
        return Err(PlistFileError::TooLarge(size));
    }
    // Exactly st_size bytes: a device whose size is 0 gives nothing.
    let mut data = Vec::with_capacity(size as usize);
    file.take(size)
        .read_to_end(&mut data)
        .map_err(|e| PlistFileError::Io(io_errno(&e)))?;
    if data.len() as u64 != size {
        return Err(PlistFileError::TooLarge(size));
    }
    // The kernel NUL-terminates its buffer: the text stops at a NUL.
    let end = data.iter().position(|&c| c == 0).unwrap_or(data.len());
    Dict::internalize(&data[..end])
        .map(Some)
        .map_err(|e| PlistFileError::NotDictionary(e.to_string()))
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_io(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plist_paths() {
        assert_eq!(plist_path(b"/m/x/x.kmod"), b"/m/x/x.plist");
        assert_eq!(plist_path(b"./mod.o"), b"./mod.o.plist");
        assert_eq!(plist_path(b"x.kmod.kmod"), b"x.kmod.plist");
        assert_eq!(plist_path(b"kmod"), b"kmod.plist");
    }

    #[test]
    fn files_are_read_as_the_kernel_reads_them() {
        let dir = std::env::temp_dir().join(format!("plistfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.plist");
        assert_eq!(read(&p), Ok(None));
        let dict = b"<plist version=\"1.0\"><dict><key>k</key><true/></dict></plist>";
        std::fs::write(&p, dict).unwrap();
        assert!(read(&p).unwrap().is_some());
        // Text after a NUL is not read.
        let mut with_nul = dict.to_vec();
        with_nul.extend_from_slice(b"\0garbage");
        std::fs::write(&p, &with_nul).unwrap();
        assert!(read(&p).unwrap().is_some());
        std::fs::write(&p, vec![b' '; MAX_PLIST_FILE as usize]).unwrap();
        assert_eq!(read(&p), Err(PlistFileError::TooLarge(MAX_PLIST_FILE)));
        std::fs::write(&p, b"junk").unwrap();
        assert_eq!(read(&p).unwrap_err().errno(), Errno::EINVAL);
        // A device of size 0 reads as empty: not a dictionary.
        assert_eq!(
            read(Path::new("/dev/zero")).unwrap_err().errno(),
            Errno::EINVAL
        );
        let fifo = dir.join("f.plist");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(read(&fifo), Err(PlistFileError::Fifo));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
