//! Decoding what arrives: OTLP/HTTP export requests (protobuf or JSON, maybe gzipped) and X-Ray
//! daemon datagrams. Pure and total: any bytes give a value or an error, never a panic.

use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{Map, Value as Json};

use super::ReceivedSpan;
use crate::RpcStatus;
use crate::hex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    /// The request's encoding from its Content-Type; `None` for anything else.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }
}

/// Spans accepted in one export request. SDKs send batches of 512 by default; this leaves room
/// for collectors that batch many traces, and bounds what one request can make the receiver
/// hold and draw.
pub const MAX_SPANS_PER_REQUEST: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtlpError {
    /// 415
    UnsupportedMediaType,
    /// 413
    TooLarge,
    /// 400, with the reason
    BadRequest(String),
}

/// Undo `Content-Encoding`, refusing output larger than `max` (a small gzip can unpack to gigabytes).
pub fn decompress<'a>(
    encoding: Option<&str>,
    body: &'a [u8],
    max: usize,
) -> Result<std::borrow::Cow<'a, [u8]>, OtlpError> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("identity") => Ok(std::borrow::Cow::Borrowed(body)),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(body)
                .take(max as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| OtlpError::BadRequest(format!("gzip: {e}")))?;
            if out.len() > max {
                return Err(OtlpError::TooLarge);
            }
            Ok(std::borrow::Cow::Owned(out))
        }
        Some(other) => Err(OtlpError::BadRequest(format!(
            "unsupported Content-Encoding {other}"
        ))),
    }
}

fn value_to_json(value: &AnyValue) -> Json {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone().into(),
        Some(any_value::Value::BoolValue(b)) => (*b).into(),
        Some(any_value::Value::IntValue(i)) => (*i).into(),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Some(any_value::Value::ArrayValue(a)) => a
            .values
            .iter()
            .map(value_to_json)
            .collect::<Vec<_>>()
            .into(),
        Some(any_value::Value::KvlistValue(kv)) => kv
            .values
            .iter()
            .map(|k| {
                (
                    k.key.clone(),
                    k.value.as_ref().map(value_to_json).unwrap_or(Json::Null),
                )
            })
            .collect::<Map<_, _>>()
            .into(),
        Some(any_value::Value::BytesValue(b)) => hex(b).into(),
        // Profiles-only string table references; traces carry no table to look them up in.
        Some(any_value::Value::StringValueStrindex(_)) | None => Json::Null,
    }
}

/// Service names are cut to this many bytes: every span of a resource carries a copy of its name,
/// so a name of a megabyte over 100 000 spans would take 100 GB to hold and to print.
pub const MAX_SERVICE_BYTES: usize = 256;

/// `name` cut to [`MAX_SERVICE_BYTES`] on a character boundary, an ellipsis marking the cut.
pub fn short_service(name: &str) -> String {
    if name.len() <= MAX_SERVICE_BYTES {
        return name.to_string();
    }
    let mut end = MAX_SERVICE_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &name[..end])
}

pub(super) fn kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

/// Every span of a request, in order.
pub fn spans_in(request: &ExportTraceServiceRequest) -> impl Iterator<Item = &Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
}

/// How many spans a request holds, counted without visiting them.
pub fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// Refuse what [`spans_of`] refuses: more than [`MAX_SPANS_PER_REQUEST`] spans, or a span with a
/// missing or zero id (a snake_case JSON key, `trace_id`, decodes to an empty id rather than an
/// error).
pub fn validate(request: &ExportTraceServiceRequest) -> Result<(), OtlpError> {
    let total = span_count(request);
    if total > MAX_SPANS_PER_REQUEST {
        return Err(OtlpError::BadRequest(format!(
            "{total} spans in one request; at most {MAX_SPANS_PER_REQUEST} are accepted, send smaller batches"
        )));
    }
    let valid = |id: &[u8], len: usize| id.len() == len && id.iter().any(|b| *b != 0);
    for span in spans_in(request) {
        if !valid(&span.trace_id, 16) || !valid(&span.span_id, 8) {
            return Err(OtlpError::BadRequest(format!(
                "span {:?} has an invalid traceId or spanId (16 and 8 bytes, hex in JSON, not all zero)",
                span.name
            )));
        }
    }
    Ok(())
}

