"""tests/server/checks_restart.py - the server killed (SIGKILL, then SIGTERM)
and started again on the same port under 100 event-stream clients while
calls are committed without a pause.  Each client behaves as a browser's
EventSource: on a closed or refused connection it waits the server's
retry: delay and reconnects with Last-Event-ID (the id of the last event it
dispatched; a half-received event is dropped).  Every client must end up
with every committed call of its host exactly once, in order (ids compared
with the database)."""
import selectors, socket, subprocess, threading, time
from lib import Server, diag, head_lines, ok, writer_tx
from seed import hx

HOST = "restarthost"
N_CLIENTS = 100
ROWS_PER_TX, TX_PERIOD_S = 10, 0.025  # ~400 calls/s, committed one transaction at a time


class EventSource:
    """One client: connect, read the head, parse events, reconnect."""

    def __init__(self, port, sel):
        self.port, self.sel = port, sel
        self.last_id = None
        self.retry_ms = 3000  # the spec's default until the server says otherwise
        self.got = []
        self.opens = 0
        self.failed = None  # a non-200 answer ends an EventSource for good
        self.s = None
        self.reconnect_at = 0.0
        self.connect()

    def connect(self):
        self.s = socket.socket()
        try:
            self.s.connect(("127.0.0.1", self.port))
        except OSError:
            self.s.close()
            self.s = None
            self.reconnect_at = time.time() + self.retry_ms / 1000.0
            return
        hdr = "Last-Event-ID: %d\r\n" % self.last_id if self.last_id is not None else ""
        self.s.sendall(("GET /api/events?host=%s HTTP/1.1\r\n%sAccept: text/event-stream\r\n%s\r\n"
                        % (HOST, head_lines(self.port), hdr)).encode())
        self.s.setblocking(False)
        self.head, self.buf = None, b""
        self.sel.register(self.s, selectors.EVENT_READ, self)

    def closed(self):
        self.sel.unregister(self.s)
        self.s.close()
        self.s = None
        self.reconnect_at = time.time() + self.retry_ms / 1000.0  # partial event in buf: dropped

    def on_read(self):
        try:
            chunk = self.s.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            return self.closed()
        self.buf += chunk
        if self.head is None:
            if b"\r\n\r\n" not in self.buf:
                return
            self.head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            if not self.head.startswith(b"HTTP/1.1 200"):
                self.failed = self.head.split(b"\r\n")[0].decode("latin-1")
                self.sel.unregister(self.s)
                self.s.close()
                self.s = None
                return
            self.opens += 1
        blocks = self.buf.split(b"\n\n")
        self.buf = blocks.pop()
        for block in blocks:
            self.dispatch(block)

    def dispatch(self, block):
        ev_id, event = None, b"message"
        for line in block.split(b"\n"):
            if line.startswith(b"id: "):
                ev_id = int(line[4:])
            elif line.startswith(b"event: "):
                event = line[7:]
            elif line.startswith(b"retry: "):
                self.retry_ms = int(line[7:])
        if ev_id is not None:
            self.last_id = ev_id
        if event == b"call":
            self.got.append(ev_id)


class Inserter(threading.Thread):
    """Commits ROWS_PER_TX calls of HOST every TX_PERIOD_S until stopped."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.stop, self.seq, self.error = db, threading.Event(), 0, None

    def sql(self, n):
        rows = ["(@h,77,%d,%d,4242,4242,0,99,%s,%s,'mmap',%d,4096,0,0,0,3,34,-1,%d,%d)"
                % (s, 3 * 10**18 + s, hx(b"restarter"), hx(b"restarter"), 0x7d0000000000 + s * 4096,
                   0x7d0000000000 + s * 4096, 1 << 30) for s in range(self.seq, self.seq + n)]
        self.seq += n
        # cids from a lease, as lector takes them: with no live lease the
        # server streams up to the highest cid handed out, not past it
        return writer_tx(HOST, "host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm,"
                         " syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result,"
                         " total_vm_bytes", rows) + " SELECT 'ack';\n"

    def run(self):
        cli = subprocess.Popen(["mariadb", "--no-defaults", "-uroot", "--socket=" + self.db.sock, "--unbuffered",
                                "-N", "-B", "memprobe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        cli.stdin.write(("SET @h = (SELECT host_id FROM hosts WHERE name='%s');\n" % HOST).encode())
        while not self.stop.is_set():
            cli.stdin.write(self.sql(ROWS_PER_TX).encode())
            cli.stdin.flush()
            if cli.stdout.readline().strip() != b"ack":  # committed (autocommit) before the next
                self.error = "the mariadb client stopped acknowledging inserts"
                break
            time.sleep(TX_PERIOD_S)
        cli.stdin.close()
        cli.wait()


def pump(sel, clients, seconds, until=None):
    """Read and reconnect for SECONDS, or until until() is true."""
    end = time.time() + seconds
    while time.time() < end:
        for key, _ in sel.select(0.02):
            key.data.on_read()
        now = time.time()
        for c in clients:
            if c.s is None and c.failed is None and now >= c.reconnect_at:
                c.connect()
        if until and until():
            return True
    return until() if until else True


def restart(srv_box, conf, port, sel, clients, how):
    """Stop the server with HOW (kill/terminate), start it again on PORT
    (in a thread: the clients keep being served); seconds until every client
    is streaming again, measured from the stop, and the stop's exit status."""
    old = srv_box[0]
    opens = [c.opens for c in clients]
    t0 = time.time()
    getattr(old.p, how)()
    try:
        rc = old.p.wait(15)
    except subprocess.TimeoutExpired:
        old.p.kill()
        rc = "hung"
    t_exit = time.time() - t0
    box = {}

    def start():
        for _ in range(50):  # the port can take a moment to be free again
            try:
                box["srv"] = Server(conf, ["--port", str(port)])
                box["t_up"] = time.time() - t0
                return
            except RuntimeError as e:
                box["err"] = str(e)
                time.sleep(0.1)
    th = threading.Thread(target=start)
    th.start()
    back = pump(sel, clients, 30, lambda: not th.is_alive() and "srv" in box and
                all(c.opens > o for c, o in zip(clients, opens)))
    th.join()
    srv_box[0] = box.get("srv")
    return {"all": time.time() - t0 if back else None, "exit": t_exit, "up": box.get("t_up"),
            "rc": rc, "err": box.get("err")}


