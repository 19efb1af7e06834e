#!/usr/bin/env python3
"""audit_verify.py - an independent verifier for Cairn's audit trail.

It shares no code with Cairn: it re-derives every byte from the published
format (docs/audit.md, docs/audit-format.md) with Python's json, hashlib and
the `cryptography` package's Ed25519, so a bug in Cairn's own verifier cannot
hide a bug in Cairn's writer.

What it checks, in order:
  * audit.log is JSON lines; each line is exactly the RFC 8785 (JCS) form of
    the entry it holds (re-serialised here and compared byte for byte);
  * seq counts from 0 without gaps, time is RFC 3339 UTC;
  * prev is the hex SHA-256 of the previous entry's leaf bytes (64 zeros for
    seq 0);
  * sig is Ed25519 over JCS(entry without sig) by the current key, starting
    from the trusted verifier key and following `key.rotated` entries;
  * every checkpoint note (audit.checkpoints, plus any --checkpoint FILE):
    its signature by the key current after `size` entries (key id, Ed25519
    over the body), and its root hash against the RFC 6962 Merkle root of the first `size`
    leaves; a checkpoint larger than the log means the log was truncated.
A last line without its newline is a torn tail: reported, not tampering.

Usage:
  audit_verify.py --key VERIFIER_KEY_OR_FILE [--checkpoint FILE]... STATE_DIR|LOG
Prints "ok: ..." and exits 0, or "FAIL: entry N: reason" /
"FAIL: checkpoint K: reason" and exits 1; usage errors exit 2.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"
ROTATION_ACTION = "key.rotated"
# Where a key.rotated entry carries the new verifier key, in details.
ROTATION_FIELDS = ("newKey",)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


class Failure(Exception):
    pass


# ---- RFC 8785 (JCS) -------------------------------------------------------


def jcs_number(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        if abs(v) > 2**53:
            raise Failure("integer %d is beyond 2^53, not representable in JCS" % v)
        return str(v)
    if not math.isfinite(v):
        raise Failure("non-finite number")
    if v == 0:
        return "0"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    # ECMAScript Number::toString: shortest round-trip digits, then layout.
    r = repr(abs(v))
    mant, _, exp = r.partition("e")
    exp = int(exp) if exp else 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = (ip + fp).lstrip("0")
    point = len(ip.lstrip("0")) + exp if ip.lstrip("0") else exp - (len(fp) - len(fp.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    sign = "-" if v < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    es = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return sign + digits + "e" + es
    return sign + digits[0] + "." + digits[1:] + "e" + es


def jcs_string(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20:
            out.append("\\u%04x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            raise Failure("lone surrogate in a string")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return jcs_number(v)
    if isinstance(v, str):
        return jcs_string(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        # Members sorted by their UTF-16 code units, as RFC 8785 §3.2.3 says.
        keys = sorted(v.keys(), key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs_string(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise Failure("unexpected JSON value %r" % (v,))


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Failure("duplicate member %r" % k)
        d[k] = v
    return d


def parse_json(text):
    return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=lambda c: _bad(c))


def _bad(c):
    raise Failure("non-standard JSON constant %s" % c)


# ---- keys and Merkle trees ------------------------------------------------


def key_id(name, pub):
    return hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]


def parse_verifier_key(text):
    """<name>+<hex key id>+<base64(0x01 || public key)> -> (name, pub)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not parts[0]:
        raise Failure("malformed verifier key %r" % text.strip()[:80])
    name, hid, b64 = parts
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise Failure("verifier key %r is not an Ed25519 key (0x01 || 32 bytes)" % name)
    pub = raw[1:]
    if key_id(name, pub).hex() != hid.lower() or len(hid) != 8:
        raise Failure("verifier key %r: key id %s does not match its key" % (name, hid))
    return name, pub


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves):
    """RFC 6962 §2.1 MTH over a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


# ---- the log --------------------------------------------------------------


def verify_entry(e, line, seq, prev, key):
    if not isinstance(e, dict):
        raise Failure("not a JSON object")
    if jcs(e).encode() != line:
        raise Failure("line is not the canonical (JCS) form of its entry")
    for field in ("seq", "time", "actor", "action", "subject", "details", "key", "prev", "sig"):
        if field not in e:
            raise Failure("missing field %r" % field)
    if type(e["seq"]) is not int or e["seq"] != seq:
        raise Failure("seq is %r, expected %d" % (e["seq"], seq))
    if not isinstance(e["time"], str) or not RFC3339.match(e["time"]):
        raise Failure("time %r is not RFC 3339" % (e["time"],))
    for field in ("actor", "action"):
        v = e[field]
        if not isinstance(v, str) or not v or any(ord(c) < 0x20 or ord(c) == 0x7F for c in v):
            raise Failure("%s %r is empty or holds control characters" % (field, v))
    if e["prev"] != prev:
        raise Failure("prev does not match the hash of entry %d" % (seq - 1) if seq else
                      "prev of the first entry is not 64 zeros")
    name, pub = key
    if e["key"] != name:
        raise Failure("signed by key %r, expected %r" % (e["key"], name))
    msg = dict(e)
    del msg["sig"]
    try:
        sig = base64.b64decode(e["sig"], validate=True)
    except Exception:
        raise Failure("sig is not base64")
    if len(sig) != 64:
        raise Failure("sig is not 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, jcs(msg).encode())
    except InvalidSignature:
        raise Failure("bad signature by key %r" % name)


def rotated_key(e):
    details = e.get("details")
    if not isinstance(details, dict):
        raise Failure("key.rotated entry has no details object")
    for f in ROTATION_FIELDS:
        v = details.get(f)
        if isinstance(v, str) and v.count("+") >= 2:
            return parse_verifier_key(v)
    raise Failure("key.rotated entry names no new verifier key")


def read_log(path, trusted):
    """Returns (leaves, key_at, torn_bytes, first_time, last_time); key_at[n] is
    the key current after n entries (key_at[n] signed entry n)."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    torn = lines.pop()  # what follows the last newline: b"" unless torn
    leaves, keys, key_at = [], [trusted], [trusted]
    prev = "0" * 64
    first = last = None
    for seq, line in enumerate(lines):
        try:
            try:
                e = parse_json(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as ex:
                raise Failure("not valid JSON (%s)" % str(ex).split(":")[0])
            verify_entry(e, line, seq, prev, keys[-1])
            if e["action"] == ROTATION_ACTION:
                keys.append(rotated_key(e))
        except Failure as f:
            raise Failure("entry %d: %s" % (seq, f))
        prev = hashlib.sha256(line).hexdigest()
        leaves.append(leaf_hash(line))
        key_at.append(keys[-1])
        first = first or e["time"]
        last = e["time"]
    return leaves, key_at, torn, first, last


def split_notes(text):
    """A checkpoints file is signed notes one after another: body (3 lines),
    a blank line, then signature lines starting with an em dash."""
    notes, lines, i = [], text.split("\n"), 0
    if lines and lines[-1] == "":
        lines.pop()
    else:
        raise Failure("checkpoints file does not end with a newline")
    while i < len(lines):
        if i + 4 > len(lines) or lines[i + 3] != "":
            raise Failure("checkpoint %d: malformed note" % len(notes))
        body = "\n".join(lines[i:i + 3]) + "\n"
        j, sigs = i + 4, []
        while j < len(lines) and lines[j].startswith(EM_DASH + " "):
            sigs.append(lines[j])
            j += 1
        if not sigs:
            raise Failure("checkpoint %d: no signature line" % len(notes))
        notes.append((body, sigs))
        i = j
    return notes


def verify_note(idx, body, sigs, key_at, leaves):
    origin, size_s, root_b64 = body[:-1].split("\n")
    if not origin or not re.fullmatch(r"[1-9][0-9]*|0", size_s):
        raise Failure("checkpoint %d: malformed body" % idx)
    size = int(size_s)
    root = base64.b64decode(root_b64, validate=True)
    if len(root) != 32:
        raise Failure("checkpoint %d: root is not 32 bytes" % idx)
    if size > len(leaves):
        raise Failure("checkpoint %d: covers %d entries but the log holds %d: truncated log"
                      % (idx, size, len(leaves)))
    # Signed by the key that signed the last entry it covers (docs/audit-format.md).
    kname, pub = key_at[size - 1] if size > 0 else key_at[0]
    signed = False
    for line in sigs:
        parts = line[2:].split(" ")
        if len(parts) != 2:
            raise Failure("checkpoint %d: malformed signature line" % idx)
        name, blob = parts[0], base64.b64decode(parts[1], validate=True)
        if len(blob) != 68:
            continue
        if kname != name or key_id(kname, pub) != blob[:4]:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(blob[4:], body.encode())
            signed = True
        except InvalidSignature:
            raise Failure("checkpoint %d (size %d): bad signature by %r" % (idx, size, name))
    if not signed:
        raise Failure("checkpoint %d (size %d): not signed by %r, the key current at that size"
                      % (idx, size, kname))
    if merkle_root(leaves[:size]) != root:
        raise Failure("checkpoint %d (size %d): root hash does not match the log" % (idx, size))
    return size


def main(argv):
    ap = argparse.ArgumentParser(description="independent verifier of a Cairn audit trail")
    ap.add_argument("--key", required=True, help="trusted verifier key, as text or a file")
    ap.add_argument("--checkpoint", action="append", default=[], help="extra checkpoint file")
    ap.add_argument("path", help="state directory or audit.log")
    a = ap.parse_args(argv)
    keytext = a.key
    if os.path.exists(a.key):
        with open(a.key) as f:
            keytext = f.read()
    log = a.path
    cps = []
    if os.path.isdir(a.path):
        log = os.path.join(a.path, "audit.log")
        cpf = os.path.join(a.path, "audit.checkpoints")
        if os.path.exists(cpf):
            cps.append(cpf)
    cps += a.checkpoint
    try:
        trusted = parse_verifier_key(keytext)
        leaves, key_at, torn, first, last = read_log(log, trusted)
        ncp = 0
        for path in cps:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8")
            for body, sigs in split_notes(text):
                verify_note(ncp, body, sigs, key_at, leaves)
                ncp += 1
    except Failure as f:
        print("FAIL: %s" % f)
        return 1
    except OSError as e:
        print("FAIL: %s" % e)
        return 1
    print("ok: %d entries, %d checkpoints, %d keys, first %s, last %s%s"
          % (len(leaves), ncp, len({k for k in key_at}), first, last,
             ", torn tail of %d bytes" % len(torn) if torn else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
