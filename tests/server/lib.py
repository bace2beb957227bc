"""tests/server/lib.py - helpers of the server suite: TAP output, a private
MariaDB (scripts/db-start.sh), SQL through the mariadb client, the server
process, HTTP and server-sent-event clients.  Standard library only.

Every server gets this process's token (TOKEN_FILE, mode 0600) unless its
arguments say otherwise, and every client sends it as a bearer token
(AUTH) and Host: 127.0.0.1:PORT, unless a test passes headers of its own."""
import atexit, base64, json, os, shutil, re, select, socket, ssl, subprocess, sys, tempfile, time, urllib.request, urllib.error

TOP = os.environ.get("TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BUILD = os.environ.get("BUILD") or os.path.join(TOP, "build")
SERVER = os.path.join(BUILD, "memprobe-server")

_n = 0
failed = 0

TOKEN = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
_token_dir = tempfile.mkdtemp(prefix="mp-token.")
TOKEN_FILE = os.path.join(_token_dir, "api-token")
with open(os.open(TOKEN_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as _f:
    _f.write(TOKEN + "\n")
AUTH = {"Authorization": "Bearer " + TOKEN}


@atexit.register
def _remove_token():
    shutil.rmtree(_token_dir, ignore_errors=True)


def ok(cond, what, diag=None):
    global _n, failed
    _n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (_n, what), flush=True)
    if not cond:
        failed += 1
        if diag is not None:
            for line in str(diag)[:2000].splitlines():
                print("#   " + line, flush=True)
    return cond


def diag(msg):
    print("# " + msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def writer_tx(host, columns, rows):
    """SQL that stores ROWS ("(@h,...)" tuples for COLUMNS, host_id first)
    in calls the way a lector does since migration 020: a block of cids
    reserved in a transaction of its own with a live lease on it, then the
    rows with those cids and the lease cleared in one commit.  A writer that
    took cids any other way could commit them below what the server has
    already streamed (or collide with a lector's block)."""
    n = len(rows)
    vals = ",".join("(@lo+%d,%s" % (k, r[1:]) for k, r in enumerate(rows))
    # above rows seeded by AUTO_INCREMENT; read without locks (a locking read
    # of calls' right edge deadlocks with a lector inserting there)
    return ("SET @h = (SELECT host_id FROM hosts WHERE name='%s'); "
            "SELECT COALESCE(MAX(cid), 0) + 1 INTO @edge FROM calls; BEGIN; "
            "UPDATE memprobe_lock.cid_alloc SET next = LAST_INSERT_ID(GREATEST(next, @edge) + %d) WHERE id = 1; "
            "SET @lo = LAST_INSERT_ID() - %d; "
            "INSERT INTO cid_leases (host_id, lector_id, lo, hi, live, made) VALUES (@h, 1, @lo, @lo + %d, 1, "
            "UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE lo = @lo, hi = @lo + %d, live = 1, made = UTC_TIMESTAMP(6); "
            "COMMIT; BEGIN; INSERT INTO calls (cid, %s) VALUES %s; "
            "UPDATE cid_leases SET live = 0 WHERE host_id = @h AND lector_id = 1; COMMIT;"
            % (host, n, n, n - 1, n - 1, columns, vals))


class DB:
    """The private MariaDB of db-start.sh in DIR; SQL as root over the socket."""

    def __init__(self, d):
        self.dir = d
        self.sock = os.path.join(d, "mysqld.sock")
        env = dict(os.environ, MEMPROBE_DB_PORT=str(free_port()), MEMPROBE_DB_POOL="256M")
        subprocess.run([os.path.join(TOP, "scripts/db-start.sh"), d], check=True, env=env,
                       stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([os.path.join(TOP, "scripts/db-stop.sh"), self.dir], stdout=subprocess.DEVNULL)

    def start(self):
        env = dict(os.environ, MEMPROBE_DB_PORT=str(free_port()), MEMPROBE_DB_POOL="256M")
        subprocess.run([os.path.join(TOP, "scripts/db-start.sh"), self.dir], check=True, env=env,
                       stdout=subprocess.DEVNULL)

    def sql(self, q, db="memprobe"):
        r = subprocess.run(["mariadb", "--no-defaults", "-uroot", "--socket=" + self.sock, "-N", "-B",
                            db], input=q.encode(), capture_output=True)
        if r.returncode:
            raise RuntimeError("SQL failed: %s\n%s" % (r.stderr.decode(), q[:300]))
        return [line.split("\t") for line in r.stdout.decode("utf-8", "replace").splitlines()]

    def one(self, q):
        rows = self.sql(q)
        return rows[0][0] if rows else None


class Server:
    """build/memprobe-server on a free port; ARGS extra options (the suite's
    token file unless ARGS or ENV_EXTRA name a token or --no-auth)."""

    def __init__(self, conf, args=(), env_extra=None, server=None):
        env = dict(os.environ)
        env.update(env_extra or {})
        args = list(args)
        if not {"--token-file", "--no-auth"} & set(args) and "MEMPROBE_SERVER_TOKEN" not in (env_extra or {}):
            args += ["--token-file", TOKEN_FILE]
        self.log = open(os.path.join(os.path.dirname(conf), "server-%d.log" % free_port()), "w+")
        self.p = subprocess.Popen([server or SERVER, "--config", conf, "--port", "0"] + args,
                                  stdout=subprocess.PIPE, stderr=self.log, env=env, cwd=TOP)
        line = self.p.stdout.readline().decode()
        m = re.search(r"(https?)://[^:]+:(\d+)/", line)
        if not m:
            self.p.wait(5)
            self.log.seek(0)
            raise RuntimeError("server did not start: %s %s" % (line, self.log.read()))
        self.port = int(m.group(2))
        self.base = "%s://127.0.0.1:%d" % (m.group(1), self.port)

    def log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, timeout_s=10):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                return self.p.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.p.kill()
                return None
        return self.p.returncode


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def get(base, path, headers=None, auth=True, cafile=None, timeout_s=10):
    """(status, headers, parsed JSON or raw bytes): HEADERS and, if AUTH,
    the token; redirects are returned, not followed."""
    h = dict(AUTH if auth else {})
    h.update(headers or {})
    req = urllib.request.Request(base + path, headers=h)
    handlers = [_NoRedirect()]
    if cafile:
        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
    try:
        with urllib.request.build_opener(*handlers).open(req, timeout=timeout_s) as r:
            body, status, hdrs = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        body, status, hdrs = e.read(), e.code, e.headers
    except (socket.timeout, TimeoutError, ConnectionError) as e:  # status 0: no answer
        return 0, None, repr(e).encode()
    try:
        return status, hdrs, json.loads(body)
    except ValueError:
        return status, hdrs, body


def head_lines(port, headers=None, auth=True):
    """Host, the token (if AUTH) and HEADERS (None: left out) as request lines."""
    h = {"Host": "127.0.0.1:%d" % port}
    h.update(AUTH if auth else {})
    h.update(headers or {})
    return "".join("%s: %s\r\n" % kv for kv in h.items() if kv[1] is not None)


def raw_get(port, target, timeout_s=5, headers=None, auth=True):
    """A request line sent as is (no client-side path normalisation)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    s.sendall(("GET %s HTTP/1.1\r\n%sConnection: close\r\n\r\n"
               % (target, head_lines(port, headers, auth))).encode())
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return status, head.decode("latin-1"), body


class SSE:
    """A server-sent-event client on a raw socket (rcvbuf_bytes small = slow)."""

    def __init__(self, port, last_id=None, rcvbuf_bytes=None, query="", headers=None, auth=True):
        self.s = socket.socket()
        if rcvbuf_bytes:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf_bytes)
        self.s.connect(("127.0.0.1", port))
        hdr = "Last-Event-ID: %d\r\n" % last_id if last_id is not None else ""
        self.s.sendall(("GET /api/events%s HTTP/1.1\r\n%sAccept: text/event-stream\r\n%s\r\n"
                        % (query, head_lines(port, headers, auth), hdr)).encode())
        self.buf = b""
        self.status = None
        self.head = ""
        self.closed = False
        self.comments = []

    def _fill(self, timeout_s):
        r, _, _ = select.select([self.s], [], [], max(timeout_s, 0))
        if not r:
            return False
        try:
            chunk = self.s.recv(262144)
        except (ConnectionResetError, OSError):
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def response(self, timeout_s=5):
        end = time.time() + timeout_s
        while b"\r\n\r\n" not in self.buf and time.time() < end and not self.closed:
            self._fill(end - time.time())
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1")
        self.status = int(self.head.split(" ")[1]) if self.head.startswith("HTTP/") else 0
        return self.status

    def events(self, timeout_s, until=None):
        """Events (dicts: id, event, data, t) until timeout or until(ev) is true."""
        out = []
        end = time.time() + timeout_s
        while True:
            while b"\n\n" in self.buf:
                block, _, self.buf = self.buf.partition(b"\n\n")
                ev = {"t": time.time(), "id": None, "event": "message", "data": "", "comment": False}
                for line in block.decode("utf-8").split("\n"):
                    k, _, v = line.partition(": ")
                    if line.startswith(":"):
                        ev["comment"] = True
                    elif k in ("id", "event", "data"):
                        ev[k] = v
                if ev["comment"] or ev["data"] == "":
                    self.comments.append(block)
                    continue
                ev["data"] = json.loads(ev["data"])
                out.append(ev)
                if until and until(ev):
                    return out
            if time.time() >= end or self.closed:
                return out
            self._fill(min(0.05, end - time.time()))

    def drain(self, timeout_s, marker):
        """Read raw bytes as fast as possible until MARKER shows up (a client
        that parses JSON per event is slower than the server under load),
        then parse them all: the events."""
        end = time.time() + timeout_s
        chunks, tail = [self.buf], self.buf[-len(marker):]
        self.s.setblocking(True)
        self.s.settimeout(0.2)
        while time.time() < end:
            try:
                chunk = self.s.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            chunks.append(chunk)
            if marker in tail + chunk:
                break
            tail = chunk[-len(marker):]
        self.buf = b"".join(chunks)
        return self.events(0)

    def close(self):
        self.s.close()
