"""``pantau_platform.errors.causes``: the raise-from chain, bounded and cycle-safe."""

from __future__ import annotations

from pantau_platform.errors import causes


def chain(depth: int) -> BaseException:
    error: BaseException = ValueError("0")
    for n in range(1, depth):
        try:
            raise RuntimeError(str(n)) from error
        except RuntimeError as exc:
            error = exc
    return error


def test_the_chain_from_the_outermost_error_in() -> None:
    assert [str(e) for e in causes(chain(3))] == ["2", "1", "0"]


def test_the_walk_is_bounded() -> None:
    assert len(list(causes(chain(20)))) == 8
    assert len(list(causes(chain(20), limit=3))) == 3


def test_a_cycle_is_walked_once() -> None:
    first, second = KeyError("a"), KeyError("b")
    first.__cause__, second.__cause__ = second, first
    assert list(causes(first)) == [first, second]


def test_context_is_not_a_cause() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            raise ValueError("outer")  # noqa: B904 - implicit context on purpose
    except ValueError as exc:
        assert [type(e) for e in causes(exc)] == [ValueError]
