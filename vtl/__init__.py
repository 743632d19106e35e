"""API Gateway-faithful rendering of Velocity mapping templates (see vtl.engine)."""

from vtl.engine import InvalidJsonBodyError, Rendered, build_context, render
from vtl.java import VtlError, escape_javascript

__all__ = ["InvalidJsonBodyError", "Rendered", "VtlError", "build_context", "escape_javascript", "render"]
