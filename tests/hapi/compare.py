#!/usr/bin/env python3
"""Compares HAPI FHIR's validator (Differential.java's JSON lines) with `hie-vc validate
--format json` over the same files, and fails on any disagreement the allow-list does not
explain.

usage: compare.py HAPI.jsonl OURS.jsonl ALLOW.json [--table OUT.md]

A HAPI error must be matched by an error of ours at the same element (locations compared
without array indices and choice types; HAPI's cardinality errors, which it reports at the
parent, at the element its message names; see `matches`). Each error of ours must be matched by a HAPI error, or be a named workflow rule
(a rule id not starting with `profile-`). Anything else is a disagreement, allowed only by an
entry of ALLOW.json (each says why)."""

import json
import re
import sys
from collections import Counter, defaultdict


def norm(loc):
    loc = re.sub(r"\.ofType\([^)]*\)", "", loc)
    loc = re.sub(r"\[\d+\]", "", loc)
    loc = re.sub(r"\.value[A-Z][A-Za-z]*$", ".value", loc)
    loc = re.sub(r"\.value[A-Z][A-Za-z]*\.", ".value.", loc)
    return loc.replace("[x]", "")


def hapi_location(i):
    """Where a HAPI issue is: its location, or for a cardinality error the element named."""
    loc = i["location"]
    m = re.match(r"^([A-Za-z0-9_.:\[\]-]+): (minimum required|max allowed)", i["message"])
    if m and i["messageId"].startswith("Validation_VAL_Profile_M"):
        element = re.sub(r":[A-Za-z0-9_-]+", "", m.group(1))
        base = norm(loc)
        # The element path below the parent: the parent's element path is a prefix of it once
        # the Bundle entry prefix (Bundle.entry.resource.<Type>) is set aside.
        parent_elem = re.sub(r"^Bundle\.entry\.resource\.?", "", base)
        rt = element.split(".")[0]
        if base.startswith("Bundle.entry.resource"):
            parent_elem = rt + ("." + parent_elem if parent_elem else "")
        rest = element[len(parent_elem):] if element.startswith(parent_elem) else "." + element.split(".")[-1]
        return base + rest
    m = re.match(r"^Slice '([A-Za-z0-9_.:-]+)' for extension", i["message"])
    if m and i["messageId"] == "Validation_VAL_Profile_Minimum_SLICE_EXT":
        # Reported at the resource; the element is the sliced one (`Slot.extension`).
        element = re.sub(r":[A-Za-z0-9_-]+", "", m.group(1))
        base = norm(loc)
        rest = element[element.index("."):] if "." in element else ""
        return (base if base.startswith("Bundle.entry.resource") else element.split(".")[0]) + rest
    return norm(loc)


def inside(a, b):
    """a is b or an element below it (b has at least two steps: not a resource root)."""
    if a == b:
        return True
    # Below the root: a resource's root is `Type`, a Bundle entry's `Bundle.entry.resource`.
    if b.startswith("Bundle.entry.resource"):
        below_root = len(b.split(".")) > 3
    else:
        below_root = len(b.split(".")) >= 2
    return below_root and a.startswith(b + ".")


def matches(h, o, issue):
    """HAPI's error at h is ours at o: the same element, ours inside it (HAPI names the
    CodeableConcept, we the coding's code), or HAPI's inside ours when ours enforces a profile
    element (a workflow rule naming the element a profile rule constrains below)."""
    return inside(o, h) or (inside(h, o) and (issue.get("profile") or issue["rule"].startswith("profile-")))


def allowed(allow, side, issue, loc):
    for a in allow:
        if a["side"] != side:
            continue
        if "messageId" in a and a["messageId"] != issue.get("messageId"):
            continue
        if "message" in a and a["message"] not in issue.get("message", ""):
            continue
        if "rule" in a and a["rule"] != issue.get("rule"):
            continue
        if "location" in a and not re.search(a["location"], loc):
            continue
        if "file" in a and not re.search(a["file"], issue.get("_file", "")):
            continue
        return a
    return None


