"""STUB (to be replaced): route tables."""
from __future__ import annotations
from typing import Mapping
import pulumi
from components.route import Route

ROUTING_ROUTES: tuple[Route, ...] = ()
PHOTOS_ROUTES: tuple[Route, ...] = ()


def template_values(app_id: str, table_names: Mapping[str, pulumi.Input[str]], role: str) -> dict[str, pulumi.Input[str]]:
    return {}
