"""API Gateway-faithful rendering of Velocity mapping templates (see vtl.engine) and of gateway
response templates, which API Gateway only substitutes (see vtl.substitution)."""

from vtl.engine import InvalidJsonBodyError, Rendered, build_context, render, time_variables
from vtl.java import Reading, VtlError, escape_javascript
from vtl.substitution import substitute

__all__ = ["InvalidJsonBodyError", "Reading", "Rendered", "VtlError", "build_context", "escape_javascript", "render",
           "substitute", "time_variables"]
