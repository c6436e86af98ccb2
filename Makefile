# Build and install modload, modunload and modstat.
# Works with both BSD make and GNU make:
#   make
#   make install DESTDIR=/tmp/stage PREFIX=/usr
# Installs the programs to ${PREFIX}/sbin, the rump.* names as hard links,
# and the manual pages to ${PREFIX}/man/man8; modload-check, which modload
# runs for its boot and release checks, goes beside modload.
#
# `make` is the plain release build on a stable compiler,
#   ${CARGO} build --release --locked -p modload -p modunload -p modstat
# with the workspace's release profile (LTO, one codegen unit,
# panic = "abort", stripped), no unstable flag, and --remap-path-prefix
# added to RUSTFLAGS so that no build directory is in the programs; CARGO and
# CARGO_TARGET_DIR are honoured. scripts/build-release (POSIX sh) runs it
# and copies the programs to ${CARGO_TARGET_DIR:-target}/dist/, which
# install takes them from. `make dist` writes the offline source release
# (see scripts/dist).
#
# SMALL=yes is an opt-in for install media (give it to both commands:
# `make SMALL=yes && make install SMALL=yes`): std is rebuilt without its
# backtrace code (-Z build-std=std,panic_abort -Z build-std-features=),
# about 250 KB less per program. It needs the standard library's sources
# (rustup's rust-src component, or Debian's rustc-web, cargo-web and
# rust-web-src) and their rustc and cargo, with RUSTC_BOOTSTRAP=1 unless
# that rustc is a nightly, and fails without them. Nothing else chooses it.

PREFIX ?=	/usr/local
DESTDIR ?=
SBINDIR ?=	${PREFIX}/sbin
MANDIR ?=	${PREFIX}/man/man8
CARGO ?=	cargo
INSTALL ?=	install
SMALL ?=	no
PROGS =		modload modunload modstat

all:
	CARGO="${CARGO}" SMALL="${SMALL}" sh scripts/build-release

install: all
	${INSTALL} -d ${DESTDIR}${SBINDIR} ${DESTDIR}${MANDIR}
	dist=$${CARGO_TARGET_DIR:-target}/dist; \
	for p in ${PROGS}; do \
		${INSTALL} -m 555 "$$dist/$$p" ${DESTDIR}${SBINDIR}/$$p || exit 1; \
		rm -f ${DESTDIR}${SBINDIR}/rump.$$p; \
		ln ${DESTDIR}${SBINDIR}/$$p ${DESTDIR}${SBINDIR}/rump.$$p || exit 1; \
		${INSTALL} -m 444 man/$$p.8 ${DESTDIR}${MANDIR}/$$p.8 || exit 1; \
	done; \
	${INSTALL} -m 555 "$$dist/modload-check" ${DESTDIR}${SBINDIR}/modload-check

test:
	${CARGO} test --workspace

# The offline source release: ${CARGO_TARGET_DIR:-target}/dist/
# modtools-<version>.tar.gz (every crate vendored) and its .sha256.
dist:
	CARGO="${CARGO}" sh scripts/dist

clean:
	${CARGO} clean

.PHONY: all install test dist clean
