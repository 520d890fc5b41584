# `make run` serves the product on the embedded default; `make test` runs the suite.
# Both set everything up first: a virtual environment, the project, the migrations.

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
HOST   ?= 127.0.0.1
WORKERS ?= 2
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app moderation
PUBLIC_URL ?= http://$(HOST):$(PORT)
export MODERATION_PUBLIC_URL ?= $(PUBLIC_URL)

.PHONY: run test lint setup migrate demo clean messages

# The stamp is rebuilt when the dependencies change. torch goes first and pinned:
# 2.13.0 is the CPU build on this machine's disk; anything else pulls CUDA.
$(BIN)/.installed: setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Reader pages' translations: each .po compiles to the .mo Flask-Babel reads.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard moderation/translations/*/LC_MESSAGES/messages.po))

setup: $(BIN)/.installed $(CATALOGUES)
	@# The screen's encoder, exported once from its wheel to int8 ONNX, so that
	@# the first start loads in under a second (MODERATION_MODEL_DIR moves it).
	$(BIN)/python -m moderation.screening.encoder --prepare $${MODERATION_MODEL_DIR:-instance/models}

%.mo: %.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing reader-facing strings: extract them and merge into each catalogue.
messages: setup
	$(BIN)/pybabel extract -F moderation/translations/babel.cfg -k _l \
		--ignore-dirs='.* __pycache__' \
		-o moderation/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i moderation/translations/messages.pot \
		-d moderation/translations --no-fuzzy-matching

migrate: setup
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) load-demo --public-url $(PUBLIC_URL)

run: demo
	@echo
	@echo "Serving on $(PUBLIC_URL)  (Ctrl-C stops)"
	@echo "  demo article:   $(PUBLIC_URL)/demo"
	@echo "  moderators:     $(PUBLIC_URL)/mod/   (login printed above; kept in instance/demo-moderator.txt)"
	@if [ -n "$$MODERATION_MAIL_URL" ]; then echo "  mail:           SMTP, as MODERATION_MAIL_URL says"; \
	else echo "  mail:           .eml files in instance/mail/ (MODERATION_MAIL_URL=smtp://... sends)"; fi
	@echo
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: setup
	$(BIN)/ruff check moderation tests bench wsgi.py
	$(BIN)/mypy
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check moderation tests bench wsgi.py
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
