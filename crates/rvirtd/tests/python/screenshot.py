#!/usr/bin/python3
"""python3-libvirt's virDomainScreenshot against a daemon's
test:///default: the MIME type, the image read to the end of its stream
(length and SHA-256), a second screenshot, and the refusals (unknown flags,
a read-only connection). Ends with 'DONE'."""

import hashlib
import sys

import libvirt
from transcript import caller

URI = sys.argv[1]
call = caller(lambda v: v)


def image(conn, dom, screen, flags):
    stream = conn.newStream()
    mime = dom.screenshot(stream, screen, flags)
    data = bytearray()

    def sink(_stream, chunk, _opaque):
        data.extend(chunk)
        return len(chunk)

    stream.recvAll(sink, None)
    stream.finish()
    return (mime, len(data), hashlib.sha256(data).hexdigest())


conn = libvirt.open(URI)
dom = conn.lookupByName("test")
call("screenshot", image, conn, dom, 0, 0)
call("screenshot screen 3", image, conn, dom, 3, 0)
call("screenshot flags 1", image, conn, dom, 0, 1)
ro = libvirt.openReadOnly(URI)
call("screenshot read-only", image, ro, ro.lookupByName("test"), 0, 0)
print("DONE")
