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
    cell_seconds: float = 60.0      # one cell (or one test cell's calls): CPU time of the learner's processes
    notebook_seconds: float = 600.0  # the whole notebook, wall-clock time
    backstop_factor: float = 3.0    # on a busy machine, wall-clock limits stretch up to this many times
    cpu_cores: float = 1.0          # CPU quota of one sandbox (with cgroups)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SandboxPlan:
    """What the sandbox may see: host paths bound read-only at the same place, and paths hidden."""

    readonly: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


# What of /etc a learner's code needs: the dynamic loader, users and name lookup (loopback), time
# zones, certificates, fonts, MIME and locale tables. Not the rest: /etc also holds pip.conf,
# .npmrc, gitconfig, environment, machine-id and the like, which can carry a host's credentials.
ETC_ALLOWED = ("alternatives", "ca-certificates", "ca-certificates.conf", "fonts", "gai.conf", "group", "host.conf",
               "hosts", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "locale.alias", "localtime", "mime.types",
               "nsswitch.conf", "os-release", "passwd", "pki", "protocols", "services", "ssl", "timezone")


def _interpreter_dirs() -> set[str]:
    """The folders along the symlink chain of this Python (a venv's ``bin/python`` may point through
    folders outside both prefixes, e.g. a pyenv shim or a distribution's ``/opt`` build): each must
    exist in the sandbox, or a subprocess started with ``sys.executable`` finds nothing there."""
    dirs, path = set(), sys.executable
    for _ in range(40):  # a symlink loop ends here
        dirs.add(os.path.dirname(os.path.abspath(path)))
        if not os.path.islink(path):
            break
        target = os.readlink(path)
        path = target if os.path.isabs(target) else os.path.join(os.path.dirname(path), target)
    return {os.path.realpath(d) for d in dirs}


