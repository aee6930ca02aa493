
use builtin;
use str;

set edit:completion:arg-completer[tracectl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tracectl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tracectl'= {
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Write the env and compose configuration for Honeycomb and X-Ray'
            cand send-test 'Send a realistic synthetic trace to every configured destination and prove it arrived'
            cand doctor 'Check keys, credentials, regions, endpoints, clocks and the project''s configuration'
            cand listen 'Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed'
            cand show 'Show traces saved by `listen --save` or the OpenTelemetry Collector''s file exporter'
            cand completions 'Print a shell completion script'
            cand version 'Print the version, git commit, build date and target, for bug reports'
            cand man 'Write the man pages (tracectl.1 and one per command) into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tracectl;init'= {
            cand --compose-file 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]'
            cand --service 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]'
            cand --env-file 'Env file that holds the secrets [default: .env beside the compose file]'
            cand --honeycomb-api-key 'Honeycomb API key (ingest or configuration key)'
            cand --dataset 'Honeycomb dataset, required by classic keys'
            cand --honeycomb-region 'Honeycomb region [default: from the key, else us]'
            cand --service-name 'Service name shown in Honeycomb [default: the compose service''s name]'
            cand --aws-region 'AWS region for X-Ray [default: AWS_DEFAULT_REGION or the AWS profile''s region]'
            cand --xray-url 'X-Ray dynamic naming pattern (AWS_XRAY_URL) [default: the recipe''s Gitpod pattern on Gitpod, else *]'
            cand --xray-via 'How traces reach X-Ray [default: the daemon when the project already runs one, else collector]'
            cand --instrument 'How the app is instrumented: wrap its start command (zero-code), edit app.py (code), or neither (none) [default: zero-code]'
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand --honeycomb 'Send traces to Honeycomb over OTLP/HTTP'
            cand --no-honeycomb 'Do not configure Honeycomb'
            cand --xray 'Add the AWS X-Ray SDK settings and an X-Ray daemon service'
            cand --no-xray 'Do not configure X-Ray'
            cand --migrate 'Move an X-Ray daemon setup to an OpenTelemetry collector (edits compose only)'
            cand --sampling-rule 'Also write the X-Ray sampling rule to aws/json/xray.json'
            cand --force 'Replace existing values that differ instead of keeping them'
            cand --dry-run 'Print the changes as a diff and write nothing'
            cand -y 'Never prompt; take every answer from flags, the environment and the env file'
            cand --yes 'Never prompt; take every answer from flags, the environment and the env file'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;send-test'= {
            cand --to 'Where to send (repeatable) [default: every configured destination, else local]'
            cand --honeycomb-api-key 'Honeycomb API key (ingest or configuration key)'
            cand --dataset 'Honeycomb dataset, required by classic keys'
            cand --endpoint 'OTLP endpoint: a base URL (/v1/traces is appended) or the full traces URL'
            cand --header 'Extra OTLP header (repeatable)'
            cand --protocol 'OTLP encoding [default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf]'
            cand --compression 'OTLP compression [default: OTEL_EXPORTER_OTLP_COMPRESSION, else none]'
            cand --timeout 'Time allowed per destination, retries included (e.g. 10s, 500ms) [default: 10s]'
            cand --service-name 'Service name of the test trace [default: OTEL_SERVICE_NAME, HONEYCOMB_SERVICE_NAME, or the project''s]'
            cand --span-name 'Name of the root span [default: GET /api/activities/home]'
            cand --attribute 'Extra attribute on the root span (repeatable)'
            cand --aws-region 'AWS region for X-Ray [default: AWS_REGION, AWS_DEFAULT_REGION, the profile''s, or the project''s .env]'
            cand --wait 'Wait up to SECONDS (at most 3600) for proof that the trace arrived'
            cand --compose-file 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]'
            cand --service 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]'
            cand --env-file 'Env file that holds the secrets [default: .env beside the compose file]'
            cand --count 'Load mode: send N traces of 3 spans each and report throughput and latency (otlp, local)'
            cand --concurrency 'Load mode: requests in flight at once'
            cand --from 'Replay the spans saved in FILE (OTLP/JSON lines: listen --save, the Collector''s file exporter) instead of the test trace, with new ids and times (otlp, honeycomb, local, collector)'
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;doctor'= {
            cand --check 'Run only this check (repeatable; see --list)'
            cand --skip 'Do not run this check (repeatable)'
            cand --timeout 'Time allowed for each network check (e.g. 5s, 500ms)'
            cand --honeycomb-api-key 'Honeycomb API key (ingest or configuration key)'
            cand --dataset 'Honeycomb dataset, required by classic keys'
            cand --aws-region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the project''s .env, the AWS profile''s]'
            cand --compose-file 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]'
            cand --service 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]'
            cand --env-file 'Env file that holds the secrets [default: .env beside the compose file]'
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand --list 'List the checks and exit'
            cand --offline 'Skip every check that needs the network'
            cand --strict 'Treat warnings as failures'
            cand --require-daemon 'Fail, not warn, when the project is set up for the X-Ray daemon and it does not answer'
            cand --require-compose 'Fail, not skip, when the folder holds no compose file (unless only checks that read none were asked for with --check); the GitHub Action passes it'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;listen'= {
            cand --otlp-http 'Address of the OTLP/HTTP receiver'
            cand --otlp-grpc 'Address of the OTLP/gRPC receiver'
            cand --xray-udp 'Address of the X-Ray daemon-compatible UDP receiver'
            cand --max-body 'Largest OTLP request body accepted, compressed or not (e.g. 4MiB, 512KiB)'
            cand --flush-after 'Show a trace once no span of it arrived for this long'
            cand --exit-after-spans 'Exit once this many spans have arrived'
            cand --exit-after 'Exit after this long (e.g. 30, 30s, 2m)'
            cand --view 'How traces are drawn [default: waterfall when stdout is a terminal, else tree]'
            cand --width 'Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal''s width, else 80]'
            cand --save 'Append every received request to FILE as OTLP/JSON lines (the Collector file exporter''s layout)'
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand --no-otlp 'Do not receive OTLP (neither HTTP nor gRPC)'
            cand --no-otlp-grpc 'Do not receive OTLP/gRPC (OTLP/HTTP stays on)'
            cand --no-xray 'Do not receive X-Ray segments'
            cand --check 'Report instrumentation problems after each trace, not only when listen stops'
            cand --strict 'With --check: exit 1 when any problem was found (for CI)'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;show'= {
            cand --view 'How traces are drawn [default: waterfall when stdout is a terminal, else tree]'
            cand --width 'Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal''s width, else 80]'
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;completions'= {
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;version'= {
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -C 'Run as if started in DIR'
            cand --dir 'Run as if started in DIR'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;man'= {
            cand --color 'When to use colours'
            cand --format 'Output format'
            cand -q 'Print only errors and the result'
            cand --quiet 'Print only errors and the result'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tracectl;help'= {
            cand init 'Write the env and compose configuration for Honeycomb and X-Ray'
            cand send-test 'Send a realistic synthetic trace to every configured destination and prove it arrived'
            cand doctor 'Check keys, credentials, regions, endpoints, clocks and the project''s configuration'
            cand listen 'Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed'
            cand show 'Show traces saved by `listen --save` or the OpenTelemetry Collector''s file exporter'
            cand completions 'Print a shell completion script'
            cand version 'Print the version, git commit, build date and target, for bug reports'
            cand man 'Write the man pages (tracectl.1 and one per command) into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tracectl;help;init'= {
        }
        &'tracectl;help;send-test'= {
        }
        &'tracectl;help;doctor'= {
        }
        &'tracectl;help;listen'= {
        }
        &'tracectl;help;show'= {
        }
        &'tracectl;help;completions'= {
        }
        &'tracectl;help;version'= {
        }
        &'tracectl;help;man'= {
        }
        &'tracectl;help;help'= {
        }
    ]
    $completions[$command]
}
