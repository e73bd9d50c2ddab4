# tfm — the Transformer as a suite of Unix tools.
#
#   make            libtfm (static + shared) and every tool in tools/, for any
#                   x86-64 CPU (x86-64-v2); the hot kernels pick AVX2, AVX-512
#                   or AVX512-BF16 at run time (TFM_ISA lowers the choice)
#   make native     the same tuned for this CPU only (-march=native, in build-native/)
#   make deps       install the Debian packages we build against (idempotent)
#   make test       unit, e2e, golden and man-page tests
#   make asan       the same tests built with AddressSanitizer + UBSan
#   make fuzz       every libFuzzer harness of tests/fuzz for FUZZ_SECONDS each
#   make fuzz-deps  install clang and libFuzzer (only `make fuzz` needs them)
#   make demo       the whole pipeline on the built-in sample
#   make bench      benchmarks against the reference tools (never part of test)
#   make install PREFIX=/usr/local DESTDIR=
#   make deb        Debian packages tfm, libtfm0, libtfm-dev in build/deb/
#   make clean

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build

CXX      ?= g++
# Debian's optimized libraries; HDF5's serial flavour lives in its own folder.
DEP_CPPFLAGS := -I/usr/include/hdf5/serial -I/usr/include/x86_64-linux-gnu/openblas-pthread
DEP_LIBS := -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 \
            -lboost_program_options -lboost_serialization -lfmt -lpcre2-8 \
            -L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas -ldnnl -lpthread

# MPI (for data-parallel tfm-train) when Open MPI's wrappers are installed;
# looked up when used, so a `make deps` in the same run is seen. Only
# collective.o includes mpi.h; --as-needed keeps libmpi out of the other tools.
MPI_LINK  = $(shell mpicc --showme:link 2>/dev/null)
MPI_FLAGS = $(if $(MPI_LINK),-DTFM_HAVE_MPI -DOMPI_SKIP_MPICXX \
              $(patsubst -I%,-isystem %,$(shell mpicc --showme:compile 2>/dev/null)))
$(BUILD)/libtfm/src/train/collective.o: CPPFLAGS += $(MPI_FLAGS)
LINK_MPI  = -Wl,--as-needed $(MPI_LINK)

OPT      ?= -O3
# The CPUs the binaries run on: any x86-64 from 2009 on (SSE4.2, POPCNT).
ARCH     ?= -march=x86-64-v2
# -Wrestrict misfires on std::string concatenation at -O3 in g++ 12 (GCC bug 105651).
# -Wpsabi: below AVX-512, g++ notes that tensor/simd.h's 64-byte vectors pass
# by value with another ABI than with it; each level's copy of those inline
# functions has its own namespace and none crosses levels, so that never matters.
WARN     := -Wall -Wextra -Werror -Wno-restrict -Wno-psabi
CXXFLAGS ?=
CXXFLAGS += -std=c++20 $(OPT) $(ARCH) $(WARN) -g -fPIC -MMD -MP
CPPFLAGS += -Ilibtfm/include $(DEP_CPPFLAGS) -DTFM_VERSION='"$(VERSION)"'
# The data folder and the helper programs' folder compiled in, the last
# places looked in (<exe>/../share/tfm and <exe>/../lib/tfm come first, so an
# install under another PREFIX works too); for cli.o alone, so that
# `make install PREFIX=...` recompiles nothing else (cli.o is recompiled when
# they change: see INSTALL_DIRS_STAMP).
HELPERDIR ?= $(PREFIX)/lib/tfm
INSTALL_DIRS = $(PREFIX)/share/tfm $(HELPERDIR)
$(BUILD)/libtfm/src/core/cli.o: CPPFLAGS += -DTFM_DATA_DIR='"$(PREFIX)/share/tfm"' -DTFM_HELPER_DIR='"$(HELPERDIR)"'
LDFLAGS  ?=

