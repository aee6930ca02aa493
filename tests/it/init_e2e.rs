//! End to end with the real consumer: the Flask app instrumented as the recipe says, run with the
//! environment `init` wrote (as docker-compose resolves it), exports to a real collector.

use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;

use crate::common::*;
use crate::peers::{self, Guard, Rotel};

/// The backend's environment as `docker-compose config` resolves it with the project's .env.
fn resolved_environment(ctx: &TestContext, service: &str) -> BTreeMap<String, String> {
    let out = Command::new(peers::docker_compose())
        .args(["-f", "docker-compose.yml", "config"])
        .current_dir(&ctx.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = yaml_edit::Document::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let env = doc
        .as_mapping()
        .and_then(|m| m.get_mapping("services"))
        .and_then(|s| s.get_mapping(service))
        .and_then(|s| s.get_mapping("environment"))
        .expect("resolved environment");
    env.entries()
        .filter_map(|e| {
            let k = e.key_node()?.as_scalar()?.as_string();
            let v = e.value_node()?.as_scalar()?.as_string();
            Some((k, v))
        })
        .collect()
}

#[test]
fn recipe_flask_app_exports_to_a_real_collector_with_inits_environment() {
    let rotel = Rotel::start();
    let ctx = TestContext::fixture("cruddur");
    let out = run(ctx.tracectl().args([
        "--format",
        "json",
        "init",
        "--no-xray",
        "--service-name",
        "cruddur-e2e",
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let snippet = result["next_steps"]["app_py"].as_str().unwrap().to_string();

    let env = resolved_environment(&ctx, "backend-flask");
    assert_eq!(env["OTEL_SERVICE_NAME"], "cruddur-e2e");
    assert_eq!(
        env["OTEL_EXPORTER_OTLP_HEADERS"],
        format!("x-honeycomb-team={INGEST_US}")
    );
    assert_eq!(
        env["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "https://api.honeycomb.io"
    );

    // The app is exactly init's snippet plus one route; only the endpoint is pointed at rotel.
    let port = peers::free_port();
    let app = format!(
        "{snippet}\n\n@app.route('/api/activities/home')\ndef home():\n    return {{'ok': True}}\n\n\
         if __name__ == '__main__':\n    app.run(host='127.0.0.1', port={port}, use_reloader=False)\n"
    );
    ctx.write("backend-flask/app.py", &app);
    let mut cmd = Command::new(peers::python());
    cmd.arg("app.py")
        .current_dir(ctx.path("backend-flask"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(&env)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.endpoint())
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _app = Guard(cmd.spawn().unwrap());

    let response = http_get(port, "/api/activities/home");
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "{response}"
    );

    let spans = rotel.wait_for_spans(|spans| spans.iter().any(|s| s.kind == "SPAN_KIND_SERVER"));
    let server = spans.iter().find(|s| s.kind == "SPAN_KIND_SERVER").unwrap();
    assert_eq!(
        server.resource_attr("service.name"),
        Some("cruddur-e2e"),
        "{server:?}"
    );
    assert_eq!(
        server.attr("http.route"),
        Some("/api/activities/home"),
        "{server:?}"
    );
    assert!(server.parent_id.is_empty(), "{server:?}");
    assert_eq!(server.trace_id.len(), 32);
}