def main():
    hapi_path, ours_path, allow_path = sys.argv[1:4]
    table_out = sys.argv[sys.argv.index("--table") + 1] if "--table" in sys.argv else None
    with open(allow_path, encoding="utf-8") as f:
        allow = json.load(f)["allow"]
    for a in allow:
        if not a.get("why"):
            sys.exit(f"allow-list entry {a.get('id')} has no 'why'")
    hapi = {}
    with open(hapi_path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            hapi[d["file"].rsplit("/", 1)[-1]] = d["issues"]
    ours = {}
    with open(ours_path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ours[d["file"].rsplit("/", 1)[-1]] = d["issues"]
    if set(hapi) != set(ours):
        sys.exit(f"the two sides saw different files: {sorted(set(hapi) ^ set(ours))[:5]}")
    stats = Counter()
    used = Counter()
    by_rule = Counter()
    failures = []
    for file in sorted(hapi):
        h_errs = [dict(i, _file=file) for i in hapi[file] if i["severity"] in ("error", "fatal")]
        o_errs = [dict(i, _file=file) for i in ours[file] if i["severity"] == "error"]
        h_locs = [hapi_location(i) for i in h_errs]
        o_locs = [norm(i["location"]) for i in o_errs]
        stats["files"] += 1
        for i, hl in zip(h_errs, h_locs):
            stats["hapi errors"] += 1
            if any(matches(hl, ol, oi) for ol, oi in zip(o_locs, o_errs)):
                stats["hapi errors matched by ours"] += 1
                continue
            a = allowed(allow, "hapi", i, hl)
            if a:
                stats["hapi errors allowed"] += 1
                used[a["id"]] += 1
            else:
                stats["hapi errors MISSED"] += 1
                failures.append(f"{file}: HAPI error ours lacks: {hl}: [{i['messageId']}] {i['message'][:200]}")
        for i, ol in zip(o_errs, o_locs):
            stats["our errors"] += 1
            if any(matches(hl, ol, i) for hl in h_locs):
                stats["our errors matched by HAPI"] += 1
                by_rule[i["rule"]] += 1
                continue
            if not i["rule"].startswith("profile-"):
                stats["our errors only ours: workflow rules"] += 1
                by_rule["(workflow only) " + i["rule"]] += 1
                continue
            a = allowed(allow, "ours", i, ol)
            if a:
                stats["our profile errors allowed"] += 1
                used[a["id"]] += 1
            else:
                stats["our profile errors UNEXPLAINED"] += 1
                failures.append(f"{file}: our profile error HAPI lacks: {ol}: [{i['rule']}] {i['message'][:200]}")
    lines = ["| measure | count |", "|---|---|"]
    for k in ["files", "hapi errors", "hapi errors matched by ours", "hapi errors allowed", "hapi errors MISSED",
              "our errors", "our errors matched by HAPI", "our errors only ours: workflow rules",
              "our profile errors allowed", "our profile errors UNEXPLAINED"]:
        lines.append(f"| {k} | {stats[k]} |")
    lines += ["", "| allow-list entry | disagreements it explains |", "|---|---|"]
    for a in allow:
        lines.append(f"| `{a['id']}` | {used[a['id']]} |")
    lines += ["", "| our rule (errors) | count |", "|---|---|"]
    for r, c in sorted(by_rule.items()):
        lines.append(f"| `{r}` | {c} |")
    table = "\n".join(lines)
    print(table)
    if table_out:
        with open(table_out, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    unused = [a["id"] for a in allow if used[a["id"]] == 0]
    if unused:
        failures.append(f"allow-list entries that explain nothing (remove them): {unused}")
    if failures:
        print(f"\n{len(failures)} disagreements not in {allow_path}:", file=sys.stderr)
        for f_ in failures[:60]:
            print("  " + f_, file=sys.stderr)
        sys.exit(1)
    print(f"\nagreement: every HAPI error matched or explained, every profile error of ours matched or explained")


if __name__ == "__main__":
    main()
