"""`mailroom send` of real invoices, archive included, against Postfix's smtp-source.

1. Send rate. Demo-like invoices (copies of the demo's mailable invoices, each with
   its own number) are built by the real batch build (PDF on letterhead with
   embedded fonts, template, MIME) and approved, once. Each round then copies that
   data folder (the messages as hard links, everything the send changes as real
   copies) and times, interleaved:

   - ``mailroom send BATCH``: the real command in a fresh interpreter (start-up,
     approval checks, claims, events, the send, and the archive of every sent
     message), to ``smtp-sink``;
   - ``smtp-source -s 1 -d -F FILE -m N -r R``: Postfix's load generator pushing
     N copies of one of those invoice messages (the one of median size, with the
     batch's mean number of envelope recipients R) over one connection to the
     same sink, as the command uses one connection per profile.

   Per side and round: wall time, CPU per message (user + system of the process and
   all its threads, ``getrusage`` of the child; the command's start-up included),
   and system calls per message (``strace -c -f``, in a second run of its own on a
   copy of the same data folder, since strace slows what it watches); the load
   average at the start of each round; min/median/max over the rounds. The
   command's system time is printed beside its CPU: a round the kernel made dearer
   shows there. Before the first round everything built is written to disk and the
   benchmark waits until a minute has passed since it started (``settle``: ext4
   passes over the inodes deleted in the last minute, or five, for each new file).

   Targets (issue 31): CPU <= 0.7 ms and <= 45 system calls a message; command
   rate ÷ smtp-source rate >= 0.5 on a quiet machine (the wall ratio follows the
   machine's load, the CPU and the system calls do not).
2. One state change (a rename between state folders) in a 10,000-message batch
   against a 100-message batch (``benchmarks/send_state.py``). Target: ratio < 1.5.

Run: ``python benchmarks/send.py [--messages 3000] [--rounds 5] [--ports 46000-46099]
[--before DIR]``. Needs /usr/sbin/smtp-sink and /usr/sbin/smtp-source (Debian package
``postfix``; only these two tools run, no mail system is started) and /usr/bin/strace
(``apt-get install postfix strace``). The sink listens on 127.0.0.1 on the first free port of the
range given by ``--ports`` (default 46000-46099). About 1 GB of temporary disk per
round for 10,000 messages (the rounds' folders are deleted at the end).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailing.batches import build_batch
from mailing.demo import DEMO_USER, load_demo
from mailing.identity import mark_demo
from store.records import Profile
from store.spool import Batch, Spool
from store.store import Store

SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
STRACE = "/usr/bin/strace"
SENDER = "bench@sender.example"
RCPT = "rcpt@receiver.example"
APPROVER, SENDING_USER = "boss", "carol"


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def port_in(spec: str) -> int:
    """The first port of ``LOW-HIGH`` free on 127.0.0.1."""
    low, _, high = spec.partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {spec} on 127.0.0.1: give another range with --ports")


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise SystemExit("smtp-sink did not start")


def build_home(home: Path, n: int, port: int) -> str:
    """A demo data folder, every profile to the sink, an approved batch of ``n`` invoices."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from batch import invoices  # the same documents as benchmarks/batch.py

    store = Store(home, DEMO_USER)
    load_demo(store)
    sink = {"system": "smtp", "server": "127.0.0.1", "port": port, "outbox_dir": ""}
    with store.transaction() as tx:
        for p in tx.all(Profile):
            tx.put(Profile.parse({**p.dump(), **sink, "security": "none", "auth": "none"}))
    docs = invoices(store, n + n // 8 + 50)
    batch = build_batch(store, DEMO_USER, "sales_invoice", documents=docs)
    # keep exactly n messages approved (the demo sends some relations' invoices to print)
    drafts = [r.item for r in batch.items("draft")][:n]
    if len(drafts) < n:
        raise SystemExit(f"only {len(drafts)} invoices go by e-mail; ask for fewer")
    batch.approve(drafts, APPROVER)
    batch.close()
    return batch.id


def copy_home(src: Path, dst: Path) -> None:
    """A round's own data folder: messages hard-linked (never written), the rest copied."""

    def link_or_copy(s: str, d: str) -> None:
        if s.endswith(".eml"):
            os.link(s, d)
        else:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link_or_copy)
    # A copied demo marker names the original folder (mailing/identity.py): mark the
    # copy as a demo folder of its own, so that `--user` works there as in the base.
    mark_demo(dst)


