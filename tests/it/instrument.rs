//! `tracectl init --instrument`: the start command wrapped where it is written (compose
//! `command:`/`entrypoint:` in every style, Dockerfile CMD/ENTRYPOINT in both forms), app.py
//! edited through its syntax tree (compared byte for byte, compiled by CPython), and bad input
//! refused naming the file and line with nothing written. Compose v2 judges every compose file.

use std::process::{Command, Output};

use crate::common::*;
use crate::peers;

fn init(ctx: &TestContext, extra: &[&str]) -> Output {
    run(ctx
        .tracectl()
        .args([
            "init",
            "--yes",
            "--no-xray",
            "--honeycomb-api-key",
            INGEST_US,
        ])
        .args(extra))
}

/// The project as Compose v2 resolves it; a file it rejects fails the test.
pub fn resolved(ctx: &TestContext, file: &str) -> serde_json::Value {
    let out = output_within(
        Command::new(peers::docker_compose())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &ctx.root)
            .args(["-f", file, "config", "--format", "json"])
            .current_dir(&ctx.root),
        std::time::Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "Compose v2 rejects {file}:\n{}\n--- file\n{}",
        stderr(&out),
        ctx.read(file)
    );
    serde_json::from_slice(&out.stdout).expect("Compose prints JSON")
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A project whose backend `api` is built from ./api with this Dockerfile (if any) and app.
fn project(compose: &str, dockerfile: Option<&str>, app: &str) -> TestContext {
    let ctx = TestContext::empty();
    ctx.write("compose.yaml", compose);
    ctx.write("api/requirements.txt", "flask\n");
    ctx.write("api/app.py", app);
    if let Some(d) = dockerfile {
        ctx.write("api/Dockerfile", d);
    }
    ctx
}

const APP: &str = "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route('/')\ndef index():\n    return 'hi'\n\n\nif __name__ == '__main__':\n    app.run(debug=True)\n";

/// Run init, check Compose v2 accepts the file and a second run changes no byte.
pub fn init_twice(ctx: &TestContext, extra: &[&str]) -> Output {
    let out = init(ctx, extra);
    assert_exit(&out, 0);
    let first = ctx.snapshot();
    let file = ["compose.yaml", "docker-compose.yml"]
        .into_iter()
        .find(|f| ctx.path(f).is_file())
        .expect("a compose file");
    resolved(ctx, file);
    let again = init(ctx, extra);
    assert_exit(&again, 0);
    assert!(ctx.snapshot() == first, "the second run changed a file");
    out
}

#[test]
fn compose_commands_are_wrapped_in_the_files_own_style() {
    // (the backend's lines, the line(s) expected after, the command Compose runs after)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "    command: flask run --host=0.0.0.0\n",
            "    command: opentelemetry-instrument flask run --no-reload --host=0.0.0.0\n",
            &[
                "opentelemetry-instrument",
                "flask",
                "run",
                "--no-reload",
                "--host=0.0.0.0",
            ],
        ),
        (
            "    command: \"gunicorn -b 0.0.0.0:$${PORT:-8000} 'app:app'\"  # the server\n",
            "    command: \"opentelemetry-instrument gunicorn -b 0.0.0.0:$${PORT:-8000} 'app:app'\"  # the server\n",
            // `config` prints the value still escaped.
            &[
                "opentelemetry-instrument",
                "gunicorn",
                "-b",
                "0.0.0.0:$${PORT:-8000}",
                "app:app",
            ],
        ),
        (
            "    command: 'python app.py'\n",
            "    command: 'opentelemetry-instrument python app.py'\n",
            &["opentelemetry-instrument", "python", "app.py"],
        ),
        (
            "    command:\n      - python3\n      - -m\n      - flask\n      - run\n",
            // An item starting with `-` is written quoted, as the daemon's flags are.
            "    command:\n      - opentelemetry-instrument\n      - python3\n      - -m\n      - flask\n      - run\n      - \"--no-reload\"\n",
            &[
                "opentelemetry-instrument",
                "python3",
                "-m",
                "flask",
                "run",
                "--no-reload",
            ],
        ),
        (
            "    command: [\"flask\", \"run\"]\n",
            "    command: [\"opentelemetry-instrument\", \"flask\", \"run\", \"--no-reload\"]\n",
            &["opentelemetry-instrument", "flask", "run", "--no-reload"],
        ),
    ];
    for (lines, want, argv) in cases {
        let compose = format!(
            "services:\n  api:\n    build: ./api\n{lines}    ports:\n      - \"5000:5000\"\n"
        );
        let ctx = project(
            &compose,
            Some("FROM python:3.12\nCMD [\"python\", \"other.py\"]\n"),
            APP,
        );
        init_twice(&ctx, &[]);
        let after = ctx.read("compose.yaml");
        assert!(after.contains(want), "{want:?} not in\n{after}");
        assert!(
            after.starts_with("services:\n  api:\n    build: ./api\n"),
            "{after}"
        );
        assert!(
            after.contains("    ports:\n      - \"5000:5000\"\n"),
            "{after}"
        );
        let v = resolved(&ctx, "compose.yaml");
        assert_eq!(strings(&v["services"]["api"]["command"]), *argv, "{after}");
        // The Dockerfile's CMD is not what runs: it stays.
        assert_eq!(
            ctx.read("api/Dockerfile"),
            "FROM python:3.12\nCMD [\"python\", \"other.py\"]\n"
        );
    }
}

