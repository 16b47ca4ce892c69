"""Fixtures for the robustness suite."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def seeds(tmp_path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "good.txt").write_text("India and the U.S. signed a critical minerals agreement.\n", encoding="utf-8")
    return folder
