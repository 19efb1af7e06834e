# Reads IEEE 754 bit patterns (16 hex digits a line) and prints each
# double as ECMAScript's Number.prototype.toString() would, from Python's
# repr() (the shortest digits that read back, the closest such): an
# independent oracle for Cairn's JCS number formatting.
import struct
import sys


def es(d):
    if d == 0:
        return "0"
    if d < 0:
        return "-" + es(-d)
    mant, _, exp = repr(d).partition("e")
    exp = int(exp) if exp else 0
    ip, _, fp = mant.partition(".")
    allds = ip + fp
    stripped = allds.lstrip("0")
    n = len(ip) + exp - (len(allds) - len(stripped))
    digits = stripped.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return head + "e" + sign + str(abs(n - 1))


for line in sys.stdin:
    bits = int(line, 16)
    print(es(struct.unpack("<d", struct.pack("<Q", bits))[0]))
