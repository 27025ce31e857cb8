# virt-nestify source-tree wrapper (do not remove this marker line)
#
# A fresh clone builds with plain "make": this wrapper installs missing
# Debian packages (build-aux/install-deps), bootstraps autotools and
# configures an out-of-tree build in build/, then runs every target
# there.  "make check", "make demo", "make install" all work from here.
# Pass configure options with CONFIGURE_FLAGS="--enable-asan ...".

BUILDDIR ?= build
CONFIGURE_FLAGS ?=
SRCDIR := $(CURDIR)

.PHONY: all deps bootstrap distclean-wrapper check check-asan check-valgrind \
	check-all distcheck
all:

$(SRCDIR)/configure: configure.ac Makefile.am
	@build-aux/install-deps
	cd $(SRCDIR) && autoreconf -fi

$(BUILDDIR)/Makefile: $(SRCDIR)/configure
	@build-aux/install-deps
	mkdir -p $(BUILDDIR)
	cd $(BUILDDIR) && $(SRCDIR)/configure $(CONFIGURE_FLAGS)

deps:
	@build-aux/install-deps

bootstrap: $(BUILDDIR)/Makefile

distclean-wrapper:
	rm -rf $(BUILDDIR)

# "make check" (and distcheck's) builds and runs the tests TEST_JOBS at a
# time, one per CPU, unless make was given its own -j.  Tests share
# nothing but the probed QEMU capabilities they copy (tests/embed-root.sh).
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
JOBS_FLAG = $(if $(filter -j% --jobserver-auth=%,$(MAKEFLAGS)),,-j$(TEST_JOBS))
check: $(BUILDDIR)/Makefile
	@$(MAKE) --no-print-directory -C $(BUILDDIR) $(JOBS_FLAG) check

# The whole suite again under AddressSanitizer + UBSan, and under
# valgrind, each in its own build directory; check-all runs all three.
check-asan: $(SRCDIR)/configure
	@$(MAKE) --no-print-directory BUILDDIR=build-asan \
		CONFIGURE_FLAGS="--enable-asan --enable-ubsan" check

check-valgrind: $(SRCDIR)/configure
	@$(MAKE) --no-print-directory BUILDDIR=build-valgrind \
		CONFIGURE_FLAGS="--enable-valgrind" check

# Each part's wall time is printed when it ends, and appended to the file
# $NST_STAGE_TIMES names, if any (.ci/run lists them at its end).
check-all:
	@set -e; for part in check check-asan check-valgrind; do \
		t0=$$(date +%s); \
		$(MAKE) --no-print-directory $$part; \
		line=$$(printf '    %-38s %5d' "make $$part" $$(($$(date +%s) - t0))); \
		echo "check-all:$$line s"; \
		if [ -n "$${NST_STAGE_TIMES:-}" ]; then echo "$$line" >>"$$NST_STAGE_TIMES"; fi; \
	done

# The release check: "make dist", then the tarball configured with a
# read-only source tree, built, "make check", "make install",
# "make installcheck" (the installed programs on a temporary prefix),
# "make uninstall" leaving no file, and "make distclean" leaving none.
distcheck: $(BUILDDIR)/Makefile
	@$(MAKE) --no-print-directory -C $(BUILDDIR) $(JOBS_FLAG) distcheck

# Every other target goes to the configured build directory.
%: $(BUILDDIR)/Makefile
	@$(MAKE) --no-print-directory -C $(BUILDDIR) $@

all: $(BUILDDIR)/Makefile
	@$(MAKE) --no-print-directory -C $(BUILDDIR) all

Makefile: ;
configure.ac Makefile.am: ;
