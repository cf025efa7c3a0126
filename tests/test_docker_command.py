"""docker/: the image's command and healthcheck, run for real (there is no Docker engine here).

The test reads docker/Dockerfile (instructions, ENV, the exec-form CMD and HEALTHCHECK) and
docker/compose.yaml (with PyYAML if it is installed, else with the small line parser below,
which understands the subset of YAML the file uses), then runs *exactly* the argv the image
would run, with the image's environment, against a real daemon process:

* the CMD, which makes CURVE keys and starts ``adserver --listen tcp://0.0.0.0:5757`` with
  CURVE and token authentication;
* the HEALTHCHECK (``adserver ping``), until it passes;
* the Lua client of compose.yaml (``adlua ... examples/lua/03_tensor.lua``), which must
  print the seed's expected output through the encrypted, authenticated connection.

Binding 0.0.0.0 here would expose the daemon on this machine's network, and every suite
runs on loopback only; so the three run inside a private network namespace (``unshare
-n``: a namespace of their own whose only interface is its own loopback), where the image's
address is used unchanged.  Where ``unshare`` is not allowed (not root), the same argv runs
with ``tcp://0.0.0.0:5757`` replaced by a free loopback port, and the test says so.

Two things differ from a container, both spelled out: the key directory (the image's
/var/lib/adserver/keys) is a temporary directory, through the image's own variables
(ADSERVER_KEYS, ADSERVER_CURVE_SERVER_KEY, ADSERVER_TOKEN_FILE), as ``docker run -e`` would
set them; and the client reaches the daemon at 127.0.0.1 where compose's DNS would give it
the ``adserver`` service.
"""
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest

from seedcheck import matches

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = os.path.join(ROOT, "docker", "Dockerfile")
COMPOSE = os.path.join(ROOT, "docker", "compose.yaml")
PORT = 5757


