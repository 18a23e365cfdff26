#!/usr/bin/env python3
"""irctest-report.py NAME=junit.xml [NAME=junit.xml ...] [--failures FILE.md]
                   [--isolated isolated.txt]

Compares irctest runs (junit.xml files written by ../shared/bench/irc/
run-irctest.sh) of several servers:
  * a per-file table: passed/failed/skipped of every server side by side;
  * with --failures FILE.md, the failing tests of the FIRST server grouped
    by irctest file (feature), each with irctest's assertion message and the
    line of irctest that failed, and which of the other servers pass it;
    --isolated adds the verdict of bench/irc/run-irctest.sh's re-run of each
    failure alone on a fresh server (its IRCTEST_OUT/isolated.txt).
"""
import collections
import re
import sys
import xml.etree.ElementTree as ET


def load(path):
    """{(file, class, test): (kind, message, where)}"""
    res = {}
    for tc in ET.parse(path).iter("testcase"):
        cls = tc.get("classname", "")
        parts = cls.split(".")
        f = ".".join(parts[2:-1]) if len(parts) > 3 else cls
        kind, msg, where = "passed", "", ""
        for ch in tc:
            if ch.tag in ("failure", "error"):
                kind = "failed" if ch.tag == "failure" else "error"
                msg = (ch.get("message") or "").strip()
                # the last "irctest/server_tests/x.py:N" in the traceback is the test's line
                locs = re.findall(r"(irctest/server_tests/[\w/]+\.py:\d+)", ch.text or "")
                where = locs[-1] if locs else ""
            elif ch.tag == "skipped":
                kind = "xfailed" if ch.get("type") == "pytest.xfail" else "skipped"
                msg = (ch.get("message") or "").strip()
        res[(f, parts[-1] if parts else cls, tc.get("name"))] = (kind, msg, where)
    return res


def main(argv):
    fail_out = None
    isolated = {}
    runs = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--failures":
            fail_out = argv[i + 1]
            i += 2
            continue
        if a == "--isolated":
            for line in open(argv[i + 1]):
                w = line.split()
                if len(w) >= 3 and w[1] == "isolated":
                    isolated[w[0]] = w[2]
            i += 2
            continue
        name, _, path = a.partition("=")
        runs.append((name, load(path)))
        i += 1
    if not runs:
        print(__doc__, file=sys.stderr)
        return 2

    files = sorted({k[0] for _, r in runs for k in r})
    names = [n for n, _ in runs]
    print("| irctest file | " + " | ".join(f"{n} pass/fail/skip" for n in names) + " |")
    print("|---" * (len(names) + 1) + "|")
    tot = {n: collections.Counter() for n in names}
    for f in files:
        cells = []
        for n, r in runs:
            c = collections.Counter(v[0] for k, v in r.items() if k[0] == f)
            tot[n].update(c)
            cells.append(f"{c['passed']}/{c['failed'] + c['error']}/{c['skipped'] + c['xfailed']}")
        print(f"| {f} | " + " | ".join(cells) + " |")
    print("| **total** | " + " | ".join(
        f"**{tot[n]['passed']}/{tot[n]['failed'] + tot[n]['error']}/{tot[n]['skipped'] + tot[n]['xfailed']}**"
        for n in names) + " |")

    if fail_out:
        first, r0 = runs[0]
        fails = [(k, v) for k, v in r0.items() if v[0] in ("failed", "error")]
        by_file = collections.defaultdict(list)
        for k, v in sorted(fails):
            by_file[k[0]].append((k, v))
        with open(fail_out, "w") as out:
            out.write(f"# irctest failures of {first} ({len(fails)} tests)\n\n")
            out.write("Grouped by irctest file (feature). Each entry: test, irctest's assertion "
                      "message, the irctest line that failed, and which other servers pass "
                      "the same test in their runs.\n")
            for f in sorted(by_file):
                out.write(f"\n## {f} ({len(by_file[f])})\n\n")
                for (ff, cls, test), (kind, msg, where) in by_file[f]:
                    others = [n for n, r in runs[1:] if r.get((ff, cls, test), ("",))[0] == "passed"]
                    m = re.sub(r"\s+", " ", msg)
                    if len(m) > 600:
                        m = m[:600] + " ..."
                    iso = isolated.get(f"{cls}.{test.split('[')[0]}")
                    iso = ("; alone on a fresh server: " + iso
                           + (" (a shared-server artifact)" if iso == "PASS" else "")) if iso else ""
                    out.write(f"- `{cls}.{test}`" + (f" ({kind})" if kind == "error" else "")
                              + (f" — `{where}`" if where else "")
                              + f" — passes on: {', '.join(others) if others else 'none'}{iso}\n"
                              + f"  - {m}\n")
        print(f"\n{len(fails)} failing tests of {first} written to {fail_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
