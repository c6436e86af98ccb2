# Build and install modload, modunload and modstat.
# Works with both BSD make and GNU make:
#   make
#   make install DESTDIR=/tmp/stage PREFIX=/usr
# Installs the programs to ${PREFIX}/sbin, the rump.* names as hard links,
# and the manual pages to ${PREFIX}/man/man8.

PREFIX ?=	/usr/local
DESTDIR ?=
SBINDIR ?=	${PREFIX}/sbin
MANDIR ?=	${PREFIX}/man/man8
CARGO ?=	cargo
INSTALL ?=	install
PROGS =		modload modunload modstat

# scripts/build-release leaves the programs in target/dist/, built with
# std rebuilt without its backtrace code when the std sources are there.
all:
	CARGO=${CARGO} scripts/build-release

install: all
	${INSTALL} -d ${DESTDIR}${SBINDIR} ${DESTDIR}${MANDIR}
	for p in ${PROGS}; do \
		${INSTALL} -m 555 target/dist/$$p ${DESTDIR}${SBINDIR}/$$p || exit 1; \
		rm -f ${DESTDIR}${SBINDIR}/rump.$$p; \
		ln ${DESTDIR}${SBINDIR}/$$p ${DESTDIR}${SBINDIR}/rump.$$p || exit 1; \
		${INSTALL} -m 444 man/$$p.8 ${DESTDIR}${MANDIR}/$$p.8 || exit 1; \
	done

test:
	${CARGO} test --workspace

clean:
	${CARGO} clean

.PHONY: all install test clean
