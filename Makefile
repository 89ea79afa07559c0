# pertnas — build, test and run the pipelines (`make help` lists the targets
# and variables).
#
#   make demo      the whole pipeline on a generated dataset (pipelines/demo.mk)
#   make test      vet + the test suite (what CI runs)
#   make cifar10   the real thing on CIFAR-10 (pipelines/cifar10.mk)
#   make bench     the benchmarks
#   make build     the stage binaries in bin/
GO     ?= go
BIN    := bin
STAGES := convert-cifar convert-imagenet search-evolve train-eval export-nb301
export CGO_ENABLED ?= 0

.PHONY: build test bench vet clean docs fuzz FORCE
.DELETE_ON_ERROR:

build: $(addprefix $(BIN)/,$(STAGES))

# The binaries are always brought up to date (go build is incremental), but
# pipeline steps depend on them order-only, so a rebuilt binary does not redo
# finished work.
$(BIN)/%: FORCE
	@$(GO) build -o $@ ./stages/$*
FORCE:

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./formats/... ./loader/ ./convert/ ./nb301/...
	$(GO) test -run '^$$' -bench . -benchtime 1s ./nn/cpu/kern/
	bash scripts/bench-cpu.sh

clean:
	rm -rf $(BIN)

# docs/cli.md: every stage's --help, for the README's reference.
docs: build
	sh scripts/gen-cli-doc.sh

# Every fuzz target for FUZZTIME each, one at a time, with a table at the
# end (scripts/fuzz.sh); e.g. make fuzz FUZZTIME=10m.
FUZZTIME ?= 15s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

# The SLURM scripts on a real one-node SLURM cluster of their own, against
# make demo (root; installs SLURM if missing, else skips).
.PHONY: slurm-check
slurm-check:
	bash scripts/slurm-check.sh

# make nb301 NB301_RUN=runs/NAME [NB301_MODELS=DIR]: export (and score) the
# genotype of a finished search.
NB301_RUN    ?= runs/demo
NB301_MODELS ?=
.PHONY: nb301
nb301: | $(BIN)/export-nb301
	$(BIN)/export-nb301 --genotype $(NB301_RUN)/genotype.json --same-cell --out $(NB301_RUN)/nb301 \
		$(if $(NB301_MODELS),--models $(NB301_MODELS))

# make help: the targets and the variables they take.
.PHONY: help
help:
	@echo 'Targets:'
	@echo '  build          the stage binaries in $(BIN)/'
	@echo '  test           go vet + the test suite (what CI runs)'
	@echo '  demo           the whole pipeline on a generated dataset (pipelines/demo.mk)'
	@echo '  cifar10        the published pipeline on CIFAR-10 (pipelines/cifar10.mk);'
	@echo '                 also cifar10-data, cifar10-search'
	@echo '  nb301          export (and score) a finished run to NAS-Bench-301'
	@echo '  study          search vs random sampling (pipelines/study.mk)'
	@echo '  docs           regenerate docs/cli.md from every --help'
	@echo '  bench, fuzz, slurm-check, vet, clean, demo-clean'
	@echo 'Variables (each pipeline has its own prefix; none affects another):'
	@echo '  demo:    DEMO_DATA [data/demo] DEMO_RUN [runs/demo] DEMO_TRAIN [5000] DEMO_TEST [1000] DEMO_SEED [1]'
	@echo '  cifar10: CIFAR10_TGZ CIFAR10_DATA [data/cifar10] CIFAR10_RUN [runs/cifar10] CIFAR10_SEED [1]'
	@echo '           CIFAR10_NPOP [4] CIFAR10_DEVICE [auto] CIFAR10_NGPU [nvidia-smi] CIFAR10_PRECISION [fp32]'
	@echo '           CIFAR10_NB301_MODELS'
	@echo '  nb301:   NB301_RUN [runs/demo] NB301_MODELS'
	@echo '  study:   STUDY_* (see pipelines/study.mk)'
	@echo '  search alone (make -f pipelines/search.mk): SEARCH_RUN SEARCH_DATA SEARCH_NPOP SEARCH_ARGS'
	@echo '           SEARCH_DEVICE SEARCH_NGPU SEARCH_DEPS SEARCH_BIN'
	@echo '  all:     GO [go] FUZZTIME [15s]'

include pipelines/demo.mk
# Two pipelines pointed at one folder would give its files two recipes
# (checked before cifar10.mk defines its rules; its defaults differ from the demo's).
ifneq ($(filter $(abspath $(CIFAR10_RUN)) $(abspath $(CIFAR10_DATA)),$(abspath $(DEMO_RUN)) $(abspath $(DEMO_DATA))),)
$(error the demo and cifar10 pipelines share a folder (DEMO_RUN=$(DEMO_RUN) DEMO_DATA=$(DEMO_DATA), CIFAR10_RUN=$(CIFAR10_RUN) CIFAR10_DATA=$(CIFAR10_DATA)); give each its own)
endif
include pipelines/cifar10.mk
include pipelines/study.mk