def default_plan(repo_root: Path) -> SandboxPlan:
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    prefixes |= {d for d in _interpreter_dirs()
                 if not any(d == p or d.startswith(p + os.sep) for p in prefixes | {"/usr"})}
    # The system's programs and libraries, the needed part of /etc and the two Python prefixes;
    # not /opt, /srv or /home wholesale: only what the learner needs.
    system = ["/usr"] if os.path.isdir("/usr") else []
    etc = [f"/etc/{name}" for name in ETC_ALLOWED if os.path.lexists(f"/etc/{name}")]
    repo = [str(repo_root / name) for name in ("course", "data", "autograde")]
    return SandboxPlan(readonly=sorted(prefixes) + system + etc + repo,
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
    try:  # its own cgroup appears as "/" inside (no host path, no hint of grading); absent on old kernels
        _check(_libc.unshare(CLONE_NEWCGROUP), "unshare cgroup")
    except OSError:
        pass


def build_root(new_root: str, plan: SandboxPlan) -> None:
    """In the new mount namespace (as PID 1): assemble the sandbox's file system and chroot into it."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=16m")
    os.makedirs(new_root + "/tmp")
    _mount("tmpfs", new_root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=512m")
    for path in plan.readonly:
        if not os.path.lexists(path):
            continue
        target = new_root + path
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(path):  # e.g. /etc/localtime: the same link (its target is bound, or absent)
            if not os.path.lexists(target):
                os.symlink(os.readlink(path), target)
            continue
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        elif not os.path.exists(target):
            open(target, "w").close()
        _mount(path, target, None, MS_BIND | MS_REC)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for path in plan.hidden:
        if os.path.isdir(new_root + path):
            _mount("tmpfs", new_root + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=555,size=4k")
        elif os.path.isfile(new_root + path):  # a file reads as empty
            _mount("/dev/null", new_root + path, None, MS_BIND)
            _mount(None, new_root + path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
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


# --------------------------------------------------------------------------- control groups
# With full isolation, each sandbox (the learner's whole process tree) also gets its own control
# group, so memory, processes and CPU are limited per submission, not per process: four processes
# of one submission share one memory.max, and forty busy loops share one CPU quota and one
# scheduling weight. cgroup v2 is used when its memory, pids and cpu controllers can be delegated
# to the grader's cgroup; else cgroup v1 (memory, pids, cpu, cpuacct hierarchies) when writable;
# else only the per-process rlimits above, and ``Zygote.isolation`` says which.

CGROUP_PREFIX = "autograde-"
CLONE_NEWCGROUP = 0x02000000
V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")


@dataclass(frozen=True)
class CgroupSupport:
    """What the zygote found: version 2, 1 or 0 (none), the parent directory per controller
    (v2: one, under the key ""), and in words why not when version is 0."""

    version: int = 0
    parents: dict = field(default_factory=dict)
    reason: str = ""

    def describe(self) -> str:
        if self.version:
            return f"cgroup v{self.version} per submission (memory, processes, CPU)"
        return f"per-process limits only ({self.reason})"


def _mounts() -> list[tuple[str, str, str, str]]:
    """(mount point, root within the file system, fs type, super options) of every mount."""
    found = []
    try:
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, rest = left.split(), right.split()
            if len(fields) >= 5 and len(rest) >= 3:
                found.append((fields[4].replace("\\040", " "), fields[3], rest[0], rest[2]))
    except OSError:
        pass
    return found


def _own_cgroups() -> dict[str, str]:
    """Controller (v1) or "" (v2) -> this process's cgroup path."""
    paths = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def _join(mount_point: str, mount_root: str, path: str) -> str:
    if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
        path = path[len(mount_root):]
    return os.path.join(mount_point, path.lstrip("/"))


def _usable(parent: str, files: list[str]) -> str:
    """"" if a child cgroup can be made under ``parent`` and has ``files``; else the reason."""
    probe = os.path.join(parent, f"{CGROUP_PREFIX}probe-{os.getpid()}")
    try:
        os.mkdir(probe)
    except OSError as exc:
        return f"cannot create a cgroup under {parent}: {exc.strerror}"
    try:
        missing = [f for f in files if not os.path.exists(os.path.join(probe, f))]
        return f"a cgroup under {parent} lacks {', '.join(missing)}" if missing else ""
    finally:
        os.rmdir(probe)


def detect_cgroups() -> CgroupSupport:
    """Which per-submission cgroups this process (root, Linux) can make. Never raises."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return CgroupSupport(reason="not root on Linux")
    try:
        return _detect_cgroups()
    except Exception as exc:  # a surprise in /proc or /sys must not stop grading: fall back
        return CgroupSupport(reason=f"cgroup detection failed: {type(exc).__name__}: {exc}")


def _detect_cgroups() -> CgroupSupport:
    mounts, own = _mounts(), _own_cgroups()
    reasons = []
    v2 = [m for m in mounts if m[2] == "cgroup2"]
    if v2 and "" in own:
        parent = _join(v2[0][0], v2[0][1], own[""])
        try:
            available = Path(parent, "cgroup.controllers").read_text().split()
        except OSError:
            available = []
        wanted = ["memory", "pids", "cpu"]
        if all(c in available for c in wanted):
            enabled = Path(parent, "cgroup.subtree_control").read_text().split()
            try:
                if not all(c in enabled for c in wanted):
                    Path(parent, "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
                problem = _usable(parent, ["memory.max", "pids.max", "cpu.max", "cpu.stat"])
            except OSError as exc:
                problem = (f"cannot enable controllers in {parent} ({exc.strerror}; a non-root cgroup that "
                           "holds processes cannot delegate them)")
            if not problem:
                _sweep([parent])
                return CgroupSupport(2, {"": parent})
            reasons.append(problem)
        else:
            reasons.append(f"cgroup v2 at {v2[0][0]} offers no {'/'.join(c for c in wanted if c not in available)} "
                           "controller here")
    parents = {}
    for controller in V1_CONTROLLERS:
        mount = next((m for m in mounts if m[2] == "cgroup" and controller in m[3].split(",")), None)
        if mount is None or controller not in own:
            reasons.append(f"no cgroup v1 {controller} hierarchy")
            break
        parents[controller] = _join(mount[0], mount[1], own[controller])
    else:
        files = {"memory": ["memory.limit_in_bytes"], "pids": ["pids.max"], "cpu": ["cpu.cfs_quota_us"],
                 "cpuacct": ["cpuacct.usage"]}
        problems = [p for c in V1_CONTROLLERS if (p := _usable(parents[c], files[c]))]
        if not problems:
            _sweep(list(parents.values()))
            return CgroupSupport(1, parents)
        reasons += problems
    return CgroupSupport(reason="; ".join(reasons) or "no cgroup file system")


def _sweep(parents: list[str]) -> None:
    """Remove empty cgroups left by zygotes that died before their grader could remove them."""
    for parent in parents:
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            owner = name[len(CGROUP_PREFIX):].split("-")[0]
            if not name.startswith(CGROUP_PREFIX) or not owner.isdigit() or os.path.exists(f"/proc/{owner}"):
                continue
            try:
                os.rmdir(os.path.join(parent, name))
            except OSError:
                pass


def create_cgroup(support: CgroupSupport, name: str, limits: Limits) -> dict[str, str]:
    """Make one sandbox's cgroup(s) with the limits written in; returns controller -> directory."""
    dirs = {controller: os.path.join(parent, name) for controller, parent in support.parents.items()}
    try:
        for directory in dirs.values():
            os.mkdir(directory)
        period = 100_000
        quota = max(1000, int(limits.cpu_cores * period))
        if support.version == 2:
            d = dirs[""]
            _write(d, "memory.max", limits.memory_bytes)
            _write(d, "memory.swap.max", 0, optional=True)
            _write(d, "pids.max", limits.processes)
            _write(d, "cpu.max", f"{quota} {period}")
        else:
            _write(dirs["memory"], "memory.limit_in_bytes", limits.memory_bytes)
            _write(dirs["memory"], "memory.memsw.limit_in_bytes", limits.memory_bytes, optional=True)
            _write(dirs["pids"], "pids.max", limits.processes)
            _write(dirs["cpu"], "cpu.cfs_period_us", period)
            _write(dirs["cpu"], "cpu.cfs_quota_us", quota)
    except BaseException:
        remove_cgroup(dirs, wait_seconds=0)
        raise
    return dirs


def _write(directory: str, name: str, value, optional: bool = False) -> None:
    try:
        with open(os.path.join(directory, name), "w") as f:
            f.write(str(value))
    except OSError:
        if not optional:
            raise


def join_cgroup(dirs: dict[str, str], pid: int = 0) -> None:
    """Move ``pid`` (0: this process) into the sandbox's cgroup(s); its children inherit them."""
    for directory in dirs.values():
        _write(directory, "cgroup.procs", pid or os.getpid())


def cgroup_cpu_seconds(dirs: dict[str, str]) -> float | None:
    """CPU time used by every process that ever ran in the cgroup (alive or not)."""
    try:
        if "" in dirs:
            for line in Path(dirs[""], "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
            return None
        if "cpuacct" in dirs:
            return int(Path(dirs["cpuacct"], "cpuacct.usage").read_text()) / 1e9
    except (OSError, ValueError):
        pass
    return None


def remove_cgroup(dirs: dict[str, str], wait_seconds: float = 2.0) -> bool:
    """Kill whatever still runs in the cgroup(s) and remove them; False if one could not be removed."""
    import signal
    import time

    give_up = time.monotonic() + wait_seconds
    removed = True
    for directory in dirs.values():
        if not os.path.isdir(directory):
            continue
        _write(directory, "cgroup.kill", 1, optional=True)
        while True:
            try:
                for pid in Path(directory, "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError, ValueError):
                        pass
                os.rmdir(directory)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() >= give_up:
                    removed = False
                    break
                time.sleep(0.02)
    return removed


def cpu_wait_seconds(pid: int, dirs: dict[str, str]) -> float | None:
    """Time the learner's threads (those alive now) spent ready to run but waiting for a CPU: the
    second field of each thread's /proc/<tid>/schedstat. It rises at once when other work crowds the
    machine, where the 1-minute load average takes many seconds to follow. None if /proc cannot tell."""
    tids: list[int] = []
    try:
        if "" in dirs:
            tids = [int(t) for t in Path(dirs[""], "cgroup.threads").read_text().split()]
        elif dirs:
            tids = [int(t) for t in Path(dirs.get("cpu") or next(iter(dirs.values())), "tasks").read_text().split()]
    except (OSError, ValueError):
        tids = []
    if not tids:
        for process in _process_tree(pid):
            try:
                tids += [int(task) for task in os.listdir(f"/proc/{process}/task")]
            except OSError:
                continue
    total, found = 0, False
    for tid in tids:
        try:
            total += int(Path(f"/proc/{tid}/schedstat").read_text().split()[1])
            found = True
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9 if found else None


def process_tree_cpu_seconds(pid: int) -> float | None:
    """CPU time of ``pid`` and its descendants (those alive, and those it waited for): the fallback
    when there is no cgroup to ask. None if /proc cannot tell (not Linux, or the process is gone)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for current in _process_tree(pid):
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            if current == pid:
                return None
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


def _process_tree(pid: int, most: int = 4096) -> list[int]:
    """``pid`` and its descendants alive now (children of every thread), at most ``most`` of them."""
    tree, todo, seen = [], [pid], set()
    while todo and len(seen) < most:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        tree.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                todo += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return tree
