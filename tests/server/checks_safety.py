"""tests/server/checks_safety.py - who may read the API: no token, no
answer (only /healthz is open); the token URL becomes a session cookie that
only the dashboard's own origin may use; Host must name this server (DNS
rebinding); a foreign Origin never gets the event stream; the security
headers; one strict --listen address; --no-auth and --expose say what they
risk; TLS through CivetWeb, end to end; token and key files others can read
are refused."""
import os, re, select, socket, subprocess, time
from lib import AUTH, SSE, TOKEN, TOKEN_FILE, TOP, Server, get, ok, raw_get
import lib

# Every route, a prefix route's argument, an unknown /api path, and the
# dashboard's files: none answers without the token.
PROTECTED = ["/api/processes", "/api/processes/100005", "/api/top", "/api/groups", "/api/oom", "/api/calls",
             "/api/hosts", "/api/stats", "/api/events", "/metrics", "/api/nope", "/", "/index.html", "/favicon.svg"]


def header(hdrs, name):
    return hdrs.get(name) if hdrs is not None else None


def no_token(srv):
    bad = {}
    for p in PROTECTED:
        st, hdrs, body = get(srv.base, p, auth=False, timeout_s=3)
        api = p.startswith("/api") or p == "/metrics"
        good = st == 401 and (not api or (isinstance(body, dict) and body.get("error") == "unauthorized" and
                                          "Bearer" in (header(hdrs, "WWW-Authenticate") or "")))
        if not good:
            bad[p] = st
    ok(not bad, "no token: 401 on all %d paths (API: JSON + WWW-Authenticate: Bearer; pages: a sign-in note)"
       % len(PROTECTED), bad)
    wrong = "x" * len(TOKEN)
    sts = [get(srv.base, "/api/processes", {"Authorization": a})[0] for a in
           ("Bearer " + wrong, "Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x", "Basic " + TOKEN, TOKEN)]
    ok(sts == [401] * 5, "a wrong, short, long, non-Bearer or bare token: 401 each", sts)
    st, _, b = get(srv.base, "/api/processes?token=" + TOKEN, auth=False)
    ok(st == 401, "the token in an API URL is not a credential (401): only in Authorization", st)
    st, _, b = get(srv.base, "/healthz", auth=False)
    ok(st == 200 and b.get("status") == "ok", "/healthz alone answers without the token", (st, b))
    rc, out = run_refused(["--config", srv.conf])
    ok(rc not in (0, None) and "token" in out,
       "started without a token or --no-auth the server refuses to run, saying what to give", (rc, out[-300:]))


def host_header(srv, conf):
    bad = {}
    for h, want in (("evil.example", 421), ("evil.example:%d" % srv.port, 421), ("127.0.0.1.evil.example", 421),
                    ("127.0.0.1:%dx" % srv.port, 421), ("127.0.0.1:%d" % srv.port, 200),
                    ("localhost:%d" % srv.port, 200), ("LOCALHOST", 200), ("127.0.0.1", 200)):
        st, _, _ = raw_get(srv.port, "/api/processes?limit=1", headers={"Host": h})
        if st != want:
            bad[h] = (st, want)
    st, _, body = raw_get(srv.port, "/api/processes?limit=1", headers={"Host": None})
    ok(not bad and st == 421, "Host must name this server: a rebinding name gets 421, 127.0.0.1 and localhost"
       " (any port spelled) pass, no Host is 421", (bad, st))
    s = Server(conf, ["--allow-host", "memprobe.example"])
    try:
        a = raw_get(s.port, "/api/processes?limit=1", headers={"Host": "memprobe.example:443"})[0]
        b = raw_get(s.port, "/api/processes?limit=1", headers={"Host": "evil.example"})[0]
        ok(a == 200 and b == 421, "--allow-host NAME adds NAME, nothing else (%d, %d)" % (a, b))
    finally:
        s.stop()