/// The service a resource names (`unknown_service` when it names none), cut to
/// [`MAX_SERVICE_BYTES`].
pub fn service_of(resource: Option<&Resource>) -> String {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(name)) => Some(short_service(name)),
            _ => None,
        })
        .unwrap_or_else(|| "unknown_service".to_string())
}

/// The spans of a decoded export request; refused as [`validate`] refuses.
pub fn spans_of(request: &ExportTraceServiceRequest) -> Result<Vec<ReceivedSpan>, OtlpError> {
    validate(request)?;
    Ok(spans_of_valid(request))
}

/// The spans of an export request that [`validate`] passed.
pub fn spans_of_valid(request: &ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut out = Vec::with_capacity(span_count(request));
    for resource_spans in &request.resource_spans {
        let service = service_of(resource_spans.resource.as_ref());
        for scope in &resource_spans.scope_spans {
            for span in &scope.spans {
                let attributes = span
                    .attributes
                    .iter()
                    .map(|kv| {
                        (
                            kv.key.clone(),
                            kv.value.as_ref().map(value_to_json).unwrap_or(Json::Null),
                        )
                    })
                    .collect();
                let status = span.status.as_ref();
                out.push(ReceivedSpan {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_id: (!span.parent_span_id.is_empty()).then(|| hex(&span.parent_span_id)),
                    service: service.clone(),
                    name: span.name.clone(),
                    kind: kind_name(span.kind),
                    start_unix_nano: span.start_time_unix_nano,
                    end_unix_nano: span.end_time_unix_nano.max(span.start_time_unix_nano),
                    error: status.is_some_and(|s| s.code == 2),
                    status_message: status.map(|s| s.message.clone()).filter(|m| !m.is_empty()),
                    attributes,
                    source: "otlp",
                });
            }
        }
    }
    out
}

/// Decoded structs may take this many times the body's bytes. Real exports stay well below (a
/// span with ids, times and a few attributes: about 3x in protobuf, 2x in JSON); a body of empty
/// messages would take 100x.
const DECODED_PER_BODY_BYTE: usize = 16;

/// What the decoded structs of a body of `len` bytes may take; small bodies get a floor, so a
/// tiny but valid export is never refused.
fn decoded_budget(len: usize) -> usize {
    len.saturating_mul(DECODED_PER_BODY_BYTE).max(64 << 10)
}

/// Decode one OTLP/HTTP export body.
pub fn decode_otlp(
    content_type: &str,
    content_encoding: Option<&str>,
    body: &[u8],
    max: usize,
) -> Result<(Vec<ReceivedSpan>, Encoding), OtlpError> {
    let (request, encoding) = decode_request(content_type, content_encoding, body, max)?;
    Ok((spans_of(&request)?, encoding))
}

/// Decode one export body to the request itself (for `--save`), bounded as [`decode_otlp`].
pub fn decode_request(
    content_type: &str,
    content_encoding: Option<&str>,
    body: &[u8],
    max: usize,
) -> Result<(ExportTraceServiceRequest, Encoding), OtlpError> {
    let encoding =
        Encoding::from_content_type(content_type).ok_or(OtlpError::UnsupportedMediaType)?;
    if body.len() > max {
        return Err(OtlpError::TooLarge);
    }
    let body = decompress(content_encoding, body, max)?;
    let weight = match encoding {
        Encoding::Protobuf => super::weigh::protobuf(&body),
        Encoding::Json => super::weigh::json(&body),
    };
    if weight > decoded_budget(body.len()) {
        return Err(OtlpError::BadRequest(format!(
            "{} bytes would decode to about {} MiB of empty or tiny messages; at most {}x the body is accepted",
            body.len(),
            weight >> 20,
            DECODED_PER_BODY_BYTE
        )));
    }
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(&*body)
            .map_err(|e| OtlpError::BadRequest(format!("protobuf: {e}")))?,
        Encoding::Json => serde_json::from_slice(&body)
            .map_err(|e| OtlpError::BadRequest(format!("OTLP/JSON: {e}")))?,
    };
    Ok((request, encoding))
}

