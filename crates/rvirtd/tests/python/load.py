#!/usr/bin/python3
"""Load: CLIENTS processes, each with its own connection, each doing CALLS
lookupByName('test').info() pairs. Prints
'pairs=N errors=E seconds=S rate=R client_cpu_us_per_pair=C' (C: the CPU
the client processes spent in their call loops, per pair)."""

import multiprocessing
import sys
import time

import libvirt


def worker(args):
    uri, calls, start_at = args
    libvirt.registerErrorHandler(lambda *a: None, None)
    errors = 0
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as e:
        return (0, calls, str(e), 0.0)
    while time.time() < start_at:
        time.sleep(0.001)
    cpu_start = time.process_time()
    ok = 0
    last = ""
    for _ in range(calls):
        try:
            conn.lookupByName("test").info()
            ok += 1
        except libvirt.libvirtError as e:
            errors += 1
            last = str(e)
    cpu = time.process_time() - cpu_start
    conn.close()
    return (ok, errors, last, cpu)


def main():
    uri, clients, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    start_at = time.time() + 1.0 + clients * 0.01
    with multiprocessing.Pool(clients) as pool:
        res = pool.map_async(worker, [(uri, calls, start_at)] * clients)
        out = res.get()
    elapsed = time.time() - start_at
    ok = sum(r[0] for r in out)
    errors = sum(r[1] for r in out)
    last = [r[2] for r in out if r[2]]
    cpu_us = sum(r[3] for r in out) * 1e6 / max(clients * calls, 1)
    print(
        f"pairs={ok} errors={errors} seconds={elapsed:.2f} rate={ok / elapsed:.0f}"
        f" client_cpu_us_per_pair={cpu_us:.1f}"
    )
    if last:
        print("last error:", last[0])
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
