"""The gateway built from the user's settings meters with the same prices the engine uses."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.engine import Engine
from promptready.errors import ConfigError
from promptready.gateway import folder_lock
from promptready.gateway.assemble import build_gateway
from promptready.pricing import ModelPrice
from promptready.settings import PricingSettings, Settings


def test_budgets_are_priced_with_the_users_own_prices() -> None:
    mine = ModelPrice(input=Decimal("123"), output=Decimal("456"))
    settings = Settings(pricing=PricingSettings(models={"openai/gpt-4o": mine}))
    gateway = build_gateway(Engine(settings))
    try:
        assert gateway.meter is not None
        assert gateway.meter.card.price("openai/gpt-4o") == mine
    finally:
        if gateway.meter is not None:
            gateway.meter.close()
        for release in gateway.on_shutdown:
            release()


def test_the_data_folder_lock_names_its_holder_and_is_free_again_once_released(
    tmp_path: Path,
) -> None:
    held = folder_lock.acquire(tmp_path, 8788)
    with pytest.raises(ConfigError, match=rf"process {os.getpid()} on port 8788"):
        folder_lock.acquire(tmp_path, 8789)
    held.release()
    held.release()  # twice is fine
    folder_lock.acquire(tmp_path, 8789).release()


def test_a_lock_file_with_nonsense_in_it_still_refuses_without_repeating_it(
    tmp_path: Path,
) -> None:
    held = folder_lock.acquire(tmp_path, 1)
    (tmp_path / folder_lock.LOCK_NAME).write_text("<script> 99999999999999999999 x\n")
    with pytest.raises(ConfigError, match=r"\(another process\)") as refused:
        folder_lock.acquire(tmp_path, 2)
    assert "<script>" not in str(refused.value)
    held.release()
