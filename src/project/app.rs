//! The Flask app's source, read with a real Python parser (tree-sitter-python): where the app
//! object is made, what it imports, its health routes, and the instrumentation added as pure
//! insertions (every byte of the file as it was stays, in order).

use std::path::Path;

use serde::Serialize;
use tree_sitter::{Node, Parser, Tree};

use crate::error::{Error, Result};

/// What to add to the app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppEdit {
    /// The OpenTelemetry provider (once, at module level) and `FlaskInstrumentor` after the app.
    pub otel: bool,
    /// `RequestsInstrumentor().instrument()` with the provider.
    pub requests: bool,
    /// The X-Ray recorder (configured with this service name) and its middleware.
    pub xray_service: Option<String>,
    /// `use_reloader=False` on `app.run(debug=...)`: the reloader's child process would lose
    /// what was set up in the parent.
    pub no_reloader: bool,
}

/// What the edit found and did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppReport {
    /// The 1-based line of `NAME = Flask(...)` in the file as read.
    pub app_line: usize,
    pub app_name: String,
    /// The application factory the app is made in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factory: Option<String>,
    /// What was added, in words.
    pub added: Vec<String>,
    pub warnings: Vec<String>,
}

fn parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("the grammar matches the tree-sitter version");
    parser
}

/// A parsed module: the text without its byte-order mark, and the tree.
pub struct Module<'a> {
    /// Offset of the text parsed in the file (3 after a byte-order mark).
    base: usize,
    text: &'a str,
    tree: Tree,
}

