//! `doctor --format sarif`: every log validates against OASIS's SARIF 2.1.0 schema (vendored in
//! tests/schemas/, checked by Python's jsonschema), results sit on the compose file's lines, and
//! uris name the files from the repository root, percent-encoded.

use std::process::{Command, Output};

use serde_json::Value;

use crate::common::*;
use crate::doctor::configured;
use crate::peers;

/// Validate with jsonschema (Draft 4, as the schema declares, formats checked where the
/// package can) and decode every uri with Python's urllib: the file each names, or the error.
fn assert_sarif(v: &Value) -> Vec<String> {
    let schema = manifest_dir().join("tests/schemas/sarif-schema-2.1.0.json");
    let script = r#"
import json, sys, urllib.parse, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft4Validator.check_schema(schema)
log = json.loads(sys.stdin.read())
jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
for run in log["runs"]:
    for result in run["results"]:
        for loc in result.get("locations", []):
            uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            parts = urllib.parse.urlsplit(uri)
            assert not any(c.isspace() for c in uri), uri
            assert parts.scheme in ("", "file") and not parts.query and not parts.fragment, uri
            print(urllib.parse.unquote(parts.path))
"#;
    let out = output_fed(
        Command::new(peers::python())
            .args(["-c", script])
            .arg(schema),
        v.to_string().as_bytes(),
        CHILD_DEADLINE,
    );
    assert!(
        out.status.success(),
        "not a valid SARIF 2.1.0 log:\n{}\n{v:#}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn sarif(
    ctx: &TestContext,
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
) -> (Output, Value) {
    let mut cmd = ctx.tracectl();
    cmd.args(["--format", "sarif", "doctor"])
        .args(args)
        .env("TRACECTL_NOW", TODAY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    let v = json_of(&out);
    (out, v)
}

fn results(v: &Value) -> &Vec<Value> {
    v["runs"][0]["results"].as_array().unwrap()
}

#[test]
fn findings_are_results_on_the_compose_files_lines_and_every_check_is_a_rule() {
    let ctx = TestContext::fixture("cruddur");
    let (out, v) = sarif(&ctx, &ctx.root, &["--offline"], &[]);
    assert_exit(&out, 1);
    let files = assert_sarif(&v);
    assert!(files.iter().all(|f| !f.starts_with('/')), "{files:?}");
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // Every id `doctor --list` knows, from the command itself.
    let (_, list) = json_run(&ctx, "doctor", &["--list"], &[]);
    let ids: Vec<&str> = list["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ids);

    let compose = ctx.read("docker-compose.yml");
    let backend_line = compose
        .lines()
        .position(|l| l.trim_start().starts_with("backend-flask:"))
        .unwrap()
        + 1;
    let on_compose: Vec<&Value> = results(&v)
        .iter()
        .filter(|r| r["ruleId"] == "compose")
        .collect();
    assert!(!on_compose.is_empty(), "{v:#}");
    let error = on_compose
        .iter()
        .find(|r| r["level"] == "error")
        .unwrap_or_else(|| panic!("{v:#}"));
    let location = &error["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "docker-compose.yml");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"]["startLine"], backend_line, "{v:#}");
    for r in results(&v) {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index], r["ruleId"], "{r}");
        assert!(
            ["error", "warning"].contains(&r["level"].as_str().unwrap()),
            "{r}"
        );
    }
    // The same findings as the JSON report: one result per warning or failing finding.
    let (_, json) = json_run(
        &ctx,
        "doctor",
        &["--offline"],
        &[("TRACECTL_NOW", TODAY.into())],
    );
    let compose_findings = check(&json, "compose")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "warn" || f["status"] == "fail")
        .count();
    assert_eq!(on_compose.len(), compose_findings, "{v:#}\n{json:#}");
}

