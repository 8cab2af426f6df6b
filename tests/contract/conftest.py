"""Runs the provider contract suite against every backend that has a harness.

Each backend has ``tests/contract/harness_<name>.py`` with ``make_harness(tmp_path) -> Harness``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import Harness

BACKENDS = ("local", "google", "microsoft")


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    name = f"tests.contract.harness_{request.param}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        pytest.skip(f"no harness for the {request.param} backend yet")
    h: Harness = module.make_harness(tmp_path)
    try:
        yield h
    finally:
        h.close()
