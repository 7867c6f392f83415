#!/usr/bin/env python3
"""Regenerate crates/rpc/protocol/{remote,qemu,admin}.procs, rvirt's
declaration of the procedures of libvirt 9.0's three RPC programs, from a
libvirt source tree.

    scripts/gen-remote-procs.py [--program remote|qemu|admin] [LIBVIRT_SRC] \
        > crates/rpc/protocol/PROGRAM.procs

The QEMU program (src/remote/qemu_protocol.x, virDomainQemu* APIs in
src/libvirt-qemu.c) and the ADMIN program (src/admin/admin_protocol.x,
virAdm* APIs in src/admin/libvirt-admin.c) are read the same way as REMOTE.

LIBVIRT_SRC defaults to /work/libvirt-src/libvirt. The facts read:

* src/remote/remote_protocol.x: each REMOTE_PROC_* constant, its number and
  the annotations in the comment before it (@priority, @acl, @readstream,
  @writestream), and which *_args / *_ret / *_msg structs exist for it.
* src/libvirt*.c: the public API functions. libvirtd refuses a call on a
  read-only connection only where the public API entry point says so
  (virCheckReadOnlyGoto, or a direct VIR_CONNECT_RO test); the @acl
  annotations drive the access-control drivers (polkit), not read-only.
  A check at the function's top level refuses every call ("write"); one
  nested under a flag test refuses only some calls ("flags").
* src/remote/remote_daemon_dispatch.c: for procedures whose daemon side is
  hand-written, which public API the dispatcher calls.

The output is a plain table, one procedure per line, read by
crates/rpc/build.rs; see the header it writes for the columns.
"""

import glob
import os
import re
import sys

ARGS = sys.argv[1:]
PROGRAM = "remote"
if ARGS[:1] == ["--program"]:
    PROGRAM, ARGS = ARGS[1], ARGS[2:]
SRC = ARGS[0] if ARGS else "/work/libvirt-src/libvirt"

# Per program: its .x file, the API prefix gendispatch.pl gives its
# procedures, and a title for the generated file.
PROGRAMS = {
    "remote": ("src/remote/remote_protocol.x", "REMOTE program (0x20008086, version 1)"),
    "qemu": ("src/remote/qemu_protocol.x", "QEMU program (0x20008087, version 1)"),
    "admin": ("src/admin/admin_protocol.x", "ADMIN program (0x06900690, version 1)"),
}

# gendispatch.pl's fixup_name: the capitalisation libvirt's API names use
# for some words of a procedure name (applied to each word).
FIXUPS = [
    (r"Nwfilter", "NWFilter"), (r"Xml$", "XML"), (r"Xml2$", "XML2"),
    (r"Uri$", "URI"), (r"Uuid$", "UUID"), (r"Id$", "ID"), (r"Mac$", "MAC"),
    (r"Cpu$", "CPU"), (r"Os$", "OS"), (r"Nmi$", "NMI"), (r"Pm", "PM"),
    (r"Fstrim$", "FSTrim"), (r"Fsfreeze$", "FSFreeze"), (r"Fsthaw$", "FSThaw"),
    (r"Fsinfo$", "FSInfo"), (r"Iothread$", "IOThread"), (r"Scsi", "SCSI"),
    (r"Wwn$", "WWN"), (r"Dhcp$", "DHCP"), (r"Threadpool$", "ThreadPool"),
]

# Procedures the daemon answers itself, with no public API behind them
# (remote_daemon_dispatch.c handles them before or without a virConnect).
DAEMON_ONLY = {
    "CONNECT_CLOSE", "AUTH_LIST", "AUTH_SASL_INIT", "AUTH_SASL_START",
    "AUTH_SASL_STEP", "AUTH_POLKIT",
}


def proc_name(name):
    words = [w.lower().capitalize() for w in name.split("_")]
    out = []
    for w in words:
        for pat, rep in FIXUPS:
            w = re.sub(pat, rep, w)
        out.append(w)
    name = "".join(out)
    if PROGRAM == "qemu":
        # gendispatch.pl: virDomainQemuAttach, virConnectDomainQemuMonitor...
        name = re.sub(r"^((Connect)?Domain)", r"\1Qemu", name)
    return name


def api_name(name):
    """The public API a procedure is named after."""
    return ("virAdm" if PROGRAM == "admin" else "vir") + proc_name(name)


def read(path):
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        return f.read()


def parse_procedures(x):
    """[(num, NAME, {annotation: [values]})] from enum remote_procedure."""
    body = re.search(r"enum %s_procedure \{(.*?)\n\};" % PROGRAM, x, re.S).group(1)
    procs, opts = [], {}
    for line in body.splitlines():
        m = re.match(r"\s*\*\s*@(\w+):\s*(.*?)\s*$", line)
        if m:
            opts.setdefault(m.group(1), []).append(m.group(2))
            continue
        m = re.match(r"\s*%s_PROC_(\w+)\s*=\s*(\d+)" % PROGRAM.upper(), line)
        if m:
            procs.append((int(m.group(2)), m.group(1), opts))
            opts = {}
    return procs


