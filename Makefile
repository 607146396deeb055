# Auffusion for Swift — build, test and demo entry points.
# `make demo` and `make test` are the two commands a new user needs (see README.md).

SWIFT        ?= swift
CONFIG       ?= release
# On x86-64 machines with AVX2 and FMA, let the Swift kernels use 256-bit vectors.
CPU_FLAGS    := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && [ "$$(uname -m)" = x86_64 ] && echo "-Xswiftc -target-cpu -Xswiftc haswell")
# Release builds drop runtime checks (-Ounchecked) here, not in Package.swift: SwiftPM refuses
# unsafeFlags in a package others depend on (docs/build.md).
OPT_FLAGS    := $(if $(filter release,$(CONFIG)),-Xswiftc -Ounchecked)
SWIFT_FLAGS  := -c $(CONFIG) $(OPT_FLAGS) -Xswiftc -enforce-exclusivity=unchecked $(CPU_FLAGS)
SLURM_PACKAGES := slurm-wlm munge bc
# Chromium and its WebDriver run the browser editor's test (test-browser).
BROWSER_PACKAGES := chromium chromium-driver
APT_PACKAGES := libsndfile1-dev libfftw3-dev libopenblas-dev libsamplerate0-dev zlib1g-dev pkg-config $(BROWSER_PACKAGES)
VENV         := .venv-reference
PYTHON       := $(VENV)/bin/python
# The current PyTorch release, a second peer for the benchmarks only (fixtures stay on the pin).
CURRENT_VENV := .venv-torch-current
BIN          = $(shell $(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)
DEMO_DIR     := demo-output
MINI_MODEL   := Sources/Pipeline/Resources/auffusion-mini
MINI_WORK    := .mini-work
DEPENDENT    := Examples/dependent-package
# Fuzzing (docs/reliability.md): a debug build with libFuzzer, in its own scratch path.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 1
FUZZ_SCRATCH := .build-fuzz
FUZZ_BUILD   := --scratch-path $(FUZZ_SCRATCH) -c debug -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
FUZZ_TARGETS := audio safetensors torch pickle configuration npy tokenizer-files prompt edit-plan batch
# libFuzzer options: 2 GB of memory, 10 s per input, no leak reports (Swift's runtime caches look like leaks).
FUZZ_OPTIONS := -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -detect_leaks=0
SANITIZE_SCRATCH := .build-sanitize

.PHONY: deps build test test-swift test-side test-browser dependent test-slurm slurm-deps bench-batch test-sanitize fuzz-build fuzz fuzz-run demo bench bench-unet bench-generate bench-fewer-steps bench-edits bench-long bench-inversion fixtures mini-model clean

## deps: install the system libraries with apt-get, only those that are missing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

## build: compile the library, the CLI and the examples.
build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

## test: run every test (Swift only; fixtures are committed, no Python needed), then the browser
## editor in Chromium (`test-browser`), `dependent`, a short smoke run of every fuzz target and,
## as root, `test-slurm` (about 20 s). `dependent` and the fuzz build run beside the release build
## and the test run, at the lowest priority (`test-side`).
test: deps
	@$(MAKE) --no-print-directory -j2 test-swift test-side
	@$(BROWSER_TEST)
	$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory slurm-deps && $(SLURM_TEST); \
	else echo "test-slurm: not run (its daemons run as root: sudo make test-slurm)"; fi

# The release build with the tests, then the Swift tests (part of `make test`). Only the kernels,
# the networks and the signal code split work between threads, so their suites run on two compute
# threads; every other suite runs one compute thread per test, two tests at once, which gives the
# same bits (a result never depends on the thread count) and about 70 s less of a 2-core run
# than two threads under each of two tests (docs/build.md, "Tests and threads").
THREADED_SUITES := ^(ComputeTests|ModelsTests|AudioDSPTests)\.
test-swift:
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	AUFFUSION_THREADS=1 $(SWIFT) test $(SWIFT_FLAGS) --skip-build --parallel --num-workers 2 --skip '$(THREADED_SUITES)'
	$(SWIFT) test $(SWIFT_FLAGS) --skip-build --parallel --num-workers 2 --filter '$(THREADED_SUITES)'

# `dependent` and the fuzz targets' debug build, under nice 19: they take only the CPU that
# `test-swift` leaves idle (its release build compiles one whole module at a time for much of
# its length), so they no longer add their own minutes after it. As root, the Slurm packages
# `test-slurm` needs are installed first, beside the build, not after the tests. Their output
# waits in $(SIDE_LOG) and is printed when they end, so it does not interleave with the tests'.
SIDE_LOG := $(FUZZ_SCRATCH)/test-side.log
test-side:
	@mkdir -p $(FUZZ_SCRATCH); \
	{ if [ "$$(id -u)" = 0 ]; then nice -n 19 $(MAKE) --no-print-directory slurm-deps; fi && \
	  nice -n 19 $(MAKE) --no-print-directory dependent fuzz-build; } > $(SIDE_LOG) 2>&1; \
	status=$$?; cat $(SIDE_LOG); exit $$status

## test-browser: `auffusion serve` with the embedded model, driven in headless Chromium over
## WebDriver by a Python script (standard library only): upload, drag a selection, fill, play,
## download (it must equal `auffusion inpaint`'s file), delete the clip (about 10 s). Skipped, saying so,
## when chromium or chromedriver is missing. SCREENSHOT=docs/images/serve-fill.png saves the page.
BROWSER_TEST = if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
	  python3 scripts/serve/browser_test.py $(BIN)/auffusion $(if $(SCREENSHOT),--screenshot $(SCREENSHOT)); \
	else echo "test-browser: skipped: chromium and chromium-driver are not installed (make deps installs them)"; fi
test-browser: build
	@$(BROWSER_TEST)

## slurm-deps: Debian's Slurm and munge, with apt-get, only when missing.
slurm-deps:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(SLURM_PACKAGES)"

## test-slurm: a one-node Slurm cluster on this machine (root; generated slurm.conf in a temporary
## folder) runs docs/batch/slurm-array.sh over a small batch with the embedded model; the merged
## manifests must cover every line once and the outputs equal one process's bit for bit.
SLURM_TEST = scripts/slurm/test-slurm.sh $(BIN)/auffusion 3
test-slurm: build slurm-deps
	$(SLURM_TEST)

## dependent: build $(DEPENDENT), an outside package that uses the library products by path, as
## an app would (a plain `swift build`, debug: a third less CPU than `-c release` for the build
## and its run together, docs/build.md), and run it; refuse unsafeFlags, which SwiftPM rejects in
## a versioned dependency but not in a path one. (The manifest is read with a scratch path of its
## own, which it never writes to, so the check does not wait for a build holding .build's lock.)
dependent: deps
	@if $(SWIFT) package --scratch-path .build-manifest dump-package | grep -q unsafeFlags; then \
	  echo "error: Package.swift sets unsafeFlags; SwiftPM refuses them in a dependency (docs/build.md)"; exit 1; fi
	$(SWIFT) build --package-path $(DEPENDENT)
	$$($(SWIFT) build --package-path $(DEPENDENT) --show-bin-path)/app-using-auffusion $(DEPENDENT)/.build/output

## test-sanitize: the test suite under AddressSanitizer, with Swift's overflow, bounds and
## exclusivity checks on (no -Ounchecked; swiftc has no UBSan for Swift code): a release build in
## its own scratch path, much slower than `make test`. Leak reports are off: XCTest's own suite
## objects are still alive at exit.
SANITIZE_FLAGS := -c release $(CPU_FLAGS) --scratch-path $(SANITIZE_SCRATCH) --sanitize address
test-sanitize: deps
	$(SWIFT) build $(SANITIZE_FLAGS) --build-tests
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test $(SANITIZE_FLAGS) --skip-build --parallel --num-workers 2

## fuzz: run each fuzz target for FUZZ_SECONDS (default 60) under libFuzzer, from the committed
## seeds (Fuzz/corpus/TARGET) plus what earlier runs found ($(FUZZ_SCRATCH)/corpus/TARGET).
## A crash is saved as $(FUZZ_SCRATCH)/crashes/TARGET-*; commit it under Fuzz/regressions/TARGET.
## FUZZ_TARGETS="audio npy" runs only those.
fuzz: fuzz-build
	@$(MAKE) --no-print-directory fuzz-run

# The runs of `fuzz` alone, on the targets `fuzz-build` made (`make test` builds them in
# `test-side` and its `test-swift` builds the binary `test-slurm` uses, so it calls this and
# $(SLURM_TEST) without their builds: each was a rebuild of about 20 and 56 s that changed nothing).
fuzz-run:
	@mkdir -p $(FUZZ_SCRATCH)/crashes
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_SCRATCH)/corpus/$$target; \
	  echo "fuzz: $$target for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_SCRATCH)/debug/fuzz $$target $(FUZZ_OPTIONS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_SCRATCH)/crashes/$$target- $(FUZZ_SCRATCH)/corpus/$$target Fuzz/corpus/$$target \
	    > $(FUZZ_SCRATCH)/$$target.log 2>&1 \
	    || { tail -40 $(FUZZ_SCRATCH)/$$target.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|cov: " $(FUZZ_SCRATCH)/$$target.log | tail -2; \
	done

