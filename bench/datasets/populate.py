#!/usr/bin/env python3
"""Uploads N small files into a dataset's draft through the platform's API, on keep-alive connections from a few
threads, and prints the rate. Used by listing.sh to build a 100,000-file dataset the way users would.
   populate.py BASE_URL KEY DATASET_ID COUNT [THREADS]"""
import http.client
import sys
import threading
import time
import urllib.parse

base, key, dataset, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 8
url = urllib.parse.urlsplit(base)
failures = []
done = [0]
lock = threading.Lock()


def path_of(i):
    # 100 folders of 1,000 files: a tree, as real datasets have.
    return f"shard-{i // 1000:03d}/sample-{i:06d}.txt"


def worker(start):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"}
    for i in range(start, count, threads):
        body = f"sample {i}\n".encode()
        for attempt in range(3):
            try:
                conn.request("PUT", f"/api/v1/datasets/{dataset}/draft/files/{path_of(i)}", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"{path_of(i)}: {response.status}")
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
                if attempt == 2:
                    failures.append(f"{path_of(i)}: connection failed")
        with lock:
            done[0] += 1
            if done[0] % 10000 == 0:
                print(f"  {done[0]} files uploaded", file=sys.stderr, flush=True)


t0 = time.monotonic()
pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
elapsed = time.monotonic() - t0
if failures:
    print(f"{len(failures)} uploads failed, first: {failures[:3]}", file=sys.stderr)
    sys.exit(1)
print(f"{elapsed:.1f}")