# --- the Dockerfile --------------------------------------------------------------------------
def read_dockerfile(path=DOCKERFILE):
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped, as
    Docker reads them (a comment line inside a continuation is dropped too)."""
    instructions, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.strip().startswith("#"):
                continue
            if line.rstrip().endswith("\\"):
                current += line.rstrip()[:-1] + " "
                continue
            current += line
            if current.strip():
                keyword, _, rest = current.strip().partition(" ")
                instructions.append((keyword.upper(), rest.strip()))
            current = ""
    if current.strip():
        keyword, _, rest = current.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def exec_form(text):
    """The JSON array of an exec-form CMD (shell form is not used: no shell in between)."""
    argv = json.loads(text)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), text
    return argv


def image(instructions=None):
    """What the image runs: its ENV, user, ports, CMD and HEALTHCHECK."""
    instructions = instructions or read_dockerfile()
    env = {}
    out = {"env": env, "expose": [], "runs": []}
    for keyword, rest in instructions:
        if keyword == "FROM":
            out["from"] = rest.split()[0]
        elif keyword == "ENV":
            words = shlex.split(rest)
            if words and "=" not in words[0]:          # legacy "ENV key value"
                env[words[0]] = " ".join(words[1:])
            for word in words:
                key, _, value = word.partition("=")
                env[key] = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)
        elif keyword == "USER":
            out["user"] = rest
        elif keyword == "EXPOSE":
            out["expose"] += [int(p.split("/")[0]) for p in rest.split()]
        elif keyword == "WORKDIR":
            out["workdir"] = rest
        elif keyword == "RUN":
            out["runs"].append(rest)
        elif keyword == "CMD":
            out["cmd"] = exec_form(rest)
        elif keyword == "ENTRYPOINT":
            out["entrypoint"] = exec_form(rest)
        elif keyword == "HEALTHCHECK":
            options, _, command = rest.partition("CMD ")
            out["healthcheck_options"] = options.split()
            out["healthcheck"] = exec_form(command)
    return out


# --- compose.yaml --------------------------------------------------------------------------------
def parse_yaml_subset(text):
    """The YAML that docker/compose.yaml uses: block mappings and sequences by indentation,
    plain or quoted scalars, flow sequences written as JSON, full-line comments."""
    lines = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        lines.append((len(raw) - len(raw.lstrip(" ")), raw.strip()))

    def scalar(s):
        s = s.strip()
        if s.startswith("["):
            return json.loads(s)
        if s[:1] in "\"'" and s[-1:] == s[:1]:
            return json.loads(s) if s[0] == '"' else s[1:-1]
        if re.fullmatch(r"-?\d+", s):
            return int(s)
        return {"true": True, "false": False, "null": None}.get(s, s)

    def block(i, indent):
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping = {}
        while i < len(lines) and lines[i][0] == indent:
            key, _, value = lines[i][1].partition(":")
            i += 1
            if value.strip():
                mapping[key.strip()] = scalar(value)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key.strip()], i = block(i, lines[i][0])
            else:
                mapping[key.strip()] = None
        return mapping, i

    result, i = block(0, lines[0][0])
    assert i == len(lines), f"unparsed line: {lines[i]}"
    return result


def read_compose(path=COMPOSE):
    with open(path) as f:
        text = f.read()
    try:
        import yaml
    except ImportError:
        return parse_yaml_subset(text), "line parser"
    return yaml.safe_load(text), "PyYAML"


# --- the static checks ---------------------------------------------------------------------------
def test_dockerfile_builds_the_image_the_issue_asks_for():
    img = image()
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", img["from"]), img["from"]
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", run) for run in img["runs"]), \
        "the project is installed with pip"
    assert img.get("user") and img["user"].split(":")[0] not in ("root", "0"), img.get("user")
    assert PORT in img["expose"]
    hc = img["healthcheck"]
    assert hc[:2] == ["adserver", "ping"], hc
    assert any(o.startswith("--timeout=") for o in img["healthcheck_options"])
    command = " ".join(img.get("entrypoint", []) + img["cmd"])
    # 0.0.0.0 is refused without CURVE and the token: the command must turn both on.
    assert f"tcp://0.0.0.0:{PORT}" in command
    assert "--curve-secret-key" in command and "--auth token" in command


def test_compose_runs_the_daemon_and_a_lua_client_that_joins_it_by_address():
    compose, how = read_compose()
    services = compose["services"]
    daemon, client = services["adserver"], services["lua-example"]
    assert daemon["build"]["dockerfile"] == "docker/Dockerfile"
    assert all(str(p).startswith("127.0.0.1:") for p in daemon["ports"]), \
        "publish the port on the host's loopback only"
    env = client["environment"]
    env = dict(e.split("=", 1) for e in env) if isinstance(env, list) else env
    assert env["ADSERVER_ADDRESS"] == f"tcp://adserver:{PORT}"
    assert client["command"][0] == "adlua" and client["command"][-1] == \
        "examples/lua/03_tensor.lua"
    assert client["depends_on"]["adserver"]["condition"] == "service_healthy"
    # Both mount the key volume where the image's environment points; the client read-only.
    keys = image()["env"]["ADSERVER_KEYS"]
    assert f"keys:{keys}" in daemon["volumes"] and f"keys:{keys}:ro" in client["volumes"]
    assert "keys" in compose["volumes"]


def test_the_line_parser_reads_compose_as_yaml_does():
    yaml = pytest.importorskip("yaml")
    with open(COMPOSE) as f:
        text = f.read()
    assert parse_yaml_subset(text) == yaml.safe_load(text)


# --- the real run ----------------------------------------------------------------------------------
DRIVER = textwrap.dedent("""
    import json, os, signal, subprocess, sys, time
    cfg = json.load(open(sys.argv[1]))
    out = {}
    if cfg["netns"]:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    log = open(cfg["log"], "w")
    daemon = subprocess.Popen(cfg["cmd"], cwd=cfg["cwd"], env=cfg["env"], stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 90:
        r = subprocess.run(cfg["healthcheck"], env=cfg["env"], capture_output=True, text=True,
                           timeout=60)
        if r.returncode == 0:
            out["healthy_after_s"] = round(time.monotonic() - t0, 2)
            out["healthcheck_stdout"] = r.stdout.strip()
            break
        if daemon.poll() is not None:
            break
        time.sleep(0.5)
    out["keys"] = sorted(os.listdir(cfg["env"]["ADSERVER_KEYS"]))
    if "healthy_after_s" in out:
        c = subprocess.run(cfg["client"], cwd=cfg["cwd"], env=cfg["client_env"],
                           capture_output=True, text=True, timeout=180)
        out.update(client_rc=c.returncode, client_stdout=c.stdout, client_stderr=c.stderr[-3000:])
    out["daemon_running"] = daemon.poll() is None
    daemon.send_signal(signal.SIGTERM)
    try:
        out["daemon_rc"] = daemon.wait(30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        out["daemon_rc"] = "killed"
    log.close()
    out["daemon_log"] = open(cfg["log"]).read()[-3000:]
    print(json.dumps(out))
""")


def _can_unshare():
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_image_command_serves_and_answers_its_healthcheck(tmp_path):
    img = image()
    compose, _ = read_compose()
    client_service = compose["services"]["lua-example"]
    # The image's environment, with its key directory moved here (as docker run -e would).
    image_keys = img["env"]["ADSERVER_KEYS"]
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADSERVER_")}
    env.update({k: v.replace(image_keys, str(keys)) for k, v in img["env"].items()})
    env["HOME"] = str(tmp_path)
    cmd = img.get("entrypoint", []) + img["cmd"]
    healthcheck = list(img["healthcheck"])
    client_env = dict(env)
    compose_env = client_service["environment"]
    client_env.update(compose_env)
    client_env["ADSERVER_ADDRESS"] = compose_env["ADSERVER_ADDRESS"].replace(
        "adserver", "127.0.0.1")                    # compose's DNS name for the daemon
    netns = _can_unshare()
    if not netns:
        port = _free_port()
        cmd = [a.replace(f"tcp://0.0.0.0:{PORT}", f"tcp://127.0.0.1:{port}") for a in cmd]
        healthcheck = [a.replace(f":{PORT}", f":{port}") for a in healthcheck]
        client_env["ADSERVER_ADDRESS"] = client_env["ADSERVER_ADDRESS"].replace(
            f":{PORT}", f":{port}")
    cfg = {"netns": netns, "cmd": cmd, "healthcheck": healthcheck, "env": env,
           "client": client_service["command"], "client_env": client_env, "cwd": ROOT,
           "log": str(tmp_path / "daemon.log")}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    (tmp_path / "driver.py").write_text(DRIVER)
    launcher = ["unshare", "-n"] if netns else []
    r = subprocess.run([*launcher, sys.executable, str(tmp_path / "driver.py"),
                        str(tmp_path / "cfg.json")], capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"\n{'private network namespace' if netns else 'loopback port (no unshare)'}: "
          f"healthy after {out.get('healthy_after_s')} s: {out.get('healthcheck_stdout')}")
    assert "healthy_after_s" in out, f"the healthcheck never passed:\n{out['daemon_log']}"
    assert {"server.key", "server.key_secret"} <= set(out["keys"]), out["keys"]
    assert "token" in out["keys"], out["keys"]
    assert out["daemon_running"], out["daemon_log"]
    assert out["client_rc"] == 0, out["client_stderr"]
    with open(os.path.join(ROOT, "examples", "lua", "03_tensor.expected")) as f:
        ok, why = matches(f.read(), out["client_stdout"])
    assert ok, why
    assert out["daemon_rc"] == 0, out["daemon_log"]       # SIGTERM stops it cleanly