/// The success answer: an empty ExportTraceServiceResponse in the request's encoding.
pub fn success_body(encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => ExportTraceServiceResponse::default().encode_to_vec(),
        Encoding::Json => b"{}".to_vec(),
    }
}

/// An error answer: google.rpc.Status (code 3, INVALID_ARGUMENT) in the request's encoding.
pub fn status_body(encoding: Encoding, message: &str) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => RpcStatus {
            code: 3,
            message: message.to_string(),
        }
        .encode_to_vec(),
        Encoding::Json => serde_json::json!({ "code": 3, "message": message })
            .to_string()
            .into_bytes(),
    }
}

fn xray_trace_hex(id: &str) -> Option<String> {
    let mut parts = id.split('-');
    let (version, epoch, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = version == "1" && epoch.len() == 8 && rest.len() == 24 && parts.next().is_none();
    let hex = format!("{epoch}{rest}");
    (ok && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

fn seconds_to_nanos(v: Option<&Json>) -> Option<u64> {
    let s = v?.as_f64()?;
    (0.0..1e11).contains(&s).then_some((s * 1e9) as u64)
}

fn xray_span(
    doc: &Json,
    trace_id: &str,
    parent: Option<String>,
    service: &str,
    out: &mut Vec<ReceivedSpan>,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err("subsegments nested deeper than 64 levels".to_string());
    }
    let id = doc["id"]
        .as_str()
        .filter(|i| i.len() == 16 && i.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("missing or bad \"id\"")?;
    let name = doc["name"].as_str().ok_or("missing \"name\"")?;
    let start = seconds_to_nanos(doc.get("start_time")).ok_or("missing or bad \"start_time\"")?;
    let end = seconds_to_nanos(doc.get("end_time"))
        .unwrap_or(start)
        .max(start);
    let mut attributes = Map::new();
    if let Some(http) = doc.get("http") {
        for (key, path) in [
            ("http.request.method", &["request", "method"]),
            ("url.full", &["request", "url"]),
            ("http.response.status_code", &["response", "status"]),
        ] {
            if let Some(v) = http.get(path[0]).and_then(|r| r.get(path[1])) {
                attributes.insert(key.to_string(), v.clone());
            }
        }
    }
    if let Some(sql) = doc.get("sql") {
        for (key, field) in [
            ("db.system", "database_type"),
            ("db.query.text", "sanitized_query"),
            ("db.connection_string", "url"),
        ] {
            if let Some(v) = sql.get(field) {
                attributes.insert(key.to_string(), v.clone());
            }
        }
    }
    if let Some(annotations) = doc.get("annotations").and_then(|a| a.as_object()) {
        for (k, v) in annotations {
            attributes.insert(format!("annotation.{k}"), v.clone());
        }
    }
    let error = ["error", "fault", "throttle"]
        .iter()
        .any(|k| doc[*k].as_bool() == Some(true));
    let is_segment =
        parent.is_none() && doc.get("type").and_then(|t| t.as_str()) != Some("subsegment");
    let kind = if is_segment {
        "server"
    } else if matches!(doc["namespace"].as_str(), Some("remote" | "aws")) {
        "client"
    } else {
        "internal"
    };
    let status_message = doc["cause"]["exceptions"][0]["message"]
        .as_str()
        .map(str::to_string);
    out.push(ReceivedSpan {
        trace_id: trace_id.to_string(),
        span_id: id.to_ascii_lowercase(),
        parent_id: parent.or_else(|| doc["parent_id"].as_str().map(|p| p.to_ascii_lowercase())),
        service: service.to_string(),
        name: name.to_string(),
        kind,
        start_unix_nano: start,
        end_unix_nano: end,
        error,
        status_message,
        attributes,
        source: "xray",
    });
    if let Some(subs) = doc.get("subsegments").and_then(|s| s.as_array()) {
        for sub in subs {
            xray_span(
                sub,
                trace_id,
                Some(id.to_ascii_lowercase()),
                service,
                out,
                depth + 1,
            )?;
        }
    }
    Ok(())
}

/// One daemon datagram: the `{"format":"json","version":1}` header line, then a segment or an
/// independent subsegment document.
pub fn decode_xray(datagram: &[u8]) -> Result<Vec<ReceivedSpan>, String> {
    let text = std::str::from_utf8(datagram).map_err(|_| "not UTF-8".to_string())?;
    let (header, body) = text.split_once('\n').ok_or("no header line")?;
    let header: Json = serde_json::from_str(header).map_err(|e| format!("header: {e}"))?;
    if header["format"] != "json" || header["version"] != 1 {
        return Err(format!("unsupported header {header}"));
    }
    let doc: Json = serde_json::from_str(body).map_err(|e| format!("document: {e}"))?;
    let trace_id = doc["trace_id"]
        .as_str()
        .and_then(xray_trace_hex)
        .ok_or("missing or bad \"trace_id\"")?;
    let service = if doc["type"].as_str() == Some("subsegment") {
        "-".to_string()
    } else {
        short_service(doc["name"].as_str().unwrap_or("-"))
    };
    let mut spans = Vec::new();
    xray_span(&doc, &trace_id, None, &service, &mut spans, 0)?;
    Ok(spans)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::test_support::trace;

    #[test]
    fn protobuf_json_and_gzip_decode_to_the_same_spans() {
        let t = trace();
        let req = t.to_request();
        let (a, e) = decode_otlp(
            "application/x-protobuf",
            None,
            &req.encode_to_vec(),
            1 << 20,
        )
        .unwrap();
        assert_eq!(e, Encoding::Protobuf);
        let (b, e) = decode_otlp(
            "application/json; charset=utf-8",
            None,
            &serde_json::to_vec(&req).unwrap(),
            1 << 20,
        )
        .unwrap();
        assert_eq!(e, Encoding::Json);
        let gz = crate::test_support::gzip(&req.encode_to_vec());
        let (c, _) = decode_otlp("application/x-protobuf", Some("gzip"), &gz, 1 << 20).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].service, "api");
        assert_eq!(a[0].kind, "server");
        assert_eq!(a[1].parent_id.as_deref(), Some(a[0].span_id.as_str()));
        assert_eq!(a[0].attributes["http.response.status_code"], 200);
    }

    #[test]
    fn bad_bodies_are_errors_not_panics() {
        assert_eq!(
            decode_otlp("text/plain", None, b"x", 10),
            Err(OtlpError::UnsupportedMediaType)
        );
        assert_eq!(
            decode_otlp("application/json", None, &[b' '; 11], 10),
            Err(OtlpError::TooLarge)
        );
        assert!(matches!(
            decode_otlp("application/x-protobuf", None, &[0xff, 0xff, 0xff], 100),
            Err(OtlpError::BadRequest(_))
        ));
        let mut bytes = trace().to_request().encode_to_vec();
        bytes.truncate(bytes.len() / 2);
        assert!(matches!(
            decode_otlp("application/x-protobuf", None, &bytes, 1 << 20),
            Err(OtlpError::BadRequest(_))
        ));
        assert!(matches!(
            decode_otlp("application/json", Some("gzip"), b"not gzip", 100),
            Err(OtlpError::BadRequest(_))
        ));
        // A gzip bomb stops at the limit.
        let bomb = crate::test_support::gzip(&vec![b'{'; 100_000]);
        assert_eq!(
            decode_otlp("application/json", Some("gzip"), &bomb, 1000),
            Err(OtlpError::TooLarge)
        );
    }

    #[test]
    fn json_ids_must_be_hex_and_keys_camel_case() {
        let base64_ids = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AAECAwQFBgcICQoLDA0ODw==","spanId":"AAECAwQFBgc=","name":"x"}]}]}]}"#;
        assert!(matches!(
            decode_otlp("application/json", None, base64_ids.as_bytes(), 1 << 20),
            Err(OtlpError::BadRequest(_))
        ));
        let snake = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174","name":"x"}]}]}]}"#;
        let err = decode_otlp("application/json", None, snake.as_bytes(), 1 << 20).unwrap_err();
        assert!(matches!(err, OtlpError::BadRequest(m) if m.contains("invalid traceId")));
        let good = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","name":"x","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":2000}]}]}]}"#;
        let (spans, _) = decode_otlp("application/json", None, good.as_bytes(), 1 << 20).unwrap();
        assert_eq!(spans[0].trace_id, "5b8efff798038103d269b633813fc60c");
        assert_eq!(
            (spans[0].start_unix_nano, spans[0].end_unix_nano),
            (1000, 2000)
        );
        assert_eq!(spans[0].service, "unknown_service");
    }

    #[test]
    fn one_request_carries_a_bounded_number_of_spans() {
        let mut request = trace().to_request();
        let spans = &mut request.resource_spans[0].scope_spans[0].spans;
        let one = spans[0].clone();
        spans.resize(MAX_SPANS_PER_REQUEST, one);
        let body = request.encode_to_vec();
        let (decoded, _) = decode_otlp("application/x-protobuf", None, &body, 64 << 20).unwrap();
        assert_eq!(decoded.len(), MAX_SPANS_PER_REQUEST);
        let extra = request.resource_spans[0].scope_spans[0].spans[0].clone();
        request.resource_spans[0].scope_spans[0].spans.push(extra);
        let body = request.encode_to_vec();
        let err = decode_otlp("application/x-protobuf", None, &body, 64 << 20).unwrap_err();
        assert!(
            matches!(&err, OtlpError::BadRequest(m) if m.contains("at most 100000")),
            "{err:?}"
        );
    }

    #[test]
    fn real_exports_weigh_far_below_the_budget() {
        let request = trace().to_request();
        for (body, weight) in [
            (
                request.encode_to_vec(),
                super::super::weigh::protobuf as fn(&[u8]) -> usize,
            ),
            (
                serde_json::to_vec(&request).unwrap(),
                super::super::weigh::json,
            ),
        ] {
            let ratio = weight(&body) as f64 / body.len() as f64;
            eprintln!("{} bytes weigh {ratio:.1}x", body.len());
            assert!(ratio < DECODED_PER_BODY_BYTE as f64 / 2.0, "{ratio}");
        }
    }

    #[test]
    fn bodies_of_empty_messages_are_refused_before_decoding() {
        let too_many = |r: Result<_, OtlpError>| matches!(r, Err(OtlpError::BadRequest(m)) if m.contains("empty or tiny messages"));
        // Empty ResourceSpans, empty attributes of one span, empty JSON spans, empty JSON
        // attributes: 130x and more once decoded.
        let protobuf = [0x0a, 0x00].repeat(100_000);
        assert!(too_many(decode_otlp(
            "application/x-protobuf",
            None,
            &protobuf,
            1 << 20
        )));
        let mut request = trace().to_request();
        let span = &mut request.resource_spans[0].scope_spans[0].spans[0];
        span.attributes = vec![Default::default(); 100_000];
        let body = request.encode_to_vec();
        assert!(too_many(decode_otlp(
            "application/x-protobuf",
            None,
            &body,
            1 << 20
        )));
        let gz = crate::test_support::gzip(&body);
        assert!(too_many(decode_otlp(
            "application/x-protobuf",
            Some("gzip"),
            &gz,
            1 << 20
        )));
        let spans = "{},".repeat(100_000) + "{}";
        let json = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#);
        assert!(too_many(decode_otlp(
            "application/json",
            None,
            json.as_bytes(),
            1 << 20
        )));
        let json = GOOD_JSON.replace(
            r#""name":"x""#,
            &format!(r#""name":"x","attributes":[{spans}]"#),
        );
        assert!(too_many(decode_otlp(
            "application/json",
            None,
            json.as_bytes(),
            1 << 20
        )));
        // A small valid export is never refused for its weight.
        assert!(decode_otlp("application/json", None, GOOD_JSON.as_bytes(), 1 << 20).is_ok());
    }

    const GOOD_JSON: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x"}]}]}]}"#;

    #[test]
    fn gzip_members_are_all_read_and_trailing_garbage_refused() {
        let one = crate::test_support::gzip(GOOD_JSON.as_bytes());
        let two = [one.clone(), one.clone()].concat();
        // Two members are one stream (RFC 1952): both are read, not the first alone.
        assert!(matches!(
            decode_otlp("application/json", Some("gzip"), &two, 1 << 20),
            Err(OtlpError::BadRequest(m)) if m.contains("OTLP/JSON")
        ));
        let garbage = [one, b"trailing".to_vec()].concat();
        assert!(matches!(
            decode_otlp("application/json", Some("gzip"), &garbage, 1 << 20),
            Err(OtlpError::BadRequest(m)) if m.contains("gzip")
        ));
    }

    #[test]
    fn a_huge_service_name_is_not_copied_to_every_span() {
        // 100 000 spans under a 4 MB service name would hold 400 GB of copies.
        let mut request = trace().to_request();
        let long = format!("é{}", "s".repeat(1 << 20));
        request.resource_spans[0]
            .resource
            .as_mut()
            .unwrap()
            .attributes[0]
            .value = Some(AnyValue {
            value: Some(any_value::Value::StringValue(long.clone())),
        });
        let (spans, _) = decode_otlp(
            "application/x-protobuf",
            None,
            &request.encode_to_vec(),
            4 << 20,
        )
        .unwrap();
        for span in &spans {
            assert!(span.service.len() <= MAX_SERVICE_BYTES + '…'.len_utf8());
            assert!(span.service.ends_with('…'));
            assert!(long.starts_with(span.service.trim_end_matches('…')));
        }
        let name = "日".repeat(200);
        let datagram = format!(
            "{{\"format\":\"json\",\"version\":1}}\n{{\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"id\":\"0123456789abcdef\",\"name\":\"{name}\",\"start_time\":1}}"
        );
        let spans = decode_xray(datagram.as_bytes()).unwrap();
        assert_eq!(spans[0].service, format!("{}…", "日".repeat(85)));
        assert_eq!(spans[0].name, name);
    }

    #[test]
    fn answers_in_the_request_encoding() {
        assert_eq!(success_body(Encoding::Json), b"{}");
        let status = RpcStatus::decode(status_body(Encoding::Protobuf, "bad").as_slice()).unwrap();
        assert_eq!((status.code, status.message.as_str()), (3, "bad"));
        let json: Json = serde_json::from_slice(&status_body(Encoding::Json, "bad")).unwrap();
        assert_eq!(json["message"], "bad");
    }

    #[test]
    fn bad_datagrams_are_reported() {
        for bad in [
            &b"no newline"[..],
            b"{\"format\":\"json\",\"version\":2}\n{}",
            b"{\"format\":\"json\",\"version\":1}\nnot json",
            b"{\"format\":\"json\",\"version\":1}\n{\"trace_id\":\"1-abc\",\"id\":\"0123456789abcdef\",\"name\":\"x\",\"start_time\":1}",
            b"{\"format\":\"json\",\"version\":1}\n{\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"name\":\"x\",\"start_time\":1}",
            &[0xff, 0xfe, b'\n'],
        ] {
            assert!(decode_xray(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let subsegment = b"{\"format\":\"json\",\"version\":1}\n{\"type\":\"subsegment\",\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"id\":\"0123456789abcdef\",\"parent_id\":\"fedcba9876543210\",\"name\":\"s3\",\"namespace\":\"aws\",\"start_time\":1.5,\"end_time\":2.0,\"fault\":true}";
        let spans = decode_xray(subsegment).unwrap();
        assert_eq!(spans[0].parent_id.as_deref(), Some("fedcba9876543210"));
        assert_eq!(spans[0].kind, "client");
        assert!(spans[0].error);
        assert_eq!(spans[0].end_unix_nano, 2_000_000_000);
    }
}