def pick_message(batch: Batch, out: Path) -> tuple[int, int, float]:
    """The median-size approved message, as smtp-source -F wants it; its size, the
    mean number of envelope recipients (rounded, and as it is)."""
    refs = batch.items("approved")
    sizes = sorted(
        (batch.file_of(r.item, "email", "approved").stat().st_size, r.item) for r in refs
    )
    size, item = sizes[len(sizes) // 2]
    raw = batch.read(item, "email", "approved")
    # smtp-source appends CRLF to each line of the file (and dot-stuffs)
    out.write_bytes(raw.replace(b"\r\n", b"\n"))
    rcpts = [len(batch.meta(r.item)["envelope"]["rcpts"]) for r in refs]
    mean = statistics.mean(rcpts)
    return size, max(1, round(mean)), mean


def child_cpu() -> float:
    """User + system CPU seconds of the children waited for so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def child_sys() -> float:
    """System CPU seconds of the children waited for so far (the kernel's part)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime


def spread_folders(tmp: Path) -> None:
    """ext4: the folders made in ``tmp`` (each round's copies) are placed as top-level
    folders are (``chattr +T``: the Orlov allocator, a block group with many free
    inodes), not beside ``tmp`` where the last run's folders were just deleted (see
    :func:`settle`). Elsewhere, or without ``chattr``, nothing changes."""
    try:
        subprocess.run(["chattr", "+T", str(tmp)], capture_output=True, check=False)
    except OSError:
        pass


def settle(started: float) -> None:
    """Before the first round: the file system's recently deleted inodes left behind.

    ext4 does not give out an inode freed in the last minute (five while its inode
    table block is not yet written): each new file or folder is found by passing
    over them, one buffer look-up each (``recently_deleted``). After a large
    deletion on the same file system (the last run's folders, another program's),
    the send's two new inodes a message (archive folder, ``record.json``) cost up to
    three times the system time: 31 % of the command's samples in ``perf`` were
    that pass in a round run just after 60,000 files were deleted, 0.04 % 90 s
    later (system time 2.25 s and 0.85 s for 3,000 messages; user time the same).
    So: everything written so far to disk (the inode tables clean: the one-minute
    rule), and a minute since the start.
    """
    os.sync()
    wait = 65 - (time.monotonic() - started)
    if wait > 0:
        print(f"waiting {wait:.0f} s: the file system's recently deleted inodes", flush=True)
        time.sleep(wait)


def strace_count(cmd: list[str], **kw: Any) -> int:
    """System calls of ``cmd`` and every thread and child of it (``strace -c -f``)."""
    with tempfile.NamedTemporaryFile(prefix="mailroom-bench-strace-") as out:
        done = subprocess.run(
            [STRACE, "-c", "-f", "-o", out.name, *cmd],
            capture_output=True,
            text=True,
            check=False,
            **kw,
        )
        if done.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed under strace:\n{done.stdout}\n{done.stderr}")
        for line in Path(out.name).read_text().splitlines():
            fields = line.split()
            if fields and fields[-1] == "total":
                return int(fields[3])
    raise SystemExit("strace -c gave no total")


def command_line(home: Path, batch_id: str, src: Path) -> tuple[list[str], dict[str, Any]]:
    """``mailroom send BATCH`` with the code of ``src`` (this tree, or an earlier
    version's: ``--before``), in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "tui", "--home", str(home), "--user", SENDING_USER]
    # (cwd: src, so `-m tui` is src's)
    return [*cmd, "send", batch_id], {"env": env, "cwd": src}


def run_command(home: Path, batch_id: str, src: Path = ROOT) -> tuple[float, float, float]:
    """Wall, CPU and system CPU seconds of ``mailroom send`` (start-up and all its
    threads included)."""
    cmd, kw = command_line(home, batch_id, src)
    sys0, cpu0, t0 = child_sys(), child_cpu(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"mailroom send failed:\n{done.stdout}\n{done.stderr}")
    return took, child_cpu() - cpu0, child_sys() - sys0


def source_line(port: int, path: Path, n: int, rcpts: int) -> list[str]:
    cmd = [SOURCE, "-s", "1", "-d", "-F", str(path), "-m", str(n), "-r", str(rcpts)]
    return [*cmd, "-f", SENDER, "-t", RCPT, f"127.0.0.1:{port}"]


def run_source(port: int, path: Path, n: int, rcpts: int) -> tuple[float, float]:
    cpu0, t0 = child_cpu(), time.perf_counter()
    subprocess.run(source_line(port, path, n, rcpts), check=True)
    return time.perf_counter() - t0, child_cpu() - cpu0


def spread(values: list[float], fmt: str = ",.0f") -> str:
    return (
        f"median {statistics.median(values):{fmt}} "
        f"[min {min(values):{fmt}}, max {max(values):{fmt}}]"
    )


def check_round(home: Path, batch_id: str, n: int, label: str) -> None:
    counts = Spool(home).batch(batch_id).counts()
    archived = sum(1 for _ in (home / "archive").rglob("record.json"))
    if counts["sent"] != n or archived != n:
        raise SystemExit(f"{label}: {counts['sent']} sent, {archived} archived of {n}")


def bench_send(n: int, rounds: int, ports: str, before: Path | None = None) -> None:
    for tool in (SINK, SOURCE, STRACE):
        if not os.access(tool, os.X_OK):
            raise SystemExit(
                f"{tool} is missing: apt-get install postfix strace (only postfix's tools run)"
            )
    port = port_in(ports)
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([SINK, *user, f"127.0.0.1:{port}", "256"])
    tmp = Path(tempfile.mkdtemp(prefix="mailroom-bench-send-"))
    spread_folders(tmp)
    started = time.monotonic()
    try:
        wait_port(port)
        print(f"building {n} invoices ({load()}) ...", flush=True)
        base = tmp / "base"
        batch_id = build_home(base, n, port)
        batch = Spool(base).batch(batch_id)
        msg_file = tmp / "message.eml"
        size, rcpts, mean = pick_message(batch, msg_file)
        settle(started)
        print(
            f"send: {n} invoice messages (median {size:,} bytes, PDF attached; "
            f"{mean:.2f} envelope recipients a message, smtp-source -r {rcpts}) to smtp-sink "
            f"on 127.0.0.1:{port}, {rounds} rounds; CPU is user + system of the process "
            f"and its threads, start-up included; system calls by strace -c -f, in a run "
            f"of its own (strace slows what it watches)",
            flush=True,
        )
        sides = ("command", "source", *(("before",) if before else ()))
        label = {"command": "mailroom send", "source": "smtp-source", "before": "before"}
        wall: dict[str, list[float]] = {w: [] for w in sides}
        cpu_ms: dict[str, list[float]] = {w: [] for w in sides}
        calls: dict[str, list[float]] = {w: [] for w in sides}
        sys_ms: dict[str, list[float]] = {w: [] for w in sides}
        ratios: list[float] = []
        loads: list[float] = []
        for r in range(rounds):
            # Each round its own copies, kept until the end: deleting one round's
            # archive folders made the next round's file creation several times
            # slower (ext4 passes over recently freed inodes when it allocates).
            homes = {w: tmp / f"round{r}-{w}" for w in sides if w != "source"}
            traced = {w: tmp / f"round{r}-{w}-strace" for w in homes}
            for h in (*homes.values(), *traced.values()):
                copy_home(base, h)
            loads.append(os.getloadavg()[0])
            order = sides[r % len(sides) :] + sides[: r % len(sides)]
            for what in order:
                src = before if what == "before" and before else ROOT
                if what == "source":
                    took, cpu = run_source(port, msg_file, n, rcpts)
                    kernel = 0.0
                    count = strace_count(source_line(port, msg_file, n, rcpts))
                else:
                    took, cpu, kernel = run_command(homes[what], batch_id, src)
                    check_round(homes[what], batch_id, n, f"round {r + 1}, {label[what]}")
                    cmd, kw = command_line(traced[what], batch_id, src)
                    count = strace_count(cmd, **kw)
                    check_round(traced[what], batch_id, n, f"round {r + 1}, {label[what]}")
                wall[what].append(took)
                cpu_ms[what].append(cpu / n * 1000)
                sys_ms[what].append(kernel / n * 1000)
                calls[what].append(count / n)
            ratios.append(wall["source"][-1] / wall["command"][-1])
            print(
                f"  round {r + 1} (load {loads[-1]:.2f} -> {os.getloadavg()[0]:.2f}): "
                + "; ".join(
                    f"{label[w]} {n / wall[w][-1]:5.0f} msg/s, CPU {cpu_ms[w][-1]:.3f} ms/msg"
                    + (f" (system {sys_ms[w][-1]:.3f})" if w != "source" else "")
                    + ", "
                    f"{calls[w][-1]:.1f} syscalls/msg"
                    for w in sides
                )
                + f"; ratio {ratios[-1]:.2f}",
                flush=True,
            )
        print(f"  load at the start of each round: {spread(loads, '.2f')}")
        for w in sides:
            rates = [n / t for t in wall[w]]
            print(
                f"  {label[w]:13}: {spread(rates)} msg/s; CPU {spread(cpu_ms[w], '.3f')} ms/msg"
                + (f" (system {spread(sys_ms[w], '.3f')})" if w != "source" else "")
                + "; "
                f"system calls {spread(calls[w], '.1f')} a message"
            )
        print(f"  ratio mailroom/smtp-source (wall): {spread(ratios, '.2f')}  (target >= 0.5)")
        print(
            "  targets: CPU <= 0.7 ms a message (start-up included), <= 45 system calls a message"
        )
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=3_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ports", default="46000-46099", help="LOW-HIGH, for smtp-sink")
    ap.add_argument("--no-state", action="store_true", help="skip the state-change part")
    ap.add_argument(
        "--before",
        type=Path,
        help="a source tree of an earlier version (git archive COMMIT | tar -x -C DIR): "
        "its `mailroom send` is timed too, in the same rounds, on the same messages",
    )
    args = ap.parse_args()
    bench_send(args.messages, args.rounds, args.ports, args.before)
    if not args.no_state:
        from send_state import bench_state_change

        bench_state_change()


if __name__ == "__main__":
    main()
