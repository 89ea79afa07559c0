# make cifar10: the published PertNAS pipeline on real CIFAR-10.
#   CIFAR10_TGZ  the cifar-10-binary.tar.gz archive; if the file is missing it is
#                downloaded there (needs a network; the MD5 is checked)
#   RUN SEED NPOP DEVICE   run name, seed, population size, device (auto|cpu|cuda)
#   NGPU         GPUs to spread the members over (default: as many as nvidia-smi lists);
#                with DEVICE auto or cuda, member i runs on cuda:(i mod NGPU)
# `make -j$(NPOP) cifar10` runs the members side by side; `make -n cifar10` prints
# the plan; every step can be run alone (see README).
RUN         ?= cifar10
SEED        ?= 0
NPOP        ?= 4
DEVICE      ?= auto
NGPU        ?= $(shell nvidia-smi -L 2>/dev/null | grep -c '^GPU')
C10_DATA    ?= data/cifar10
CIFAR10_TGZ ?= $(C10_DATA)/cifar-10-binary.tar.gz
C10_RUN     := runs/$(RUN)
SEARCH_FLAGS = --preset paper --npop $(NPOP) --seed $(SEED) --run $(C10_RUN) --data $(C10_DATA)
# member_device INDEX: the device of one member job.
member_device = $(if $(and $(filter auto cuda,$(DEVICE)),$(filter-out 0,$(or $(NGPU),0))),cuda:$(shell echo $$(( $(1) % $(NGPU) ))),$(DEVICE))

.PHONY: cifar10 cifar10-data cifar10-search nb301
cifar10: $(C10_RUN)/eval/result.json $(C10_RUN)/nb301/config.json
cifar10-data: $(C10_DATA)/manifest.json
cifar10-search: $(C10_RUN)/genotype.json

$(C10_DATA)/manifest.json: | $(BIN)/convert-cifar
	$(BIN)/convert-cifar --src $(CIFAR10_TGZ) --out $(C10_DATA) \
		$(if $(wildcard $(CIFAR10_TGZ)),,--fetch)

# Members are independent jobs (one file each), so `make -j` runs them side by
# side; select then reads their valuation tables.
C10_MEMBERS := $(foreach i,$(shell seq 0 $$(($(NPOP)-1))),$(C10_RUN)/members/$(i)/valuation.arrow)
$(C10_RUN)/members/%/valuation.arrow: $(C10_DATA)/manifest.json | $(BIN)/search-evolve
	$(BIN)/search-evolve member --index $* --device $(call member_device,$*) $(SEARCH_FLAGS)

$(C10_RUN)/genotype.json: $(C10_MEMBERS) | $(BIN)/search-evolve
	$(BIN)/search-evolve select --device $(DEVICE) $(SEARCH_FLAGS)

$(C10_RUN)/eval/result.json: $(C10_RUN)/genotype.json | $(BIN)/train-eval
	$(BIN)/train-eval --preset paper --seed $(SEED) --device $(DEVICE) --genotype $< \
		--data $(C10_DATA) --out $(C10_RUN)/eval

$(C10_RUN)/nb301/config.json: $(C10_RUN)/genotype.json | $(BIN)/export-nb301
	$(BIN)/export-nb301 --genotype $< --same-cell --out $(C10_RUN)/nb301 \
		$(if $(NB301_MODELS),--models $(NB301_MODELS))

# make nb301 RUN=name [NB301_MODELS=nb_models/xgb_v0.9]: export (and score) a search run's genotype.
nb301: | $(BIN)/export-nb301
	$(BIN)/export-nb301 --genotype runs/$(RUN)/genotype.json --same-cell --out runs/$(RUN)/nb301 \
		$(if $(NB301_MODELS),--models $(NB301_MODELS))
