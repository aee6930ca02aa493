"""The aws-xray-sdk sending a segment with nothing inside: no patched library, no captured
function, so no subsegments (the mistake). AWS_XRAY_DAEMON_ADDRESS says where."""

from aws_xray_sdk.core import xray_recorder

xray_recorder.configure(service="lonely-flask", sampling=False, context_missing="LOG_ERROR")
segment = xray_recorder.begin_segment("lonely-flask")
segment.put_http_meta("method", "GET")
segment.put_http_meta("url", "http://localhost/api/activities/home")
segment.put_http_meta("status", 200)
xray_recorder.end_segment()