#[test]
fn an_inherited_command_gets_a_local_one_and_the_shared_block_stays() {
    let compose = "x-py: &py\n  command: [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n\nservices:\n  api:\n    <<: *py\n    build: ./api\n  worker:\n    <<: *py\n    image: python:3.12\n";
    let ctx = project(compose, None, APP);
    let out = init_twice(&ctx, &[]);
    let v = resolved(&ctx, "compose.yaml");
    assert_eq!(
        strings(&v["services"]["api"]["command"]),
        [
            "opentelemetry-instrument",
            "gunicorn",
            "-b",
            "0.0.0.0:8000",
            "app:app"
        ]
    );
    assert_eq!(
        strings(&v["services"]["worker"]["command"]),
        ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
    );
    assert!(ctx.read("compose.yaml").starts_with(
        "x-py: &py\n  command: [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n"
    ));
    assert!(
        stdout(&out).contains("inherited from `*py`"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_entrypoint_naming_the_server_is_the_part_wrapped() {
    let compose = "services:\n  api:\n    build: ./api\n    entrypoint: [\"gunicorn\", \"--preload\"]\n    command: [\"app:app\"]\n";
    let ctx = project(compose, None, APP);
    let out = init_twice(&ctx, &[]);
    let v = resolved(&ctx, "compose.yaml");
    assert_eq!(
        strings(&v["services"]["api"]["entrypoint"]),
        ["opentelemetry-instrument", "gunicorn", "--preload"]
    );
    assert_eq!(strings(&v["services"]["api"]["command"]), ["app:app"]);
    assert!(stderr(&out).contains("--preload"), "{}", stderr(&out));
}

#[test]
fn dockerfile_lines_are_wrapped_in_place() {
    // (Dockerfile, expected Dockerfile)
    let cases: &[(&str, &str)] = &[
        (
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"gunicorn\",\"-b\",\"0.0.0.0:8000\",\"app:create_app()\"]\n",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"opentelemetry-instrument\",\"gunicorn\",\"-b\",\"0.0.0.0:8000\",\"app:create_app()\"]\n",
        ),
        // Shell form over continuation lines, CRLF, ARG and ENV untouched.
        (
            "FROM python:3.12\r\nARG PORT=8000\r\nENV PORT=$PORT\r\nCMD exec gunicorn \\\r\n    -b 0.0.0.0:$PORT \\\r\n    app:app\r\n",
            "FROM python:3.12\r\nARG PORT=8000\r\nENV PORT=$PORT\r\nCMD exec opentelemetry-instrument gunicorn \\\r\n    -b 0.0.0.0:$PORT \\\r\n    app:app\r\n",
        ),
        // Multi-stage: the last stage's line, an earlier stage's left alone.
        (
            "FROM python:3.12 AS build\nCMD [\"python\", \"setup.py\"]\n\nFROM python:3.12-slim AS run\n# run the app\ncmd python3 -m flask run --host=0.0.0.0\n",
            "FROM python:3.12 AS build\nCMD [\"python\", \"setup.py\"]\n\nFROM python:3.12-slim AS run\n# run the app\ncmd opentelemetry-instrument python3 -m flask run --no-reload --host=0.0.0.0\n",
        ),
        // ENTRYPOINT names the server; CMD holds its arguments.
        (
            "FROM python:3.12\nENTRYPOINT [ \"flask\" ]\nCMD [ \"run\", \"--host=0.0.0.0\" ]\n",
            "FROM python:3.12\nENTRYPOINT [ \"opentelemetry-instrument\", \"flask\" ]\nCMD [ \"run\", \"--host=0.0.0.0\" ]\n",
        ),
    ];
    for (dockerfile, want) in cases {
        let ctx = project(
            "services:\n  api:\n    build: ./api\n",
            Some(dockerfile),
            APP,
        );
        let out = init_twice(&ctx, &[]);
        assert_eq!(ctx.read("api/Dockerfile"), *want, "{}", stdout(&out));
        assert_eq!(
            ctx.read("api/app.py"),
            APP,
            "zero-code leaves a flask/gunicorn app alone"
        );
        assert!(stdout(&out).contains("the image's"), "{}", stdout(&out));
        let req = ctx.read("api/requirements.txt");
        assert!(req.contains("opentelemetry-distro\n"), "{req}");
    }
}

#[test]
fn python_app_py_gets_use_reloader_false_and_the_variables_the_agent_reads() {
    let ctx = project(
        "services:\n  api:\n    build: ./api\n    environment:\n      - A=1\n",
        Some("FROM python:3.12\nCMD [\"python\", \"app.py\"]\n"),
        &APP.replace("'/'", "'/health'"),
    );
    let out = init_twice(&ctx, &[]);
    assert!(
        ctx.read("api/app.py")
            .ends_with("    app.run(debug=True, use_reloader=False)\n")
    );
    assert!(
        stdout(&out).contains("use_reloader=False"),
        "{}",
        stdout(&out)
    );
    let v = resolved(&ctx, "compose.yaml");
    let env = &v["services"]["api"]["environment"];
    assert_eq!(env["A"], "1");
    assert_eq!(env["OTEL_TRACES_EXPORTER"], "otlp");
    assert_eq!(env["OTEL_METRICS_EXPORTER"], "none");
    assert_eq!(env["OTEL_LOGS_EXPORTER"], "none");
    assert_eq!(env["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf");
    assert_eq!(env["OTEL_PYTHON_FLASK_EXCLUDED_URLS"], "/health(?![^?])");
}

#[test]
fn commands_that_cannot_be_wrapped_fall_back_to_code_and_say_why() {
    // (compose backend lines, Dockerfile, words in the warning)
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "",
            Some(
                "FROM python:3.12\nCMD [\"uwsgi\", \"--http\", \":8000\", \"--module\", \"app:app\"]\n",
            ),
            "uwsgi cannot be wrapped",
        ),
        (
            "",
            Some("FROM python:3.12\nCMD cd /app && flask run\n"),
            "shell line with operators",
        ),
        ("", Some("FROM python:3.12\n"), "no start command found"),
        ("", None, "no start command found"),
        (
            "    command: >\n      flask\n      run\n",
            None,
            "over several lines",
        ),
    ];
    for (lines, dockerfile, words) in cases {
        let compose = format!("services:\n  api:\n    build: ./api\n{lines}");
        let ctx = project(&compose, *dockerfile, APP);
        let out = init_twice(&ctx, &[]);
        assert!(
            stderr(&out).contains(words),
            "{words:?} not in {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("instrumenting the app in code instead"),
            "{}",
            stderr(&out)
        );
        let app = ctx.read("api/app.py");
        assert!(
            app.contains("FlaskInstrumentor().instrument_app(app)\n"),
            "{app}"
        );
        assert!(ctx.read("compose.yaml").starts_with(&compose));
        if let Some(d) = dockerfile {
            assert_eq!(ctx.read("api/Dockerfile"), *d);
        }
        let req = ctx.read("api/requirements.txt");
        assert!(
            req.contains("opentelemetry-sdk\n") && !req.contains("distro"),
            "{req}"
        );
        if words.starts_with("uwsgi") {
            assert!(stderr(&out).contains("--lazy-apps"), "{}", stderr(&out));
            assert!(
                stderr(&out).contains("--enable-threads"),
                "{}",
                stderr(&out)
            );
        }
    }
}

/// Each app of tests/fixtures/apps, instrumented in code mode, is byte for byte its
/// `.expected.py` (TRACECTL_BLESS=1 rewrites them), and CPython compiles it.
#[test]
fn code_mode_edits_match_the_expected_files_and_compile() {
    let dir = fixtures().join("apps");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".expected.py"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 4);
    let mut outputs = Vec::new();
    let mut projects = Vec::new();
    for input in inputs {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read(&input).unwrap();
        let ctx = TestContext::empty();
        ctx.write("compose.yaml", "services:\n  api:\n    build: ./api\n");
        ctx.write("api/requirements.txt", "flask\n");
        std::fs::write(ctx.path("api/app.py"), &text).unwrap();
        // One app also runs the X-Ray SDK (daemon mode).
        let xray: &[&str] = if name == "bom_comments" {
            &[
                "--xray",
                "--xray-via",
                "daemon",
                "--aws-region",
                "eu-west-3",
            ]
        } else {
            &[]
        };
        let out = init_twice(&ctx, &[&["--instrument", "code"], xray].concat());
        let got = std::fs::read(ctx.path("api/app.py")).unwrap();
        let expected = dir.join(format!("{name}.expected.py"));
        if std::env::var_os("TRACECTL_BLESS").is_some() {
            std::fs::write(&expected, &got).unwrap();
        }
        assert!(
            got == std::fs::read(&expected).unwrap_or_default(),
            "{name}: differs from {}\n--- got\n{}\n{}",
            expected.display(),
            String::from_utf8_lossy(&got),
            stdout(&out)
        );
        outputs.push(ctx.path("api/app.py"));
        projects.push(ctx);
    }
    let out = output_within(
        Command::new(peers::python())
            .args(["-m", "py_compile"])
            .args(&outputs),
        std::time::Duration::from_secs(30),
    );
    assert!(out.status.success(), "CPython rejects: {}", stderr(&out));
    drop(projects);
}

#[test]
fn bad_apps_are_refused_naming_file_and_line_and_nothing_is_written() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"from flask import Flask\napp = Flask(__name__\nx = 1\n",
            "api/app.py:2:1:",
        ),
        (
            b"import os\n\ndef create_app(:\n    pass\n",
            "api/app.py:3:16:",
        ),
        (b"from flask import Flask\n", "no Flask app found"),
        (
            b"from flask import Flask\napi = Flask('a')\n\ndef make():\n    admin = Flask('b')\n",
            "`api` at api/app.py:2 and `admin` at api/app.py:5",
        ),
        (
            b"from flask import Flask\n# caf\xe9\napp = Flask(__name__)\n",
            "api/app.py:2:6:",
        ),
    ];
    for (app, words) in cases {
        let ctx = TestContext::empty();
        ctx.write("compose.yaml", "services:\n  api:\n    build: ./api\n");
        ctx.write("api/requirements.txt", "flask\n");
        std::fs::write(ctx.path("api/app.py"), app).unwrap();
        let before = ctx.snapshot();
        let out = init(&ctx, &["--instrument", "code"]);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains(words),
            "{words:?} not in {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("hint:"), "{}", stderr(&out));
        assert!(ctx.snapshot() == before, "a file changed");
    }
    // zero-code asked, nothing to wrap, and the app cannot be edited: the rest is still written,
    // and the warning says what to do.
    let ctx = project(
        "services:\n  api:\n    build: ./api\n",
        None,
        "from flask import Flask\n",
    );
    let out = init(&ctx, &[]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("--instrument none"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ctx.read("api/app.py"), "from flask import Flask\n");
}

