"""Put the current process in a sandbox before it runs a learner's code.

Full isolation (Linux, as root): new mount, network, PID, IPC and UTS namespaces; a fresh root
made only of read-only bind mounts of what the learner's code needs (the system, Python, the
course's virtual environment, ``course/``, ``data/``, ``autograde/`` without its reference
answers) and a private ``/tmp``; only loopback networking; an unprivileged user id of its own;
resource limits. Nothing of ``solutions/``, the gradebook, other submissions or the
instructor's files exists in there. Killing the PID namespace's first process kills every
process the learner's code started.

Limited isolation (not root, or not Linux): resource limits and a new session only. Good enough
for learners grading their own notebook; ``python -m autograde batch`` says so when it happens.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import socket
import struct
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
SANDBOX_UID_BASE = 1_900_000_000  # a range no real account uses
MAX_WORKERS = 8
PID_MAX_LIMIT = 1 << 22  # the kernel's ceiling for /proc/sys/kernel/pid_max (PID_MAX_LIMIT, 64-bit)


def sandbox_uid(slot: int, grader_pid: int | None = None) -> int:
    """The unprivileged uid of one worker slot of one grader process.

    It is a one-to-one function of (grader pid, slot) over the kernel's whole pid range, so two
    graders running at the same time (in one PID namespace) never share a uid, and RLIMIT_NPROC
    and clean-up concern only their own processes: BASE + pid * 8 + slot stays below
    1_900_000_000 + 2**22 * 8 = 1_933_554_432 < 2**31 - 1 for every pid the kernel can hand out.
    (It used ``pid % 1_000_000``, which made pids 5 and 1_000_005 share a uid on hosts with a
    large pid_max.)"""
    if not 0 <= slot < MAX_WORKERS:
        raise ValueError(f"worker slot must be in [0, {MAX_WORKERS})")
    pid = os.getpid() if grader_pid is None else grader_pid
    if not 0 < pid < PID_MAX_LIMIT:
        raise ValueError(f"a pid must be in (0, {PID_MAX_LIMIT}), got {pid}")
    return SANDBOX_UID_BASE + pid * MAX_WORKERS + slot


@dataclass(frozen=True)
class Limits:
    """Per-submission resource limits."""

    cpu_seconds: int = 600          # CPU time of the learner process (RLIMIT_CPU)
    memory_bytes: int = 3 * 1024**3  # address space added on top of the pre-loaded libraries
    processes: int = 64             # processes and threads of the sandbox user (RLIMIT_NPROC)
    file_bytes: int = 64 * 1024**2  # largest file it may write (RLIMIT_FSIZE)
    open_files: int = 256
    cell_seconds: float = 60.0      # one cell (or one test cell's calls) before it is interrupted
    notebook_seconds: float = 600.0  # the whole notebook, hard deadline

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SandboxPlan:
    """What the sandbox may see: host paths bound read-only at the same place, and paths hidden."""

    readonly: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


def default_plan(repo_root: Path) -> SandboxPlan:
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    # The system (programs, libraries, /etc for the loader cache, certificates, time zones) and
    # the two Python prefixes; not /opt, /srv or /home wholesale: only what the learner needs.
    system = [p for p in ("/usr", "/etc") if os.path.isdir(p)]
    repo = [str(repo_root / name) for name in ("course", "data", "autograde")]
    return SandboxPlan(readonly=sorted(prefixes) + system + repo,
                       hidden=[str(repo_root / "autograde" / "reference")])


def full_isolation_possible() -> bool:
    return sys.platform.startswith("linux") and os.geteuid() == 0 and os.environ.get("AUTOGRADE_ISOLATION") != "limited"


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(),
                       fstype.encode() if fstype else None, flags, data.encode() if data else None),
           f"mount {source} on {target}")


def unshare_namespaces() -> None:
    """Called before the fork whose child becomes PID 1 of the new namespace."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")


def build_root(new_root: str, plan: SandboxPlan) -> None:
    """In the new mount namespace (as PID 1): assemble the sandbox's file system and chroot into it."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=16m")
    os.makedirs(new_root + "/tmp")
    _mount("tmpfs", new_root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=512m")
    for path in plan.readonly:
        if not os.path.exists(path):
            continue
        target = new_root + path
        os.makedirs(target, exist_ok=True)
        _mount(path, target, None, MS_BIND | MS_REC)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for path in plan.hidden:
        if os.path.isdir(new_root + path):
            _mount("tmpfs", new_root + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=555,size=4k")
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        if os.path.islink("/" + name):
            os.symlink(os.readlink("/" + name), f"{new_root}/{name}")
    os.makedirs(new_root + "/dev")
    _mount("tmpfs", new_root + "/dev", "tmpfs", MS_NOSUID, "mode=755,size=64k")
    for device in ("null", "zero", "random", "urandom"):
        open(f"{new_root}/dev/{device}", "w").close()
        _mount(f"/dev/{device}", f"{new_root}/dev/{device}", None, MS_BIND)
    os.makedirs(new_root + "/dev/shm")
    _mount("tmpfs", new_root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    os.makedirs(new_root + "/proc")
    _mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV)
    _check(_libc.chroot(new_root.encode()), "chroot")
    os.chdir("/")


def loopback_up() -> None:
    """Bring up ``lo`` in the new network namespace (it starts down)."""
    with socket.socket() as sock:
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH", b"lo", 0x1 | 0x8 | 0x40))  # SIOCSIFFLAGS: UP|LOOPBACK|RUNNING


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def apply_limits(limits: Limits) -> None:
    def set_limit(kind: int, value: int) -> None:
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))

    used = _address_space_bytes()
    set_limit(resource.RLIMIT_CPU, limits.cpu_seconds)
    set_limit(resource.RLIMIT_AS, used + limits.memory_bytes)
    set_limit(resource.RLIMIT_NPROC, limits.processes)
    set_limit(resource.RLIMIT_FSIZE, limits.file_bytes)
    set_limit(resource.RLIMIT_NOFILE, limits.open_files)
    set_limit(resource.RLIMIT_CORE, 0)


def _address_space_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def learner_environment() -> dict[str, str]:
    """The whole environment the learner's code sees: nothing says it is being graded."""
    return {"PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp",
            "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "TMPDIR": "/tmp"}


def zygote_environment(config_dir: str) -> dict[str, str]:
    """The zygote's whole environment: the learner's, plus a private matplotlib directory for the
    font cache built while pre-loading. Nothing of the grader's environment: the zygote's initial
    environment block is inherited by every learner process and can be read back from /proc."""
    return {**learner_environment(), "MPLCONFIGDIR": config_dir}
