from pathlib import Path

import pytest

from ingestion.demo.generator import GenerateOptions, generate


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate(GenerateOptions(out=out, scale=0.005, seed=7))
    return out
