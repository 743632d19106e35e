"""Stage 6, integration request: the body sent to the backend, from the request template.

The template is chosen by the request's content type (JSON when absent). Without one, the
integration's passthrough behaviour decides: WHEN_NO_MATCH passes the body through, NEVER refuses
(415 UNSUPPORTED_MEDIA_TYPE), WHEN_NO_TEMPLATES passes it only when the integration has no
template at all. A template that fails to render is the API's fault: 500, as API Gateway's
"Execution failed due to configuration error: Unable to transform request".
https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
"""

from __future__ import annotations

import vtl
from sandbox.apigateway.invocation import GatewayError, Invocation, render_mapping_template


def request_body(invocation: Invocation, reading: vtl.Reading) -> str:
    integration = invocation.api_method.method_integration
    templates = integration.request_templates or {}
    template = templates.get(invocation.content_type)
    body = invocation.body.decode("utf-8", errors="replace")
    if template is None:
        passthrough = (integration.passthrough_behaviour or "WHEN_NO_MATCH").upper()
        if passthrough == "NEVER" or (passthrough == "WHEN_NO_TEMPLATES" and templates):
            raise GatewayError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")
        return body
    return render_mapping_template(invocation, "request", template, body, reading).text