# The fuzz targets' debug build with libFuzzer (`make test` runs it in `test-side`).
fuzz-build: deps
	$(SWIFT) build $(FUZZ_BUILD) --product fuzz

## demo: with the embedded model, generate a sound from a prompt, restyle it and fill a gap in
## it; WAVs and spectrogram pictures go to demo-output/.
demo: build
	@mkdir -p $(DEMO_DIR)
	$(BIN)/auffusion generate "a low pitched beep" --seed 3 \
	  -o $(DEMO_DIR)/generated.wav --spectrogram $(DEMO_DIR)/generated.png
	$(BIN)/auffusion transfer $(DEMO_DIR)/generated.wav "a high pitched beep and white noise" --strength 0.8 \
	  --seed 3 -o $(DEMO_DIR)/restyled.wav --spectrogram $(DEMO_DIR)/restyled.png
	$(BIN)/auffusion inpaint $(DEMO_DIR)/generated.wav "white noise" --mask 0.8-1.6 \
	  --seed 3 -o $(DEMO_DIR)/filled.wav --spectrogram $(DEMO_DIR)/filled.png
	@echo "demo: wrote generated, restyled and filled .wav/.png to $(DEMO_DIR)/ (docs/mini-model.md says what the model knows)"

## bench: time our kernels beside the PyTorch/librosa reference on this machine (the compute
## kernels also beside the current PyTorch), and the networks beside PyTorch 2.0.1 and the current
## PyTorch (fp32, and bf16 autocast where the CPU has bfloat16 dot products), as ratios.
bench: build $(VENV)/.installed $(CURRENT_VENV)/.installed
	$(PYTHON) scripts/reference/bench.py --write-clip .bench-clip.wav
	$(BIN)/auffusion-bench --clip .bench-clip.wav --json > .bench-swift.json
	$(PYTHON) scripts/reference/bench.py --swift .bench-swift.json
	$(CURRENT_VENV)/bin/python scripts/reference/bench.py --swift .bench-swift.json --compute-only
	$(PYTHON) scripts/reference/bench_models.py --swift-bench $(BIN)/auffusion-bench --current-python $(CURRENT_VENV)/bin/python

