# make demo: the whole mission on a generated, learnable dataset in the exact
# CIFAR-10 binary archive layout, so the real-data code path is what runs.
# Every step is a Make target on the file it writes last (each written
# atomically), so a rerun does only what is missing and an interrupted step
# resumes from its own saved state.
DEMO_DATA    ?= data/demo
DEMO_RUN     ?= runs/demo
DEMO_TRAIN   ?= 5000
DEMO_TEST    ?= 1000
DEMO_SEED    ?= 1
DEMO_ARCHIVE := $(DEMO_DATA)/cifar-10-binary.tar.gz

.PHONY: demo demo-clean
demo: $(DEMO_RUN)/report.html | $(BIN)/train-eval
	@sh scripts/summary.sh $(DEMO_RUN) $(DEMO_DATA)

$(DEMO_ARCHIVE): | $(BIN)/convert-cifar
	$(BIN)/convert-cifar synth --out $@ --train $(DEMO_TRAIN) --test $(DEMO_TEST) --seed $(DEMO_SEED)

$(DEMO_DATA)/manifest.json: $(DEMO_ARCHIVE) | $(BIN)/convert-cifar
	$(BIN)/convert-cifar --src $< --out $(DEMO_DATA)

$(DEMO_RUN)/genotype.json: $(DEMO_DATA)/manifest.json | $(BIN)/search-evolve
	$(BIN)/search-evolve run --preset smoke --npop 2 --parallel 2 --seed $(DEMO_SEED) \
		--run $(DEMO_RUN) --data $(DEMO_DATA)

$(DEMO_RUN)/eval/result.json: $(DEMO_RUN)/genotype.json | $(BIN)/train-eval
	$(BIN)/train-eval --preset quick --seed $(DEMO_SEED) --genotype $< \
		--data $(DEMO_DATA) --out $(DEMO_RUN)/eval

$(DEMO_RUN)/nb301/config.json: $(DEMO_RUN)/genotype.json | $(BIN)/export-nb301
	$(BIN)/export-nb301 --genotype $< --same-cell --out $(DEMO_RUN)/nb301

# The run report: the cell, valuations, decisions, timings and the training
# curves, one static page; after train-eval and the NB301 export so it shows them.
$(DEMO_RUN)/report.html: $(DEMO_RUN)/eval/result.json $(DEMO_RUN)/nb301/config.json | $(BIN)/search-evolve
	$(BIN)/search-evolve report $(DEMO_RUN)

demo-clean:
	rm -rf $(DEMO_DATA) $(DEMO_RUN)
