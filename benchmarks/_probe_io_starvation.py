# Reproduces the I/O starvation finding in docs/design.md (Known limits):
# busy processes delay a plain greenlet's gevent.sleep(0.001) by ~250 ms.
# Run: .venv/bin/python benchmarks/_probe_io_starvation.py 2
from gevent import monkey; monkey.patch_all()
import gevent, time
from hearth import vm

def echo():
    while True:
        sig = vm.recv()
        peer = sig.caps[0]
        peer.send(b"y")
        peer.release()

def pinger(target):
    me = vm.make_capability(vm.SEND)
    while True:
        target.send(b"x", [me])
        vm.recv()

def boot(k):
    for _ in range(k):
        e = vm.spawn(echo)
        vm.spawn(pinger, e)
    vm.recv()

import sys
k = int(sys.argv[1])
rt = vm.Runtime()
rt.spawn(boot, k)
delays = []
def sleeper():
    for _ in range(100):
        t = time.perf_counter()
        gevent.sleep(0.001)
        delays.append(time.perf_counter() - t)
g = gevent.spawn(sleeper)
g.join(timeout=30)
delays.sort()
print("k", k, "n", len(delays), "p50 ms %.2f p99 ms %.2f max %.2f" % (delays[len(delays)//2]*1e3, delays[98]*1e3, delays[-1]*1e3))
print(rt.shutdown())