## bench-batch: lines per hour per core of a batch with the embedded model (25 steps, one thread),
## and the same batch as 4 shards run one after the other, as a ratio (~3 minutes).
bench-batch: build
	scripts/bench-batch.sh $(BIN)/auffusion 8 25 4 3

## bench-unet: one guided U-Net step only, Swift beside PyTorch 2.0.1 and the current PyTorch fp32,
## and, where the CPU has bfloat16 dot products, Swift's bfloat16 products beside the current
## PyTorch's bf16 autocast; 3 alternating rounds (~5 minutes).
bench-unet: build $(VENV)/.installed $(CURRENT_VENV)/.installed
	$(PYTHON) scripts/reference/bench_models.py --swift-bench $(BIN)/auffusion-bench --current-python $(CURRENT_VENV)/bin/python \
	  --only unet --rounds 3

## bench-generate: a whole 10 s generation (25 DPM-Solver++ steps) on a full-size synthetic
## model folder (written once to /tmp, 4.3 GB): Swift exact and each fast preset beside the Python
## pipeline (~17 minutes; BENCH_GENERATE_FLAGS="--repeat 2" keeps the faster of two, --exact-only).
bench-generate: build $(VENV)/.installed
	$(PYTHON) scripts/reference/bench_generate.py --swift-binary $(BIN)/auffusion --steps 25 $(BENCH_GENERATE_FLAGS)

