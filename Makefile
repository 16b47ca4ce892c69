# tradeie: `make demo` runs the whole pipeline on the seeds (CPU); `make test` runs the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
RUN    ?= demo
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast corpus validate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

corpus: install
	$(BIN)/tradeie corpus build --seeds seeds --out corpus/documents.jsonl

validate: corpus
	$(BIN)/tradeie annotations validate annotations/gold --corpus corpus/documents.jsonl

demo: validate
	@echo "demo finished"

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not labelstudio"

clean:
	rm -rf corpus/documents.jsonl dist training/runs eval/$(RUN) .pytest_cache
