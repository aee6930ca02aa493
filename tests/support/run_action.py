"""Run a composite action's shell steps the way a GitHub runner does, for tests.

    run_action.py ACTION_YML [--input NAME=VALUE]...

What a runner does and this does too: inputs default from action.yml; `${{ ... }}` in `env:`,
`if:` and `run:` evaluated before the step starts; each `run:` written to a file and started as
`bash --noprofile --norc -eo pipefail FILE` in GITHUB_WORKSPACE; a fresh GITHUB_OUTPUT file per
step, read back as `steps.ID.outputs`; lines appended to GITHUB_PATH put in front of PATH for the
steps after; the first failing step ends the job with its exit code. `uses:` steps (the cache)
cannot run here: they are reported on stderr and skipped. Only the expressions action.yml uses
are understood; anything else stops the run (exit 97) so that no step is skipped by accident.
"""

import os
import re
import subprocess
import sys
import tempfile

import yaml

UNSUPPORTED = 97


def die(message):
    print(f"run_action: {message}", file=sys.stderr)
    sys.exit(UNSUPPORTED)


class Context:
    def __init__(self, inputs):
        self.inputs = inputs
        self.steps = {}

    def value(self, name):
        name = name.strip()
        env = os.environ
        simple = {
            "github.action_path": env.get("GITHUB_ACTION_PATH", ""),
            "github.action_ref": env.get("GITHUB_ACTION_REF", ""),
            "github.workspace": env.get("GITHUB_WORKSPACE", ""),
            "runner.temp": env.get("RUNNER_TEMP", ""),
            "runner.os": env.get("RUNNER_OS", ""),
            "runner.arch": env.get("RUNNER_ARCH", ""),
        }
        if name in simple:
            return simple[name]
        m = re.fullmatch(r"inputs\.([A-Za-z0-9_-]+)", name)
        if m:
            if m.group(1) not in self.inputs:
                die(f"unknown input {m.group(1)}")
            return self.inputs[m.group(1)]
        m = re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", name)
        if m:
            return self.steps.get(m.group(1), {}).get(m.group(2), "")
        m = re.fullmatch(r"'([^']*)'", name)
        if m:
            return m.group(1)
        die(f"unsupported expression: {name}")

    def expression(self, text):
        """`a == 'b'`, `a != 'b'`, `a || b`, or a plain value."""
        text = text.strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2].strip()
        if "||" in text:
            for part in text.split("||"):
                v = self.expression(part)
                if v:
                    return v
            return ""
        for op in ("==", "!="):
            if op in text:
                left, right = text.split(op, 1)
                same = self.value(left) == self.value(right)
                return same if op == "==" else not same
        return self.value(text)

    def substitute(self, text):
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(self.expression(m.group(1))), str(text))


def read_outputs(path):
    outputs = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, marker = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != marker:
                body.append(lines[i])
                i += 1
            outputs[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        i += 1
    return outputs


def main():
    args = sys.argv[1:]
    if not args:
        die("usage: run_action.py ACTION_YML [--input NAME=VALUE]...")
    with open(args[0], encoding="utf-8") as f:
        action = yaml.safe_load(f)
    given = {}
    rest = args[1:]
    while rest:
        if rest[0] != "--input" or len(rest) < 2 or "=" not in rest[1]:
            die(f"bad argument {rest[0]}")
        name, value = rest[1].split("=", 1)
        if name not in action.get("inputs", {}):
            die(f"action.yml has no input {name}")
        given[name] = value
        rest = rest[2:]
    inputs = {k: str(v.get("default", "")) for k, v in action.get("inputs", {}).items()}
    inputs.update(given)
    ctx = Context(inputs)
    if action["runs"]["using"] != "composite":
        die("not a composite action")

    scratch = tempfile.mkdtemp(prefix="run-action-")
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    for n, step in enumerate(action["runs"]["steps"]):
        label = step.get("name", f"step {n}")
        if "if" in step and not ctx.expression(step["if"]):
            continue
        if "uses" in step:
            print(f"run_action: skipped `{label}` (uses: {step['uses']})", file=sys.stderr)
            continue
        if step.get("shell") != "bash":
            die(f"`{label}`: only shell: bash steps can run here")
        env = dict(os.environ)
        for k, v in (step.get("env") or {}).items():
            env[k] = ctx.substitute(v)
        output = os.path.join(scratch, f"output-{n}")
        open(output, "w").close()
        env["GITHUB_OUTPUT"] = output
        script = os.path.join(scratch, f"step-{n}.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write(ctx.substitute(step["run"]))
        cwd = os.path.join(workspace, ctx.substitute(step.get("working-directory", ".")))
        status = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], env=env, cwd=cwd)
        if "id" in step:
            ctx.steps[step["id"]] = read_outputs(output)
            for name, value in ctx.steps[step["id"]].items():
                print(f"run_action: steps.{step['id']}.outputs.{name}={value}", file=sys.stderr)
        path_file = os.environ.get("GITHUB_PATH")
        if path_file and os.path.exists(path_file):
            with open(path_file, encoding="utf-8") as f:
                added = [line for line in f.read().splitlines() if line]
            os.environ["PATH"] = os.pathsep.join(list(reversed(added)) + [os.environ.get("PATH", "")])
            open(path_file, "w").close()
        if status != 0:
            print(f"run_action: `{label}` exited {status}", file=sys.stderr)
            sys.exit(status)
    for name, spec in (action.get("outputs") or {}).items():
        print(f"run_action: output {name}={ctx.substitute(spec.get('value', ''))}", file=sys.stderr)


if __name__ == "__main__":
    main()
