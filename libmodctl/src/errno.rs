//! NetBSD errno numbers and the texts NetBSD's `strerror(3)` gives them.
//!
//! Every error that reaches a user is a NetBSD errno, whatever the host:
//! host errors are translated by *name* (Linux `ENAMETOOLONG` is 36, NetBSD's
//! is 63), and the text is NetBSD's (`Device busy`, not glibc's
//! `Device or resource busy`).

use std::fmt;

/// A NetBSD errno value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($( $name:ident = $num:expr, $text:expr; )*) => {
        impl Errno {
            $( pub const $name: Errno = Errno($num); )*

            /// Every errno NetBSD defines, in numeric order.
            pub const ALL: &'static [Errno] = &[ $( Errno::$name ),* ];

            /// The symbolic name, e.g. `"EBUSY"`.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $num => Some(stringify!($name)), )*
                    _ => None,
                }
            }

            /// Looks a NetBSD errno up by its symbolic name.
            pub fn from_name(name: &str) -> Option<Errno> {
                match name {
                    $( stringify!($name) => Some(Errno::$name), )*
                    // Aliases NetBSD defines to other numbers' names.
                    "EWOULDBLOCK" => Some(Errno::EAGAIN),
                    _ => None,
                }
            }

            fn text(self) -> Option<&'static str> {
                match self.0 {
                    0 => Some("Undefined error: 0"),
                    $( $num => Some($text), )*
                    _ => None,
                }
            }
        }
    };
}

// From NetBSD sys/sys/errno.h; libc's errlist is generated from its comments.
errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "Device not configured";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EDEADLK = 11, "Resource deadlock avoided";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    ENOTBLK = 15, "Block device required";
    EBUSY = 16, "Device busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Cross-device link";
    ENODEV = 19, "Operation not supported by device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Result too large or too small";
    EAGAIN = 35, "Resource temporarily unavailable";
    EINPROGRESS = 36, "Operation now in progress";
    EALREADY = 37, "Operation already in progress";
    ENOTSOCK = 38, "Socket operation on non-socket";
    EDESTADDRREQ = 39, "Destination address required";
    EMSGSIZE = 40, "Message too long";
    EPROTOTYPE = 41, "Protocol wrong type for socket";
    ENOPROTOOPT = 42, "Protocol option not available";
    EPROTONOSUPPORT = 43, "Protocol not supported";
    ESOCKTNOSUPPORT = 44, "Socket type not supported";
    EOPNOTSUPP = 45, "Operation not supported";
    EPFNOSUPPORT = 46, "Protocol family not supported";
    EAFNOSUPPORT = 47, "Address family not supported by protocol family";
    EADDRINUSE = 48, "Address already in use";
    EADDRNOTAVAIL = 49, "Can't assign requested address";
    ENETDOWN = 50, "Network is down";
    ENETUNREACH = 51, "Network is unreachable";
    ENETRESET = 52, "Network dropped connection on reset";
    ECONNABORTED = 53, "Software caused connection abort";
    ECONNRESET = 54, "Connection reset by peer";
    ENOBUFS = 55, "No buffer space available";
    EISCONN = 56, "Socket is already connected";
    ENOTCONN = 57, "Socket is not connected";
    ESHUTDOWN = 58, "Can't send after socket shutdown";
    ETOOMANYREFS = 59, "Too many references: can't splice";
    ETIMEDOUT = 60, "Operation timed out";
    ECONNREFUSED = 61, "Connection refused";
    ELOOP = 62, "Too many levels of symbolic links";
    ENAMETOOLONG = 63, "File name too long";
    EHOSTDOWN = 64, "Host is down";
    EHOSTUNREACH = 65, "No route to host";
    ENOTEMPTY = 66, "Directory not empty";
    EPROCLIM = 67, "Too many processes";
    EUSERS = 68, "Too many users";
    EDQUOT = 69, "Disc quota exceeded";
    ESTALE = 70, "Stale NFS file handle";
    EREMOTE = 71, "Too many levels of remote in path";
    EBADRPC = 72, "RPC struct is bad";
    ERPCMISMATCH = 73, "RPC version wrong";
    EPROGUNAVAIL = 74, "RPC prog. not avail";
    EPROGMISMATCH = 75, "Program version wrong";
    EPROCUNAVAIL = 76, "Bad procedure for program";
    ENOLCK = 77, "No locks available";
    ENOSYS = 78, "Function not implemented";
    EFTYPE = 79, "Inappropriate file type or format";
    EAUTH = 80, "Authentication error";
    ENEEDAUTH = 81, "Need authenticator";
    EIDRM = 82, "Identifier removed";
    ENOMSG = 83, "No message of desired type";
    EOVERFLOW = 84, "Value too large to be stored in data type";
    EILSEQ = 85, "Illegal byte sequence";
    ENOTSUP = 86, "Not supported";
    ECANCELED = 87, "Operation canceled";
    EBADMSG = 88, "Bad or Corrupt message";
    ENODATA = 89, "No message available";
    ENOSR = 90, "No STREAM resources";
    ENOSTR = 91, "Not a STREAM";
    ETIME = 92, "STREAM ioctl timeout";
    ENOATTR = 93, "Attribute not found";
    EMULTIHOP = 94, "Multihop attempted";
    ENOLINK = 95, "Link has been severed";
    EPROTO = 96, "Protocol error";
    // Added with robust mutexes (NetBSD 8); UNVERIFIED against errno.h HEAD.
    EOWNERDEAD = 97, "Previous owner died";
    ENOTRECOVERABLE = 98, "State not recoverable";
}

