# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tracectl_global_optspecs
    string join \n color= format= q/quiet v/verbose C/dir= h/help V/version
end

function __fish_tracectl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tracectl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tracectl_using_subcommand
    set -l cmd (__fish_tracectl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tracectl -n "__fish_tracectl_needs_command" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_needs_command" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_needs_command" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_needs_command" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_needs_command" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_needs_command" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "init" -d 'Write the env and compose configuration for Honeycomb and X-Ray'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "send-test" -d 'Send a realistic synthetic trace to every configured destination and prove it arrived'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "doctor" -d 'Check keys, credentials, regions, endpoints, clocks and the project\'s configuration'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "listen" -d 'Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "show" -d 'Show traces saved by `listen --save` or the OpenTelemetry Collector\'s file exporter'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "version" -d 'Print the version, git commit, build date and target, for bug reports'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "man" -d 'Write the man pages (tracectl.1 and one per command) into DIR'
complete -c tracectl -n "__fish_tracectl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l compose-file -d 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l service -d 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l env-file -d 'Env file that holds the secrets [default: .env beside the compose file]' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l honeycomb-api-key -d 'Honeycomb API key (ingest or configuration key)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l dataset -d 'Honeycomb dataset, required by classic keys' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l honeycomb-region -d 'Honeycomb region [default: from the key, else us]' -r -f -a "us\t'api.honeycomb.io'
eu\t'api.eu1.honeycomb.io'"
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l service-name -d 'Service name shown in Honeycomb [default: the compose service\'s name]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l aws-region -d 'AWS region for X-Ray [default: AWS_DEFAULT_REGION or the AWS profile\'s region]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l xray-url -d 'X-Ray dynamic naming pattern (AWS_XRAY_URL) [default: the recipe\'s Gitpod pattern on Gitpod, else *]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l xray-via -d 'How traces reach X-Ray [default: the daemon when the project already runs one, else collector]' -r -f -a "collector\t'An OpenTelemetry collector (rotel) that sends OTLP to X-Ray, signed with SigV4'
daemon\t'The X-Ray SDK and daemon (AWS support ends 2027-02-25)'"
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l instrument -d 'How the app is instrumented: wrap its start command (zero-code), edit app.py (code), or neither (none) [default: zero-code]' -r -f -a "zero-code\t'Wrap the backend\'s start command with opentelemetry-instrument; app.py is not edited'
code\t'Add the instrumentation to app.py'
none\t'Leave the app and its start command alone; init prints the lines to add'"
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l honeycomb -d 'Send traces to Honeycomb over OTLP/HTTP'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l no-honeycomb -d 'Do not configure Honeycomb'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l xray -d 'Add the AWS X-Ray SDK settings and an X-Ray daemon service'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l no-xray -d 'Do not configure X-Ray'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l migrate -d 'Move an X-Ray daemon setup to an OpenTelemetry collector (edits compose only)'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l sampling-rule -d 'Also write the X-Ray sampling rule to aws/json/xray.json'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l force -d 'Replace existing values that differ instead of keeping them'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -l dry-run -d 'Print the changes as a diff and write nothing'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -s y -l yes -d 'Never prompt; take every answer from flags, the environment and the env file'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand init" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l to -d 'Where to send (repeatable) [default: every configured destination, else local]' -r -f -a "honeycomb\t'Honeycomb over OTLP/HTTP'
otlp\t'Any OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_* or --endpoint)'
xray\t'The X-Ray API (PutTraceSegments)'
xray-daemon\t'An X-Ray daemon over UDP (AWS_XRAY_DAEMON_ADDRESS)'
xray-otlp\t'X-Ray\'s OTLP endpoint, signed with SigV4'
local\t'A receiver started in-process on a free loopback port: proves the whole pipe, no account'
collector\t'The project\'s collector over OTLP/HTTP (the port its service publishes, or --endpoint); --wait looks in X-Ray and Honeycomb, where it forwards'"
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l honeycomb-api-key -d 'Honeycomb API key (ingest or configuration key)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l dataset -d 'Honeycomb dataset, required by classic keys' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l endpoint -d 'OTLP endpoint: a base URL (/v1/traces is appended) or the full traces URL' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l header -d 'Extra OTLP header (repeatable)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l protocol -d 'OTLP encoding [default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf]' -r -f -a "http/protobuf\t''
http/json\t''
grpc\t'OTLP/gRPC: TraceService/Export on HTTP/2; the endpoint is used as it is, no path added'"
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l compression -d 'OTLP compression [default: OTEL_EXPORTER_OTLP_COMPRESSION, else none]' -r -f -a "gzip\t''
none\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l timeout -d 'Time allowed per destination, retries included (e.g. 10s, 500ms) [default: 10s]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l service-name -d 'Service name of the test trace [default: OTEL_SERVICE_NAME, HONEYCOMB_SERVICE_NAME, or the project\'s]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l span-name -d 'Name of the root span [default: GET /api/activities/home]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l attribute -d 'Extra attribute on the root span (repeatable)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l aws-region -d 'AWS region for X-Ray [default: AWS_REGION, AWS_DEFAULT_REGION, the profile\'s, or the project\'s .env]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l wait -d 'Wait up to SECONDS (at most 3600) for proof that the trace arrived' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l compose-file -d 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l service -d 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l env-file -d 'Env file that holds the secrets [default: .env beside the compose file]' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l count -d 'Load mode: send N traces of 3 spans each and report throughput and latency (otlp, local)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l concurrency -d 'Load mode: requests in flight at once' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l from -d 'Replay the spans saved in FILE (OTLP/JSON lines: listen --save, the Collector\'s file exporter) instead of the test trace, with new ids and times (otlp, honeycomb, local, collector)' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand send-test" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l check -d 'Run only this check (repeatable; see --list)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l skip -d 'Do not run this check (repeatable)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l timeout -d 'Time allowed for each network check (e.g. 5s, 500ms)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l honeycomb-api-key -d 'Honeycomb API key (ingest or configuration key)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l dataset -d 'Honeycomb dataset, required by classic keys' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l aws-region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the project\'s .env, the AWS profile\'s]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l compose-file -d 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l service -d 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l env-file -d 'Env file that holds the secrets [default: .env beside the compose file]' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l list -d 'List the checks and exit'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l offline -d 'Skip every check that needs the network'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l strict -d 'Treat warnings as failures'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l require-daemon -d 'Fail, not warn, when the project is set up for the X-Ray daemon and it does not answer'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -l require-compose -d 'Fail, not skip, when the folder holds no compose file (unless only checks that read none were asked for with --check); the GitHub Action passes it'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l otlp-http -d 'Address of the OTLP/HTTP receiver' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l otlp-grpc -d 'Address of the OTLP/gRPC receiver' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l xray-udp -d 'Address of the X-Ray daemon-compatible UDP receiver' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l max-body -d 'Largest OTLP request body accepted, compressed or not (e.g. 4MiB, 512KiB)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l flush-after -d 'Show a trace once no span of it arrived for this long' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l exit-after-spans -d 'Exit once this many spans have arrived' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l exit-after -d 'Exit after this long (e.g. 30, 30s, 2m)' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l view -d 'How traces are drawn [default: waterfall when stdout is a terminal, else tree]' -r -f -a "tree\t'An indented tree with kinds and key attributes'
waterfall\t'One line per span with a bar on the trace\'s time axis'"
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l width -d 'Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal\'s width, else 80]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l save -d 'Append every received request to FILE as OTLP/JSON lines (the Collector file exporter\'s layout)' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l no-otlp -d 'Do not receive OTLP (neither HTTP nor gRPC)'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l no-otlp-grpc -d 'Do not receive OTLP/gRPC (OTLP/HTTP stays on)'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l no-xray -d 'Do not receive X-Ray segments'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l check -d 'Report instrumentation problems after each trace, not only when listen stops'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -l strict -d 'With --check: exit 1 when any problem was found (for CI)'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand listen" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -l view -d 'How traces are drawn [default: waterfall when stdout is a terminal, else tree]' -r -f -a "tree\t'An indented tree with kinds and key attributes'
waterfall\t'One line per span with a bar on the trace\'s time axis'"
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -l width -d 'Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal\'s width, else 80]' -r
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand show" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand completions" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand completions" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand completions" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand completions" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand completions" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand version" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand version" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand version" -s C -l dir -d 'Run as if started in DIR' -r -F
complete -c tracectl -n "__fish_tracectl_using_subcommand version" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand version" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand version" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand man" -l color -d 'When to use colours' -r -f -a "auto\t'Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)'
always\t''
never\t''"
complete -c tracectl -n "__fish_tracectl_using_subcommand man" -l format -d 'Output format' -r -f -a "human\t'Readable text, coloured on a terminal'
json\t'One stable JSON object on stdout (JSON lines for `listen`)'
github\t'GitHub Actions annotations (doctor); other commands print human output'
sarif\t'SARIF 2.1.0 for code scanning (doctor); other commands print human output'"
complete -c tracectl -n "__fish_tracectl_using_subcommand man" -s q -l quiet -d 'Print only errors and the result'
complete -c tracectl -n "__fish_tracectl_using_subcommand man" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c tracectl -n "__fish_tracectl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tracectl -n "__fish_tracectl_using_subcommand man" -s V -l version -d 'Print version'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "init" -d 'Write the env and compose configuration for Honeycomb and X-Ray'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "send-test" -d 'Send a realistic synthetic trace to every configured destination and prove it arrived'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "doctor" -d 'Check keys, credentials, regions, endpoints, clocks and the project\'s configuration'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "listen" -d 'Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "show" -d 'Show traces saved by `listen --save` or the OpenTelemetry Collector\'s file exporter'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "completions" -d 'Print a shell completion script'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "version" -d 'Print the version, git commit, build date and target, for bug reports'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "man" -d 'Write the man pages (tracectl.1 and one per command) into DIR'
complete -c tracectl -n "__fish_tracectl_using_subcommand help; and not __fish_seen_subcommand_from init send-test doctor listen show completions version man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
