#!/usr/bin/python3
"""python3-libvirt's tuning and pinning calls against a daemon's
test:///default: memory, blkio and NUMA parameters (defaults, changes,
live versus config, the refusals), vCPU and emulator pinning and their
info, virDomainGetVcpus (cpu times masked: they come from the clock), on
the running domain 'test' and on a defined, inactive one. Ends with
'DONE'."""

import sys

import libvirt
from transcript import caller

URI = sys.argv[1]
call = caller(lambda v: v)
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG

INACTIVE = """<domain type='test'><name>idle</name><memory>1048576</memory>
<vcpu cpuset='1-2'>4</vcpu><os><type>hvm</type></os></domain>"""


def vcpus(dom):
    """virDomainGetVcpus, its times replaced by whether they are set."""
    info, maps = dom.vcpus()
    return ([(n, s, t > 0, c) for (n, s, t, c) in info], maps)


def tuning(dom, tag):
    for flags in (0, LIVE, CONFIG, LIVE | CONFIG, 1 << 5):
        call(f"{tag} memory {flags}", dom.memoryParameters, flags)
        call(f"{tag} blkio {flags}", dom.blkioParameters, flags)
        call(f"{tag} numa {flags}", dom.numaParameters, flags)
        call(f"{tag} vcpuPinInfo {flags}", dom.vcpuPinInfo, flags)
        call(f"{tag} emulatorPinInfo {flags}", dom.emulatorPinInfo, flags)


conn = libvirt.open(URI)
test = conn.lookupByName("test")
idle = conn.defineXML(INACTIVE)
tuning(test, "test")
tuning(idle, "idle")

# Memory limits: the order check against swap_hard_limit, each scope.
call("set memory", test.setMemoryParameters, {"hard_limit": 1024, "soft_limit": 512}, 0)
call("set memory swap", test.setMemoryParameters, {"swap_hard_limit": 2048}, CONFIG)
call("set memory over swap", test.setMemoryParameters,
     {"hard_limit": 4096, "swap_hard_limit": 2048}, 0)
call("set memory flags", test.setMemoryParameters, {"hard_limit": 1}, 1 << 4)
call("set memory idle live", idle.setMemoryParameters, {"soft_limit": 1}, LIVE)
call("set memory idle", idle.setMemoryParameters, {"soft_limit": 77}, 0)
call("memory live", test.memoryParameters, LIVE)
call("memory config", test.memoryParameters, CONFIG)
call("memory idle", idle.memoryParameters, 0)

# Blkio: the weight and the device lists, merged by path.
call("set blkio", test.blkioParameters, 0)
call("set blkio weight", test.setBlkioParameters, {"weight": 300}, 0)
call("set blkio devices", test.setBlkioParameters,
     {"device_weight": "/dev/sda,100,/dev/sdb,200"}, 0)
call("set blkio merge", test.setBlkioParameters,
     {"device_read_iops_sec": "/dev/sda,10", "device_weight": "/dev/sdb,0,/dev/sdc,0"}, 0)
call("set blkio bad", test.setBlkioParameters, {"device_weight": "/dev/sda"}, 0)
call("set blkio bad value", test.setBlkioParameters, {"device_write_bytes_sec": "/dev/sda,x"}, 0)
call("set blkio config", test.setBlkioParameters, {"device_write_bytes_sec": "/dev/vda,99"}, CONFIG)
call("blkio live", test.blkioParameters, LIVE)
call("blkio config", test.blkioParameters, CONFIG)

# NUMA: a mode without a nodeset, nodesets, bad ones, the live mode rule.
call("set numa mode only", test.setNumaParameters, {"numa_mode": 1}, 0)
call("set numa bad mode", test.setNumaParameters, {"numa_mode": 9}, 0)
call("set numa bad nodeset", test.setNumaParameters, {"numa_nodeset": "aaa"}, 0)
call("set numa nodeset", test.setNumaParameters, {"numa_nodeset": "0-1"}, 0)
call("numa", test.numaParameters, 0)
call("set numa mode live", test.setNumaParameters, {"numa_mode": 2}, LIVE)
call("set numa mode config", test.setNumaParameters, {"numa_mode": 2, "numa_nodeset": "1"}, CONFIG)
call("numa live", test.numaParameters, LIVE)
call("numa config", test.numaParameters, CONFIG)
call("set numa idle", idle.setNumaParameters, {"numa_mode": 2}, 0)

# Pinning.
call("pin vcpu", test.pinVcpu, 0, (True, False, True))
call("pin vcpu flags live", test.pinVcpuFlags, 0, (False, True), LIVE)
call("pin vcpu flags 0", test.pinVcpuFlags, 1, (False, True), 0)
call("pin vcpu absent", test.pinVcpu, 5, (True,))
call("pin vcpu idle", idle.pinVcpu, 0, (True,))
call("vcpuPinInfo after", test.vcpuPinInfo, 0)
call("vcpus", vcpus, test)
call("vcpus idle", vcpus, idle)
call("pin emulator", test.pinEmulator, (False, False, True, True), 0)
call("pin emulator empty", test.pinEmulator, (False,), 0)
call("pin emulator config", test.pinEmulator, (True,), CONFIG)
call("emulatorPinInfo live", test.emulatorPinInfo, LIVE)
call("emulatorPinInfo config", test.emulatorPinInfo, CONFIG)
call("pin emulator idle", idle.pinEmulator, (True, True), 0)
call("emulatorPinInfo idle", idle.emulatorPinInfo, 0)


def vcpu_lines(dom, flags=0):
    return [l.strip() for l in dom.XMLDesc(flags).splitlines() if "vcpu" in l]


# vCPU counts: live, config, the maximum, and what the XML then says.
call("setvcpus 1", test.setVcpusFlags, 1, 0)
call("setvcpus max config 4", test.setVcpusFlags, 4, CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
call("setvcpus config 3", test.setVcpusFlags, 3, CONFIG)
call("setvcpus live+config 2", test.setVcpusFlags, 2, LIVE | CONFIG)
call("setvcpus 33", test.setVcpusFlags, 33, 0)
call("vcpu xml live", vcpu_lines, test)
call("vcpu xml config", vcpu_lines, test, libvirt.VIR_DOMAIN_XML_INACTIVE)
call("setvcpus idle max 2", idle.setVcpusFlags, 2, libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
call("vcpu xml idle", vcpu_lines, idle)
call("setvcpus idle live", idle.setVcpusFlags, 1, LIVE)
test.destroy()
call("vcpu xml after stop", vcpu_lines, test)
call("memory after stop", test.memoryParameters, 0)
call("blkio after stop", test.blkioParameters, 0)
call("numa after stop", test.numaParameters, 0)
call("emulatorPinInfo after stop", test.emulatorPinInfo, 0)
call("vcpus after stop", vcpus, test)
idle.undefine()
print("DONE")