impl Errno {
    /// NetBSD's `strerror(3)` text. Numbers NetBSD does not define read
    /// `Unknown error: N` as NetBSD's libc prints them (prefix UNVERIFIED).
    pub fn strerror(self) -> String {
        match self.text() {
            Some(t) => t.to_string(),
            None => format!("Unknown error: {}", self.0),
        }
    }

    /// Translates a host errno to NetBSD's by name. On NetBSD hosts the
    /// numbers are already NetBSD's.
    pub fn from_host(host: i32) -> Errno {
        #[cfg(target_os = "netbsd")]
        {
            Errno(host)
        }
        #[cfg(not(target_os = "netbsd"))]
        {
            host_name(host)
                .and_then(Errno::from_name)
                .unwrap_or(Errno::EIO)
        }
    }

    /// The NetBSD errno of a host I/O error (EIO when it carries none).
    pub fn from_io(err: &std::io::Error) -> Errno {
        match err.raw_os_error() {
            Some(n) => Errno::from_host(n),
            None => match err.kind() {
                std::io::ErrorKind::NotFound => Errno::ENOENT,
                std::io::ErrorKind::PermissionDenied => Errno::EACCES,
                std::io::ErrorKind::OutOfMemory => Errno::ENOMEM,
                std::io::ErrorKind::UnexpectedEof => Errno::EINVAL,
                _ => Errno::EIO,
            },
        }
    }
}