## bench-fewer-steps: the "fewer steps" preset: mel distance of UniPC and DPM-Solver++ at 10, 15 and
## 25 steps to the exact run (embedded model, PNDM at 100 steps; 3 prompts x 10 seeds), then a 10 s
## generation on bench-generate's synthetic folder at 15 UniPC steps beside 25 DPM-Solver++ steps
## (Swift; BENCH_FEWER_STEPS_FLAGS=--python adds the Python pipeline). About 20 minutes.
bench-fewer-steps: build $(VENV)/.installed
	$(PYTHON) scripts/reference/bench_fewer_steps.py --swift-binary $(BIN)/auffusion $(BENCH_FEWER_STEPS_FLAGS)

## bench-edits: style transfer (strength 0.5), a 2 s inpaint and a word reweight of a 10 s clip (25
## DPM-Solver++ steps) on bench-generate's synthetic folder, Swift beside Python (roughly an hour).
bench-edits: build $(VENV)/.installed
	$(PYTHON) scripts/reference/bench_edits.py --swift-binary $(BIN)/auffusion --steps 25

## bench-long: edits and a generation longer than the canvas (a 60 s restyle, a fill of a 3-minute
## clip, a 30 s generation) beside the cropped edit, time and peak memory; BENCH_LONG_FLAGS=--full-size
## adds a 30 s restyle on bench-generate's synthetic folder (~10 minutes more).
bench-long: build $(VENV)/.installed
	$(PYTHON) scripts/reference/bench_long.py --swift-binary $(BIN)/auffusion $(BENCH_LONG_FLAGS)

## bench-inversion: DDIM inversion + word swap and ZETA's DDPM inversion + edit of a 10 s clip, Swift
## beside the Python restatements, with `invert` alone, the inversion files' sizes and a generation
## of as many steps (full-size synthetic folder; BENCH_INVERSION_STEPS, default 10; ~20 minutes).
bench-inversion: build $(VENV)/.installed
	$(PYTHON) scripts/reference/bench_inversion.py --swift-binary $(BIN)/auffusion --steps $(or $(BENCH_INVERSION_STEPS),10)

## mini-model: train the embedded model from scratch into $(MINI_MODEL) (about 1 h on 2 cores;
## checkpoints every 10 minutes in $(MINI_WORK)/, and a rerun resumes from them).
mini-model: $(VENV)/.installed
	$(PYTHON) scripts/mini/train.py --work $(MINI_WORK) --out $(MINI_MODEL)
	$(PYTHON) scripts/reference/generate.py mini_fixtures
	$(PYTHON) scripts/mini/plot.py $(MINI_WORK)/train.log docs/images/mini-model-training.png

## fixtures: regenerate every golden fixture from the Python reference.
fixtures: $(VENV)/.installed
	$(PYTHON) scripts/reference/generate.py

$(VENV)/.installed: scripts/reference/requirements.txt scripts/reference/requirements-nodeps.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r scripts/reference/requirements.txt
	$(VENV)/bin/pip install -q --no-deps -r scripts/reference/requirements-nodeps.txt
	touch $@

# torch without its nvidia-* wheels (~3 GB, CUDA only): torch_cpu_stubs.py stands in for them.
$(CURRENT_VENV)/.installed: scripts/reference/requirements-current.txt scripts/reference/torch_cpu_stubs.py
	python3 -m venv $(CURRENT_VENV)
	$(CURRENT_VENV)/bin/pip install -q --upgrade pip
	$(CURRENT_VENV)/bin/pip install -q --no-deps $$(grep '^torch==' scripts/reference/requirements-current.txt)
	$(CURRENT_VENV)/bin/pip install -q $$(grep -v -e '^#' -e '^torch==' scripts/reference/requirements-current.txt)
	$(CURRENT_VENV)/bin/python scripts/reference/torch_cpu_stubs.py \
	  "$$($(CURRENT_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch/lib"
	$(CURRENT_VENV)/bin/python -c 'import torch; assert float(torch.ones(3) @ torch.ones(3)) == 3'
	touch $@

clean:
	rm -rf .build $(DEPENDENT)/.build $(FUZZ_SCRATCH) $(SANITIZE_SCRATCH) $(DEMO_DIR) .bench-swift.json .bench-clip.wav
