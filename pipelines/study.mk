# pipelines/study.mk: does the search beat random sampling? (`make study`)
#
# For every dataset of STUDY_DATASETS it runs STUDY_K PertNAS searches (seeds
# 1..K), draws STUDY_K random cells from the same space (search-evolve random,
# seeds 1..K) and takes the published cells of STUDY_PUBLISHED; every cell is
# then trained with the same short recipe (STUDY_TRAIN_ARGS) for each training
# seed 1..STUDY_S. study-report gathers the accuracies into STUDY_OUT.md (a
# table per dataset: mean, std, a Mann-Whitney U test search vs random, and
# the search's valuation statistics) and STUDY_OUT.svg (every accuracy, per
# group). Every step writes its target last and atomically, so a killed study
# continues where it stopped when make is run again.
#
#   make study                                    # the committed scale (docs/study.md)
#   make -j4 study STUDY_K=8 STUDY_S=3 STUDY_SEARCH_ARGS="--preset paper --device cuda"
#
# Datasets: "fashion" is Fashion-MNIST from Debian's dataset-fashion-mnist
# (STUDY_FASHION_SRC; the first STUDY_FASHION_TRAIN / _TEST images, padded to
# 32x32 and grey copied to RGB by convert-cifar fashion-mnist); "synth" is
# convert-cifar's generated dataset (STUDY_SYNTH_TRAIN / _TEST images).
STUDY_DIR           ?= runs/study
STUDY_OUT           ?= docs/study
STUDY_BIN           ?= $(BIN)
STUDY_DATASETS      ?= fashion synth
STUDY_K             ?= 3
STUDY_S             ?= 2
STUDY_PUBLISHED     ?= DARTS_V2 PERTNAS_EVOLUTIONARY PERTNAS_SUPERNET
STUDY_SEARCH_ARGS   ?= --preset smoke --npop 2 --parallel 2 --threads 1 --layers 3 --channels 4 --train-images 128 --batch-size 16
STUDY_TRAIN_ARGS    ?= --preset smoke --epochs 4 --limit-train 1000 --limit-test 1000 --threads 1 --workers 1
STUDY_FASHION_SRC   ?= /usr/share/datasets/fashion-mnist
STUDY_FASHION_TRAIN ?= 5000
STUDY_FASHION_TEST  ?= 1000
STUDY_SYNTH_TRAIN   ?= 5000
STUDY_SYNTH_TEST    ?= 1000
STUDY_SYNTH_SEED    ?= 1
# STUDY_COMMAND: how the report says it was made; STUDY_REPORT_ARGS: more
# study-report flags (--machine TEXT, --note TEXT).
STUDY_COMMAND       ?= make study
STUDY_REPORT_ARGS   ?=

study_seeds  = $(shell seq 1 $(1))
study_cells  = $(foreach k,$(call study_seeds,$(STUDY_K)),search-$(k) random-$(k)) $(STUDY_PUBLISHED)
STUDY_RESULTS = $(foreach d,$(STUDY_DATASETS),$(foreach c,$(study_cells),$(foreach s,$(call study_seeds,$(STUDY_S)),$(STUDY_DIR)/$(d)/$(c)/train-$(s)/result.json)))

# The datasets and cells are intermediate steps of a chain of pattern rules:
# keep them.
.PRECIOUS: $(STUDY_DIR)/data/%/cifar-10-binary.tar.gz $(STUDY_DIR)/data/%/manifest.json $(STUDY_DIR)/%/genotype.json

.PHONY: study study-train
study: $(STUDY_OUT).md
study-train: $(STUDY_RESULTS)

$(STUDY_OUT).md: $(STUDY_RESULTS) | $(STUDY_BIN)/study-report
	$(STUDY_BIN)/study-report --dir $(STUDY_DIR) --out $(STUDY_OUT) --datasets "$(STUDY_DATASETS)" \
		--search-args="$(STUDY_SEARCH_ARGS)" --train-args="$(STUDY_TRAIN_ARGS)" --command "$(STUDY_COMMAND)" \
		--about "fashion=Fashion-MNIST (Debian dataset-fashion-mnist), the first $(STUDY_FASHION_TRAIN) training and $(STUDY_FASHION_TEST) test images, 28x28 grey padded with black to 32x32 and copied to R, G, B" \
		--about "synth=convert-cifar synth (seed $(STUDY_SYNTH_SEED)), $(STUDY_SYNTH_TRAIN) training and $(STUDY_SYNTH_TEST) test images" \
		$(STUDY_REPORT_ARGS)

# Datasets.
$(STUDY_DIR)/data/fashion/cifar-10-binary.tar.gz: | $(STUDY_BIN)/convert-cifar
	$(STUDY_BIN)/convert-cifar fashion-mnist --src $(STUDY_FASHION_SRC) --out $(@D) \
		--train $(STUDY_FASHION_TRAIN) --test $(STUDY_FASHION_TEST)
$(STUDY_DIR)/data/synth/cifar-10-binary.tar.gz: | $(STUDY_BIN)/convert-cifar
	$(STUDY_BIN)/convert-cifar synth --out $@ --train $(STUDY_SYNTH_TRAIN) --test $(STUDY_SYNTH_TEST) --seed $(STUDY_SYNTH_SEED)
$(STUDY_DIR)/data/%/manifest.json: $(STUDY_DIR)/data/%/cifar-10-binary.tar.gz | $(STUDY_BIN)/convert-cifar
	$(STUDY_BIN)/convert-cifar --src $< --out $(@D)

# Cells: searches, random draws, and the published cells by name.
.SECONDEXPANSION:
$(STUDY_DIR)/%/genotype.json: $(STUDY_DIR)/data/$$(firstword $$(subst /, ,$$*))/manifest.json | $(STUDY_BIN)/search-evolve
	@mkdir -p $(@D)
	$(if $(findstring /search-,/$*),$(STUDY_BIN)/search-evolve run $(STUDY_SEARCH_ARGS) --seed $(lastword $(subst -, ,$*)) \
		--run $(@D) --data $(<D) > $(@D).log 2>&1 || { tail -20 $(@D).log; exit 1; },$(STUDY_BIN)/search-evolve random --seed $(lastword $(subst -, ,$*)) --out $@)

# study_genotype DATASET/CELL: the --genotype of a cell (a file or a built-in name).
study_genotype = $(if $(filter $(STUDY_PUBLISHED),$(notdir $(1))),$(notdir $(1)),$(STUDY_DIR)/$(1)/genotype.json)
# study_cell DATASET/CELL/train-S: DATASET/CELL.
study_cell = $(patsubst %/,%,$(dir $(1)))

$(STUDY_DIR)/%/result.json: $$(filter-out $$(STUDY_PUBLISHED),$$(call study_genotype,$$(call study_cell,$$*))) \
		$(STUDY_DIR)/data/$$(firstword $$(subst /, ,$$*))/manifest.json | $(STUDY_BIN)/train-eval
	@mkdir -p $(@D)
	$(STUDY_BIN)/train-eval $(STUDY_TRAIN_ARGS) --seed $(lastword $(subst -, ,$(notdir $*))) \
		--genotype $(call study_genotype,$(call study_cell,$*)) \
		--data $(STUDY_DIR)/data/$(firstword $(subst /, ,$*)) --out $(@D) > $(@D).log 2>&1 || { tail -20 $(@D).log; exit 1; }