#[test]
fn none_leaves_app_and_command_alone_and_prints_the_lines() {
    let ctx = project(
        "services:\n  api:\n    build: ./api\n    command: flask run\n",
        None,
        APP,
    );
    let out = init_twice(&ctx, &["--instrument", "none"]);
    assert_eq!(ctx.read("api/app.py"), APP);
    assert!(
        ctx.read("compose.yaml")
            .contains("    command: flask run\n")
    );
    assert!(stdout(&out).contains("FlaskInstrumentor().instrument_app(app)"));
}

/// doctor's app and requirements checks pass after init in either mode, and a zero-code project
/// is not told to add FlaskInstrumentor.
#[test]
fn doctor_understands_both_modes() {
    for mode in ["zero-code", "code"] {
        let ctx = TestContext::fixture("cruddur");
        assert_exit(&init(&ctx, &["--instrument", mode]), 0);
        let out = run(ctx.tracectl().args([
            "--format",
            "json",
            "doctor",
            "--offline",
            "--check",
            "app",
            "--check",
            "requirements",
        ]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
        for id in ["app", "requirements"] {
            assert_eq!(check(&v, id)["status"], "pass", "{mode}: {v:#}");
        }
        let app = check(&v, "app")["detail"].as_str().unwrap().to_string();
        if mode == "zero-code" {
            assert!(
                app.contains("backend-flask/Dockerfile:8 runs opentelemetry-instrument"),
                "{app}"
            );
        }
        assert!(!v.to_string().contains("no FlaskInstrumentor"), "{v:#}");
    }
    // Code mode without the instrumentation: doctor says what is missing.
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&init(&ctx, &["--instrument", "none"]), 0);
    let out =
        run(ctx
            .tracectl()
            .args(["--format", "json", "doctor", "--offline", "--check", "app"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check(&v, "app")["status"], "warn", "{v:#}");
    assert!(v.to_string().contains("no FlaskInstrumentor"), "{v:#}");
}

#[test]
fn odd_dockerfiles_and_compose_lists() {
    // A byte-order mark, a here-document holding a fake CMD, CRLF.
    let dockerfile = "\u{feff}FROM python:3.12\r\nRUN <<EOF\r\ncat > /x <<'X'\r\nCMD [\"fake\"]\r\nX\r\nEOF\r\nCMD [\"flask\", \"run\"]\r\n";
    let ctx = project(
        "services:\n  api:\n    build: ./api\n",
        Some(dockerfile),
        APP,
    );
    init_twice(&ctx, &[]);
    assert_eq!(
        ctx.read("api/Dockerfile"),
        dockerfile.replace(
            "CMD [\"flask\", \"run\"]",
            "CMD [\"opentelemetry-instrument\", \"flask\", \"run\", \"--no-reload\"]"
        )
    );
    // A flow list over several lines, with comments.
    let compose = "services:\n  api:\n    build: ./api\n    command: [\n      \"gunicorn\",  # server\n      \"app:app\",\n    ]\n";
    let ctx = project(compose, None, APP);
    init_twice(&ctx, &[]);
    let v = resolved(&ctx, "compose.yaml");
    assert_eq!(
        strings(&v["services"]["api"]["command"]),
        ["opentelemetry-instrument", "gunicorn", "app:app"],
        "{}",
        ctx.read("compose.yaml")
    );
    let after = ctx.read("compose.yaml");
    assert!(after.contains("# server"), "{after}");
    // A block list with a comment between items.
    let compose = "services:\n  api:\n    build: ./api\n    command:\n      # the server\n      - gunicorn\n      - app:app\n";
    let ctx = project(compose, None, APP);
    init_twice(&ctx, &[]);
    let after = ctx.read("compose.yaml");
    assert!(
        after.contains("    command:\n      # the server\n      - opentelemetry-instrument\n      - gunicorn\n      - app:app\n"),
        "{after}"
    );
}

#[test]
fn a_dockerfile_that_is_not_utf8_is_refused_naming_its_line() {
    let ctx = TestContext::empty();
    ctx.write("compose.yaml", "services:\n  api:\n    build: ./api\n");
    ctx.write("api/requirements.txt", "flask\n");
    ctx.write("api/app.py", APP);
    std::fs::write(
        ctx.path("api/Dockerfile"),
        b"FROM python\n# caf\xe9\nCMD [\"flask\", \"run\"]\n",
    )
    .unwrap();
    let before = ctx.snapshot();
    let out = init(&ctx, &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("Dockerfile:2:6"), "{}", stderr(&out));
    assert!(ctx.snapshot() == before);
}

#[test]
fn dry_run_diffs_the_dockerfile_and_the_app_and_hides_secrets_in_their_context() {
    let key = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjzzz";
    let dockerfile =
        format!("FROM python:3.12\nENV HONEYCOMB_API_KEY={key}\nCMD [\"flask\", \"run\"]\n");
    let ctx = project(
        "services:\n  api:\n    build: ./api\n",
        Some(&dockerfile),
        APP,
    );
    let before = ctx.snapshot();
    let out = init(&ctx, &["--dry-run"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("+++ b/api/Dockerfile"), "{text}");
    assert!(
        text.contains("+CMD [\"opentelemetry-instrument\", \"flask\", \"run\", \"--no-reload\"]"),
        "{text}"
    );
    assert_no_leak("dry run", &out, &[key]);
    assert!(ctx.snapshot() == before);
    let out = init(&ctx, &["--dry-run", "--instrument", "code"]);
    let text = stdout(&out);
    assert!(text.contains("+++ b/api/app.py"), "{text}");
    assert!(
        text.contains("+FlaskInstrumentor().instrument_app(app)"),
        "{text}"
    );
    assert!(ctx.snapshot() == before);
}

#[test]
fn json_reports_the_mode_the_server_and_where_the_command_is() {
    let ctx = TestContext::fixture("orders");
    let out = run(ctx.tracectl().args([
        "--format",
        "json",
        "init",
        "--yes",
        "--no-xray",
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let i = &v["plan"]["instrumentation"];
    assert_eq!(i["mode"], "zero-code", "{i:#}");
    assert_eq!(i["server"]["kind"], "gunicorn", "{i:#}");
    assert_eq!(i["server"]["app"], "app:create_app()", "{i:#}");
    assert_eq!(i["command"]["file"], "orders/Dockerfile", "{i:#}");
    assert_eq!(i["command"]["line"], 9, "{i:#}");
    assert_eq!(i["command"]["key"], "CMD", "{i:#}");
    assert_eq!(
        i["command"]["after"][0], "opentelemetry-instrument",
        "{i:#}"
    );
    // The build target's stage, continuation lines kept.
    assert_eq!(
        ctx.read("orders/Dockerfile")
            .lines()
            .skip(8)
            .collect::<Vec<_>>(),
        [
            "CMD [\"opentelemetry-instrument\", \"gunicorn\", \"--workers\", \"2\", \\",
            "     \"--bind\", \"0.0.0.0:8000\", \\",
            "     \"app:create_app()\"]",
        ]
    );
    let req = ctx.read("orders/requirements.txt");
    assert!(
        req.contains("opentelemetry-instrumentation-requests"),
        "{req}"
    );
    let env = &resolved(&ctx, "compose.yaml")["services"]["orders-api"]["environment"];
    assert_eq!(env["OTEL_PYTHON_FLASK_EXCLUDED_URLS"], "/healthz(?![^?])");
}

/// `python run.py` where the app lives in another module: the command is wrapped, and run.py
/// only gains `use_reloader=False`; it needs no `Flask(...)` of its own.
#[test]
fn a_script_that_imports_its_app_only_loses_the_reloader() {
    let run_py = "from api import app\n\nif __name__ == '__main__':\n    app.run(debug=True)\n";
    let ctx = project(
        "services:\n  api:\n    build: ./api\n    command: [\"python\", \"run.py\"]\n",
        None,
        APP,
    );
    ctx.write("api/run.py", run_py);
    let out = init_twice(&ctx, &[]);
    assert_eq!(
        ctx.read("api/run.py"),
        run_py.replace("debug=True)", "debug=True, use_reloader=False)")
    );
    assert_eq!(ctx.read("api/app.py"), APP);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let v = resolved(&ctx, "compose.yaml");
    assert_eq!(
        strings(&v["services"]["api"]["command"]),
        ["opentelemetry-instrument", "python", "run.py"]
    );
}

/// A recipe user whose app already sets up OpenTelemetry keeps it: the command is not wrapped
/// on top (every request would be traced twice); asking for code on a wrapped command warns.
#[test]
fn an_app_instrumented_by_hand_is_not_wrapped_twice() {
    let ctx = TestContext::fixture("cruddur");
    std::fs::copy(
        fixtures().join("apps/recipe.expected.py"),
        ctx.path("backend-flask/app.py"),
    )
    .unwrap();
    let before = ctx.read("backend-flask/Dockerfile");
    let out = init_twice(&ctx, &[]);
    assert_eq!(ctx.read("backend-flask/Dockerfile"), before);
    assert!(
        stdout(&out).contains("sets up OpenTelemetry itself"),
        "{}",
        stdout(&out)
    );
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&init(&ctx, &[]), 0);
    let out = init(&ctx, &["--instrument", "code"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("traced twice"), "{}", stderr(&out));
}

mod property {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    /// How the backend's command is written.
    #[derive(Debug, Clone, Copy)]
    enum Style {
        Plain,
        Double,
        Single,
        BlockList,
        FlowList,
    }

    #[derive(Debug, Clone)]
    struct Shape {
        unit: usize,
        crlf: bool,
        bom: bool,
        style: Style,
        server: &'static [&'static str],
        comment: bool,
        before: bool,
        after: bool,
        inherited: bool,
    }

    const SERVERS: &[&[&str]] = &[
        &["flask", "run", "--host=0.0.0.0"],
        &["gunicorn", "-b", "0.0.0.0:8000", "app:app"],
        &["python3", "app.py"],
        &["python", "-m", "flask", "run"],
        &["gunicorn", "-b", "0.0.0.0:$${PORT:-8000}", "app:app"],
    ];

    fn shape() -> impl Strategy<Value = Shape> {
        (
            prop_oneof![Just(2usize), Just(4)],
            any::<[bool; 6]>(),
            prop_oneof![
                Just(Style::Plain),
                Just(Style::Double),
                Just(Style::Single),
                Just(Style::BlockList),
                Just(Style::FlowList)
            ],
            proptest::sample::select(SERVERS),
        )
            .prop_map(
                |(unit, [crlf, bom, comment, before, after, inherited], style, server)| Shape {
                    unit,
                    crlf,
                    bom,
                    style,
                    server,
                    comment,
                    before,
                    after,
                    inherited,
                },
            )
    }

    /// The compose file, and the line(s) of the command (the ones that may change).
    fn render(s: &Shape) -> (String, Vec<String>) {
        let u = |n: usize| " ".repeat(s.unit * n);
        let words = s.server;
        let (key_line, items): (String, Vec<String>) = match s.style {
            Style::Plain => (format!("command: {}", words.join(" ")), vec![]),
            Style::Double => (format!("command: \"{}\"", words.join(" ")), vec![]),
            Style::Single => (format!("command: '{}'", words.join(" ")), vec![]),
            Style::FlowList => (
                format!(
                    "command: [{}]",
                    words
                        .iter()
                        .map(|w| format!("\"{w}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                vec![],
            ),
            Style::BlockList => (
                "command:".to_string(),
                words.iter().map(|w| format!("- \"{w}\"")).collect(),
            ),
        };
        let mut lines = Vec::new();
        let mut changing = Vec::new();
        let depth = if s.inherited { 1 } else { 2 };
        let mut command_lines = vec![format!("{}{key_line}", u(depth))];
        command_lines.extend(items.iter().map(|i| format!("{}{i}", u(depth + 1))));
        if !matches!(s.style, Style::BlockList) {
            changing.push(command_lines[0].clone());
        }
        if s.inherited {
            lines.push("x-py: &py".to_string());
            lines.extend(command_lines.iter().cloned());
        }
        lines.push("services:".to_string());
        if s.before {
            lines.push(format!("{}db:", u(1)));
            lines.push(format!("{}image: postgres:16", u(2)));
        }
        lines.push(format!("{}api:", u(1)));
        if s.inherited {
            lines.push(format!("{}<<: *py", u(2)));
        }
        lines.push(format!("{}build: ./api", u(2)));
        if s.comment {
            lines.push("# a comment at column 0".to_string());
        }
        if !s.inherited {
            lines.extend(command_lines.iter().cloned());
        }
        lines.push(format!("{}ports:", u(2)));
        lines.push(format!("{}- \"8000:8000\"", u(3)));
        if s.after || s.inherited {
            lines.push(format!("{}worker:", u(1)));
            if s.inherited {
                lines.push(format!("{}<<: *py", u(2)));
            }
            lines.push(format!("{}image: python:3.12", u(2)));
        }
        let nl = if s.crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(nl) + nl;
        if s.bom {
            text.insert(0, '\u{feff}');
        }
        (text, changing)
    }

    fn check(s: &Shape) -> Result<(), TestCaseError> {
        let (text, changing) = render(s);
        let ctx = TestContext::empty();
        ctx.write("compose.yaml", &text);
        ctx.write("api/requirements.txt", "flask\n");
        ctx.write("api/app.py", APP);
        let original = resolved(&ctx, "compose.yaml");
        let out = init(&ctx, &[]);
        prop_assert!(out.status.success(), "{}\n{text}", stderr(&out));
        let after = ctx.read("compose.yaml");
        let project = resolved(&ctx, "compose.yaml");
        let old = strings(&original["services"]["api"]["command"]);
        let mut want = vec!["opentelemetry-instrument".to_string()];
        want.extend(old.iter().cloned());
        if let Some(run) = old.iter().position(|w| w == "run") {
            want.insert(run + 2, "--no-reload".to_string());
        }
        prop_assert_eq!(
            strings(&project["services"]["api"]["command"]),
            want,
            "{}",
            after
        );
        for (name, service) in original["services"].as_object().unwrap() {
            if name != "api" {
                prop_assert_eq!(&project["services"][name], service, "{}", after);
            }
        }
        // Every line is kept in order, but the command's own line when it is one line (and,
        // inherited, the shared one stays as it was).
        let mut remaining = after.lines();
        for line in text.lines() {
            let plain = line.trim_start_matches('\u{feff}').trim_end_matches('\r');
            if !s.inherited && changing.iter().any(|c| c == plain) {
                continue;
            }
            prop_assert!(
                remaining.any(|l| l.trim_start_matches('\u{feff}').trim_end_matches('\r') == plain),
                "{:?} lost or out of order in\n{}",
                line,
                after
            );
        }
        prop_assert_eq!(after.starts_with('\u{feff}'), s.bom);
        if s.crlf {
            prop_assert!(!after.replace("\r\n", "").contains('\n'), "{:?}", after);
        }
        let again = init(&ctx, &[]);
        prop_assert!(again.status.success());
        prop_assert_eq!(ctx.read("compose.yaml"), after);
        Ok(())
    }

    /// Random compose files with the backend's command in every style: Compose v2 runs the
    /// agent before the same words, nothing else changes, a second run is a no-op.
    #[test]
    fn compose_commands_in_every_style_are_wrapped_losslessly() {
        let mut runner = TestRunner::new(Config {
            cases: 40,
            failure_persistence: None,
            ..Config::default()
        });
        runner.run(&shape(), |s| check(&s)).unwrap();
    }
}

/// A command anchored on the backend and aliased by another service would carry the edit to
/// both: refused naming the lines. Aliased from a top-level block, the backend gets its own.
#[test]
fn shared_commands_are_refused_or_copied() {
    let shared = "services:\n  api:\n    build: ./api\n    command: &cmd [\"gunicorn\", \"app:app\"]\n  worker:\n    image: python\n    command: *cmd\n";
    let ctx = project(shared, None, APP);
    let before = ctx.snapshot();
    let out = init(&ctx, &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("compose.yaml:4:14: `&cmd` is shared with line 7"),
        "{}",
        stderr(&out)
    );
    assert!(ctx.snapshot() == before);
    let aliased = "x-cmd: &cmd [\"gunicorn\", \"app:app\"]\nservices:\n  api:\n    build: ./api\n    command: *cmd\n  worker:\n    image: python\n    command: *cmd\n";
    let ctx = project(aliased, None, APP);
    init_twice(&ctx, &[]);
    let v = resolved(&ctx, "compose.yaml");
    assert_eq!(
        strings(&v["services"]["api"]["command"]),
        ["opentelemetry-instrument", "gunicorn", "app:app"]
    );
    assert_eq!(
        strings(&v["services"]["worker"]["command"]),
        ["gunicorn", "app:app"]
    );
}

/// An app file in another encoding (Python allows a coding line) stops only a run that edits it.
#[test]
fn an_app_not_in_utf8_stops_only_the_modes_that_edit_it() {
    let latin1: &[u8] =
        b"# -*- coding: latin-1 -*-\n# caf\xe9\nfrom flask import Flask\napp = Flask(__name__)\n";
    let ctx = project(
        "services:\n  api:\n    build: ./api\n    command: [\"gunicorn\", \"app:app\"]\n",
        None,
        APP,
    );
    std::fs::write(ctx.path("api/app.py"), latin1).unwrap();
    init_twice(&ctx, &[]);
    assert_eq!(std::fs::read(ctx.path("api/app.py")).unwrap(), latin1);
    let before = ctx.snapshot();
    let out = init(&ctx, &["--instrument", "code"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("api/app.py:2:6"), "{}", stderr(&out));
    assert!(ctx.snapshot() == before);
}

/// A Dockerfile that installs its packages inline and never reads requirements.txt: the
/// packages init would add there never reach the image (the wrapped command would not even
/// start), so zero-code and code are refused naming the RUN line to extend, nothing written;
/// `--instrument none` says it.
#[test]
fn packages_installed_inline_are_refused_naming_the_run_line() {
    let dockerfile = "FROM python:3.12-slim\nCOPY . .\nRUN pip install --no-cache-dir \\\n    flask gunicorn\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n";
    for mode in ["zero-code", "code"] {
        let ctx = project(
            "services:\n  api:\n    build: ./api\n",
            Some(dockerfile),
            APP,
        );
        std::fs::remove_file(ctx.path("api/requirements.txt")).unwrap();
        let before = ctx.snapshot();
        let out = init(&ctx, &["--instrument", mode]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains("api/Dockerfile:3") && err.contains("requirements.txt"),
            "{mode}: {err}"
        );
        assert!(ctx.snapshot() == before, "{mode}: a file changed");
        // The hint followed: the packages are on the RUN line, init goes on.
        let packages = err
            .split("that RUN line (")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        ctx.write(
            "api/Dockerfile",
            &dockerfile.replace("gunicorn\nCMD", &format!("gunicorn {packages}\nCMD")),
        );
        assert_exit(&init(&ctx, &["--instrument", mode]), 0);
    }
    // Mentioned anywhere (an ARG, a COPY): the build reads it.
    let ctx = project(
        "services:\n  api:\n    build: ./api\n",
        Some(
            "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt && pip install gunicorn\nCMD [\"gunicorn\", \"app:app\"]\n",
        ),
        APP,
    );
    init_twice(&ctx, &["--instrument", "zero-code"]);
    // --instrument none writes only requirements.txt: a warning.
    let ctx = project(
        "services:\n  api:\n    build: ./api\n",
        Some(dockerfile),
        APP,
    );
    let out = init(&ctx, &["--instrument", "none"]);
    assert_exit(&out, 0);
    assert!(
        format!("{}{}", stdout(&out), stderr(&out)).contains("api/Dockerfile:3"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// The app file is the one the start command names: gunicorn's APP_MODULE wherever it stands
/// (`pkg.mod:app` → pkg/mod.py), `flask --app NAME` (NAME.py or the package NAME/__init__.py),
/// `python src/app.py` under the build folder (not an app.py next to it).
#[test]
fn the_app_file_is_the_one_the_command_names() {
    let compose = "services:\n  api:\n    build: ./api\n";
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "CMD [\"gunicorn\", \"main:app\", \"-b\", \"0.0.0.0:8000\"]",
            "api/main.py",
            &[],
        ),
        (
            "CMD gunicorn -w 2 --bind=0.0.0.0:80 -k sync web.wsgi:app --access-logfile -",
            "api/web/wsgi.py",
            &["api/web/__init__.py"],
        ),
        (
            "CMD [\"flask\", \"--app\", \"hello\", \"run\", \"--host=0.0.0.0\"]",
            "api/hello/__init__.py",
            &[],
        ),
        (
            "WORKDIR /srv\nCMD [\"python\", \"src/app.py\"]",
            "api/src/app.py",
            &["api/app.py"],
        ),
        (
            "WORKDIR /srv\nCMD [\"python\", \"/srv/src/server.py\"]",
            "api/src/server.py",
            &["api/app.py"],
        ),
    ];
    for (cmd, file, others) in cases {
        let ctx = project(
            compose,
            Some(&format!(
                "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\n{cmd}\n"
            )),
            APP,
        );
        std::fs::remove_file(ctx.path("api/app.py")).unwrap();
        for other in *others {
            ctx.write(other, "# another file\n");
        }
        ctx.write(file, APP);
        let out = init(&ctx, &["--instrument", "code"]);
        assert_exit(&out, 0);
        assert!(
            ctx.read(file).contains("FlaskInstrumentor"),
            "{cmd}: {file} not instrumented\n{}",
            stdout(&out)
        );
        for other in *others {
            assert_eq!(
                ctx.read(other),
                "# another file\n",
                "{cmd}: {other} changed"
            );
        }
    }
}

/// `--instrument none` prints lines to paste: every OpenTelemetry instrumentation they import is
/// in requirements.txt, whether or not the app uses requests yet.
#[test]
fn the_printed_lines_only_import_what_requirements_lists() {
    let ctx = project("services:\n  api:\n    build: ./api\n", None, APP);
    let out = init(&ctx, &["--instrument", "none"]);
    assert_exit(&out, 0);
    let printed = stdout(&out);
    let req = ctx.read("api/requirements.txt");
    let modules: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.trim().strip_prefix("from opentelemetry.instrumentation."))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(modules.contains(&"requests"), "{printed}");
    for module in modules {
        let package = format!("opentelemetry-instrumentation-{module}");
        assert!(req.contains(&package), "{package} missing from\n{req}");
    }
}

/// A compose command naming the virtualenv's program by path is wrapped by that virtualenv's
/// agent, in a list and in a string (quoted when the folder has a space); Compose v2 reads it.
#[test]
fn compose_commands_by_path_get_the_agent_of_their_folder() {
    let cases: &[(&str, &[&str])] = &[
        (
            "    command: [\"/venv/bin/gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n",
            &[
                "/venv/bin/opentelemetry-instrument",
                "/venv/bin/gunicorn",
                "-b",
                "0.0.0.0:8000",
                "app:app",
            ],
        ),
        (
            "    command: \"'/opt/my env/bin/python' app.py\"\n",
            &[
                "/opt/my env/bin/opentelemetry-instrument",
                "/opt/my env/bin/python",
                "app.py",
            ],
        ),
    ];
    for (command, want) in cases {
        let ctx = project(
            &format!("services:\n  api:\n    build: ./api\n{command}"),
            None,
            APP,
        );
        init_twice(&ctx, &["--instrument", "zero-code"]);
        let v = resolved(&ctx, "compose.yaml");
        assert_eq!(
            strings(&v["services"]["api"]["command"]),
            *want,
            "{command}"
        );
    }
}
