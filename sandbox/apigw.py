"""Former home of execute-api; the pipeline is now the `sandbox.apigateway` package (one module per stage).

Kept so that imports written against `sandbox.apigw` keep working while branches merge.
"""

from sandbox.apigateway import ExecuteApi

__all__ = ["ExecuteApi"]
