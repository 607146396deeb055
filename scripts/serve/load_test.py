"""Loopback load test of `auffusion serve` (docs/serve.md, "Load test"): while one 200-step edit
runs, 32 clients each make 10 requests (uploads of CLIP and status polls, alternately), three
bursts; prints the status codes, latencies and the server's resident memory.

usage: python3 scripts/serve/load_test.py PORT SERVER_PID CLIP.wav
"""
import json, urllib.request, threading, time, collections, sys
U="http://127.0.0.1:%d" % int(sys.argv[1])
pid=int(sys.argv[2]); data=open(sys.argv[3],"rb").read()
def call(method, path, body=None, ctype="application/octet-stream"):
    req=urllib.request.Request(U+path, data=body, method=method, headers={"Content-Type": ctype})
    t=time.time()
    try:
        r=urllib.request.urlopen(req, timeout=60); code=r.status; out=r.read()
    except urllib.error.HTTPError as e:
        code=e.code; out=e.read()
    return code, time.time()-t, out
def rss(): 
    s=open(f"/proc/{pid}/status").read(); g=lambda k: int([l for l in s.splitlines() if l.startswith(k)][0].split()[1])//1024
    return g("VmRSS"), g("VmHWM")
print("rss before", rss())
code,_,out=call("POST","/api/clips?name=in.wav",data); clip=json.loads(out)["id"]
code,_,out=call("POST","/api/jobs",json.dumps({"kind":"restyle","clip":clip,"prompt":"noise","strength":1,"steps":200}).encode(),"application/json"); job=json.loads(out)["id"]
codes=collections.Counter(); lat=[]; lock=threading.Lock()
def worker(i):
    for k in range(10):
        r=call("POST","/api/clips?name=x%d.wav"%i,data) if k%2==0 else call("GET","/api/jobs/"+job)
        with lock: codes[r[0]]+=1; lat.append(r[1])
t=time.time(); ts=[threading.Thread(target=worker,args=(i,)) for i in range(32)]
[x.start() for x in ts]; [x.join() for x in ts]
el=time.time()-t; lat.sort()
print("requests", sum(codes.values()), "codes", dict(codes), "in %.1f s"%el, "p50 %.3f s p99 %.3f s max %.3f s"%(lat[len(lat)//2], lat[int(len(lat)*.99)], lat[-1]))
print("job", json.loads(call("GET","/api/jobs/"+job)[2]).get("state"), json.loads(call("GET","/api/jobs/"+job)[2]).get("step"))
print("rss after burst", rss())
for r in range(2):
    ts=[threading.Thread(target=worker,args=(i,)) for i in range(32)]; [x.start() for x in ts]; [x.join() for x in ts]
    print("rss after burst", r+2, rss())
