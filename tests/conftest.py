"""Fixtures shared by the unit tests."""
import pytest


@pytest.fixture(scope="session")
def mnist():
    """MNIST's real test split (from $GANLIB_DATA, as CI sets it)."""
    from ganlib import load_mnist

    try:
        return load_mnist("test", verbose=False)
    except FileNotFoundError as err:
        pytest.skip(f"MNIST test split not available: {err}")
