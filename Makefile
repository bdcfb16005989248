# The two commands of the README: `make demo` and `make test`.
.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	.venv/bin/python -m pytest -q -p no:cacheprovider tests

bench: setup
	.venv/bin/python bench/store.py

clean:
	rm -rf .venv build *.egg-info demo-out
