# pertnas: make build | make test | make demo | make bench
GO      ?= go
BIN     := bin
STAGES  := convert-cifar search-evolve train-eval export-nb301
export CGO_ENABLED ?= 0

.PHONY: build test bench vet fuzz-short clean
build: $(addprefix $(BIN)/,$(STAGES))

$(BIN)/%: FORCE
	$(GO) build -o $@ ./stages/$*
FORCE:

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