def secs(t):
    return "%.2f" % t if t is not None else "-"


def run(db, conf):
    db.sql("INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('%s', 4294967296, 0)"
           " ON DUPLICATE KEY UPDATE name=name;" % HOST)
    srv_box = [Server(conf)]  # defaults: --sse-max 100, --threads 200
    port = srv_box[0].port
    sel = selectors.DefaultSelector()
    clients = [EventSource(port, sel) for _ in range(N_CLIENTS)]
    all_open = pump(sel, clients, 20, lambda: all(c.opens == 1 for c in clients))
    ok(all_open, "%d event clients connected to one server (default --sse-max 100)" % N_CLIENTS,
       [c.failed for c in clients if c.failed][:3])
    ins = Inserter(db)
    ins.start()
    times = {}
    try:
        pump(sel, clients, 2)
        for how in ("kill", "terminate"):
            r = times[how] = restart(srv_box, conf, port, sel, clients, how)
            sig = "SIGKILL" if how == "kill" else "SIGTERM"
            ok(r["all"] is not None, "server stopped with %s under %d clients and started again: every client"
               " reconnected with Last-Event-ID %s after the signal (old server gone after %.2f s, status %s;"
               " new one listening after %s s)" % (sig, N_CLIENTS, "%.2f s" % r["all"] if r["all"] else "never",
                                                  r["exit"], r["rc"], "%.2f" % r["up"] if r["up"] else "-"),
               r["err"] or [c.failed for c in clients if c.failed][:3])
            if how == "terminate":
                ok(r["rc"] == 0 and r["exit"] < 5, "SIGTERM with %d event clients attached: clean exit 0 within"
                   " 5 s (%s, %.2f s)" % (N_CLIENTS, r["rc"], r["exit"]))
            if srv_box[0] is None:
                return
            pump(sel, clients, 2)
    finally:
        ins.stop.set()
        ins.join()
    ok(ins.error is None, "calls were committed without a pause through both restarts (%d)" % ins.seq, ins.error)
    want = [int(r[0]) for r in db.sql("SELECT c.cid FROM calls c JOIN hosts h ON h.host_id=c.host_id"
                                      " WHERE h.name='%s' ORDER BY c.cid" % HOST)]
    pump(sel, clients, 60, lambda: all(c.got and c.got[-1] == want[-1] for c in clients))
    missed = sum(len(set(want) - set(c.got)) for c in clients)
    dup = sum(len(c.got) - len(set(c.got)) for c in clients)
    disorder = sum(1 for c in clients if c.got != sorted(c.got))
    exact = sum(1 for c in clients if c.got == want)
    ok(exact == N_CLIENTS and len(want) == ins.seq,
       "every one of %d clients got all %d committed calls exactly once and in order"
       " (missed %d, duplicated %d, clients out of order %d)" % (N_CLIENTS, len(want), missed, dup, disorder),
       [(len(c.got), c.got[:2], c.got[-2:]) for c in clients if c.got != want][:3])
    diag("restart under SSE: %d clients, %d rows; all reconnected %s s after SIGKILL, %s s after SIGTERM"
         " (retry: 1000 ms); missed %d, duplicated %d" % (N_CLIENTS, len(want), secs(times["kill"]["all"]),
                                                           secs(times["terminate"]["all"]), missed, dup))
    for c in clients:
        if c.s:
            c.closed()
    srv_box[0].stop()
