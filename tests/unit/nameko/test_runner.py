"""``pantau_nameko.runner``: every nameko ``__main__`` patches first; settings → config keys."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pantau_nameko.runner import batch_config, server_config
from pantau_nameko.settlement import BatchOptions

ROOT = Path(__file__).resolve().parents[3]
# Every nameko process (a new one is added here when it is converted to the runner).
NAMEKO_MAINS = [ROOT / "services" / name for name in (
    "tracking/pantau_tracking/__main__.py",  # delegates to the process folder's, below
    "tracking/pantau_tracking/worker/__main__.py",
    "intake/pantau_intake/ingress/__main__.py",
    "intake/pantau_intake/outcomes/__main__.py",
    "publishing/pantau_publishing/indexer/__main__.py",
    "publishing/pantau_publishing/mailer/__main__.py",
)]


def statements(path: Path) -> list[ast.stmt]:
    """Top-level statements after the module docstring and ``from __future__`` imports."""
    body = ast.parse(path.read_text()).body
    return [node for node in body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]


@pytest.mark.parametrize("path", NAMEKO_MAINS, ids=lambda p: p.parent.name)
def test_a_nameko_main_patches_before_anything_else(path: Path) -> None:
    """The first import is ``pantau_nameko.runner.patch`` and the next statement calls it: no
    socket, thread or psycopg2 is imported before eventlet patched the standard library."""
    first, second = statements(path)[:2]
    assert isinstance(first, ast.ImportFrom) and first.module == "pantau_nameko.runner"
    assert [alias.name for alias in first.names] == ["patch"]
    assert isinstance(second, ast.Expr) and isinstance(second.value, ast.Call)
    assert isinstance(second.value.func, ast.Name) and second.value.func.id == "patch"


@pytest.mark.parametrize("path", NAMEKO_MAINS, ids=lambda p: p.parent.name)
def test_only_the_runner_patches(path: Path) -> None:
    text = path.read_text()
    assert "monkey_patch" not in text and "patch_psycopg" not in text
    assert "ServiceRunner" not in text and "signal.signal" not in text


def test_batch_config_feeds_the_consumer_options() -> None:
    config = batch_config("X", size=7, wait_ms=30, prefetch=9, delivery_limit=4,
                          unknown_retries=0, queue="q", extra_queues=["a", "b"])
    options = BatchOptions.from_config(config, "X", queue="default", max_size=100,
                                       max_wait_ms=200, prefetch=200)
    assert options == BatchOptions("q", 7, 0.03, 9, 4, 0, ("a", "b"))


def test_batch_config_leaves_unset_options_to_the_extension() -> None:
    config = batch_config("X", size=1, wait_ms=20, prefetch=50)
    assert config == {"X_BATCH_SIZE": 1, "X_BATCH_WAIT_MS": 20, "X_PREFETCH": 50}
    options = BatchOptions.from_config(config, "X", queue="q", max_size=100, max_wait_ms=200,
                                       prefetch=200)
    assert (options.delivery_limit, options.unknown_retries) == (5, 3)


def test_server_config_names_the_health_and_metrics_servers() -> None:
    class Settings:
        health_host = "0.0.0.0"  # noqa: S104 - a value, nothing listens
        metrics_host = "127.0.0.2"

    assert server_config(Settings(), health_port=8101, metrics_port=0) == {
        "HEALTH_PORT": 8101, "HEALTH_HOST": "0.0.0.0", "METRICS_PORT": 0,  # noqa: S104
        "METRICS_HOST": "127.0.0.2"}
