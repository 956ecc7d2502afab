"""The Kubernetes side (deploy/jupyterhub/kubernetes/): what one machine can check.

- values.yaml: every key is one the Zero to JupyterHub chart's values.schema.yaml allows, with a value of
  the type it allows. The chart is not vendored: ``CHART_SCHEMA`` below is the part of its schema that
  this file's keys reach, read from jupyterhub/zero-to-jupyterhub-k8s (jupyterhub/values.schema.yaml at
  commit 48ea50e3, chart appVersion 5.5.0). With ``COURSE_Z2JH_CHART=/path/to/the/chart`` (a checkout's
  ``jupyterhub/`` folder) the whole file is instead merged onto the chart's own values.yaml, as helm
  merges, and validated against its full schema with jsonschema;
- the hub's extraConfig: run with a stand-in spawner, a student and an instructor get what they should;
- the single-user configuration files load;
- the Dockerfile: built when a Docker daemon answers (skipped with a message otherwise), and read: its
  final stage copies the student bundle only, never the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S = REPO_ROOT / "deploy" / "jupyterhub" / "kubernetes"

# path -> JSON types allowed, from the chart's schema; FREE: the schema allows any keys below it.
FREE = "free"
CHART_SCHEMA = {
    "hub": "object", "hub.config": "object", "hub.config.*": FREE, "hub.extraConfig": FREE, "hub.resources": FREE,
    "proxy": "object", "proxy.service": "object", "proxy.service.type": "ClusterIP|NodePort|LoadBalancer|ExternalName",
    "singleuser": "object", "singleuser.image": "object", "singleuser.image.name": "string",
    "singleuser.image.tag": "string", "singleuser.defaultUrl": "string|null", "singleuser.startTimeout": "integer|null",
    "singleuser.cpu": "object", "singleuser.cpu.limit": "number|null", "singleuser.cpu.guarantee": "number|null",
    "singleuser.memory": "object", "singleuser.memory.limit": "number|string|null",
    "singleuser.memory.guarantee": "number|string|null", "singleuser.storage": "object",
    "singleuser.storage.capacity": "string|null", "singleuser.storage.homeMountPath": "string",
    "singleuser.storage.extraVolumes": "object|array|null", "singleuser.storage.extraVolumeMounts": "object|array|null",
    "singleuser.extraEnv": FREE, "singleuser.extraFiles": "object", "singleuser.extraFiles.*": "object",
    "singleuser.extraFiles.*.mountPath": "string", "singleuser.extraFiles.*.stringData": "string",
    "singleuser.extraFiles.*.data": FREE, "singleuser.extraFiles.*.binaryData": "string",
    "singleuser.extraFiles.*.mode": "integer",
    "cull": "object", "cull.enabled": "boolean", "cull.users": "boolean|null", "cull.timeout": "integer|null",
    "cull.every": "integer|null", "cull.maxAge": "integer|null", "cull.adminUsers": "boolean|null",
    "cull.removeNamedServers": "boolean|null", "cull.concurrency": "integer|null",
    "scheduling": "object", "scheduling.userScheduler": "object", "scheduling.userScheduler.enabled": "boolean",
    "scheduling.podPriority": "object", "scheduling.podPriority.enabled": "boolean",
    "scheduling.userPlaceholder": "object", "scheduling.userPlaceholder.enabled": "boolean",
    "scheduling.userPlaceholder.replicas": "integer",
    "prePuller": "object", "prePuller.hook": "object", "prePuller.hook.enabled": "boolean",
    "prePuller.continuous": "object", "prePuller.continuous.enabled": "boolean",
}
# hub.config and singleuser.extraFiles take any name at their next level (patternProperties).
PATTERN_PARENTS = {"hub.config", "singleuser.extraFiles"}


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", dict: "object", list: "array"}[type(value)]


def schema_problems(values: dict, path: str = "") -> list[str]:
    """Each key of ``values`` not in CHART_SCHEMA, or with a value of a type the schema does not allow."""
    problems = []
    for key, value in values.items():
        name = f"{path}.{key}" if path else key
        lookup = f"{path}.*" if path in PATTERN_PARENTS else name
        allowed = CHART_SCHEMA.get(lookup)
        if allowed is None:
            # a key below a pattern property: singleuser.extraFiles.<name>.mountPath
            parent = path.rsplit(".", 1)[0] if "." in path else ""
            if parent in PATTERN_PARENTS:
                lookup = f"{parent}.*.{key}"
                allowed = CHART_SCHEMA.get(lookup)
        if allowed is None:
            problems.append(f"{name}: not a key of the chart's schema")
            continue
        if allowed == FREE:
            continue
        kinds = allowed.split("|")
        got = _json_type(value)
        if got not in kinds and not (got == "integer" and "number" in kinds) and not (got == "string" and value in kinds):
            problems.append(f"{name}: the schema allows {allowed}, got {got} ({value!r})")
        if isinstance(value, dict):
            problems += schema_problems(value, lookup)
    return problems


def values() -> dict:
    return yaml.safe_load((K8S / "values.yaml").read_text())


def test_every_key_of_values_yaml_is_in_the_charts_schema():
    problems = schema_problems(values())
    assert not problems, "values.yaml against the chart's schema:\n" + "\n".join(problems)


@pytest.mark.parametrize("change, expected", [
    (lambda v: v["singleuser"].update(memmory={"limit": "2G"}), "singleuser.memmory: not a key"),
    (lambda v: v["cull"].update(timeout="an hour"), "cull.timeout: the schema allows integer|null, got string"),
    (lambda v: v["singleuser"]["extraFiles"]["student-lab"].update(path="/x"), "singleuser.extraFiles.*.path: not a key"),
    (lambda v: v["proxy"]["service"].update(type="Ingress"), "proxy.service.type: the schema allows"),
])
def test_the_check_catches_a_misspelled_key_or_a_wrong_type(change, expected):
    broken = values()
    change(broken)
    problems = schema_problems(broken)
    assert any(expected in p for p in problems), f"expected a problem containing {expected!r}, got {problems}"


def _merge(defaults, ours):
    """How helm merges values: mappings key by key, anything else replaced."""
    if isinstance(defaults, dict) and isinstance(ours, dict):
        return {**defaults, **{k: _merge(defaults[k], v) if k in defaults else v for k, v in ours.items()}}
    return ours


@pytest.mark.skipif(not os.environ.get("COURSE_Z2JH_CHART"),
                    reason="set COURSE_Z2JH_CHART to a checkout's jupyterhub/ chart folder to validate against its "
                           "full values.schema.yaml (the chart is not vendored here)")
def test_values_merged_onto_the_charts_defaults_validate_against_its_full_schema():
    import jsonschema

    chart = Path(os.environ["COURSE_Z2JH_CHART"])
    schema = yaml.safe_load((chart / "values.schema.yaml").read_text())
    merged = _merge(yaml.safe_load((chart / "values.yaml").read_text()), values())
    errors = [f"{'.'.join(map(str, e.path))}: {e.message[:300]}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(merged)]
    assert not errors, "\n".join(errors)


class FakeSpawner:
    def __init__(self, user_id: int, groups: list[str]):
        self.user = SimpleNamespace(id=user_id, groups=[SimpleNamespace(name=g) for g in groups])
        self.environment, self.volumes, self.volume_mounts = {}, [], []
        self.notebook_dir = None


def test_the_hubs_extra_config_gives_each_user_a_uid_and_graders_the_course():
    namespace = {"c": SimpleNamespace(KubeSpawner=SimpleNamespace())}
    exec(compile(values()["hub"]["extraConfig"]["00-course"], "extraConfig", "exec"), namespace)
    hook = namespace["c"].KubeSpawner.pre_spawn_hook
    student, other, teacher = FakeSpawner(7, []), FakeSpawner(8, []), FakeSpawner(9, ["formgrade-system-design"])
    for spawner in (student, other, teacher):
        hook(spawner)
    assert student.uid != other.uid, f"two students share uid {student.uid}: the exchange would not keep them apart"
    assert student.environment["JUPYTER_CONFIG_PATH"].endswith("/etc/student"), student.environment
    assert student.volumes == [] and student.notebook_dir is None, "a student must not get the course volume"
    assert teacher.environment["JUPYTER_CONFIG_PATH"].endswith("/etc/instructor"), teacher.environment
    assert teacher.notebook_dir == "/srv/course" and teacher.volume_mounts[0]["mountPath"] == "/srv/course"


def test_the_single_user_configuration_files_load():
    from traitlets.config import Config

    files = values()["singleuser"]["extraFiles"]
    config = Config()
    exec(compile(files["student-nbgrader"]["stringData"], "student nbgrader_config.py", "exec"),
         {"get_config": lambda: config})
    assert config.CourseDirectory.course_id == "system-design"
    assert config.Exchange.root == "/srv/nbgrader/exchange"
    mounts = [f["mountPath"] for f in files.values()]
    assert len(mounts) == len(set(mounts)), f"two files at one path: {mounts}"
    assert files["student-lab"]["data"]["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    compile(files["instructor-nbgrader"]["stringData"], "instructor nbgrader_config.py", "exec")


def test_the_image_copies_the_student_bundle_only():
    text = (K8S / "Dockerfile").read_text()
    final = text.rsplit("\nFROM ", 1)[1]
    copies = [line for line in final.splitlines() if line.startswith("COPY")]
    assert all("--from=bundle" in line or "environment.yml" in line or "overrides.json" in line for line in copies), \
        f"the final image copies something besides the bundle, environment.yml and the Lab settings: {copies}"
    assert "environment.yml" in final and "student-bundle" in text


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_answers(), reason="no Docker daemon answers here: the image is not built (docker info)")
def test_the_image_builds():
    tag = "system-design-course:test"
    try:
        built = subprocess.run(["docker", "build", "-f", str(K8S / "Dockerfile"), "-t", tag, str(REPO_ROOT)],
                               capture_output=True, text=True, timeout=3000)
        assert built.returncode == 0, built.stderr[-4000:]
        listing = subprocess.run(["docker", "run", "--rm", tag, "sh", "-c",
                                  "grep -rl 'BEGIN SOLUTION' /opt/system-design/public || true"],
                                 capture_output=True, text=True, timeout=300)
        assert listing.stdout.strip() == "", f"solutions in the image: {listing.stdout}"
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
