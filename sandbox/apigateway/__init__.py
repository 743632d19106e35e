"""execute-api for the local cloud: the deployed REST APIs run through API Gateway's own pipeline.

One module per stage, in the order API Gateway runs them (see execute_api.py):

    parse.py                 the WSGI request -> an Invocation (invocation.py)
    route.py                 API and stage, resource and method ({param}, {proxy+}, ANY)
    throttle.py              token buckets: stage method settings, account limit -> 429 THROTTLED
    authorize.py             AWS_IAM: SigV4 + execute-api:Invoke -> 403s
    validate.py              request validator: required parameters, body model -> 400s
    integration_request.py   request template, passthrough behaviour -> 415
    integration.py           MOCK; AWS DynamoDB in-process, integration role checked
    integration_response.py  selection pattern, response template, parameters, overrides
    gateway_response.py      every error above as the API's gateway responses (substitution only)
"""

from sandbox.apigateway.execute_api import ApiMetrics, ExecuteApi

__all__ = ["ApiMetrics", "ExecuteApi"]
