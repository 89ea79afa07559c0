# pipelines/search.mk: the PertNAS search as a Make pipeline.
#
# Each population member is one job whose target is its valuation table
# (written only when the member completes, so a killed member is never taken
# as done); `make -j N` runs N members at once. The selection runs once every
# member's table exists, and its target genotype.json is written last. Any job
# killed midway continues from its saved state when make is run again.
#
# Example, from the repository root (build the stage first with `make build`):
#
#   make -f pipelines/search.mk -j4 search \
#        SEARCH_RUN=runs/c10 SEARCH_DATA=data/cifar10 SEARCH_NPOP=4
#
#   # a quick end-to-end check on 2 cores (smoke preset, 2 members):
#   make -f pipelines/search.mk -j2 search SEARCH_RUN=runs/smoke \
#        SEARCH_DATA=data/demo SEARCH_NPOP=2 SEARCH_ARGS="--preset smoke"
#
# Or `include pipelines/search.mk` from another Makefile and depend on
# $(SEARCH_RUN)/genotype.json (pipelines/cifar10.mk does, setting SEARCH_*
# from its CIFAR10_* variables). Every job of one run must get the same
# SEARCH_ARGS (the run folder's run.json refuses another configuration);
# --device may differ.

SEARCH_BIN  ?= bin/search-evolve
SEARCH_RUN  ?= runs/search
SEARCH_DATA ?= data/cifar10
SEARCH_NPOP ?= 4
SEARCH_ARGS ?=
# SEARCH_DEVICE: --device of every job (empty: the stage's default, auto). With
# auto or cuda and SEARCH_NGPU > 0, member i runs on cuda:(i mod SEARCH_NGPU).
SEARCH_DEVICE ?=
SEARCH_NGPU   ?= 0
# SEARCH_DEPS: files every member needs first (the dataset's manifest.json, say).
SEARCH_DEPS   ?=

search_flags = --run $(SEARCH_RUN) --data $(SEARCH_DATA) --npop $(SEARCH_NPOP) $(SEARCH_ARGS)
# search_device INDEX: the --device flag of member INDEX (see SEARCH_DEVICE).
search_device = $(if $(and $(filter auto cuda,$(SEARCH_DEVICE)),$(filter-out 0,$(or $(SEARCH_NGPU),0))),--device cuda:$(shell echo $$(( $(1) % $(SEARCH_NGPU) ))),$(if $(SEARCH_DEVICE),--device $(SEARCH_DEVICE)))
search_members = $(shell seq 0 $$(( $(SEARCH_NPOP) - 1 )))
SEARCH_VALUATIONS = $(foreach i,$(search_members),$(SEARCH_RUN)/members/$(i)/valuation.arrow)

.PHONY: search search-members
search: $(SEARCH_RUN)/genotype.json
search-members: $(SEARCH_VALUATIONS)

# phases 1-2 for member %
$(SEARCH_RUN)/members/%/valuation.arrow: $(SEARCH_DEPS) | $(SEARCH_BIN)
	$(SEARCH_BIN) member --index $* $(call search_device,$*) $(search_flags)

# phases 3-7
$(SEARCH_RUN)/genotype.json: $(SEARCH_VALUATIONS) | $(SEARCH_BIN)
	$(SEARCH_BIN) select $(if $(SEARCH_DEVICE),--device $(SEARCH_DEVICE)) $(search_flags)

ifeq ($(filter $(SEARCH_BIN),$(BIN)/search-evolve),)
$(SEARCH_BIN):
	go build -o $@ ./stages/search-evolve
endif
