"""tests/ledger/oracle.py - the ledger oracle's own model, written from the
contract (the issue-16 semantics: docs/API.md, README "The mapping ledger
and time travel") and NOT from lector's or the server's code:

  parse_strace(LOG)      the memory calls of `strace -f -ttt -y -e
                         trace=mmap,munmap,mremap,brk,execve` per pid, with
                         numeric prot/flags and the mapped file's identity
  RangeSet               a process's live ranges, each with the attributes
                         of the call that gave it its place
  fold_strace(CALLS)     the RangeSet a strace log gives (created = the
                         call's index in the log)
  replay(ROWS, T)        a process's state at T from its calls rows, from
                         zero: totals as lector keeps them and the RangeSet
  api_ranges(MAPPINGS)   /mappings rows as comparable tuples
  compare(WANT, GOT)     the differences between two range lists, as text

Attributes: created (strace: the call's index; calls rows: ts_ns), prot,
flags, dev ("MAJ:MIN" or None for anonymous), ino, offset, via.  Ranges of
one call that touch with consecutive offsets are one range for comparison
(normalise()): the contract leaves it open whether such pieces merge."""
import errno
import os
import re

PAGE = 4096
MMAP, MUNMAP, MREMAP, BRK, EXEC, EXIT, OOM_KILL = 1, 2, 3, 4, 5, 6, 7
CALL_NAMES = {"mmap": MMAP, "munmap": MUNMAP, "mremap": MREMAP, "brk": BRK, "exec": EXEC,
              "exit": EXIT, "oom_kill": OOM_KILL}
MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP = 1, 2, 4

# x86-64 values (include/uapi/asm-generic/mman*.h, arch/x86/include/uapi/asm/mman.h)
PROT_BITS = {"PROT_NONE": 0, "PROT_READ": 1, "PROT_WRITE": 2, "PROT_EXEC": 4, "PROT_SEM": 8,
             "PROT_GROWSDOWN": 0x01000000, "PROT_GROWSUP": 0x02000000}
MAP_BITS = {"MAP_SHARED": 1, "MAP_PRIVATE": 2, "MAP_SHARED_VALIDATE": 3, "MAP_FIXED": 0x10,
            "MAP_ANONYMOUS": 0x20, "MAP_ANON": 0x20, "MAP_32BIT": 0x40, "MAP_GROWSDOWN": 0x100,
            "MAP_DENYWRITE": 0x800, "MAP_EXECUTABLE": 0x1000, "MAP_LOCKED": 0x2000,
            "MAP_NORESERVE": 0x4000, "MAP_POPULATE": 0x8000, "MAP_NONBLOCK": 0x10000,
            "MAP_STACK": 0x20000, "MAP_HUGETLB": 0x40000, "MAP_SYNC": 0x80000,
            "MAP_FIXED_NOREPLACE": 0x100000, "MAP_UNINITIALIZED": 0x4000000}
MREMAP_BITS = {"MREMAP_MAYMOVE": 1, "MREMAP_FIXED": 2, "MREMAP_DONTUNMAP": 4}


def page_up(n):
    return (n + PAGE - 1) // PAGE * PAGE


def bits(text, table):
    """strace's symbolic flags ("A|B|0x40", "MAP_HUGE_2MB") as a number."""
    v = 0
    for part in text.split("|"):
        part = re.sub(r"/\*.*?\*/", "", part).strip()
        if not part:
            continue
        m = re.match(r"MAP_HUGE_(\d+)([KMG])B$", part)
        if part in table:
            v |= table[part]
        elif m:
            size = int(m.group(1)) << {"K": 10, "M": 20, "G": 30}[m.group(2)]
            v |= (size.bit_length() - 1) << 26
        else:
            v |= int(part, 0)
    return v


def split_args(s):
    """Top-level comma-separated arguments (commas inside <>, [], "" kept)."""
    out, depth, cur, quote = [], 0, "", False
    for i, ch in enumerate(s):
        if quote:
            cur += ch
            if ch == '"' and s[i - 1] != "\\":
                quote = False
            continue
        if ch == '"':
            quote = True
        elif ch in "<[{":
            depth += 1
        elif ch in ">]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def num(s):
    return 0 if s == "NULL" else int(s, 0)


def file_id(path):
    """("MAJ:MIN", ino) of PATH as stat(2) gives it, or (None, 0)."""
    try:
        st = os.stat(path)
    except OSError:
        return None, 0
    return "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev)), st.st_ino


LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(mmap|munmap|mremap|brk|execve)\((.*)\)\s+=\s+(-?\w+)(?:\s+(E\w+))?")


