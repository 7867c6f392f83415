#!/usr/bin/env python3
"""Regenerate crates/rpc/protocol/{remote,qemu,admin}.types, rvirt's compact
copy of the XDR type definitions of libvirt 9.0's three RPC programs.

    scripts/gen-xdr-types.py [LIBVIRT_SRC] [OUT_DIR]

LIBVIRT_SRC defaults to /work/libvirt-src/libvirt, OUT_DIR to
crates/rpc/protocol. Reads src/remote/remote_protocol.x,
src/remote/qemu_protocol.x and src/admin/admin_protocol.x (constants,
typedefs, enums, structs, unions) and the few C constants they borrow from
libvirt's public headers (VIR_UUID_BUFLEN, VIR_TYPED_PARAM_*, ...).
crates/rpc/build.rs turns the output into Rust structs and codecs.

The output keeps libvirt's names and order, one declaration per line:

    const NAME VALUE                 VALUE a number or another constant
    typedef NAME TYPE
    enum NAME A=1 B=2 ...
    struct NAME                      then one "  FIELD TYPE" line per field
    union NAME TYPE DISCRIMINANT     then "  case VALUE FIELD TYPE" lines and
                                     at most one "  default FIELD TYPE";
                                     a void arm is "FIELD" "-", TYPE "void"

TYPE is a base type (int uint hyper uhyper char uchar short ushort float
double bool string opaque void) or a declared name, then at most one of
<MAX> (variable length, at most MAX; <> unbounded), [N] (fixed length) or
* (optional data).
"""

import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/libvirt-src/libvirt"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "crates", "rpc", "protocol")

PROGRAMS = [
    ("remote", "src/remote/remote_protocol.x", "REMOTE program (0x20008086)"),
    ("qemu", "src/remote/qemu_protocol.x", "QEMU program (0x20008087)"),
    ("admin", "src/admin/admin_protocol.x", "ADMIN program (0x06900690)"),
]

BASE = {
    "int": "int", "unsigned int": "uint", "unsigned": "uint",
    "hyper": "hyper", "unsigned hyper": "uhyper",
    "char": "char", "unsigned char": "uchar",
    "short": "short", "unsigned short": "ushort",
    "float": "float", "double": "double", "bool": "bool",
    "string": "string", "opaque": "opaque", "void": "void",
}


def read(path):
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        return f.read()


def header_constants():
    """C constants the .x files use: #defines of the public headers whose
    value is simple arithmetic, and the virTypedParameterType values."""
    consts = {}
    for name in ("libvirt-host.h", "libvirt-common.h.in", "libvirt-domain.h"):
        text = read("include/libvirt/" + name)
        for m in re.finditer(r"^#\s*define (VIR_\w+)\s+([\d +*()-]+?)\s*$", text, re.M):
            consts[m.group(1)] = str(eval(m.group(2), {"__builtins__": {}}))
        for m in re.finditer(r"^\s*(VIR_TYPED_PARAM_[A-Z]+)\s*=\s*(\d+)", text, re.M):
            consts[m.group(1)] = m.group(2)
    return consts


def strip(x):
    """The declarations: no comments, no %passthrough lines."""
    x = re.sub(r"/\*.*?\*/", " ", x, flags=re.S)
    x = re.sub(r"^%.*$", "", x, flags=re.M)
    return x


def type_of(decl):
    """'unsigned hyper flags' / 'remote_nonnull_domain *dom' /
    'opaque uuid[16]' -> (field name, compact type)."""
    decl = " ".join(decl.split())
    if decl == "void":
        return "-", "void"
    m = re.fullmatch(r"(.+?)\s*(\*?)\s*(\w+)\s*(<\s*\w*\s*>|\[\s*\w+\s*\])?", decl)
    if not m:
        raise SystemExit("cannot parse declaration: %r" % decl)
    base, ptr, name, dim = m.groups()
    base = BASE.get(base, base)
    if " " in base:
        raise SystemExit("unknown type: %r" % base)
    if base == "string" and not dim:
        raise SystemExit("string without a bound: %r" % decl)
    suffix = "*" if ptr else (dim or "").replace(" ", "")
    return name, base + suffix


def used_names(out):
    """Every constant named in a bound, an array length or a case label."""
    names = set()
    for line in out:
        names.update(re.findall(r"[<\[](\w+)[>\]]", line))
        m = re.match(r"  case (\w+) ", line)
        if m:
            names.add(m.group(1))
        m = re.match(r"const \w+ ([A-Za-z_]\w*)$", line)
        if m:
            names.add(m.group(1))
    return names


def parse(x):
    out = []
    pos = 0
    decl_re = re.compile(
        r"\s*(const|typedef|enum|struct|union)\s+(.*?);\s*(?=const|typedef|enum|struct|union|$)",
        re.S)
    while True:
        m = decl_re.match(x, pos)
        if not m:
            if x[pos:].strip():
                raise SystemExit("cannot parse near: %r" % x[pos:pos + 80])
            return out
        pos = m.end()
        kind, body = m.group(1), " ".join(m.group(2).split())
        if kind == "const":
            name, value = [s.strip() for s in body.split("=")]
            out.append(f"const {name} {value}")
        elif kind == "typedef":
            name, t = type_of(body)
            out.append(f"typedef {name} {t}")
        elif kind == "enum":
            name, items = re.fullmatch(r"(\w+) \{(.*)\}", body).groups()
            if name.endswith("_procedure"):
                continue  # the procedure numbers: gen-remote-procs.py
            vals = [re.sub(r"\s", "", i) for i in items.split(",") if i.strip()]
            out.append(f"enum {name} " + " ".join(vals))
        elif kind == "struct":
            name, fields = re.fullmatch(r"(\w+) \{(.*)\}", body).groups()
            out.append(f"struct {name}")
            for f in fields.split(";"):
                if f.strip():
                    fname, t = type_of(f)
                    out.append(f"  {fname} {t}")
        else:
            name, dt, dn, arms = re.fullmatch(
                r"(\w+) switch \(\s*(.+?)\s+(\w+)\s*\) \{(.*)\}", body).groups()
            out.append(f"union {name} {BASE[dt]} {dn}")
            for label, d in re.findall(r"(case \w+|default)\s*:\s*([^;]*);", arms):
                fname, t = type_of(d)
                out.append(f"  {label} {fname} {t}")


def main():
    headers = header_constants()
    for prog, path, title in PROGRAMS:
        body = parse(strip(read(path)))
        defined = {line.split()[1] for line in body if line.startswith("const ")}
        externs = sorted(n for n in used_names(body) if n in headers and n not in defined)
        lines = [
            f"# {title}: the XDR types of libvirt 9.0's {os.path.basename(path)}.",
            "# Generated by scripts/gen-xdr-types.py; do not edit by hand.",
            "# Format: see the script's docstring. Constants from libvirt's public",
            "# headers that the protocol file uses come first.",
        ]
        lines += [f"const {n} {headers[n]}" for n in externs]
        lines += body
        with open(os.path.join(OUT, prog + ".types"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


main()
