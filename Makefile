# pertnas — build, test and run the pipelines.
#
#   make demo      the whole pipeline on a generated dataset (pipelines/demo.mk)
#   make test      vet + the test suite (what CI runs)
#   make cifar10   the real thing on CIFAR-10 (pipelines/cifar10.mk)
#   make bench     the benchmarks
#   make build     the four stage binaries in bin/
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

include pipelines/demo.mk
include pipelines/cifar10.mk
include pipelines/study.mk
