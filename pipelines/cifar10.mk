# make cifar10: the published PertNAS pipeline on real CIFAR-10.
# Its variables all start with CIFAR10_ (so no other pipeline's collide):
#   CIFAR10_TGZ        the cifar-10-binary.tar.gz archive; if the file is missing it
#                      is downloaded there (needs a network; the MD5 is checked)
#   CIFAR10_DATA       dataset folder [data/cifar10]
#   CIFAR10_RUN        run folder [runs/cifar10]
#   CIFAR10_SEED       seed of the search and the training [1]
#   CIFAR10_NPOP       population size [4]
#   CIFAR10_DEVICE     auto|cpu|cuda|cuda:N [auto]
#   CIFAR10_NGPU       GPUs to spread the members over (default: as many as nvidia-smi
#                      lists); with CIFAR10_DEVICE auto or cuda, member i runs on
#                      cuda:(i mod CIFAR10_NGPU)
#   CIFAR10_PRECISION  GPU arithmetic of the search and the training: fp32 (default),
#                      tf32, fp16 (mixed precision as PertNAS's AMP) or bf16; the CPU
#                      runs fp32
#   CIFAR10_NB301_MODELS  NB301 surrogate models to score the cell with (optional)
# `make -j$(CIFAR10_NPOP) cifar10` runs the members side by side; `make -n cifar10`
# prints the plan; every step can be run alone (see README).
CIFAR10_DATA      ?= data/cifar10
CIFAR10_TGZ       ?= $(CIFAR10_DATA)/cifar-10-binary.tar.gz
CIFAR10_RUN       ?= runs/cifar10
CIFAR10_SEED      ?= 1
CIFAR10_NPOP      ?= 4
CIFAR10_DEVICE    ?= auto
CIFAR10_PRECISION ?= fp32
CIFAR10_NGPU      ?= $(shell nvidia-smi -L 2>/dev/null | grep -c '^GPU')
CIFAR10_NB301_MODELS ?=
.PHONY: cifar10 cifar10-data cifar10-search
cifar10: $(CIFAR10_RUN)/eval/result.json $(CIFAR10_RUN)/nb301/config.json
cifar10-data: $(CIFAR10_DATA)/manifest.json
cifar10-search: $(CIFAR10_RUN)/genotype.json

$(CIFAR10_DATA)/manifest.json: | $(BIN)/convert-cifar
	$(BIN)/convert-cifar --src $(CIFAR10_TGZ) --out $(CIFAR10_DATA) \
		$(if $(wildcard $(CIFAR10_TGZ)),,--fetch)

# The search: members are independent jobs (one file each), so `make -j` runs
# them side by side; select then reads their valuation tables (pipelines/search.mk,
# whose SEARCH_* variables this pipeline sets from its own).
override SEARCH_BIN    := $(BIN)/search-evolve
override SEARCH_RUN    := $(CIFAR10_RUN)
override SEARCH_DATA   := $(CIFAR10_DATA)
override SEARCH_NPOP   := $(CIFAR10_NPOP)
override SEARCH_ARGS   := --preset paper --seed $(CIFAR10_SEED) --precision $(CIFAR10_PRECISION)
override SEARCH_DEVICE := $(CIFAR10_DEVICE)
override SEARCH_NGPU   := $(CIFAR10_NGPU)
override SEARCH_DEPS   := $(CIFAR10_DATA)/manifest.json
include pipelines/search.mk

$(CIFAR10_RUN)/eval/result.json: $(CIFAR10_RUN)/genotype.json | $(BIN)/train-eval
	$(BIN)/train-eval --preset paper --seed $(CIFAR10_SEED) --device $(CIFAR10_DEVICE) --precision $(CIFAR10_PRECISION) \
		--genotype $< --data $(CIFAR10_DATA) --out $(CIFAR10_RUN)/eval

$(CIFAR10_RUN)/nb301/config.json: $(CIFAR10_RUN)/genotype.json | $(BIN)/export-nb301
	$(BIN)/export-nb301 --genotype $< --same-cell --out $(CIFAR10_RUN)/nb301 \
		$(if $(CIFAR10_NB301_MODELS),--models $(CIFAR10_NB301_MODELS))
