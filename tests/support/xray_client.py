"""Record one segment with a subsegment using the recipe's aws-xray-sdk, which sends it over UDP
to AWS_XRAY_DAEMON_ADDRESS."""

from aws_xray_sdk.core import xray_recorder

xray_recorder.configure(service="backend-flask", sampling=False, context_missing="LOG_ERROR")
segment = xray_recorder.begin_segment("backend-flask")
segment.put_http_meta("method", "GET")
segment.put_http_meta("url", "http://localhost:4567/api/activities/home")
segment.put_annotation("tracectl", "yes")
sub = xray_recorder.begin_subsegment("activities-query")
sub.namespace = "remote"
xray_recorder.end_subsegment()
segment.put_http_meta("status", 200)
xray_recorder.end_segment()
