
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tracectl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tracectl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tracectl' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write the env and compose configuration for Honeycomb and X-Ray')
            [CompletionResult]::new('send-test', 'send-test', [CompletionResultType]::ParameterValue, 'Send a realistic synthetic trace to every configured destination and prove it arrived')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check keys, credentials, regions, endpoints, clocks and the project''s configuration')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show traces saved by `listen --save` or the OpenTelemetry Collector''s file exporter')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version, git commit, build date and target, for bug reports')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages (tracectl.1 and one per command) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tracectl;init' {
            [CompletionResult]::new('--compose-file', '--compose-file', [CompletionResultType]::ParameterName, 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Env file that holds the secrets [default: .env beside the compose file]')
            [CompletionResult]::new('--honeycomb-api-key', '--honeycomb-api-key', [CompletionResultType]::ParameterName, 'Honeycomb API key (ingest or configuration key)')
            [CompletionResult]::new('--dataset', '--dataset', [CompletionResultType]::ParameterName, 'Honeycomb dataset, required by classic keys')
            [CompletionResult]::new('--honeycomb-region', '--honeycomb-region', [CompletionResultType]::ParameterName, 'Honeycomb region [default: from the key, else us]')
            [CompletionResult]::new('--service-name', '--service-name', [CompletionResultType]::ParameterName, 'Service name shown in Honeycomb [default: the compose service''s name]')
            [CompletionResult]::new('--aws-region', '--aws-region', [CompletionResultType]::ParameterName, 'AWS region for X-Ray [default: AWS_DEFAULT_REGION or the AWS profile''s region]')
            [CompletionResult]::new('--xray-url', '--xray-url', [CompletionResultType]::ParameterName, 'X-Ray dynamic naming pattern (AWS_XRAY_URL) [default: the recipe''s Gitpod pattern on Gitpod, else *]')
            [CompletionResult]::new('--xray-via', '--xray-via', [CompletionResultType]::ParameterName, 'How traces reach X-Ray [default: the daemon when the project already runs one, else collector]')
            [CompletionResult]::new('--instrument', '--instrument', [CompletionResultType]::ParameterName, 'How the app is instrumented: wrap its start command (zero-code), edit app.py (code), or neither (none) [default: zero-code]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--honeycomb', '--honeycomb', [CompletionResultType]::ParameterName, 'Send traces to Honeycomb over OTLP/HTTP')
            [CompletionResult]::new('--no-honeycomb', '--no-honeycomb', [CompletionResultType]::ParameterName, 'Do not configure Honeycomb')
            [CompletionResult]::new('--xray', '--xray', [CompletionResultType]::ParameterName, 'Add the AWS X-Ray SDK settings and an X-Ray daemon service')
            [CompletionResult]::new('--no-xray', '--no-xray', [CompletionResultType]::ParameterName, 'Do not configure X-Ray')
            [CompletionResult]::new('--migrate', '--migrate', [CompletionResultType]::ParameterName, 'Move an X-Ray daemon setup to an OpenTelemetry collector (edits compose only)')
            [CompletionResult]::new('--sampling-rule', '--sampling-rule', [CompletionResultType]::ParameterName, 'Also write the X-Ray sampling rule to aws/json/xray.json')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace existing values that differ instead of keeping them')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the changes as a diff and write nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; take every answer from flags, the environment and the env file')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; take every answer from flags, the environment and the env file')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;send-test' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where to send (repeatable) [default: every configured destination, else local]')
            [CompletionResult]::new('--honeycomb-api-key', '--honeycomb-api-key', [CompletionResultType]::ParameterName, 'Honeycomb API key (ingest or configuration key)')
            [CompletionResult]::new('--dataset', '--dataset', [CompletionResultType]::ParameterName, 'Honeycomb dataset, required by classic keys')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'OTLP endpoint: a base URL (/v1/traces is appended) or the full traces URL')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra OTLP header (repeatable)')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'OTLP encoding [default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf]')
            [CompletionResult]::new('--compression', '--compression', [CompletionResultType]::ParameterName, 'OTLP compression [default: OTEL_EXPORTER_OTLP_COMPRESSION, else none]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Time allowed per destination, retries included (e.g. 10s, 500ms) [default: 10s]')
            [CompletionResult]::new('--service-name', '--service-name', [CompletionResultType]::ParameterName, 'Service name of the test trace [default: OTEL_SERVICE_NAME, HONEYCOMB_SERVICE_NAME, or the project''s]')
            [CompletionResult]::new('--span-name', '--span-name', [CompletionResultType]::ParameterName, 'Name of the root span [default: GET /api/activities/home]')
            [CompletionResult]::new('--attribute', '--attribute', [CompletionResultType]::ParameterName, 'Extra attribute on the root span (repeatable)')
            [CompletionResult]::new('--aws-region', '--aws-region', [CompletionResultType]::ParameterName, 'AWS region for X-Ray [default: AWS_REGION, AWS_DEFAULT_REGION, the profile''s, or the project''s .env]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait up to SECONDS (at most 3600) for proof that the trace arrived')
            [CompletionResult]::new('--compose-file', '--compose-file', [CompletionResultType]::ParameterName, 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Env file that holds the secrets [default: .env beside the compose file]')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Load mode: send N traces of 3 spans each and report throughput and latency (otlp, local)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Load mode: requests in flight at once')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Replay the spans saved in FILE (OTLP/JSON lines: listen --save, the Collector''s file exporter) instead of the test trace, with new ids and times (otlp, honeycomb, local, collector)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;doctor' {
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Run only this check (repeatable; see --list)')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Do not run this check (repeatable)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Time allowed for each network check (e.g. 5s, 500ms)')
            [CompletionResult]::new('--honeycomb-api-key', '--honeycomb-api-key', [CompletionResultType]::ParameterName, 'Honeycomb API key (ingest or configuration key)')
            [CompletionResult]::new('--dataset', '--dataset', [CompletionResultType]::ParameterName, 'Honeycomb dataset, required by classic keys')
            [CompletionResult]::new('--aws-region', '--aws-region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the project''s .env, the AWS profile''s]')
            [CompletionResult]::new('--compose-file', '--compose-file', [CompletionResultType]::ParameterName, 'Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Compose service that runs the backend [default: the one whose build folder holds a Flask app]')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Env file that holds the secrets [default: .env beside the compose file]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the checks and exit')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Skip every check that needs the network')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat warnings as failures')
            [CompletionResult]::new('--require-daemon', '--require-daemon', [CompletionResultType]::ParameterName, 'Fail, not warn, when the project is set up for the X-Ray daemon and it does not answer')
            [CompletionResult]::new('--require-compose', '--require-compose', [CompletionResultType]::ParameterName, 'Fail, not skip, when the folder holds no compose file (unless only checks that read none were asked for with --check); the GitHub Action passes it')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;listen' {
            [CompletionResult]::new('--otlp-http', '--otlp-http', [CompletionResultType]::ParameterName, 'Address of the OTLP/HTTP receiver')
            [CompletionResult]::new('--otlp-grpc', '--otlp-grpc', [CompletionResultType]::ParameterName, 'Address of the OTLP/gRPC receiver')
            [CompletionResult]::new('--xray-udp', '--xray-udp', [CompletionResultType]::ParameterName, 'Address of the X-Ray daemon-compatible UDP receiver')
            [CompletionResult]::new('--max-body', '--max-body', [CompletionResultType]::ParameterName, 'Largest OTLP request body accepted, compressed or not (e.g. 4MiB, 512KiB)')
            [CompletionResult]::new('--flush-after', '--flush-after', [CompletionResultType]::ParameterName, 'Show a trace once no span of it arrived for this long')
            [CompletionResult]::new('--exit-after-spans', '--exit-after-spans', [CompletionResultType]::ParameterName, 'Exit once this many spans have arrived')
            [CompletionResult]::new('--exit-after', '--exit-after', [CompletionResultType]::ParameterName, 'Exit after this long (e.g. 30, 30s, 2m)')
            [CompletionResult]::new('--view', '--view', [CompletionResultType]::ParameterName, 'How traces are drawn [default: waterfall when stdout is a terminal, else tree]')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal''s width, else 80]')
            [CompletionResult]::new('--save', '--save', [CompletionResultType]::ParameterName, 'Append every received request to FILE as OTLP/JSON lines (the Collector file exporter''s layout)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--no-otlp', '--no-otlp', [CompletionResultType]::ParameterName, 'Do not receive OTLP (neither HTTP nor gRPC)')
            [CompletionResult]::new('--no-otlp-grpc', '--no-otlp-grpc', [CompletionResultType]::ParameterName, 'Do not receive OTLP/gRPC (OTLP/HTTP stays on)')
            [CompletionResult]::new('--no-xray', '--no-xray', [CompletionResultType]::ParameterName, 'Do not receive X-Ray segments')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Report instrumentation problems after each trace, not only when listen stops')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'With --check: exit 1 when any problem was found (for CI)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;show' {
            [CompletionResult]::new('--view', '--view', [CompletionResultType]::ParameterName, 'How traces are drawn [default: waterfall when stdout is a terminal, else tree]')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal''s width, else 80]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;version' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;man' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the result')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tracectl;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write the env and compose configuration for Honeycomb and X-Ray')
            [CompletionResult]::new('send-test', 'send-test', [CompletionResultType]::ParameterValue, 'Send a realistic synthetic trace to every configured destination and prove it arrived')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check keys, credentials, regions, endpoints, clocks and the project''s configuration')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show traces saved by `listen --save` or the OpenTelemetry Collector''s file exporter')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version, git commit, build date and target, for bug reports')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages (tracectl.1 and one per command) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tracectl;help;init' {
            break
        }
        'tracectl;help;send-test' {
            break
        }
        'tracectl;help;doctor' {
            break
        }
        'tracectl;help;listen' {
            break
        }
        'tracectl;help;show' {
            break
        }
        'tracectl;help;completions' {
            break
        }
        'tracectl;help;version' {
            break
        }
        'tracectl;help;man' {
            break
        }
        'tracectl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
