# make cifar10: the published PertNAS pipeline on real CIFAR-10.
#   CIFAR10_TGZ  the cifar-10-binary.tar.gz archive; if the file is missing it is
#                downloaded there (needs a network; the MD5 is checked)
#   RUN SEED NPOP DEVICE   run name, seed, population size, device (auto|cpu|cuda)
#   NGPU         GPUs to spread the members over (default: as many as nvidia-smi lists);
#                with DEVICE auto or cuda, member i runs on cuda:(i mod NGPU)
#   PRECISION    GPU arithmetic of the search and the training: fp32 (default), tf32,
#                fp16 (mixed precision as PertNAS's AMP) or bf16; the CPU runs fp32
# `make -j$(NPOP) cifar10` runs the members side by side; `make -n cifar10` prints
# the plan; every step can be run alone (see README).
RUN         ?= cifar10
SEED        ?= 0
NPOP        ?= 4
DEVICE      ?= auto
PRECISION   ?= fp32
NGPU        ?= $(shell nvidia-smi -L 2>/dev/null | grep -c '^GPU')
C10_DATA    ?= data/cifar10
CIFAR10_TGZ ?= $(C10_DATA)/cifar-10-binary.tar.gz
C10_RUN     := runs/$(RUN)
.PHONY: cifar10 cifar10-data cifar10-search nb301
cifar10: $(C10_RUN)/eval/result.json $(C10_RUN)/nb301/config.json
cifar10-data: $(C10_DATA)/manifest.json
cifar10-search: $(C10_RUN)/genotype.json

$(C10_DATA)/manifest.json: | $(BIN)/convert-cifar
	$(BIN)/convert-cifar --src $(CIFAR10_TGZ) --out $(C10_DATA) \
		$(if $(wildcard $(CIFAR10_TGZ)),,--fetch)

# The search: members are independent jobs (one file each), so `make -j` runs
# them side by side; select then reads their valuation tables (pipelines/search.mk).
SEARCH_BIN    := $(BIN)/search-evolve
SEARCH_RUN    := $(C10_RUN)
SEARCH_DATA   := $(C10_DATA)
SEARCH_NPOP   := $(NPOP)
SEARCH_ARGS   := --preset paper --seed $(SEED) --precision $(PRECISION)
SEARCH_DEVICE := $(DEVICE)
SEARCH_NGPU   := $(NGPU)
SEARCH_DEPS   := $(C10_DATA)/manifest.json
include pipelines/search.mk

$(C10_RUN)/eval/result.json: $(C10_RUN)/genotype.json | $(BIN)/train-eval
	$(BIN)/train-eval --preset paper --seed $(SEED) --device $(DEVICE) --precision $(PRECISION) --genotype $< \
		--data $(C10_DATA) --out $(C10_RUN)/eval

$(C10_RUN)/nb301/config.json: $(C10_RUN)/genotype.json | $(BIN)/export-nb301
	$(BIN)/export-nb301 --genotype $< --same-cell --out $(C10_RUN)/nb301 \
		$(if $(NB301_MODELS),--models $(NB301_MODELS))

# make nb301 RUN=name [NB301_MODELS=nb_models/xgb_v0.9]: export (and score) a search run's genotype.
nb301: | $(BIN)/export-nb301
	$(BIN)/export-nb301 --genotype runs/$(RUN)/genotype.json --same-cell --out runs/$(RUN)/nb301 \
		$(if $(NB301_MODELS),--models $(NB301_MODELS))
