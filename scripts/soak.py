#!/usr/bin/env python3
"""Steady-state soak of the real `ooda up`: N hosts x ~100 watched series each, scraped every
10 s from a synthetic node-exporter-style target, for a few minutes. Reports ooda's CPU share
(utime+stime from /proc/PID/stat over the steady window, in % of one core) and its RSS.

    cargo build --release -p ooda
    python3 scripts/soak.py --hosts 1000 --minutes 4     # 100 000 watched series

The target (this script) serves /metrics/<host>; its own CPU is not counted. Values wander
slowly (a random walk in band) so the engine scores real numbers, never constants.
"""
import argparse
import http.server
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

FILESYSTEMS = 45  # x2 watched (space, inodes) + cpu, load, memory, swap, fd, disk io, net ~ 100


def exposition(host: str, tick: int) -> bytes:
    rnd = random.Random(f"{host}:{tick}")
    out = []
    busy = 0.2 + 0.1 * rnd.random()
    total = 1000.0 * tick
    out.append(f'node_cpu_seconds_total{{cpu="0",mode="idle"}} {total * (1 - busy):.3f}')
    out.append(f'node_cpu_seconds_total{{cpu="0",mode="user"}} {total * busy:.3f}')
    out.append(f"node_load1 {0.5 + rnd.random():.3f}")
    out.append("node_memory_MemTotal_bytes 8.0e9")
    out.append(f"node_memory_MemAvailable_bytes {4.0e9 + 1e8 * rnd.random():.0f}")
    out.append("node_memory_SwapTotal_bytes 2.0e9")
    out.append(f"node_memory_SwapFree_bytes {1.9e9 + 1e7 * rnd.random():.0f}")
    out.append(f"node_filefd_allocated {2000 + rnd.randint(0, 100)}")
    out.append("node_filefd_maximum 100000")
    for d in range(4):
        out.append(f'node_disk_io_time_seconds_total{{device="sd{chr(97 + d)}"}} {tick * 0.5:.3f}')
        out.append(f'node_network_receive_errs_total{{device="eth{d}"}} 0')
        out.append(f'node_network_transmit_errs_total{{device="eth{d}"}} 0')
    for f in range(FILESYSTEMS):
        labels = f'device="/dev/vd{f}",fstype="ext4",mountpoint="/data{f}"'
        out.append(f"node_filesystem_size_bytes{{{labels}}} 1.0e11")
        out.append(f"node_filesystem_avail_bytes{{{labels}}} {5.0e10 + 1e8 * rnd.random():.0f}")
        out.append(f"node_filesystem_files{{{labels}}} 6.5e6")
        out.append(f"node_filesystem_files_free{{{labels}}} {6.0e6 + 1e4 * rnd.random():.0f}")
    return ("\n".join(out) + "\n").encode()


class Target(http.server.BaseHTTPRequestHandler):
    start = time.time()

    def do_GET(self):
        host = self.path.rsplit("/", 1)[-1]
        tick = int((time.time() - Target.start) / 10) + 1
        body = exposition(host, tick)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=4)
    ap.add_argument("--warmup", type=float, default=60, help="seconds before measuring")
    ap.add_argument("--bin", default="target/release/ooda")
    args = ap.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    work = tempfile.mkdtemp(prefix="ooda-soak-")
    config = os.path.join(work, "ooda.toml")
    with open(config, "w") as f:
        f.write("version = 1\n[incident]\nenabled = false\n[[logs]]\nkind = \"file\"\nname = \"none\"\njournald = false\n")
        for h in range(args.hosts):
            f.write(
                f'[[sources]]\nkind = "scrape"\nname = "h{h}"\nurl = "http://127.0.0.1:{port}/metrics/h{h}"\n'
                f'interval = "10s"\nhost = "h{h}"\n'
            )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        listen = f"127.0.0.1:{s.getsockname()[1]}"
    agent = subprocess.Popen(
        [args.bin, "up", "--config", config, "--data-dir", os.path.join(work, "data"), "--listen", listen],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    try:
        agent.stdout.readline()
        print(f"soak: {args.hosts} hosts, warming up {args.warmup:.0f} s", file=sys.stderr)
        time.sleep(args.warmup)
        c0, t0 = cpu_seconds(agent.pid), time.time()
        rss_peak = 0.0
        window = args.minutes * 60
        while time.time() - t0 < window:
            time.sleep(5)
            rss_peak = max(rss_peak, rss_mib(agent.pid))
            done = (time.time() - t0) / window
            bar = "#" * int(done * 30)
            print(f"\rsoak: [{bar:<30}] {done * 100:3.0f}%  rss {rss_peak:.0f} MiB", end="", file=sys.stderr)
        c1, t1 = cpu_seconds(agent.pid), time.time()
        print(file=sys.stderr)
        metrics = subprocess.run(
            ["curl", "-s", f"http://{listen}/metrics"], capture_output=True, text=True
        ).stdout
        watched = next(
            (l.split()[-1] for l in metrics.splitlines() if l.startswith("ooda_watched_series ")), "?"
        )
        lag = next(
            (l.split()[-1] for l in metrics.splitlines() if l.startswith("ooda_monitor_lag_seconds ")), "?"
        )
        share = (c1 - c0) / (t1 - t0) * 100
        print(
            f"hosts={args.hosts} watched_series={watched} interval=10s window={t1 - t0:.0f}s "
            f"cpu={share:.1f}% of one core rss_peak={rss_peak:.0f}MiB rss_end={rss_mib(agent.pid):.0f}MiB "
            f"monitor_lag={lag}s"
        )
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
