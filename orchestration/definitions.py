"""The one Dagster entry point: every ``orchestration/defs/<domain>/*.py`` module that
exposes ``defs`` is merged here, so adding a domain means adding a folder."""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import orchestration.defs as defs_package
from orchestration.jobs import build_job, full_refresh_job
from orchestration.lib.run_logging import LOGGERS
from orchestration.lib.settings import C360Settings


def _domain_definitions() -> list[dg.Definitions]:
    found = []
    for module_info in pkgutil.walk_packages(defs_package.__path__, defs_package.__name__ + "."):
        module = importlib.import_module(module_info.name)
        if isinstance(getattr(module, "defs", None), dg.Definitions):
            found.append(module.defs)
    return found


defs = dg.Definitions.merge(
    *_domain_definitions(),
    dg.Definitions(
        jobs=[build_job, full_refresh_job], resources={"c360": C360Settings()}, loggers=LOGGERS
    ),
)