# Everything under libtfm/src is the library; each tools/tfm-*.cpp is one tool.
# The kernels in libtfm/src/tensor/isa are compiled once per instruction-set
# level, into that level's namespace (tfm::isa_avx2, ...); tensor/isa.cpp
# picks one level at start-up. ARCH does not apply to them, and no multiply-add
# is fused (-ffp-contract=off): every level rounds as the baseline does, so
# all levels give the same bits (data-parallel ranks on different CPUs too).
ISA_LEVELS := baseline avx2 avx512 avx512bf16
ISA_COMMON := -ffp-contract=off
ISA_FLAGS_baseline   := -march=x86-64-v2
ISA_FLAGS_avx2       := -march=x86-64-v3
ISA_FLAGS_avx512     := -march=x86-64-v4 -mprefer-vector-width=512
ISA_FLAGS_avx512bf16 := -march=x86-64-v4 -mprefer-vector-width=512 -mavx512bf16 -mavx512vnni
ISA_SRCS   := $(sort $(wildcard libtfm/src/tensor/isa/*.cpp))
ISA_OBJS   := $(foreach level,$(ISA_LEVELS),$(ISA_SRCS:%.cpp=$(BUILD)/%.$(level).o))
LIB_SRCS   := $(sort $(wildcard libtfm/src/*/*.cpp))
LIB_OBJS   := $(LIB_SRCS:%.cpp=$(BUILD)/%.o) $(ISA_OBJS)
TOOL_SRCS  := $(sort $(wildcard tools/tfm-*.cpp))
TOOLS      := $(TOOL_SRCS:tools/%.cpp=$(BUILD)/bin/%)
# Programs the library starts (not tools, not on PATH), found beside the
# tools as <exe>/../lib/tfm: build/lib/tfm here, $(HELPERDIR) installed.
HELPER_SRCS := $(sort $(wildcard tools/helpers/tfm-*.cpp))
HELPERS    := $(HELPER_SRCS:tools/helpers/%.cpp=$(BUILD)/lib/tfm/%)
SCRIPT_TOOLS := $(filter-out %.cpp,$(wildcard tools/tfm-*))
UNIT_SRCS  := $(sort $(wildcard tests/unit/*.cpp))
UNIT_OBJS  := $(UNIT_SRCS:%.cpp=$(BUILD)/%.o)
UNIT_BIN   := $(BUILD)/tests/unit_tests
# libFuzzer harnesses (make fuzz), also replayed on their inputs by make test.
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.cpp))
FUZZ_REPLAYS := $(FUZZ_SRCS:tests/fuzz/%.cpp=$(BUILD)/fuzz-replay/%)
STATIC_LIB := $(BUILD)/lib/libtfm.a
# The shared library: libtfm.so.0.1.0, its soname libtfm.so.0 (raised when the
# binary interface changes) and the link name libtfm.so, both symbolic links.
SOVERSION  := 0
SONAME     := libtfm.so.$(SOVERSION)
SHARED_LIB := $(BUILD)/lib/libtfm.so
SHARED_REAL := $(BUILD)/lib/libtfm.so.$(VERSION)

DEPS_STAMP := .deps-stamp
DEBIAN_PACKAGES := g++ make libboost-program-options-dev libboost-serialization-dev \
  libhdf5-dev libfmt-dev libpcre2-dev doctest-dev libopenblas-dev libdnnl-dev libopenmpi-dev \
  openmpi-bin gnuplot-nox groff man-db perl python3-h5py python3-torch jq
# make deb (dpkg-shlibdeps, dpkg-gencontrol)
DEBIAN_PACKAGES += dpkg-dev

.PHONY: all native deps fuzz-deps scripts test unit asan fuzz fuzz-build demo bench install deb clean FORCE
# Keep object files of tools (make would delete them as intermediates).
.SECONDARY:
all: $(STATIC_LIB) $(SHARED_REAL) $(SHARED_LIB) $(TOOLS) $(HELPERS) scripts

# Installs only what is missing; sudo only when we are not root.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@touch $@

# libFuzzer comes with clang's runtime libraries; only `make fuzz` needs them.
FUZZ_DEBIAN_PACKAGES := clang-14 libclang-rt-14-dev
fuzz-deps:
	@$(MAKE) --no-print-directory DEPS_STAMP=.fuzz-deps-stamp DEBIAN_PACKAGES='$(FUZZ_DEBIAN_PACKAGES)' \
	  .fuzz-deps-stamp

# The compile flags of the last build: objects are rebuilt when they change
# (a build folder from before the portable default, or another ARCH).
FLAGS_STAMP := $(BUILD)/compile-flags
FLAGS_LINE = $(CXX) $(CPPFLAGS) $(CXXFLAGS) $(ISA_COMMON)
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_LINE))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(FLAGS_LINE))
endif

# The folders compiled into cli.o by the last build: rewritten when a build
# needs cli.o and they differ, so `make install PREFIX=...` and `make deb`
# (PREFIX=/usr) embed their own. Written by its rule, not when the Makefile
# is read as the flags are, so that `make deb` does not first switch it to
# the default PREFIX (one more rebuild and relink of everything).
INSTALL_DIRS_STAMP := $(BUILD)/install-dirs
$(INSTALL_DIRS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(INSTALL_DIRS)' ] || echo '$(INSTALL_DIRS)' > $@
$(BUILD)/libtfm/src/core/cli.o: $(INSTALL_DIRS_STAMP)
FORCE:

# `make V=1` shows the whole command lines.
Q := $(if $(V),,@)
$(BUILD)/%.o: %.cpp $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CXX     $<")
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

# One level's kernels. Then a check: an object that defines a weak symbol
# (an inline function or template instance the compiler kept out of line)
# outside its level's namespace could have the linker use its AVX-512 code
# for every caller; such a symbol fails the build. (Type names that UBSan's
# function checks emit under clang are data, the same at every level.) The
# sanitizer builds (asan, fuzz) run only where they are built and, at -O1,
# keep standard-library inline functions out of line: they skip the check.
ISA_SYMBOL_CHECK ?= yes
define isa_object_rule
$$(BUILD)/libtfm/src/tensor/isa/%.$(1).o: libtfm/src/tensor/isa/%.cpp $$(FLAGS_STAMP) | $$(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	@$$(if $$(V),,echo "  CXX     $$< ($(1))")
	$$(Q)$$(CXX) $$(CPPFLAGS) $$(filter-out -march=% -mtune=%,$$(CXXFLAGS)) $$(ISA_FLAGS_$(1)) \
	  $$(ISA_COMMON) -DTFM_ISA_NS=isa_$(1) -c $$< -o $$@
	$$(Q)[ -z "$$(ISA_SYMBOL_CHECK)" ] || { \
	  leaks=$$$$(nm -C --defined-only $$@ | awk '$$$$2 ~ /^[WVu]$$$$/' | grep -v -e 'isa_$(1)' -e ' typeinfo '); \
	  [ -z "$$$$leaks" ] || { echo "$$@: shared symbols outside tfm::isa_$(1):"; echo "$$$$leaks"; rm -f $$@; exit 1; }; }
endef
$(foreach level,$(ISA_LEVELS),$(eval $(call isa_object_rule,$(level))))

$(STATIC_LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED_REAL): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) -shared $(CXXFLAGS) $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $^ $(DEP_LIBS) $(MPI_LINK)

$(SHARED_LIB): $(SHARED_REAL)
	$(Q)ln -sf $(notdir $<) $(dir $@)$(SONAME) && ln -sf $(SONAME) $@

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(DEP_LIBS) $(LINK_MPI)

$(BUILD)/lib/tfm/%: $(BUILD)/tools/helpers/%.o $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(DEP_LIBS) $(LINK_MPI)

# Shell tools are copied next to the compiled ones so tests use one folder.
scripts: $(SCRIPT_TOOLS:tools/%=$(BUILD)/bin/%)
$(BUILD)/bin/%: tools/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

$(UNIT_BIN): $(UNIT_OBJS) $(STATIC_LIB) | $(HELPERS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(STATIC_LIB) $(DEP_LIBS) $(LINK_MPI)

unit: $(UNIT_BIN)
	$(UNIT_BIN)

test: all $(UNIT_BIN) $(FUZZ_REPLAYS)
	@TFM_BUILD=$(BUILD) bash tests/run-tests.sh

# Tuned for this CPU (not portable): a build of its own, tools in build-native/bin.
native:
	$(MAKE) BUILD=build-native ARCH='-march=native' all

# HDF5's memory left at exit is not ours (see tests/fuzz/lsan.supp).
asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp $(MAKE) BUILD=build-asan ISA_SYMBOL_CHECK= OPT='-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
	  LDFLAGS='-fsanitize=address,undefined' test

# The harnesses of tests/fuzz against a clang + ASan + UBSan libtfm of its own
# (build-fuzz); each one runs FUZZ_SECONDS from its seed corpus, new inputs go
# to build-fuzz/corpus/<harness>, a crash to build-fuzz/crashes/ (libFuzzer
# names the file). A harness's test also runs in `make test` (tests/e2e/fuzz-replay.sh).
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build-fuzz
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.cpp=$(FUZZ_BUILD)/fuzz/%)
# clang has no -Wrestrict (a g++ 12 false positive we turn off above).
fuzz-build: deps fuzz-deps
	$(MAKE) BUILD=$(FUZZ_BUILD) ISA_SYMBOL_CHECK= CXX=clang++-14 WARN='$(filter-out -Wno-restrict,$(WARN))' \
	  OPT='-O1 -g -fno-omit-frame-pointer $(FUZZ_SANITIZE) -fsanitize=fuzzer-no-link' \
	  DEPS_STAMP=.fuzz-deps-stamp $(FUZZ_BINS)
fuzz: fuzz-build
	@bash tests/fuzz/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.cpp tests/fuzz/fuzz_util.h $(STATIC_LIB) | $(HELPERS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  FUZZ    $@")
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -fsanitize=fuzzer -o $@ $< $(STATIC_LIB) $(DEP_LIBS) $(LINK_MPI)

# The same harnesses with a plain main() that runs each file given (seed
# corpora and past findings): part of `make test`, with our usual compiler.
$(BUILD)/fuzz-replay/%: tests/fuzz/%.cpp tests/fuzz/fuzz_util.h tests/fuzz/replay_main.cpp $(STATIC_LIB) | $(HELPERS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -o $@ $< tests/fuzz/replay_main.cpp $(STATIC_LIB) $(DEP_LIBS) $(LINK_MPI)

demo: all
	@TFM_BIN=$(BUILD)/bin bash data/demo.sh

bench: all
	@TFM_BIN=$(BUILD)/bin bash tests/bench/run-all.sh

# LIBDIR: the Debian package puts the library in the multiarch folder.
LIBDIR ?= $(PREFIX)/lib
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/tfm
	install -m 755 $(TOOLS) $(SCRIPT_TOOLS:tools/%=$(BUILD)/bin/%) $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(HELPERDIR)
	install -m 755 $(HELPERS) $(DESTDIR)$(HELPERDIR)
	install -m 644 $(STATIC_LIB) $(SHARED_REAL) $(DESTDIR)$(LIBDIR)
	ln -sf $(notdir $(SHARED_REAL)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libtfm.so
	cp -r libtfm/include/tfm $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7
	cp -r $(filter-out data/demo.sh,$(wildcard data/*)) $(DESTDIR)$(PREFIX)/share/tfm/

# Debian packages (tfm, libtfm0, libtfm-dev) of this build in $(BUILD)/deb/,
# made by debian/build-packages.sh with dpkg's tools; the build is reused
# (install builds what it lacks, with the folders of PREFIX=/usr compiled in).
# The helper programs go with the library in libtfm0: in the multiarch
# folder (libtfm0 is Multi-Arch: same; lintian's
# arch-dependent-file-not-in-arch-specific-directory), in a folder named
# after the soname (Debian policy 8.2: a later libtfm1 installs beside it).
DEB_STAGE := $(BUILD)/deb
deb:
	rm -rf $(DEB_STAGE)
	multiarch=$$(dpkg-architecture -qDEB_HOST_MULTIARCH) && \
	$(MAKE) --no-print-directory -s install PREFIX=/usr LIBDIR=/usr/lib/$$multiarch \
	  HELPERDIR=/usr/lib/$$multiarch/libtfm$(SOVERSION) DESTDIR=$(abspath $(DEB_STAGE))/root
	sh debian/build-packages.sh $(DEB_STAGE) $(VERSION)

clean:
	rm -rf build build-asan build-fuzz build-native

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(TOOL_SRCS:%.cpp=$(BUILD)/%.d) $(HELPER_SRCS:%.cpp=$(BUILD)/%.d) \
  $(FUZZ_REPLAYS:=.d)