#[test]
fn a_healthy_project_has_no_errors_and_environment_findings_have_no_location() {
    let ctx = configured();
    // A key Honeycomb rejects: a finding about the environment, not a file.
    let (out, v) = sarif(
        &ctx,
        &ctx.root,
        &[
            "--check",
            "honeycomb-auth",
            "--check",
            "xray-support",
            "--timeout",
            "2s",
        ],
        &[(
            "HONEYCOMB_API_ENDPOINT",
            format!("http://127.0.0.1:{}", crate::fake_http::closed_port()),
        )],
    );
    assert_exit(&out, 1);
    assert_sarif(&v);
    let auth = results(&v)
        .iter()
        .find(|r| r["ruleId"] == "honeycomb-auth")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(auth["level"], "error");
    assert!(auth.get("locations").is_none(), "{auth}");

    let (out, v) = sarif(&ctx, &ctx.root, &["--offline"], &[]);
    assert_exit(&out, 0);
    assert_sarif(&v);
    assert!(results(&v).iter().all(|r| r["level"] == "warning"), "{v:#}");
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn uris_are_relative_to_the_repository_root_and_encoded() {
    let ctx = TestContext::fixture("cruddur");
    // The project in an odd subfolder of a git checkout, doctor started from elsewhere.
    let repo = ctx.root.join("repo");
    let project = repo.join("svc/back end#1 100%");
    std::fs::create_dir_all(&project).unwrap();
    for name in ["docker-compose.yml", "backend-flask", "frontend-react-js"] {
        std::fs::rename(ctx.root.join(name), project.join(name)).unwrap();
    }
    assert_exit(
        &run(Command::new("git").args(["init", "-q"]).current_dir(&repo)),
        0,
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let (out, v) = sarif(
        &ctx,
        elsewhere.path(),
        &["--offline", "-C", project.to_str().unwrap()],
        &[],
    );
    assert_exit(&out, 1);
    let files = assert_sarif(&v);
    assert!(
        files.contains(&"svc/back end#1 100%/docker-compose.yml".to_string()),
        "{files:?}\n{v:#}"
    );
    let uris: Vec<&str> = results(&v)
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(
        uris.contains(&"svc/back%20end%231%20100%25/docker-compose.yml"),
        "{uris:?}"
    );

    // An env file outside the repository: an absolute file URI.
    let outside = tempfile::tempdir().unwrap();
    let env_file = outside.path().join("tracing env");
    std::fs::write(&env_file, "HONEYCOMB_API_KEY=x\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, v) = sarif(
        &ctx,
        &project,
        &[
            "--offline",
            "--check",
            "env-file",
            "--env-file",
            env_file.to_str().unwrap(),
        ],
        &[],
    );
    let files = assert_sarif(&v);
    let uris: Vec<&str> = results(&v)
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    if !uris.is_empty() {
        assert!(
            uris.iter()
                .all(|u| u.starts_with("file:///") && u.contains("tracing%20env")),
            "{uris:?}"
        );
        assert!(
            files.iter().all(|f| f.ends_with("/tracing env")),
            "{files:?}"
        );
    }
}

#[test]
fn a_run_that_cannot_check_still_prints_a_valid_log() {
    let ctx = TestContext::fixture("cruddur");
    for args in [vec!["--check", "nope"], vec!["-C", "no such folder"]] {
        let (out, v) = sarif(&ctx, &ctx.root, &args, &[]);
        assert_exit(&out, 2);
        assert_sarif(&v);
        let invocation = &v["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false, "{v:#}");
        assert_eq!(invocation["exitCode"], 2);
        assert!(results(&v).is_empty());
        let note = invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap();
        assert!(!note.is_empty() && !note.starts_with("error:"), "{note}");
    }
}

#[test]
fn a_folder_name_that_is_not_utf8_decodes_back_to_the_real_path() {
    use std::os::unix::ffi::OsStrExt;
    let ctx = TestContext::fixture("cruddur");
    let odd = ctx
        .root
        .parent()
        .unwrap()
        .join(std::ffi::OsStr::from_bytes(b"p\xff q"));
    std::fs::rename(&ctx.root, &odd).unwrap();
    // Run from the folder above, so that the odd name is part of every relative uri.
    let above = ctx.root.parent().unwrap().to_path_buf();
    let mut cmd = ctx.tracectl();
    cmd.args(["--format", "sarif", "doctor", "--offline", "-C"])
        .arg(&odd)
        .env("TRACECTL_NOW", TODAY)
        .current_dir(&above);
    let out = run(&mut cmd);
    assert_exit(&out, 1);
    let v = json_of(&out);
    assert_sarif(&v);
    // Python's urllib decodes each uri to bytes; each must name a file that is there.
    let script = r#"
import json, os, sys, urllib.parse
log = json.loads(sys.stdin.read())
base = os.fsencode(sys.argv[1])
n = 0
for r in log["runs"][0]["results"]:
    for loc in r.get("locations", []):
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        path = urllib.parse.unquote_to_bytes(urllib.parse.urlsplit(uri).path)
        assert os.path.exists(path if path.startswith(b"/") else os.path.join(base, path)), (uri, path)
        n += 1
assert n > 0
print(n)
"#;
    let check = output_fed(
        Command::new(peers::python())
            .args(["-c", script])
            .arg(&above),
        v.to_string().as_bytes(),
        CHILD_DEADLINE,
    );
    assert!(
        check.status.success(),
        "{}\n{v:#}",
        String::from_utf8_lossy(&check.stderr)
    );
    std::fs::rename(&odd, &ctx.root).unwrap();
}
