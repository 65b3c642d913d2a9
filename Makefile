PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-slow fuzz demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

# the tests marked slow (e.g. the largest keras.applications models), kept out of `test`
test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# The differential fuzzer (tests/fuzz) on 2,000 random graphs instead of make test's 200.
FUZZ_GRAPHS ?= 2000

fuzz: $(STAMP)
	FUZZ_GRAPHS=$(FUZZ_GRAPHS) $(PY) -m pytest -q tests/fuzz

demo: $(STAMP)
	$(PY) examples/cnn_digits.py

# The torch CPU wheel lies in $(WHEELS); pip takes it from there instead of downloading.
WHEELS ?= /opt/wheels

bench: $(STAMP)
	$(PY) -m pip install --quiet --find-links $(WHEELS) -e '.[bench]'
	OMP_WAIT_POLICY=PASSIVE $(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