def session(srv, conf):
    """The token URL: a 303 to the same URL without the token, a cookie the
    dashboard's own origin may use, and no one else."""
    st, hdrs, _ = get(srv.base, "/?token=%s&host=web1" % TOKEN, auth=False)
    cookie = header(hdrs, "Set-Cookie") or ""
    loc = header(hdrs, "Location") or ""
    flags = [f.strip().lower() for f in cookie.split(";")[1:]]
    ok(st == 303 and loc == "/?host=web1" and TOKEN not in loc and TOKEN not in cookie and
       {"httponly", "samesite=strict", "path=/"} <= set(flags) and "secure" not in flags,
       "GET /?token=T: 303 to the URL without the token, an HttpOnly SameSite=Strict session cookie (not the"
       " token)", (st, loc, cookie))
    value = cookie.split(";")[0] or "memprobe_session=none"
    c = {"Cookie": value}
    own = "http://127.0.0.1:%d" % srv.port
    cases = [({}, 200), ({"Origin": own, "Sec-Fetch-Site": "same-origin"}, 200), ({"Sec-Fetch-Site": "none"}, 200),
             ({"Origin": "http://127.0.0.1:1"}, 403), ({"Origin": "http://evil.example"}, 403),
             ({"Origin": "null"}, 403), ({"Sec-Fetch-Site": "same-site"}, 403), ({"Sec-Fetch-Site": "cross-site"}, 403)]
    got = [get(srv.base, "/api/processes?limit=1", dict(c, **h), auth=False)[0] for h, _ in cases]
    ok(got == [w for _, w in cases], "the cookie answers its own origin only: other ports of 127.0.0.1, other"
       " sites and null are 403 (Origin, Sec-Fetch-Site)", list(zip([h for h, _ in cases], got)))
    st_page = get(srv.base, "/index.html", c, auth=False)[0]
    x = SSE(srv.port, headers=c, auth=False)
    st_sse = x.response()
    x.close()
    ok(st_page == 200 and st_sse == 200, "the cookie opens the dashboard's files and the event stream (%d, %d)"
       % (st_page, st_sse))
    forged = value[:-1] + ("0" if value[-1] != "0" else "1")
    sts = [get(srv.base, "/api/processes", {"Cookie": v}, auth=False)[0] for v in
           (forged, "memprobe_session=v1.9999999999.00.00", "memprobe_session=" + TOKEN)]
    st_bad, _, body = get(srv.base, "/?token=" + "y" * len(TOKEN), auth=False)
    ok(sts == [401] * 3 and st_bad == 401 and b"token" in (body if isinstance(body, bytes) else b""),
       "a forged cookie, a made-up one, the token as a cookie, a wrong token URL: 401", (sts, st_bad))
    s = Server(conf)  # another process, the same token: sessions need no state
    try:
        a = get(s.base, "/api/processes?limit=1", c, auth=False)[0]
    finally:
        s.stop()
    other = os.path.join(os.path.dirname(TOKEN_FILE), "other-token")
    with open(os.open(other, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("another-token-" + "z" * 30 + "\n")
    s = Server(conf, ["--token-file", other])
    try:
        b = get(s.base, "/api/processes?limit=1", c, auth=False)[0]
    finally:
        s.stop()
    ok(a == 200 and b == 401, "a session outlives a server restart (%d) and ends when the token changes (%d)"
       % (a, b))


def cross_origin_sse(srv, conf):
    """EventSource from another origin: refused whatever the credentials."""
    _, hdrs, _ = get(srv.base, "/?token=" + TOKEN, auth=False)
    c = {"Cookie": (header(hdrs, "Set-Cookie") or "").split(";")[0], "Origin": "http://evil.example"}
    sts = []
    for h, auth in ((c, False), ({"Origin": "http://127.0.0.1:1"}, True)):
        x = SSE(srv.port, headers=h, auth=auth)
        sts.append(x.response())
        x.close()
    s = Server(conf, ["--no-auth"])
    try:
        x = SSE(s.port, headers={"Origin": "http://evil.example"}, auth=False)
        sts.append(x.response())
        x.close()
    finally:
        s.stop()
    ok(sts == [403, 403, 403], "a cross-origin event stream is refused (403): with the cookie, with the bearer"
       " token, and under --no-auth", sts)


def security_headers(srv):
    bad = {}
    for p, auth in (("/", True), ("/api/processes?limit=1", True), ("/api/processes", False), ("/", False),
                    ("/nope.html", True), ("/healthz", False)):
        st, head, _ = raw_get(srv.port, p, auth=auth)
        h = head.lower()
        csp = re.search(r"content-security-policy: ([^\r\n]*)", h)
        if not (csp and "script-src 'self'" in csp.group(1) and "unsafe-inline" not in csp.group(1) and
                "frame-ancestors 'none'" in csp.group(1) and "x-content-type-options: nosniff" in h and
                "referrer-policy: no-referrer" in h):
            bad["%s %s" % (p, st)] = head[:400]
    x = SSE(srv.port)
    x.response()
    x.close()
    if "script-src 'self'" not in x.head or "nosniff" not in x.head:
        bad["/api/events"] = x.head
    dist = os.path.join(TOP, "frontend/dist/index.html")
    inline = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>", open(dist, "rb").read()) if os.path.exists(dist) else []
    ok(not bad and not inline, "CSP without inline scripts, nosniff, Referrer-Policy on pages, JSON, errors, 401s"
       " and the event stream; the built index.html has no inline script", (bad, inline))


def run_refused(args, env=None, timeout_s=5):
    """Run the server with ARGS; (exit status or None if it kept running
    and was killed, its output)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.Popen([lib.SERVER] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=e, cwd=TOP)
    try:
        out, _ = p.communicate(timeout=timeout_s)
        return p.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        return None, out.decode("utf-8", "replace")


def listen_strict(conf):
    bad = {}
    for addr in ("127.0.0.1:1,0.0.0.0", "127.0.0.1,0.0.0.0", "127.0.0.1 0.0.0.0", "127.0.0.1:8080", "127.0.0.1s",
                 "localhost", "127.1", "127.0.0.01", "", "[127.0.0.1]", "0x7f.0.0.1"):
        rc, out = run_refused(["--config", conf, "--token-file", TOKEN_FILE, "--port", "0", "--listen", addr])
        if rc in (0, None) or "--listen" not in out:
            bad[addr] = (rc, out[-160:])
    ok(not bad, "--listen takes one IP address: lists (the comma that listened on 0.0.0.0 too), ports, names,"
       " short or odd forms are refused with a message", bad)
    rc, out = run_refused(["--config", conf, "--token-file", TOKEN_FILE, "--port", "0", "--listen", "0.0.0.0"])
    ok(rc not in (0, None) and "--expose" in out, "a non-loopback --listen without --expose is refused", out[-200:])


def no_auth_and_expose(conf):
    s = Server(conf, ["--no-auth"])
    try:
        st = get(s.base, "/api/processes?limit=1", auth=False)[0]
        warned = "WARNING: --no-auth" in s.log_text()
    finally:
        s.stop()
    ok(st == 200 and warned, "--no-auth serves without a token and logs a warning naming the risk (%d)" % st)
    bad = {}
    for args in (["--no-auth", "--expose"], ["--no-auth", "--token-file", TOKEN_FILE]):
        rc, out = run_refused(["--config", conf, "--port", "0"] + args)
        if rc in (0, None):
            bad[" ".join(args)] = out[-200:]
    ok(not bad, "--no-auth with --expose, or with a token, is refused", bad)
    s = Server(conf, ["--expose"])
    try:
        log = s.log_text()
    finally:
        s.stop()
    ok("--expose without TLS" in log and "clear text" in log, "--expose without TLS warns that the token and the"
       " answers cross the network in clear text", log[-300:])


def token_files(conf, work):
    bad = {}
    cases = {"world-readable": ("t" * 40 + "\n", 0o644), "short": ("short\n", 0o600),
             "space": ("two words " + "t" * 30 + "\n", 0o600), "empty": ("", 0o600),
             "huge": ("t" * 5000 + "\n", 0o600)}
    for name, (text, mode) in cases.items():
        path = os.path.join(work, "tok-" + name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        rc, out = run_refused(["--config", conf, "--port", "0", "--token-file", path])
        if rc in (0, None) or "token" not in out:
            bad[name] = (rc, out[-200:])
    rc, out = run_refused(["--config", conf, "--port", "0", "--token-file", os.path.join(work, "nope")])
    if rc in (0, None):
        bad["missing"] = out
    ok(not bad, "token files refused with a message: readable by every user, shorter than 16, not one word, "
       "empty, over 4 KiB, missing", bad)


def tls(conf, work):
    key, cert = os.path.join(work, "tls-key.pem"), os.path.join(work, "tls-cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", key, "-out", cert], capture_output=True)
    if not ok(r.returncode == 0, "openssl makes a self-signed certificate", r.stderr[-300:]):
        return
    os.chmod(key, 0o600)
    try:
        s = Server(conf, ["--tls-cert", cert, "--tls-key", key])
    except RuntimeError as e:
        ok(False, "the server starts with --tls-cert/--tls-key", e)
        return
    try:
        sts = [get(s.base, "/api/processes?limit=1", cafile=cert)[0] for _ in range(5)]
        st, hdrs, _ = get(s.base, "/?token=" + TOKEN, auth=False, cafile=cert)
        cookie = header(hdrs, "Set-Cookie") or ""
        x = SSE(s.port)  # plain HTTP on the TLS port
        plain = x.response(2)
        x.close()
        alive = s.p.poll() is None
    finally:
        s.stop()
    ok(s.base.startswith("https://") and sts == [200] * 5 and st == 303 and "; Secure" in cookie and
       plain != 200 and alive, "HTTPS through CivetWeb's OpenSSL: 5 requests answered (the server survives them),"
       " the session cookie is Secure, plain HTTP gets nothing", (s.base, sts, st, cookie[-60:], plain, alive))
    both = os.path.join(work, "tls-both.pem")
    with open(os.open(both, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(open(cert).read() + open(key).read())
    s = Server(conf, ["--tls-cert", both])
    try:
        st = get(s.base, "/api/processes?limit=1", cafile=cert)[0]
    finally:
        s.stop()
    os.chmod(key, 0o644)
    rc, out = run_refused(["--config", conf, "--port", "0", "--token-file", TOKEN_FILE, "--tls-cert", cert,
                           "--tls-key", key])
    ok(st == 200 and rc not in (0, None) and "chmod 600" in out,
       "certificate and key in one file work too; a key readable by every user is refused", (st, rc, out[-200:]))


def run(srv, conf, work):
    srv.conf = conf
    no_token(srv)
    host_header(srv, conf)
    session(srv, conf)
    cross_origin_sse(srv, conf)
    security_headers(srv)
    listen_strict(conf)
    no_auth_and_expose(conf)
    token_files(conf, work)
    tls(conf, work)
