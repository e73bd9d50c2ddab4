# tfm — the Transformer as a suite of Unix tools.
#
#   make            libtfm (static + shared) and every tool in tools/
#   make deps       install the Debian packages we build against (idempotent)
#   make test       unit, e2e, golden and man-page tests
#   make asan       the same tests built with AddressSanitizer + UBSan
#   make demo       the whole pipeline on the built-in sample
#   make bench      benchmarks against the reference tools (never part of test)
#   make install PREFIX=/usr/local DESTDIR=
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

OPT      ?= -O3 -march=native
# -Wrestrict misfires on std::string concatenation at -O3 in g++ 12 (GCC bug 105651).
# -Wpsabi: without AVX-512 (make asan), g++ notes that tensor/simd.h's 64-byte
# vectors pass by value with another ABI than with it; every file of the
# project is built with the same flags, so that never matters here.
WARN     := -Wall -Wextra -Werror -Wno-restrict -Wno-psabi
CXXFLAGS ?=
CXXFLAGS += -std=c++20 $(OPT) $(WARN) -g -fPIC -MMD -MP
CPPFLAGS += -Ilibtfm/include $(DEP_CPPFLAGS) -DTFM_VERSION='"$(VERSION)"' \
            -DTFM_DATA_DIR='"$(PREFIX)/share/tfm"'
LDFLAGS  ?=

# Everything under libtfm/src is the library; each tools/tfm-*.cpp is one tool.
LIB_SRCS   := $(sort $(wildcard libtfm/src/*/*.cpp))
LIB_OBJS   := $(LIB_SRCS:%.cpp=$(BUILD)/%.o)
TOOL_SRCS  := $(sort $(wildcard tools/tfm-*.cpp))
TOOLS      := $(TOOL_SRCS:tools/%.cpp=$(BUILD)/bin/%)
SCRIPT_TOOLS := $(filter-out %.cpp,$(wildcard tools/tfm-*))
UNIT_SRCS  := $(sort $(wildcard tests/unit/*.cpp))
UNIT_OBJS  := $(UNIT_SRCS:%.cpp=$(BUILD)/%.o)
UNIT_BIN   := $(BUILD)/tests/unit_tests
STATIC_LIB := $(BUILD)/lib/libtfm.a
SHARED_LIB := $(BUILD)/lib/libtfm.so

DEPS_STAMP := .deps-stamp
DEBIAN_PACKAGES := g++ make libboost-program-options-dev libboost-serialization-dev \
  libhdf5-dev libfmt-dev libpcre2-dev doctest-dev libopenblas-dev libdnnl-dev libopenmpi-dev \
  openmpi-bin gnuplot-nox groff man-db perl python3-h5py jq

.PHONY: all deps scripts test unit asan demo bench install clean
# Keep object files of tools (make would delete them as intermediates).
.SECONDARY:
all: $(STATIC_LIB) $(SHARED_LIB) $(TOOLS) scripts

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

# `make V=1` shows the whole command lines.
Q := $(if $(V),,@)
$(BUILD)/%.o: %.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CXX     $<")
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(STATIC_LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) -shared $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(DEP_LIBS) $(MPI_LINK)

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(DEP_LIBS) $(LINK_MPI)

# Shell tools are copied next to the compiled ones so tests use one folder.
scripts: $(SCRIPT_TOOLS:tools/%=$(BUILD)/bin/%)
$(BUILD)/bin/%: tools/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

$(UNIT_BIN): $(UNIT_OBJS) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(STATIC_LIB) $(DEP_LIBS) $(LINK_MPI)

unit: $(UNIT_BIN)
	$(UNIT_BIN)

test: all $(UNIT_BIN)
	@TFM_BUILD=$(BUILD) bash tests/run-tests.sh

asan:
	$(MAKE) BUILD=build-asan OPT='-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
	  LDFLAGS='-fsanitize=address,undefined' test

demo: all
	@TFM_BIN=$(BUILD)/bin bash data/demo.sh

bench: all
	@TFM_BIN=$(BUILD)/bin bash tests/bench/run-all.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/tfm
	install -m 755 $(TOOLS) $(SCRIPT_TOOLS:tools/%=$(BUILD)/bin/%) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(STATIC_LIB) $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib
	cp -r libtfm/include/tfm $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7
	cp -r $(filter-out data/demo.sh,$(wildcard data/*)) $(DESTDIR)$(PREFIX)/share/tfm/

clean:
	rm -rf build build-asan

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(TOOL_SRCS:%.cpp=$(BUILD)/%.d)
