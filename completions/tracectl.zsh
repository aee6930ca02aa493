#compdef tracectl

autoload -U is-at-least

_tracectl() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_tracectl_commands" \
"*::: :->tracectl" \
&& ret=0
    case $state in
    (tracectl)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:tracectl-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--compose-file=[Compose file \[default\: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml\]]:FILE:_files' \
'--service=[Compose service that runs the backend \[default\: the one whose build folder holds a Flask app\]]:NAME:_default' \
'--env-file=[Env file that holds the secrets \[default\: .env beside the compose file\]]:FILE:_files' \
'--honeycomb-api-key=[Honeycomb API key (ingest or configuration key)]:KEY:_default' \
'--dataset=[Honeycomb dataset, required by classic keys]:NAME:_default' \
'--honeycomb-region=[Honeycomb region \[default\: from the key, else us\]]:REGION:((us\:"api.honeycomb.io"
eu\:"api.eu1.honeycomb.io"))' \
'--service-name=[Service name shown in Honeycomb \[default\: the compose service'\''s name\]]:NAME:_default' \
'--aws-region=[AWS region for X-Ray \[default\: AWS_DEFAULT_REGION or the AWS profile'\''s region\]]:REGION:_default' \
'--xray-url=[X-Ray dynamic naming pattern (AWS_XRAY_URL) \[default\: the recipe'\''s Gitpod pattern on Gitpod, else *\]]:PATTERN:_default' \
'--xray-via=[How traces reach X-Ray \[default\: the daemon when the project already runs one, else collector\]]:VIA:((collector\:"An OpenTelemetry collector (rotel) that sends OTLP to X-Ray, signed with SigV4"
daemon\:"The X-Ray SDK and daemon (AWS support ends 2027-02-25)"))' \
'--instrument=[How the app is instrumented\: wrap its start command (zero-code), edit app.py (code), or neither (none) \[default\: zero-code\]]:MODE:((zero-code\:"Wrap the backend'\''s start command with opentelemetry-instrument; app.py is not edited"
code\:"Add the instrumentation to app.py"
none\:"Leave the app and its start command alone; init prints the lines to add"))' \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'--honeycomb[Send traces to Honeycomb over OTLP/HTTP]' \
'--no-honeycomb[Do not configure Honeycomb]' \
'--xray[Add the AWS X-Ray SDK settings and an X-Ray daemon service]' \
'--no-xray[Do not configure X-Ray]' \
'(--xray-via --no-xray --sampling-rule --instrument)--migrate[Move an X-Ray daemon setup to an OpenTelemetry collector (edits compose only)]' \
'--sampling-rule[Also write the X-Ray sampling rule to aws/json/xray.json]' \
'--force[Replace existing values that differ instead of keeping them]' \
'--dry-run[Print the changes as a diff and write nothing]' \
'-y[Never prompt; take every answer from flags, the environment and the env file]' \
'--yes[Never prompt; take every answer from flags, the environment and the env file]' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(send-test)
_arguments "${_arguments_options[@]}" : \
'*--to=[Where to send (repeatable) \[default\: every configured destination, else local\]]:DEST:((honeycomb\:"Honeycomb over OTLP/HTTP"
otlp\:"Any OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_* or --endpoint)"
xray\:"The X-Ray API (PutTraceSegments)"
xray-daemon\:"An X-Ray daemon over UDP (AWS_XRAY_DAEMON_ADDRESS)"
xray-otlp\:"X-Ray'\''s OTLP endpoint, signed with SigV4"
local\:"A receiver started in-process on a free loopback port\: proves the whole pipe, no account"
collector\:"The project'\''s collector over OTLP/HTTP (the port its service publishes, or --endpoint); --wait looks in X-Ray and Honeycomb, where it forwards"))' \
'--honeycomb-api-key=[Honeycomb API key (ingest or configuration key)]:KEY:_default' \
'--dataset=[Honeycomb dataset, required by classic keys]:NAME:_default' \
'--endpoint=[OTLP endpoint\: a base URL (/v1/traces is appended) or the full traces URL]:URL:_default' \
'*--header=[Extra OTLP header (repeatable)]:NAME=VALUE:_default' \
'--protocol=[OTLP encoding \[default\: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf\]]:PROTOCOL:((http/protobuf\:""
http/json\:""
grpc\:"OTLP/gRPC\: TraceService/Export on HTTP/2; the endpoint is used as it is, no path added"))' \
'--compression=[OTLP compression \[default\: OTEL_EXPORTER_OTLP_COMPRESSION, else none\]]:COMPRESSION:(gzip none)' \
'--timeout=[Time allowed per destination, retries included (e.g. 10s, 500ms) \[default\: 10s\]]:DURATION:_default' \
'--service-name=[Service name of the test trace \[default\: OTEL_SERVICE_NAME, HONEYCOMB_SERVICE_NAME, or the project'\''s\]]:NAME:_default' \
'--span-name=[Name of the root span \[default\: GET /api/activities/home\]]:NAME:_default' \
'*--attribute=[Extra attribute on the root span (repeatable)]:KEY=VALUE:_default' \
'--aws-region=[AWS region for X-Ray \[default\: AWS_REGION, AWS_DEFAULT_REGION, the profile'\''s, or the project'\''s .env\]]:REGION:_default' \
'--wait=[Wait up to SECONDS (at most 3600) for proof that the trace arrived]::SECONDS:_default' \
'--compose-file=[Compose file \[default\: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml\]]:FILE:_files' \
'--service=[Compose service that runs the backend \[default\: the one whose build folder holds a Flask app\]]:NAME:_default' \
'--env-file=[Env file that holds the secrets \[default\: .env beside the compose file\]]:FILE:_files' \
'--count=[Load mode\: send N traces of 3 spans each and report throughput and latency (otlp, local)]:N:_default' \
'--concurrency=[Load mode\: requests in flight at once]:C:_default' \
'(--wait --count --service-name --span-name --attribute)--from=[Replay the spans saved in FILE (OTLP/JSON lines\: listen --save, the Collector'\''s file exporter) instead of the test trace, with new ids and times (otlp, honeycomb, local, collector)]:FILE:_files' \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
'*--check=[Run only this check (repeatable; see --list)]:ID:_default' \
'*--skip=[Do not run this check (repeatable)]:ID:_default' \
'--timeout=[Time allowed for each network check (e.g. 5s, 500ms)]:DURATION:_default' \
'--honeycomb-api-key=[Honeycomb API key (ingest or configuration key)]:KEY:_default' \
'--dataset=[Honeycomb dataset, required by classic keys]:NAME:_default' \
'--aws-region=[AWS region \[default\: AWS_REGION, AWS_DEFAULT_REGION, the project'\''s .env, the AWS profile'\''s\]]:REGION:_default' \
'--compose-file=[Compose file \[default\: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml\]]:FILE:_files' \
'--service=[Compose service that runs the backend \[default\: the one whose build folder holds a Flask app\]]:NAME:_default' \
'--env-file=[Env file that holds the secrets \[default\: .env beside the compose file\]]:FILE:_files' \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'--list[List the checks and exit]' \
'--offline[Skip every check that needs the network]' \
'--strict[Treat warnings as failures]' \
'--require-daemon[Fail, not warn, when the project is set up for the X-Ray daemon and it does not answer]' \
'--require-compose[Fail, not skip, when the folder holds no compose file (unless only checks that read none were asked for with --check); the GitHub Action passes it]' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(listen)
_arguments "${_arguments_options[@]}" : \
'--otlp-http=[Address of the OTLP/HTTP receiver]:ADDR:_default' \
'--otlp-grpc=[Address of the OTLP/gRPC receiver]:ADDR:_default' \
'--xray-udp=[Address of the X-Ray daemon-compatible UDP receiver]:ADDR:_default' \
'--max-body=[Largest OTLP request body accepted, compressed or not (e.g. 4MiB, 512KiB)]:SIZE:_default' \
'--flush-after=[Show a trace once no span of it arrived for this long]:DURATION:_default' \
'--exit-after-spans=[Exit once this many spans have arrived]:N:_default' \
'--exit-after=[Exit after this long (e.g. 30, 30s, 2m)]:SECONDS:_default' \
'--view=[How traces are drawn \[default\: waterfall when stdout is a terminal, else tree\]]:VIEW:((tree\:"An indented tree with kinds and key attributes"
waterfall\:"One line per span with a bar on the trace'\''s time axis"))' \
'--width=[Waterfall width in columns, at least 40 \[default\: COLUMNS, else the terminal'\''s width, else 80\]]:COLUMNS:_default' \
'--save=[Append every received request to FILE as OTLP/JSON lines (the Collector file exporter'\''s layout)]:FILE:_files' \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'--no-otlp[Do not receive OTLP (neither HTTP nor gRPC)]' \
'--no-otlp-grpc[Do not receive OTLP/gRPC (OTLP/HTTP stays on)]' \
'--no-xray[Do not receive X-Ray segments]' \
'--check[Report instrumentation problems after each trace, not only when listen stops]' \
'--strict[With --check\: exit 1 when any problem was found (for CI)]' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
'--view=[How traces are drawn \[default\: waterfall when stdout is a terminal, else tree\]]:VIEW:((tree\:"An indented tree with kinds and key attributes"
waterfall\:"One line per span with a bar on the trace'\''s time axis"))' \
'--width=[Waterfall width in columns, at least 40 \[default\: COLUMNS, else the terminal'\''s width, else 80\]]:COLUMNS:_default' \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'*::files -- OTLP/JSON lines files\: one ExportTraceServiceRequest per line:_files' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':shell -- Shell to generate completions for:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'-C+[Run as if started in DIR]:DIR:_files' \
'--dir=[Run as if started in DIR]:DIR:_files' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:WHEN:((auto\:"Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)"
always\:""
never\:""))' \
'--format=[Output format]:FORMAT:((human\:"Readable text, coloured on a terminal"
json\:"One stable JSON object on stdout (JSON lines for \`listen\`)"
github\:"GitHub Actions annotations (doctor); other commands print human output"
sarif\:"SARIF 2.1.0 for code scanning (doctor); other commands print human output"))' \
'(-v --verbose)-q[Print only errors and the result]' \
'(-v --verbose)--quiet[Print only errors and the result]' \
'*-v[Print more detail (repeat for more)]' \
'*--verbose[Print more detail (repeat for more)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':dir -- Folder to write the pages into (created if missing):_files' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_tracectl__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:tracectl-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(send-test)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(listen)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_tracectl_commands] )) ||
_tracectl_commands() {
    local commands; commands=(
'init:Write the env and compose configuration for Honeycomb and X-Ray' \
'send-test:Send a realistic synthetic trace to every configured destination and prove it arrived' \
'doctor:Check keys, credentials, regions, endpoints, clocks and the project'\''s configuration' \
'listen:Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed' \
'show:Show traces saved by \`listen --save\` or the OpenTelemetry Collector'\''s file exporter' \
'completions:Print a shell completion script' \
'version:Print the version, git commit, build date and target, for bug reports' \
'man:Write the man pages (tracectl.1 and one per command) into DIR' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'tracectl commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__completions_commands] )) ||
_tracectl__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl completions commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__doctor_commands] )) ||
_tracectl__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl doctor commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help_commands] )) ||
_tracectl__subcmd__help_commands() {
    local commands; commands=(
'init:Write the env and compose configuration for Honeycomb and X-Ray' \
'send-test:Send a realistic synthetic trace to every configured destination and prove it arrived' \
'doctor:Check keys, credentials, regions, endpoints, clocks and the project'\''s configuration' \
'listen:Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed' \
'show:Show traces saved by \`listen --save\` or the OpenTelemetry Collector'\''s file exporter' \
'completions:Print a shell completion script' \
'version:Print the version, git commit, build date and target, for bug reports' \
'man:Write the man pages (tracectl.1 and one per command) into DIR' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'tracectl help commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__completions_commands] )) ||
_tracectl__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help completions commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__doctor_commands] )) ||
_tracectl__subcmd__help__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help doctor commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__help_commands] )) ||
_tracectl__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help help commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__init_commands] )) ||
_tracectl__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help init commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__listen_commands] )) ||
_tracectl__subcmd__help__subcmd__listen_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help listen commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__man_commands] )) ||
_tracectl__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help man commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__send-test_commands] )) ||
_tracectl__subcmd__help__subcmd__send-test_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help send-test commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__show_commands] )) ||
_tracectl__subcmd__help__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help show commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__help__subcmd__version_commands] )) ||
_tracectl__subcmd__help__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl help version commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__init_commands] )) ||
_tracectl__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl init commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__listen_commands] )) ||
_tracectl__subcmd__listen_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl listen commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__man_commands] )) ||
_tracectl__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl man commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__send-test_commands] )) ||
_tracectl__subcmd__send-test_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl send-test commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__show_commands] )) ||
_tracectl__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl show commands' commands "$@"
}
(( $+functions[_tracectl__subcmd__version_commands] )) ||
_tracectl__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'tracectl version commands' commands "$@"
}

if [ "$funcstack[1]" = "_tracectl" ]; then
    _tracectl "$@"
else
    compdef _tracectl tracectl
fi