/// The symbolic name of a host errno number, from the host's libc constants.
#[cfg(not(target_os = "netbsd"))]
fn host_name(host: i32) -> Option<&'static str> {
    macro_rules! by_name {
        ($($n:ident),*) => {
            $( if host == libc::$n { return Some(stringify!($n)); } )*
        };
    }
    by_name!(
        EPERM,
        ENOENT,
        ESRCH,
        EINTR,
        EIO,
        ENXIO,
        E2BIG,
        ENOEXEC,
        EBADF,
        ECHILD,
        EDEADLK,
        ENOMEM,
        EACCES,
        EFAULT,
        ENOTBLK,
        EBUSY,
        EEXIST,
        EXDEV,
        ENODEV,
        ENOTDIR,
        EISDIR,
        EINVAL,
        ENFILE,
        EMFILE,
        ENOTTY,
        ETXTBSY,
        EFBIG,
        ENOSPC,
        ESPIPE,
        EROFS,
        EMLINK,
        EPIPE,
        EDOM,
        ERANGE,
        EAGAIN,
        EINPROGRESS,
        EALREADY,
        ENOTSOCK,
        EDESTADDRREQ,
        EMSGSIZE,
        EPROTOTYPE,
        ENOPROTOOPT,
        EPROTONOSUPPORT,
        ESOCKTNOSUPPORT,
        EOPNOTSUPP,
        EPFNOSUPPORT,
        EAFNOSUPPORT,
        EADDRINUSE,
        EADDRNOTAVAIL,
        ENETDOWN,
        ENETUNREACH,
        ENETRESET,
        ECONNABORTED,
        ECONNRESET,
        ENOBUFS,
        EISCONN,
        ENOTCONN,
        ESHUTDOWN,
        ETOOMANYREFS,
        ETIMEDOUT,
        ECONNREFUSED,
        ELOOP,
        ENAMETOOLONG,
        EHOSTDOWN,
        EHOSTUNREACH,
        ENOTEMPTY,
        EUSERS,
        EDQUOT,
        ESTALE,
        EREMOTE,
        ENOLCK,
        ENOSYS,
        EIDRM,
        ENOMSG,
        EOVERFLOW,
        EILSEQ,
        ENOTSUP,
        ECANCELED,
        EBADMSG,
        ENODATA,
        ENOSR,
        ENOSTR,
        ETIME,
        EMULTIHOP,
        ENOLINK,
        EPROTO,
        EOWNERDEAD,
        ENOTRECOVERABLE
    );
    None
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.strerror())
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl std::error::Error for Errno {}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        Errno::from_io(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_of_the_reference_table() {
        // NetBSD's strerror texts, verbatim.
        let table: &[(Errno, i32, &str)] = &[
            (Errno(0), 0, "Undefined error: 0"),
            (Errno::EPERM, 1, "Operation not permitted"),
            (Errno::ENOENT, 2, "No such file or directory"),
            (Errno::ENOEXEC, 8, "Exec format error"),
            (Errno::EDEADLK, 11, "Resource deadlock avoided"),
            (Errno::ENOMEM, 12, "Cannot allocate memory"),
            (Errno::EFAULT, 14, "Bad address"),
            (Errno::EBUSY, 16, "Device busy"),
            (Errno::EEXIST, 17, "File exists"),
            (Errno::EINVAL, 22, "Invalid argument"),
            (Errno::EFBIG, 27, "File too large"),
            (Errno::EMLINK, 31, "Too many links"),
            (Errno::ERANGE, 34, "Result too large or too small"),
            (Errno::ENAMETOOLONG, 63, "File name too long"),
            (Errno::EPROGMISMATCH, 75, "Program version wrong"),
            (Errno::ENOSYS, 78, "Function not implemented"),
            (Errno::EFTYPE, 79, "Inappropriate file type or format"),
        ];
        for &(e, n, text) in table {
            assert_eq!(e.0, n);
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn every_errno_has_a_distinct_text_and_name() {
        assert_eq!(Errno::ALL.len(), 98);
        for (i, e) in Errno::ALL.iter().enumerate() {
            assert_eq!(e.0, i as i32 + 1, "numbers are dense 1..=98");
            let name = e.name().unwrap();
            assert_eq!(Errno::from_name(name), Some(*e));
            assert!(!e.strerror().starts_with("Unknown"));
        }
        let mut texts: Vec<_> = Errno::ALL.iter().map(|e| e.strerror()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), Errno::ALL.len());
        assert_eq!(Errno(99).strerror(), "Unknown error: 99");
        assert_eq!(Errno(-4).strerror(), "Unknown error: -4");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn host_errnos_translate_by_name() {
        assert_eq!(libc::ENAMETOOLONG, 36);
        assert_eq!(Errno::from_host(libc::ENAMETOOLONG), Errno::ENAMETOOLONG);
        assert_eq!(Errno::ENAMETOOLONG.0, 63);
        assert_eq!(Errno::from_host(libc::EBUSY).to_string(), "Device busy");
        assert_eq!(Errno::from_host(libc::EDEADLK), Errno::EDEADLK);
        assert_eq!(Errno::from_host(libc::ENOSYS).0, 78);
        assert_eq!(Errno::from_host(libc::EAGAIN).0, 35);
        let io = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(Errno::from(io), Errno::ENOENT);
    }
}