def parse_api_functions():
    """{virName: (VIR_FROM_x domain, readonly check)} for src/libvirt*.c."""
    apis = {}
    paths = glob.glob(os.path.join(SRC, "src", "libvirt*.c"))
    if PROGRAM == "admin":
        paths += glob.glob(os.path.join(SRC, "src", "admin", "libvirt-admin.c"))
    for path in sorted(paths):
        text = read(path)
        frm = re.search(r"#define VIR_FROM_THIS VIR_FROM_(\w+)", text).group(1)
        for m in re.finditer(r"^(?:[A-Za-z_][\w \*]*[ \*])?(vir\w+)\([^;{]*?\)\s*\n\{\n(.*?)\n\}", text, re.M | re.S):
            name, fbody = m.group(1), m.group(2)
            if re.search(r"^    virCheckReadOnlyGoto\(", fbody, re.M):
                check = "write"
            elif "virCheckReadOnlyGoto" in fbody or "VIR_CONNECT_RO" in fbody:
                check = "flags"
            else:
                check = "read"
            apis[name] = (frm, check)
    return apis


def daemon_calls(dispatch_c, pname, apis):
    """Public APIs a hand-written remoteDispatch<pname> calls, in order."""
    m = re.search(r"^remoteDispatch%s\(.*?\n\}\n" % pname, dispatch_c, re.M | re.S)
    if not m:
        return []
    called = re.findall(r"\b(vir\w+)\(", m.group(0))
    return [c for c in dict.fromkeys(called) if c in apis]


def api_for(name, opts, apis, dispatch_c):
    if PROGRAM == "remote" and name in DAEMON_ONLY:
        return None
    pname = proc_name(name)
    if api_name(name) in apis:
        return api_name(name)
    if PROGRAM != "remote":
        # virAdmConnectClose and the like have no RPC-side API check.
        return None
    calls = daemon_calls(dispatch_c, pname, apis)
    # Prefer the API the procedure is named after (virConnectListAllDomains
    # over the virDomainFree the dispatcher also calls).
    stem = re.sub(r"(Flags|Any)$", "", pname)
    for c in calls:
        if stem.lower() in c.lower() or c.lower()[3:] in pname.lower():
            return c
    if calls:
        return calls[0]
    raise SystemExit("no public API found for REMOTE_PROC_%s" % name)


def struct_names(x):
    return set(re.findall(r"^struct (%s_\w+)\s*\{" % PROGRAM, x, re.M))


def error_domains():
    """{NAME: number} of virErrorDomain, for the FROM column."""
    h = read("include/libvirt/virterror.h")
    return {n: int(v) for n, v in re.findall(r"VIR_FROM_(\w+)\s*=\s*(\d+)", h)}


def main():
    xpath, title = PROGRAMS[PROGRAM]
    x = read(xpath)
    dispatch_c = read("src/remote/remote_daemon_dispatch.c")
    apis = parse_api_functions()
    structs = struct_names(x)
    print(f"# {title}: libvirt 9.0's {PROGRAM}_procedure.")
    print(f"# Generated by scripts/gen-remote-procs.py from {os.path.basename(xpath)} and the")
    print("# public API in src/libvirt*.c; do not edit by hand.")
    print("#")
    print("# NUM NAME PRIORITY ACCESS API FROM ARGS RET STREAM ACL")
    print("#   ACCESS: read   a read-only connection may call it")
    print("#           flags  ... except with some flags, refused by the API itself")
    print("#           write  the API refuses read-only connections (virCheckReadOnlyGoto)")
    print("#           event  a server-to-client message, never a call")
    print("#   API: the public function (named in libvirt's errors), - for none")
    print("#   FROM: the API's error domain (VIR_FROM_THIS of its src/libvirt-*.c)")
    print(f"#   ARGS, RET: {PROGRAM}_<name>_args/_ret (or _msg for events), - for void")
    print("#   STREAM: read|write|- (@readstream/@writestream); ACL: @acl, comma-joined")
    print("#")
    print("# The error domains named in FROM (virErrorDomain):")
    domains = error_domains()
    used = sorted({frm for frm, _ in apis.values()} | {"NONE"}, key=domains.get)
    for name in used:
        print(f"from {name} {domains[name]}")
    for num, name, opts in parse_procedures(x):
        lname = name.lower()
        prio = opts.get("priority", ["low"])[0]
        acl = ",".join(opts.get("acl", [])) or "-"
        stream = "read" if "readstream" in opts else "write" if "writestream" in opts else "-"
        pre = PROGRAM
        if f"{pre}_{lname}_msg" in structs:
            print(f"{num} {name} {prio} event - NONE {pre}_{lname}_msg - - {acl}")
            continue
        args = f"{pre}_{lname}_args" if f"{pre}_{lname}_args" in structs else "-"
        ret = f"{pre}_{lname}_ret" if f"{pre}_{lname}_ret" in structs else "-"
        api = api_for(name, opts, apis, dispatch_c)
        frm, access = apis[api] if api else ("NONE", "read")
        print(f"{num} {name} {prio} {access} {api or '-'} {frm} {args} {ret} {stream} {acl}")


main()