def parse_strace(path):
    """{pid: [call dicts in log order]}.  A call: name, ts_ns (strace's entry
    time), args, ret (-errno on failure), and for mmap prot, flags, fd,
    file (dev, ino) of -y's path.  Lines split by -f (<unfinished ...> /
    <... resumed>) are joined back."""
    out, pending, files = {}, {}, {}
    for raw in open(path, errors="replace"):
        raw = raw.rstrip("\n")
        m = re.match(r"^(\d+)\s+(\d+\.\d+)\s+(.*) <unfinished \.\.\.>$", raw)
        if m:
            pending[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = re.match(r"^(\d+)\s+\d+\.\d+\s+<\.\.\. \w+ resumed>(.*)$", raw)
        if m and m.group(1) in pending:
            ts, head = pending.pop(m.group(1))
            raw = "%s %s %s%s" % (m.group(1), ts, head, m.group(2))
        m = LINE.match(raw)
        if not m:
            continue
        pid, name, args = int(m.group(1)), m.group(3), split_args(m.group(4))
        ret = m.group(5)
        ret = -getattr(errno, m.group(6), 1) if ret == "-1" and m.group(6) else int(ret, 0)
        c = {"name": name, "ts_ns": int(m.group(2).replace(".", "")) * 1000, "ret": ret, "line": raw}
        if name == "mmap":
            fdm = re.match(r"(-?\d+)(?:<(.*)>)?$", args[4])
            c.update(addr=num(args[0]), len=int(args[1], 0), prot=bits(args[2], PROT_BITS),
                     flags=bits(args[3], MAP_BITS), fd=int(fdm.group(1)), off=int(args[5], 0))
            p = fdm.group(2)
            if p is not None and p not in files:
                files[p] = file_id(re.sub(r" \(deleted\)$", "", p))
            c["path"] = p
            c["file"] = files[p] if p is not None else (None, 0)
        elif name == "munmap":
            c.update(addr=num(args[0]), len=int(args[1], 0))
        elif name == "mremap":
            c.update(addr=num(args[0]), len=int(args[1], 0), new_len=int(args[2], 0),
                     flags=bits(args[3], MREMAP_BITS), new_addr=num(args[4]) if len(args) > 4 else 0)
        elif name == "brk":
            c.update(addr=num(args[0]))
        out.setdefault(pid, []).append(c)
    return out


class RangeSet:
    """Sorted, disjoint [start, end) ranges, each with its attributes
    (dict: created, prot, flags, dev, ino, offset, via).  O(n) per call:
    obviously right, fast enough for thousands of ranges."""

    def __init__(self):
        self.r = []  # [start, end, attrs]

    def remove(self, a, b):
        """Unmap [a, b); the removed pieces (start, end, attrs), offsets
        moved to each piece's start."""
        keep, gone = [], []
        for s, e, at in self.r:
            if e <= a or s >= b:
                keep.append([s, e, at])
                continue
            if s < a:
                keep.append([s, a, at])
            cs, ce = max(s, a), min(e, b)
            gone.append([cs, ce, dict(at, offset=at["offset"] + (cs - s))])
            if e > b:
                keep.append([b, e, dict(at, offset=at["offset"] + (b - s))])
        self.r = sorted(keep)
        return sorted(gone, key=lambda x: x[0])

    def add(self, s, e, at):
        if e > s:
            self.remove(s, e)
            self.r.append([s, e, at])
            self.r.sort(key=lambda x: x[0])

    def mmap(self, ret, length, at):
        self.add(ret, ret + page_up(length), at)

    def munmap(self, addr, length):
        self.remove(addr, addr + page_up(length))

    def mremap(self, addr, old_len, new_len, flags, ret, created):
        """The contract: moved pieces keep their attributes (via mremap);
        the grown tail takes those of the last moved piece (via mremap);
        memory the set did not know is created at the mremap; DONTUNMAP
        leaves the old range as it was.  Where the contract is silent (is
        what an in-place shrink or grow keeps "moved"?), via may be mmap
        or mremap: None, which matches either."""
        old_b, new_b = page_up(old_len), page_up(new_len)
        pieces = self.remove(addr, addr + old_b)
        if flags & MREMAP_DONTUNMAP:
            for s, e, at in pieces:
                self.add(s, e, at)
        self.remove(ret, ret + new_b)
        keep_b = min(old_b, new_b)
        covered = 0
        last = None
        for s, e, at in pieces:
            ns, ne = s - addr + ret, min(e - addr + ret, ret + keep_b)
            if ns >= ret + keep_b:
                continue
            self.add(ns, ne, dict(at, via="mremap" if ret != addr else None))
            covered += ne - ns
            last = (ns, ne, at)
        if covered < keep_b:  # parts the set did not know: made by this call
            unknown = {"created": created, "prot": None, "flags": None, "dev": None, "ino": 0,
                       "offset": None, "via": "mremap"}
            pos = ret
            for s, e, _ in sorted(self.r):
                if e <= ret or s >= ret + keep_b:
                    continue
                if s > pos:
                    self.r.append([pos, s, dict(unknown)])
                pos = max(pos, e)
            if pos < ret + keep_b:
                self.r.append([pos, ret + keep_b, dict(unknown)])
            self.r.sort(key=lambda x: x[0])
        if new_b > old_b:
            ts, te = ret + old_b, ret + new_b
            if last and last[1] == ts:
                at = dict(last[2], via="mremap", offset=last[2]["offset"] + (ts - last[0]))
            else:
                at = {"created": created, "prot": None, "flags": None, "dev": None, "ino": 0,
                      "offset": None, "via": "mremap"}
            self.add(ts, te, at)

    def clear(self):
        self.r = []

    def total_bytes(self):
        return sum(e - s for s, e, _ in self.r)


def normalise(ranges):
    """Touching ranges of one call (same attributes, consecutive offsets)
    as one."""
    out = []
    for s, e, at in sorted(ranges, key=lambda x: x[0]):
        if out:
            ps, pe, pa = out[-1]
            same = all(pa[k] == at[k] for k in ("created", "prot", "flags", "dev", "ino"))
            via = pa["via"] is None or at["via"] is None or pa["via"] == at["via"]
            if pe == s and same and via and (pa["offset"] is None or at["offset"] == pa["offset"] + (pe - ps)):
                out[-1] = [ps, e, dict(pa, via=pa["via"] if pa["via"] is not None else at["via"])]
                continue
        out.append([s, e, dict(at)])
    return out


def fold_strace(calls, upto=None):
    """The RangeSet of one pid's strace calls (the first UPTO of them);
    created = the call's index in CALLS."""
    rs = RangeSet()
    for i, c in enumerate(calls[:upto] if upto is not None else calls):
        if c["ret"] < 0 and c["name"] != "brk":
            continue
        if c["name"] == "execve":
            rs.clear()
        elif c["name"] == "mmap":
            dev, ino = c["file"] if not c["flags"] & MAP_BITS["MAP_ANONYMOUS"] else (None, 0)
            rs.mmap(c["ret"], c["len"], {"created": i, "prot": c["prot"], "flags": c["flags"],
                                         "dev": dev, "ino": ino, "offset": c["off"], "via": "mmap"})
        elif c["name"] == "munmap":
            rs.munmap(c["addr"], c["len"])
        elif c["name"] == "mremap":
            rs.mremap(c["addr"], c["len"], c["new_len"], c["flags"], c["ret"], i)
    return rs


def dev_name(enc):
    """A calls row's file_dev (new_encode_dev, as st_dev) as "MAJ:MIN"."""
    return "%d:%d" % (os.major(enc), os.minor(enc)) if enc else None


# The columns replay() reads from calls, in this order.
ROW_COLUMNS = ("seq, ts_ns, syscall+0, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, "
               "result, total_vm_bytes, prot, flags, file_dev, file_ino, mapped_bytes")


def replay(rows, t_ns=None):
    """A process's state after its calls ROWS (ROW_COLUMNS, capture order)
    with ts_ns <= T, folded from zero: the totals of its processes row as
    the contract defines them (net = mmap lengths - munmap lengths; mapped =
    pages of watched ranges + heap growth; vm = the last call's total_vm;
    exec and exit reset; failed calls change no total), the RangeSet, and
    the stored mapped_bytes of the last call.  None when no call is <= T."""
    st = {"net": 0, "req": 0, "heap": 0, "base": 0, "heap_known": False, "exited": False,
          "vm": 0, "n": dict.fromkeys(("mmap", "munmap", "mremap", "brk"), 0), "failed": 0,
          "last_ts": None, "stored_mapped": None, "calls": 0}
    rs = RangeSet()
    for r in rows:
        (seq, ts, call, addr, ln, new_addr, new_len, off, ret, vm, prot, flags, fdev, fino,
         stored_mapped) = r
        if t_ns is not None and ts > t_ns:
            continue
        st["calls"] += 1
        st["last_ts"] = ts
        st["stored_mapped"] = stored_mapped
        st["vm"] = vm
        if call == MMAP:
            st["n"]["mmap"] += 1
            if ret < 0:
                st["failed"] += 1
                continue
            st["net"] += ln
            st["req"] += ln
            anon = flags & MAP_BITS["MAP_ANONYMOUS"]
            rs.mmap(ret, ln, {"created": ts, "prot": prot, "flags": flags,
                              "dev": None if anon else dev_name(fdev), "ino": 0 if anon else fino,
                              "offset": off, "via": "mmap"})
        elif call == MUNMAP:
            st["n"]["munmap"] += 1
            if ret != 0:
                st["failed"] += 1
                continue
            st["net"] -= ln
            rs.munmap(addr, ln)
        elif call == MREMAP:
            st["n"]["mremap"] += 1
            if ret < 0:
                st["failed"] += 1
                continue
            rs.mremap(addr, ln, new_len, flags, ret, ts)
        elif call == BRK:
            st["n"]["brk"] += 1
            if addr != 0 and ret != addr:
                st["failed"] += 1
            if not st["heap_known"]:
                st["heap_known"] = True
                st["heap"] = st["base"] = ln
                continue
            st["heap"] = ln
            st["base"] = min(st["base"], ln)
        elif call in (EXEC, EXIT):
            rs.clear()
            st.update(net=0, heap=0, base=0, heap_known=False)
            if call == EXIT:
                st.update(exited=True, vm=0)
    if not st["calls"]:
        return None
    return {"state": "exited" if st["exited"] else "alive",
            "memory_held_bytes": max(st["net"], 0), "net_bytes_raw": st["net"],
            "mapped_bytes": rs.total_bytes() + st["heap"] - st["base"],
            "vm_size_bytes": st["vm"], "requested_bytes": st["req"],
            "n_mmap": st["n"]["mmap"], "n_munmap": st["n"]["munmap"],
            "n_mremap": st["n"]["mremap"], "n_brk": st["n"]["brk"], "n_failed": st["failed"],
            "last_seen_ns": st["last_ts"], "stored_mapped_bytes": st["stored_mapped"],
            "ranges": rs}


SCALARS = ("state", "memory_held_bytes", "net_bytes_raw", "mapped_bytes", "vm_size_bytes",
           "requested_bytes", "n_mmap", "n_munmap", "n_mremap", "n_brk", "n_failed", "last_seen_ns")


def scalar_diff(want, got, fields=SCALARS):
    """Fields of the API object GOT that differ from the replay WANT."""
    bad = []
    for k in fields:
        g = got.get(k) if isinstance(got, dict) else None
        w = want[k]
        if isinstance(w, int) and not isinstance(w, bool):
            try:
                g = int(g)
            except (TypeError, ValueError):
                pass
        if g != w:
            bad.append("%s: api %r, replay %r" % (k, g, w))
    return bad


VIA = {"mmap", "mremap", "unknown"}


def api_ranges(rows):
    """/mappings rows as [start, end, attrs] (created = created_ns)."""
    out = []
    for m in rows:
        f = m.get("file")
        created = m.get("created_ns")
        out.append([int(m["addr"], 16), int(m["end"], 16),
                    {"created": int(created) if created is not None else None,
                     "prot": m.get("prot_raw"), "flags": m.get("flags_raw"),
                     "dev": f.get("dev") if f else None, "ino": int(f.get("ino", 0)) if f else 0,
                     "offset": m.get("offset_bytes"), "via": m.get("via"),
                     "path": f.get("path") if f else None, "size": m.get("size_bytes")}])
    return out


def same_attrs(w, g):
    """W (oracle) against G (api): None in W means not known to the oracle."""
    return all(w[k] is None or w[k] == g[k] for k in ("prot", "flags", "dev", "ino", "offset", "via"))


def compare(want, got, created_map=None, limit=8):
    """Differences between WANT and GOT ([start, end, attrs] lists, both
    normalised), as lines; with CREATED_MAP ({oracle created: api
    created_ns}) filled with the created values of matched ranges."""
    lines = []
    gi = {(s, e): at for s, e, at in got}
    wi = {(s, e): at for s, e, at in want}
    for (s, e), at in sorted(wi.items()):
        g = gi.get((s, e))
        if g is None:
            lines.append("missing in the api: 0x%x-0x%x %s" % (s, e, fmt(at)))
        elif not same_attrs(at, g):
            lines.append("differs at 0x%x-0x%x: oracle %s, api %s" % (s, e, fmt(at), fmt(g)))
        elif created_map is not None:
            created_map.setdefault(at["created"], set()).add(g["created"])
    for (s, e), at in sorted(gi.items()):
        if (s, e) not in wi:
            lines.append("not in the oracle: 0x%x-0x%x %s" % (s, e, fmt(at)))
    return lines[:limit] + (["... %d more" % (len(lines) - limit)] if len(lines) > limit else [])


def fmt(at):
    return "prot=%s flags=%s file=%s/%s off=%s via=%s created=%s" % (
        at["prot"], hex(at["flags"]) if isinstance(at["flags"], int) else at["flags"], at["dev"],
        at["ino"], at["offset"], at["via"], at["created"])
