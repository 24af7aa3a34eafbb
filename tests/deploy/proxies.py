"""Real reverse proxies for the deployment tests: Debian's nginx and Caddy
run as subprocesses on loopback ports, with their configuration taken from
docs/deploy.md (only the host name, ports, certificate paths and timeouts
replaced) and a private CA made with openssl at test time.

A missing proxy skips its tests on a developer's machine and fails them in
CI (``CI=true``), where run-tests installs both.
"""

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import gevent
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"

#: What the documented configurations name, replaced for a test.
DOC_HOST = "world.example.org"
DOC_UPSTREAM = "127.0.0.1:7777"
DOC_CERT, DOC_KEY = "/etc/hearth/tls/world.crt", "/etc/hearth/tls/world.key"


def need(binary):
    """The path of `binary`, or skip (fail in CI) with the package to install."""
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if os.path.exists(f"/usr/sbin/{binary}")
                                    else None)
    if path is None:
        why = (f"{binary} is not installed (Debian's {binary} package; run-tests installs it"
               " as root)")
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"{why}; in CI the deployment tests must run")
        pytest.skip(why)
    return path


def doc_block(tag):
    """The fenced block after ``<!-- deploy:TAG -->`` in docs/deploy.md."""
    text = DOC.read_text()
    m = re.search(r"<!-- deploy:" + re.escape(tag) + r" -->\s*```[a-z]*\n(.*?)```", text, re.S)
    assert m, f"docs/deploy.md has no deploy:{tag} block"
    return m.group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, log, timeout=20.0):
    """Until something accepts on 127.0.0.1:`port` (bounded, yielding); fails
    with the proxy's log if it exits first."""
    with gevent.Timeout(timeout, AssertionError(f"nothing listens on {port}:\n{log()}")):
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the proxy exited ({proc.returncode}):\n{log()}")
            with socket.socket() as s:  # no create_connection: no name lookup
                s.settimeout(1)
                try:
                    s.connect(("127.0.0.1", port))
                    return
                except OSError:
                    pass
            gevent.sleep(0.05)


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class CA:
    """A private CA (`cert`, `key`) and a server certificate it signed for
    ``localhost`` and 127.0.0.1 (`server_cert`, `server_key`)."""

    def __init__(self, directory, name="Test Hearth CA", sans="DNS:localhost,IP:127.0.0.1"):
        directory.mkdir(parents=True, exist_ok=True)
        self.dir = directory
        self.cert, self.key = directory / "ca.crt", directory / "ca.key"
        self.server_cert, self.server_key = directory / "world.crt", directory / "world.key"
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", f"/CN={name}", "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                 "-keyout", "world.key", "-out", "world.csr", cwd=directory)
        (directory / "world.ext").write_text(f"subjectAltName={sans}\n")
        _openssl("x509", "-req", "-in", "world.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", "world.ext", "-out", "world.crt",
                 cwd=directory)


class Proxy:
    """A proxy subprocess; `url` is where a client connects (the /hearth/ path)."""

    proc = None

    def log(self):
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Nginx(Proxy):
    """nginx with the documented site, in the foreground, one process."""

    def __init__(self, tmp, upstream, ca, read_timeout=None, host="localhost",
                 url_host="127.0.0.1"):
        exe = need("nginx")
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        site = doc_block("nginx")
        site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;")
        site = site.replace(DOC_HOST, host).replace(DOC_UPSTREAM, upstream)
        site = site.replace(DOC_CERT, str(ca.server_cert)).replace(DOC_KEY, str(ca.server_key))
        if read_timeout is not None:
            site = re.sub(r"proxy_read_timeout \S+;", f"proxy_read_timeout {read_timeout};", site)
            site = re.sub(r"proxy_send_timeout \S+;", f"proxy_send_timeout {read_timeout};", site)
        self.log_path = tmp / "error.log"
        temp = "\n".join(f"    {kind}_temp_path {tmp}/{kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = tmp / "nginx.conf"
        conf.write_text(
            f"daemon off;\nmaster_process off;\nuser root;\npid {tmp}/nginx.pid;\n"
            f"error_log {self.log_path} info;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log off;\n{temp}\n{site}\n}}\n")
        self.proc = subprocess.Popen([exe, "-p", str(tmp), "-e", str(self.log_path),
                                      "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, self.log)
        # In the test's own process an IP address (a name would be looked up
        # on gevent's thread pool, which outlives the test); a subprocess
        # client can use the name.
        self.url = f"wss://{url_host}:{self.port}/hearth/"


class Caddy(Proxy):
    """Caddy with the documented site (its admin endpoint off, no
    redirects on port 80, its data in the test's directory)."""

    def __init__(self, tmp, upstream, ca):
        exe = need("caddy")
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        site = doc_block("caddy")
        site = site.replace(DOC_HOST, f"https://127.0.0.1:{self.port}")
        site = site.replace(DOC_UPSTREAM, upstream)
        site = site.replace(DOC_CERT, str(ca.server_cert)).replace(DOC_KEY, str(ca.server_key))
        # Loopback only: the site's block binds 127.0.0.1.
        site = site.replace("{\n", "{\n    bind 127.0.0.1\n", 1)
        self.log_path = tmp / "caddy.log"
        conf = tmp / "Caddyfile"
        conf.write_text(
            f"{{\n    admin off\n    auto_https disable_redirects\n"
            f"    http_port {free_port()}\n    https_port {self.port}\n"
            f"    storage file_system {tmp}/data\n"
            f"    log {{\n        output file {self.log_path}\n    }}\n}}\n\n{site}")
        env = dict(os.environ, HOME=str(tmp), XDG_DATA_HOME=str(tmp / "data"),
                   XDG_CONFIG_HOME=str(tmp / "config"))
        with open(tmp / "caddy.out", "wb") as out:
            self.proc = subprocess.Popen([exe, "run", "--config", str(conf), "--adapter",
                                          "caddyfile"], stdout=out, stderr=subprocess.STDOUT,
                                         env=env, cwd=tmp)
        self.out_path = tmp / "caddy.out"
        wait_port(self.port, self.proc, self.log)
        self.url = f"wss://127.0.0.1:{self.port}/hearth/"

    def log(self):
        text = super().log()
        try:
            text += self.out_path.read_text()[-4000:]
        except OSError:
            pass
        return text


def adapt_caddyfile(tmp, text):
    """``caddy adapt`` of `text`: the JSON configuration Caddy would run."""
    import json

    exe = need("caddy")
    conf = tmp / "Caddyfile"
    conf.write_text(text)
    env = dict(os.environ, HOME=str(tmp), XDG_DATA_HOME=str(tmp / "data"),
               XDG_CONFIG_HOME=str(tmp / "config"))
    out = subprocess.run([exe, "adapt", "--config", str(conf), "--adapter", "caddyfile"],
                         capture_output=True, text=True, timeout=60, env=env, cwd=tmp)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)