impl<'a> Module<'a> {
    /// Parse `text`; a syntax error is refused naming its line and column.
    pub fn parse(path: &Path, text: &'a str) -> Result<Self> {
        let (base, body) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (3, rest),
            None => (0, text),
        };
        let tree = parser()
            .parse(body, None)
            .ok_or_else(|| Error::project(path, "could not be parsed as Python", None::<String>))?;
        let module = Module {
            base,
            text: body,
            tree,
        };
        if let Some(bad) = module.first_error() {
            let at = bad.start_position();
            let line_start = body.lines().nth(at.row).unwrap_or("");
            let column = line_start
                .get(..at.column)
                .map_or(at.column, |s| s.chars().count())
                + 1;
            return Err(Error::parse(
                path,
                at.row + 1,
                column,
                "Python cannot parse this (a syntax error); tracectl edits only an app that \
                 runs: fix it, or choose --instrument zero-code or none",
            ));
        }
        Ok(module)
    }

    fn root(&self) -> Node<'_> {
        self.tree.root_node()
    }

    fn first_error(&self) -> Option<Node<'_>> {
        let mut stack = vec![self.root()];
        let mut found: Option<Node> = None;
        while let Some(node) = stack.pop() {
            if !node.has_error() && !node.is_missing() {
                continue;
            }
            if node.is_error() || node.is_missing() {
                if found.is_none_or(|f| node.start_byte() < f.start_byte()) {
                    found = Some(node);
                }
                continue;
            }
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        found
    }

    fn text_of(&self, node: Node) -> &str {
        &self.text[node.byte_range()]
    }

    fn children<'t>(&self, node: Node<'t>) -> Vec<Node<'t>> {
        let mut cursor = node.walk();
        node.named_children(&mut cursor).collect()
    }

    /// Every node of a kind, in file order.
    fn all(&self, kinds: &[&str]) -> Vec<Node<'_>> {
        let mut out = Vec::new();
        let mut cursor = self.root().walk();
        let mut visit = true;
        loop {
            if visit {
                let node = cursor.node();
                if kinds.contains(&node.kind()) {
                    out.push(node);
                }
                if cursor.goto_first_child() {
                    continue;
                }
            }
            if cursor.goto_next_sibling() {
                visit = true;
                continue;
            }
            if !cursor.goto_parent() {
                break;
            }
            visit = false;
        }
        out
    }

    /// Whether any import, anywhere, names `module` or a submodule of it.
    pub fn imports(&self, module: &str) -> bool {
        let names = |text: &str| {
            text == module
                || text
                    .strip_prefix(module)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        self.all(&["import_statement", "import_from_statement"])
            .into_iter()
            .any(|node| match node.kind() {
                "import_from_statement" => node
                    .child_by_field_name("module_name")
                    .is_some_and(|m| names(self.text_of(m))),
                _ => self.children(node).into_iter().any(|n| {
                    let dotted = match n.kind() {
                        "aliased_import" => n.child_by_field_name("name"),
                        _ => Some(n),
                    };
                    dotted.is_some_and(|d| names(self.text_of(d)))
                }),
            })
    }

    /// Routes that look like health checks (`/health`, `/healthz`, `/ping`, `/ready`, `/live`…),
    /// as written in `@X.route("...")` / `@X.get("...")`.
    pub fn health_routes(&self) -> Vec<String> {
        const NAMES: &[&str] = &[
            "health",
            "healthz",
            "healthcheck",
            "health-check",
            "health_check",
            "ping",
            "ready",
            "readyz",
            "readiness",
            "live",
            "livez",
            "liveness",
        ];
        let mut routes = Vec::new();
        for decorator in self.all(&["decorator"]) {
            let Some(call) = self
                .children(decorator)
                .into_iter()
                .find(|n| n.kind() == "call")
            else {
                continue;
            };
            let function = call.child_by_field_name("function");
            let is_route = function.is_some_and(|f| {
                f.kind() == "attribute"
                    && f.child_by_field_name("attribute")
                        .is_some_and(|a| matches!(self.text_of(a), "route" | "get"))
            });
            let Some(first) = call
                .child_by_field_name("arguments")
                .and_then(|a| self.children(a).into_iter().next())
                .filter(|a| a.kind() == "string" && is_route)
            else {
                continue;
            };
            let path: String = self
                .children(first)
                .into_iter()
                .filter(|n| n.kind() == "string_content")
                .map(|n| self.text_of(n))
                .collect();
            let health = path
                .split('/')
                .any(|segment| NAMES.contains(&segment.to_ascii_lowercase().as_str()));
            if health && !path.contains('<') && !routes.contains(&path) {
                routes.push(path);
            }
        }
        routes
    }

    /// Whether any call's function is `function` (e.g. `trace.set_tracer_provider`).
    pub fn calls(&self, function: &str) -> bool {
        self.call_functions().iter().any(|f| f == function)
    }

    /// The 1-based lines of `X.run(...)` calls with `debug` not `False` and no
    /// `use_reloader=False`: the reloader runs the app again in a child process.
    pub fn reloader_lines(&self) -> Vec<usize> {
        let mut lines = Vec::new();
        let apps = self.app_names();
        for call in self.all(&["call"]) {
            let is_run = self.is_app_run(call, &apps);
            let Some(args) = call.child_by_field_name("arguments").filter(|_| is_run) else {
                continue;
            };
            let keyword = |k: &str| {
                self.children(args).into_iter().find_map(|a| {
                    (a.kind() == "keyword_argument"
                        && a.child_by_field_name("name")
                            .is_some_and(|n| self.text_of(n) == k))
                    .then(|| a.child_by_field_name("value").map(|v| self.text_of(v)))
                    .flatten()
                })
            };
            if keyword("debug").is_some_and(|d| d != "False")
                && keyword("use_reloader") != Some("False")
            {
                lines.push(call.start_position().row + 1);
            }
        }
        lines
    }

    /// What can stand for a Flask app before `.run(...)`: the names apps are bound to
    /// (`app` of `app = Flask(...)`), names imported from another module (`from api import
    /// app`), and calls of the factories that make one (`create_app()`).
    fn app_names(&self) -> Vec<String> {
        let apps = self.apps();
        let mut names: Vec<String> = apps.iter().map(|(name, _, _)| name.clone()).collect();
        names.extend(
            apps.iter()
                .filter_map(|(_, _, f)| f.clone())
                .map(|f| format!("{f}()")),
        );
        names.extend(
            self.imported_before(usize::MAX)
                .into_iter()
                .filter(|(module, _)| !module.is_empty())
                .map(|(_, name)| name),
        );
        names
    }

    /// Whether `call` is `APP.run(...)` on what [`Module::app_names`] says is an app: another
    /// object's `run(..., debug=...)` (`asyncio.run`, say) takes no `use_reloader`.
    fn is_app_run(&self, call: Node, apps: &[String]) -> bool {
        call.child_by_field_name("function").is_some_and(|f| {
            f.kind() == "attribute"
                && f.child_by_field_name("attribute")
                    .is_some_and(|a| self.text_of(a) == "run")
                && f.child_by_field_name("object").is_some_and(|o| {
                    let object: String = match o.kind() {
                        // `create_app()` or `create_app(config)`: the factory is what counts.
                        "call" => o
                            .child_by_field_name("function")
                            .map(|f| format!("{}()", self.text_of(f)))
                            .unwrap_or_default(),
                        _ => self.text_of(o).to_string(),
                    };
                    apps.contains(&object)
                })
        })
    }

    /// Every identifier the module uses, for choosing a name it does not.
    fn identifiers(&self) -> std::collections::HashSet<&str> {
        self.all(&["identifier"])
            .into_iter()
            .map(|n| self.text_of(n))
            .collect()
    }

    /// `NAME = Flask(...)` statements: at module level, and directly in the body of a function
    /// (an application factory). Each with the name, the statement and the function's name.
    fn apps(&self) -> Vec<(String, Node<'_>, Option<String>)> {
        let mut out = Vec::new();
        fn scan<'t>(
            m: &Module<'_>,
            body: Node<'t>,
            factory: Option<String>,
            out: &mut Vec<(String, Node<'t>, Option<String>)>,
        ) {
            for statement in m.children(body) {
                if let Some(name) = m.flask_assignment(statement) {
                    out.push((name, statement, factory.clone()));
                }
            }
        }
        scan(self, self.root(), None, &mut out);
        for statement in self.children(self.root()) {
            let function = match statement.kind() {
                "function_definition" => Some(statement),
                "decorated_definition" => statement
                    .child_by_field_name("definition")
                    .filter(|d| d.kind() == "function_definition"),
                _ => None,
            };
            if let Some(f) = function
                && let Some(body) = f.child_by_field_name("body")
            {
                let name = f
                    .child_by_field_name("name")
                    .map(|n| self.text_of(n).to_string());
                scan(self, body, name, &mut out);
            }
        }
        out
    }

    /// The name assigned when `statement` is `NAME = Flask(...)` (or `flask.Flask(...)`,
    /// with or without a type annotation).
    fn flask_assignment(&self, statement: Node) -> Option<String> {
        if statement.kind() != "expression_statement" {
            return None;
        }
        let assignment = self
            .children(statement)
            .into_iter()
            .find(|n| n.kind() == "assignment")?;
        let left = assignment.child_by_field_name("left")?;
        let right = assignment.child_by_field_name("right")?;
        if left.kind() != "identifier" || right.kind() != "call" {
            return None;
        }
        let function = self.text_of(right.child_by_field_name("function")?);
        matches!(function, "Flask" | "flask.Flask").then(|| self.text_of(left).to_string())
    }

    /// The text of every call's function, e.g. `trace.set_tracer_provider`.
    fn call_functions(&self) -> Vec<String> {
        self.all(&["call"])
            .into_iter()
            .filter_map(|c| c.child_by_field_name("function"))
            .map(|f| {
                self.text_of(f)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect()
            })
            .collect()
    }

    /// Names bound by module-level imports that start before byte `offset`, as (module, name)
    /// (`import os` is ("", "os")): an import further down binds its name too late for code
    /// inserted above it.
    fn imported_before(&self, offset: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for node in self
            .children(self.root())
            .into_iter()
            .filter(|n| n.start_byte() < offset)
        {
            match node.kind() {
                "import_statement" => {
                    for n in self.children(node) {
                        out.push((String::new(), self.text_of(n).to_string()));
                    }
                }
                "import_from_statement" => {
                    let module = node
                        .child_by_field_name("module_name")
                        .map(|m| self.text_of(m).to_string())
                        .unwrap_or_default();
                    let mut cursor = node.walk();
                    for n in node.children_by_field_name("name", &mut cursor) {
                        let name = match n.kind() {
                            "aliased_import" => n
                                .child_by_field_name("alias")
                                .map_or("", |a| self.text_of(a)),
                            _ => self.text_of(n),
                        };
                        out.push((module.clone(), name.to_string()));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// A Python string literal holding `value`.
fn py_str(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The offset just past the line holding `offset` (its newline included); the text's end when
/// it is the last line.
fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// Instrument the app in `text` (the file `path`): the pure edit, refused with the file's line
/// when there is no app to instrument or more than one. Running it on its own output adds nothing.
pub fn instrument(path: &Path, text: &str, edit: &AppEdit) -> Result<(String, AppReport)> {
    let module = Module::parse(path, text)?;
    let body = module.text;
    let nl = match body.find('\n') {
        Some(i) if i > 0 && body.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    };
    let file = path.display();
    if !edit.otel && edit.xray_service.is_none() {
        // Only the reloader: which object is the app does not matter.
        let mut report = AppReport::default();
        let inserts = if edit.no_reloader {
            reloader_inserts(&module, &file.to_string(), &mut report)
        } else {
            Vec::new()
        };
        return Ok((assemble(path, text, &module, inserts)?, report));
    }
    let apps = module.apps();
    let (name, statement, factory) = match apps.as_slice() {
        [] => {
            return Err(Error::project(
                path,
                "no Flask app found: tracectl looks for `NAME = Flask(...)` at module level or in \
                 a function such as create_app()",
                "write the app that way, or choose --instrument zero-code (no edit to the app) or \
                 --instrument none"
                    .to_string(),
            ));
        }
        [one] => one.clone(),
        [a, b, ..] => {
            return Err(Error::project(
                path,
                format!(
                    "two Flask apps, `{}` at {file}:{} and `{}` at {file}:{}: tracectl cannot tell \
                     which one serves",
                    a.0,
                    a.1.start_position().row + 1,
                    b.0,
                    b.1.start_position().row + 1
                ),
                "keep one app per file, or choose --instrument zero-code (no edit to the app)"
                    .to_string(),
            ));
        }
    };
    let app_row = statement.start_position().row;
    let app_start = line_start(body, statement.start_byte());
    let indent = &body[app_start..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return Err(Error::project(
            path,
            format!(
                "line {}: `{name} = Flask(...)` shares its line with other code",
                app_row + 1
            ),
            "put the app on its own line, then run tracectl again".to_string(),
        ));
    }
    let mut report = AppReport {
        app_line: app_row + 1,
        app_name: name.clone(),
        factory: factory.clone(),
        ..AppReport::default()
    };
    let calls = module.call_functions();
    let has = |f: &str| calls.iter().any(|c| c == f);
    let top = match &factory {
        None => statement,
        Some(_) => top_level_ancestor(statement),
    };
    let imported = module.imported_before(top.start_byte());
    // The provider's name: `provider`, unless the app already uses that name for something.
    let used = module.identifiers();
    let provider = ["provider", "otel_provider", "tracectl_provider"]
        .into_iter()
        .find(|n| !used.contains(n))
        .unwrap_or("tracectl_otel_provider");
    let mut wanted_imports: Vec<(&str, &str)> = Vec::new();
    let mut setup: Vec<String> = Vec::new();
    let mut after_app: Vec<String> = Vec::new();
    if edit.otel {
        if !has("trace.set_tracer_provider") {
            wanted_imports.extend([
                ("opentelemetry", "trace"),
                (
                    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
                    "OTLPSpanExporter",
                ),
                ("opentelemetry.sdk.trace", "TracerProvider"),
                ("opentelemetry.sdk.trace.export", "BatchSpanProcessor"),
            ]);
            setup.extend([
                format!("{provider} = TracerProvider()"),
                format!("{provider}.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))"),
                format!("trace.set_tracer_provider({provider})"),
            ]);
            report
                .added
                .push("the OpenTelemetry provider, exporting OTLP/HTTP in batches".to_string());
        }
        if edit.requests && !has("RequestsInstrumentor().instrument") {
            wanted_imports.push((
                "opentelemetry.instrumentation.requests",
                "RequestsInstrumentor",
            ));
            setup.push("RequestsInstrumentor().instrument()".to_string());
            report
                .added
                .push("RequestsInstrumentor (outgoing requests)".to_string());
        }
        if !has("FlaskInstrumentor().instrument_app") {
            wanted_imports.push(("opentelemetry.instrumentation.flask", "FlaskInstrumentor"));
            after_app.push(format!("FlaskInstrumentor().instrument_app({name})"));
            report
                .added
                .push(format!("FlaskInstrumentor after `{name} = Flask(...)`"));
        }
    }
    if let Some(service) = &edit.xray_service {
        if !has("xray_recorder.configure") {
            wanted_imports.extend([("", "os"), ("aws_xray_sdk.core", "xray_recorder")]);
            setup.push(format!(
                "xray_recorder.configure(service={}, dynamic_naming=os.getenv('AWS_XRAY_URL'))",
                py_str(service)
            ));
            report.added.push("the X-Ray recorder".to_string());
        }
        if !has("XRayMiddleware") {
            wanted_imports.extend([
                ("aws_xray_sdk.core", "xray_recorder"),
                ("aws_xray_sdk.ext.flask.middleware", "XRayMiddleware"),
            ]);
            after_app.push(format!("XRayMiddleware({name}, xray_recorder)"));
            report
                .added
                .push(format!("XRayMiddleware after `{name} = Flask(...)`"));
        }
    }
    let mut imports: Vec<String> = Vec::new();
    for (from, what) in wanted_imports {
        let line = match from {
            "" => format!("import {what}"),
            m => format!("from {m} import {what}"),
        };
        let bound = imported.iter().any(|(m, n)| m == from && n == what);
        if !bound && !imports.contains(&line) {
            imports.push(line);
        }
    }

    let mut inserts: Vec<(usize, String)> = Vec::new();
    // Lines are added after whole lines only: a statement whose line goes on (`; more`, or a
    // `\` continuation) would be split.
    let own_line = |node: Node, what: &str| -> Result<()> {
        let rest = &body[node.end_byte()..line_end(body, node.end_byte())];
        let rest = rest.trim();
        if rest.is_empty() || rest.starts_with('#') {
            return Ok(());
        }
        Err(Error::project(
            path,
            format!(
                "line {}: {what} shares its line with other code (`{}`)",
                node.end_position().row + 1,
                rest.chars().take(40).collect::<String>()
            ),
            "put it on its own line, then run tracectl again".to_string(),
        ))
    };
    if !after_app.is_empty() {
        own_line(statement, &format!("`{name} = Flask(...)`"))?;
    }
    // Imports and setup: after the last module-level import before the app (or its factory),
    // else after a module docstring, else before the first statement.
    if !imports.is_empty() || !setup.is_empty() {
        let statements = module.children(module.root());
        let last_import = statements
            .iter()
            .filter(|s| s.start_byte() < top.start_byte())
            .rfind(|s| {
                matches!(
                    s.kind(),
                    "import_statement" | "import_from_statement" | "future_import_statement"
                )
            });
        let docstring = statements.first().filter(|s| {
            s.kind() == "expression_statement"
                && module
                    .children(**s)
                    .first()
                    .is_some_and(|n| n.kind() == "string")
        });
        let (at, after_code) = match last_import.or(docstring) {
            Some(anchor) => {
                own_line(*anchor, "the import tracectl adds its lines after")?;
                (line_end(body, anchor.end_byte()), true)
            }
            None => (
                line_start(
                    body,
                    statements
                        .iter()
                        .find(|s| s.kind() != "comment")
                        .map_or(body.len(), |s| s.start_byte()),
                ),
                false,
            ),
        };
        let mut block = String::new();
        if at > 0 && !body[..at].ends_with('\n') {
            block.push_str(nl);
        }
        for line in &imports {
            block.push_str(line);
            block.push_str(nl);
        }
        if !setup.is_empty() {
            if after_code || !imports.is_empty() {
                block.push_str(nl);
            }
            for line in &setup {
                block.push_str(line);
                block.push_str(nl);
            }
        }
        let next_line = &body[at..line_end(body, at)];
        if !setup.is_empty() && !next_line.trim().is_empty() {
            block.push_str(nl);
        }
        inserts.push((at, block));
    }
    if !after_app.is_empty() {
        let at = line_end(body, statement.end_byte());
        let mut block = String::new();
        if !body[..at].ends_with('\n') {
            block.push_str(nl);
        }
        for line in &after_app {
            block.push_str(indent);
            block.push_str(line);
            block.push_str(nl);
        }
        inserts.push((at, block));
    }
    if edit.no_reloader {
        inserts.extend(reloader_inserts(&module, &file.to_string(), &mut report));
    }
    Ok((assemble(path, text, &module, inserts)?, report))
}

/// `use_reloader=False` after the last argument of each `X.run(..., debug=...)` lacking it.
fn reloader_inserts(module: &Module, file: &str, report: &mut AppReport) -> Vec<(usize, String)> {
    let mut inserts = Vec::new();
    let apps = module.app_names();
    for call in module.all(&["call"]) {
        let is_run = module.is_app_run(call, &apps);
        let Some(args) = call.child_by_field_name("arguments").filter(|_| is_run) else {
            continue;
        };
        let arguments: Vec<Node> = module
            .children(args)
            .into_iter()
            .filter(|a| a.kind() != "comment")
            .collect();
        let keyword = |k: &str| {
            arguments.iter().find_map(|a| {
                (a.kind() == "keyword_argument"
                    && a.child_by_field_name("name")
                        .is_some_and(|n| module.text_of(n) == k))
                .then(|| a.child_by_field_name("value").map(|v| module.text_of(v)))
                .flatten()
            })
        };
        let Some(debug) = keyword("debug") else {
            continue;
        };
        let line = call.start_position().row + 1;
        match keyword("use_reloader") {
            Some("False") => {}
            Some(other) => report.warnings.push(format!(
                "{file}:{line}: `use_reloader={other}` kept: the reloader starts the app a second \
                 time in a child process; if spans go missing, turn it off"
            )),
            None if debug == "False" => {}
            None => {
                let last = arguments.last().expect("debug is one");
                inserts.push((last.end_byte(), ", use_reloader=False".to_string()));
                report.added.push(format!(
                    "use_reloader=False on line {line} (the debug reloader starts the app twice)"
                ));
            }
        }
    }
    inserts
}

/// The file with `inserts` (offsets in the text after any byte-order mark), proven to parse.
fn assemble(
    path: &Path,
    text: &str,
    module: &Module,
    mut inserts: Vec<(usize, String)>,
) -> Result<String> {
    inserts.sort_by_key(|b| std::cmp::Reverse(b.0));
    let mut out = module.text.to_string();
    for (at, t) in inserts {
        out.insert_str(at, &t);
    }
    let out = format!("{}{out}", &text[..module.base]);
    // The edit must parse again: anything else is a bug, never something to write.
    if out != text {
        Module::parse(path, &out).map_err(|e| {
            Error::project(
                path,
                format!("internal error: the instrumented app does not parse ({e})"),
                "nothing was written; please report this with the file".to_string(),
            )
        })?;
    }
    Ok(out)
}

fn top_level_ancestor(node: Node) -> Node {
    let mut current = node;
    while let Some(parent) = current.parent() {
        if parent.kind() == "module" {
            return current;
        }
        current = parent;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> AppEdit {
        AppEdit {
            otel: true,
            requests: false,
            xray_service: None,
            no_reloader: true,
        }
    }

    fn run(text: &str, edit: &AppEdit) -> String {
        let (out, _) = instrument(Path::new("app.py"), text, edit).unwrap();
        let (again, _) = instrument(Path::new("app.py"), &out, edit).unwrap();
        assert_eq!(again, out, "a second run adds nothing");
        out
    }

    #[test]
    fn the_recipe_app() {
        let app = "from flask import Flask\nfrom flask_cors import CORS\n\napp = Flask(__name__)\nCORS(app)\n\n\nif __name__ == \"__main__\":\n    app.run(debug=True)\n";
        assert_eq!(
            run(app, &full()),
            "from flask import Flask\nfrom flask_cors import CORS\n\
             from opentelemetry import trace\n\
             from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter\n\
             from opentelemetry.sdk.trace import TracerProvider\n\
             from opentelemetry.sdk.trace.export import BatchSpanProcessor\n\
             from opentelemetry.instrumentation.flask import FlaskInstrumentor\n\
             \n\
             provider = TracerProvider()\n\
             provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))\n\
             trace.set_tracer_provider(provider)\n\
             \n\
             app = Flask(__name__)\n\
             FlaskInstrumentor().instrument_app(app)\n\
             CORS(app)\n\n\nif __name__ == \"__main__\":\n    app.run(debug=True, use_reloader=False)\n"
        );
    }

    #[test]
    fn factories_tabs_crlf_and_a_byte_order_mark() {
        let app = "\u{feff}\"\"\"Docs.\"\"\"\r\nfrom __future__ import annotations\r\n\r\nimport flask\r\n\r\n\r\n@decorate\r\ndef create_app(config=None):\r\n\tapplication = flask.Flask(\r\n\t\t__name__,\r\n\t\tstatic_folder=\"s\",\r\n\t)\r\n\treturn application\r\n";
        let out = run(
            app,
            &AppEdit {
                xray_service: Some("it's".into()),
                ..full()
            },
        );
        assert!(out.starts_with("\u{feff}\"\"\"Docs.\"\"\"\r\nfrom __future__ import annotations\r\n\r\nimport flask\r\nfrom opentelemetry import trace\r\n"), "{out}");
        assert!(out.contains("\t)\r\n\tFlaskInstrumentor().instrument_app(application)\r\n\tXRayMiddleware(application, xray_recorder)\r\n\treturn application\r\n"), "{out}");
        assert!(out.contains("xray_recorder.configure(service='it\\'s', dynamic_naming=os.getenv('AWS_XRAY_URL'))\r\n"));
        assert!(!out.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn refusals_name_the_line() {
        let err = |text: &str| {
            instrument(Path::new("app.py"), text, &full())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("import os\ndef f(:\n    pass\n"),
            "app.py:2:7: Python cannot parse this (a syntax error); tracectl edits only an app that runs: fix it, or choose --instrument zero-code or none"
        );
        assert!(err("from flask import Flask\n").contains("no Flask app found"));
        let two = err("from flask import Flask\na = Flask('a')\nb = Flask('b')\n");
        assert!(two.contains("`a` at app.py:2 and `b` at app.py:3"), "{two}");
        assert!(err("x = 1; app = Flask(__name__)\n").contains("shares its line"));
        // A line that goes on after the app, or after the import tracectl adds below.
        let on = err("from flask import Flask\napp = Flask(__name__); CONFIG = \\\n    {'a': 1}\n");
        assert!(
            on.contains("line 2: `app = Flask(...)` shares its line with other code"),
            "{on}"
        );
        let import =
            err("from flask import Flask\nimport os; X = \\\n  1\napp = Flask(__name__)\n");
        assert!(
            import.starts_with("app.py") && import.contains("shares its line"),
            "{import}"
        );
    }

    #[test]
    fn only_the_apps_own_run_gets_use_reloader() {
        let text = "import asyncio\nfrom flask import Flask\napp = Flask(__name__)\nasyncio.run(main(), debug=True)\napp.run(debug=True)\n";
        let out = run(text, &full());
        assert!(out.contains("asyncio.run(main(), debug=True)\n"), "{out}");
        assert!(
            out.contains("app.run(debug=True, use_reloader=False)\n"),
            "{out}"
        );
        let m = Module::parse(Path::new("app.py"), text).unwrap();
        assert_eq!(m.reloader_lines(), [5]);
    }

    #[test]
    fn a_provider_name_the_app_uses_is_left_alone_and_late_imports_do_not_count() {
        let text = "from flask import Flask\nprovider = 'cognito'\napp = Flask(__name__)\n\nfrom opentelemetry import trace\n";
        let out = run(text, &full());
        assert!(out.contains("otel_provider = TracerProvider()\n"), "{out}");
        assert!(out.contains("provider = 'cognito'\n"), "{out}");
        // `trace` is imported after the app: the setup above it imports it itself.
        let setup = out.find("trace.set_tracer_provider").unwrap();
        let import = out.find("from opentelemetry import trace\n").unwrap();
        assert!(import < setup, "{out}");
    }

    #[test]
    fn no_imports_docstring_comments_and_shebang() {
        let out = run(
            "#!/usr/bin/env python\n# comment\napp = Flask(__name__)",
            &full(),
        );
        assert!(
            out.starts_with("#!/usr/bin/env python\n# comment\nfrom opentelemetry import trace\n")
        );
        assert!(
            out.ends_with("\napp = Flask(__name__)\nFlaskInstrumentor().instrument_app(app)\n")
        );
        let out = run("'''doc'''\napp = Flask(__name__)\n", &full());
        assert!(
            out.starts_with("'''doc'''\nfrom opentelemetry import trace\n"),
            "{out}"
        );
    }

    #[test]
    fn reloader_and_existing_pieces() {
        let text = "from flask import Flask\nfrom opentelemetry.instrumentation.flask import FlaskInstrumentor\napp = Flask(__name__)\nFlaskInstrumentor().instrument_app(app)\napp.run(\n    debug=True,  # dev\n)\napp.run(debug=False)\napp.run(debug=True, use_reloader=True)\n";
        let (out, report) = instrument(Path::new("app.py"), text, &full()).unwrap();
        assert!(
            out.contains("    debug=True, use_reloader=False,  # dev\n"),
            "{out}"
        );
        assert!(out.contains("app.run(debug=False)\n"));
        assert_eq!(out.matches("FlaskInstrumentor().instrument_app").count(), 1);
        assert_eq!(out.matches("import FlaskInstrumentor").count(), 1);
        assert!(report.warnings[0].contains("use_reloader=True"));
    }

    #[test]
    fn imports_and_health_routes() {
        let m = Module::parse(
            Path::new("a.py"),
            "import requests.adapters as ra\n@app.get('/api/health')\ndef h(): pass\n@app.route(\"/healthz\")\ndef z(): pass\n@app.route('/users/<id>/ping')\ndef p(): pass\n@app.route('/home')\ndef home(): pass\n",
        )
        .unwrap();
        assert!(m.imports("requests"));
        assert!(!m.imports("request"));
        assert_eq!(m.health_routes(), ["/api/health", "/healthz"]);
    }

    /// The statements random modules are made of: each valid Python on its own lines.
    const STATEMENTS: &[&str] = &[
        "import os",
        "import sys as system",
        "from json import dumps, loads",
        "from flask import Flask, request",
        "# a comment at column 0",
        "",
        "x = 1",
        "def helper(a, b=2):\n    return a + b",
        "class C:\n    '''doc'''\n\n    pass",
        "@decorator\ndef f():\n    pass",
        "if x:\n    y = 2\nelse:\n    y = 3",
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None",
        "s = '''multi\nline = Flask(x)'''",
        "d = {\n  'a': 1,\n}",
        "async def g():\n    await h()",
        "print('app = Flask(x)')  # app = Flask(__name__)",
        "x = 1; y = 2",
    ];
    const APPS: &[&str] = &[
        "app = Flask(__name__)",
        "app = Flask(\n    __name__,\n    static_folder='static',  # assets\n)",
        "application = flask.Flask(__name__)",
        "def create_app(config=None):\n    app = Flask(__name__)\n    app.config.update(config or {})\n    return app",
        "@factory\ndef make():\n\tapi = Flask(__name__)\n\treturn api",
    ];

    fn module_strategy() -> impl proptest::strategy::Strategy<Value = (String, AppEdit)> {
        use proptest::prelude::*;
        let statement = proptest::sample::select(STATEMENTS);
        (
            proptest::collection::vec(statement.clone(), 0..6),
            proptest::sample::select(APPS),
            proptest::collection::vec(statement, 0..6),
            any::<[bool; 8]>(),
        )
            .prop_map(|(before, app, after, flags)| {
                let [crlf, bom, doc, future, main, last_nl, xray, requests] = flags;
                let mut parts: Vec<String> = Vec::new();
                if doc {
                    parts.push("\"\"\"The module's docstring.\"\"\"".to_string());
                }
                if future {
                    parts.push("from __future__ import annotations".to_string());
                }
                parts.extend(before.iter().map(|s| s.to_string()));
                parts.push(app.to_string());
                parts.extend(after.iter().map(|s| s.to_string()));
                if main {
                    // The app's own run, under the name the app was bound to.
                    let name = app.split(" = ").next().unwrap_or("app");
                    let name = name.rsplit(['\n', '\t', ' ']).next().unwrap_or(name);
                    parts.push(format!(
                        "if __name__ == '__main__':\n    {name}.run(debug=True)"
                    ));
                }
                let mut text = parts.join("\n");
                if last_nl {
                    text.push('\n');
                }
                if crlf {
                    text = text.replace('\n', "\r\n");
                }
                if bom {
                    text.insert(0, '\u{feff}');
                }
                let edit = AppEdit {
                    otel: true,
                    requests,
                    xray_service: xray.then(|| "svc".to_string()),
                    no_reloader: true,
                };
                (text, edit)
            })
    }

    /// Random modules around an app: every original line kept in order (the `app.run` line
    /// gains its keyword), a second run adds nothing, and CPython compiles every result.
    #[test]
    fn random_modules_keep_their_lines_compile_and_settle() {
        use proptest::test_runner::{Config, TestCaseError, TestRunner};
        let outputs = std::cell::RefCell::new(Vec::new());
        let mut runner = TestRunner::new(Config {
            cases: 160,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&module_strategy(), |(text, edit)| {
                let (out, _) = instrument(Path::new("app.py"), &text, &edit)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
                // A byte-order mark stays the file's first bytes.
                let bom = '\u{feff}';
                proptest::prop_assert_eq!(text.starts_with(bom), out.starts_with(bom));
                let mut remaining = out.trim_start_matches(bom).lines();
                for line in text.trim_start_matches(bom).lines() {
                    let want = line.replace("debug=True)", "debug=True, use_reloader=False)");
                    proptest::prop_assert!(
                        remaining.any(|l| l == want),
                        "line {:?} lost or out of order in\n{}",
                        line,
                        out
                    );
                }
                let (again, _) = instrument(Path::new("app.py"), &out, &edit)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                proptest::prop_assert_eq!(&again, &out);
                outputs.borrow_mut().push(out);
                Ok(())
            })
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<std::path::PathBuf> = outputs
            .borrow()
            .iter()
            .enumerate()
            .map(|(i, out)| {
                let path = dir.path().join(format!("m{i}.py"));
                std::fs::write(&path, out).unwrap();
                path
            })
            .collect();
        let testbed = std::env::var_os("TRACECTL_TESTBED")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/testbed"));
        let python = testbed.join("bin/python");
        assert!(
            python.exists(),
            "no Python testbed at {}: run scripts/testbed.sh to provision it",
            testbed.display()
        );
        let out = std::process::Command::new(python)
            .args(["-m", "py_compile"])
            .args(&files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "CPython rejects an output: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
