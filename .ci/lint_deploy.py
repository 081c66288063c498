"""Lints deploy/ offline: what can be checked without Docker, a cluster or a registry.

Every YAML document must parse. The Kubernetes manifests must be well-formed and keep the
promises deploy/README.md makes: on SQLite (deploy/k8s) one replica, probes on /healthz
and /readyz, non-root read-only containers, Litestream on the database path Drumbeat uses,
Secrets that hold placeholders only and reach Drumbeat as files, not variables; on
PostgreSQL (deploy/k8s/postgres) several replicas with the same probes and containers, a
rolling update that never drops below the replica count, a grace period above the
shutdown deadline, the database URL from a Secret, no gateway, a spread over nodes, a
PodDisruptionBudget, and an optional CloudNativePG cluster outside the default resources.
The compose files (SQLite, and PostgreSQL with several Drumbeat services) and the
Dockerfile are checked for the same, the systemd unit with `systemd-analyze verify` where
it exists, both kustomizations with `kubectl kustomize` where kubectl exists, and the
Prometheus alert rules for their shape and for naming only metrics Drumbeat exports
(`promtool check rules` too, where promtool exists). Prints one line per check; exits 1 on any
problem.

Usage: .ci/venv/bin/python .ci/lint_deploy.py [REPO_ROOT]
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_POSTGRES = K8S / "postgres"

problems: list[str] = []

# The secrets, as credential names (files in $CREDENTIALS_DIRECTORY) and as variables.
CREDENTIALS = ("discord_token", "slack_signing_secret", "slack_bot_token")
SECRET_VARS = tuple(c.upper() for c in CREDENTIALS)


def ok(what: str) -> None:
    print(f"ok    {what}")


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")
    print(f"FAIL  {where}: {what}")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


_parsed: dict[Path, list | None] = {}


def load_all(path: Path) -> list:
    """Every document of a YAML file, or [] when it does not parse (a problem, once)."""
    if path not in _parsed:
        try:
            with path.open(encoding="utf-8") as f:
                _parsed[path] = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            problem(rel(path), f"does not parse as YAML: {e}")
            _parsed[path] = None
    return _parsed[path] or []


# --- YAML everywhere -----------------------------------------------------------------

def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


# --- Kubernetes ----------------------------------------------------------------------

def pod_containers(spec: dict) -> list[dict]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def check_container_security(where: str, pod: dict, c: dict) -> None:
    pod_sc = pod.get("securityContext") or {}
    sc = c.get("securityContext") or {}
    name = c.get("name", "?")
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if non_root is not True:
        problem(where, f"container {name} does not set runAsNonRoot: true")
    if user == 0:
        problem(where, f"container {name} runs as user 0")
    if sc.get("readOnlyRootFilesystem") is not True:
        problem(where, f"container {name} does not set readOnlyRootFilesystem: true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problem(where, f"container {name} does not set allowPrivilegeEscalation: false")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problem(where, f"container {name} does not drop ALL capabilities")
    if not (c.get("resources") or {}).get("requests"):
        problem(where, f"container {name} has no resource requests")


def probe_path(c: dict, probe: str):
    return ((c.get(probe) or {}).get("httpGet") or {}).get("path")


def env_value(c: dict, name: str):
    for e in c.get("env") or []:
        if e.get("name") == name:
            return e.get("value")
    return None


def check_drumbeat_container(where: str, pod: dict, app: dict, configmaps: dict) -> None:
    """What every Drumbeat container promises, whatever its database: probes, the
    credentials as a read-only Secret volume and not as variables, its settings file on a
    mounted volume and valid TOML."""
    if probe_path(app, "livenessProbe") != "/healthz":
        problem(where, "drumbeat's livenessProbe is not an HTTP GET of /healthz")
    if probe_path(app, "readinessProbe") != "/readyz":
        problem(where, "drumbeat's readinessProbe is not an HTTP GET of /readyz")
    mounts = {m.get("mountPath") for m in app.get("volumeMounts") or []}
    for source in app.get("envFrom") or []:
        if "secretRef" in source:
            problem(where, "drumbeat takes a Secret as environment variables: mount it as files (CREDENTIALS_DIRECTORY)")
    cred_dir = env_value(app, "CREDENTIALS_DIRECTORY")
    secret_volumes = {v.get("name"): (v.get("secret") or {}).get("secretName")
                      for v in pod.get("volumes") or [] if "secret" in v}
    cred_mount = next((m for m in app.get("volumeMounts") or [] if m.get("mountPath") == cred_dir), None)
    if not cred_dir or cred_mount is None or secret_volumes.get(cred_mount.get("name")) != "drumbeat":
        problem(where, "drumbeat's CREDENTIALS_DIRECTORY is not the Secret drumbeat mounted as a volume")
    elif cred_mount.get("readOnly") is not True:
        problem(where, "the credentials volume is not mounted readOnly")
    config_path = env_value(app, "DRUMBEAT_CONFIG")
    if config_path and os.path.dirname(config_path) not in mounts:
        problem(where, f"DRUMBEAT_CONFIG {config_path} is not on a mounted volume")
    toml_text = configmaps.get("drumbeat", {}).get("drumbeat.toml")
    if toml_text is not None:
        try:
            tomllib.loads(toml_text)
        except tomllib.TOMLDecodeError as e:
            problem(where, f"drumbeat.toml in the ConfigMap is not valid TOML: {e}")


def check_statefulset(where: str, doc: dict, configmaps: dict) -> None:
    spec = doc.get("spec") or {}
    if spec.get("replicas") != 1:
        problem(where, f"StatefulSet replicas is {spec.get('replicas')!r}, must be 1 (SQLite has one writer)")
    if not spec.get("volumeClaimTemplates"):
        problem(where, "StatefulSet has no volumeClaimTemplates for the SQLite file")
    pod = (spec.get("template") or {}).get("spec") or {}
    if not isinstance(pod.get("terminationGracePeriodSeconds"), int):
        problem(where, "pod has no terminationGracePeriodSeconds")
    containers = pod_containers(pod)
    for c in containers:
        check_container_security(where, pod, c)

    app = next((c for c in pod.get("containers") or [] if c.get("name") == "drumbeat"), None)
    if app is None:
        problem(where, "no container named drumbeat")
        return
    check_drumbeat_container(where, pod, app, configmaps)
    db_path = env_value(app, "DRUMBEAT_DATABASE__PATH")
    if not db_path:
        problem(where, "drumbeat does not set DRUMBEAT_DATABASE__PATH")
    mounts = {m.get("mountPath") for m in app.get("volumeMounts") or []}
    if db_path and os.path.dirname(db_path) not in mounts:
        problem(where, f"the database {db_path} is not on a mounted volume")

    # Litestream: a restore before Drumbeat starts, a replicator beside it, both on the
    # database Drumbeat writes.
    litestream = [c for c in containers if "litestream" in str(c.get("image", ""))]
    restore = [c for c in litestream if (c.get("args") or [None])[0] == "restore"]
    replicate = [c for c in litestream if (c.get("args") or [None])[0] == "replicate"]
    if len(restore) != 1 or restore[0] not in (pod.get("initContainers") or []):
        problem(where, "expected one Litestream restore init container")
    else:
        args = restore[0]["args"]
        for flag in ("-if-db-not-exists", "-if-replica-exists"):
            if flag not in args:
                problem(where, f"the restore init container lacks {flag}")
        if db_path and args[-1] != db_path:
            problem(where, f"the restore init container restores {args[-1]}, Drumbeat uses {db_path}")
    if len(replicate) != 1:
        problem(where, "expected one Litestream replicate sidecar")
    cm = configmaps.get("drumbeat-litestream", {}).get("litestream.yml")
    if cm is None:
        problem(where, "no ConfigMap drumbeat-litestream with litestream.yml")
    else:
        try:
            ls = yaml.safe_load(cm)
            paths = [d.get("path") for d in ls.get("dbs") or []]
            if db_path and paths != [db_path]:
                problem(where, f"litestream.yml replicates {paths}, Drumbeat uses {db_path}")
            for d in ls.get("dbs") or []:
                if not (d.get("replica") or d.get("replicas")):
                    problem(where, f"litestream.yml: {d.get('path')} has no replica")
        except (yaml.YAMLError, AttributeError) as e:
            problem(where, f"litestream.yml in the ConfigMap is not valid: {e}")
    ok(f"{where}: StatefulSet (1 replica, probes, {len(containers)} non-root containers, Litestream on {db_path})")


def default_settings() -> dict:
    """config/default.toml, the defaults embedded in the binary."""
    return tomllib.loads((ROOT / "config" / "default.toml").read_text(encoding="utf-8"))


def pre_stop_seconds(c: dict) -> int:
    """How long a container's preStop hook waits: `sleep N` as exec, or the sleep action."""
    hook = (c.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in hook:
        return int((hook["sleep"] or {}).get("seconds", 0))
    command = (hook.get("exec") or {}).get("command") or []
    if len(command) == 2 and os.path.basename(str(command[0])) == "sleep" and str(command[1]).isdigit():
        return int(command[1])
    return 0


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_deployment(where: str, doc: dict, configmaps: dict, secrets: dict) -> None:
    """Drumbeat on PostgreSQL: several identical processes, none with a volume of its own."""
    spec = doc.get("spec") or {}
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 2:
        problem(where, f"Deployment replicas is {replicas!r}: on PostgreSQL run at least 2")
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    if (strategy.get("type", "RollingUpdate") != "RollingUpdate"
            or rolling.get("maxUnavailable") not in (0, "0%") or rolling.get("maxSurge") in (None, 0, "0%")):
        problem(where, "the update is not a rolling one that starts a new pod before it stops an old one "
                       "(maxUnavailable: 0, maxSurge: 1)")
    template = spec.get("template") or {}
    pod_labels = (template.get("metadata") or {}).get("labels") or {}
    if not selects((spec.get("selector") or {}).get("matchLabels") or {}, pod_labels):
        problem(where, "the Deployment's selector does not match its pods' labels")
    pod = template.get("spec") or {}
    containers = pod_containers(pod)
    for c in containers:
        check_container_security(where, pod, c)
    for v in pod.get("volumes") or []:
        if "persistentVolumeClaim" in v or "hostPath" in v:
            problem(where, f"volume {v.get('name')} persists on a disk: on PostgreSQL the processes keep nothing of their own")
    app = next((c for c in pod.get("containers") or [] if c.get("name") == "drumbeat"), None)
    if app is None:
        problem(where, "no container named drumbeat")
        return
    check_drumbeat_container(where, pod, app, configmaps)

    # Stopping: the grace period covers the preStop wait, http.shutdown_secs and the
    # watchdog's second after it.
    shutdown = int((default_settings().get("http") or {}).get("shutdown_secs", 0))
    needed = pre_stop_seconds(app) + shutdown + 1
    grace = pod.get("terminationGracePeriodSeconds")
    if not isinstance(grace, int) or grace <= needed:
        problem(where, f"terminationGracePeriodSeconds is {grace!r}: it must exceed preStop + "
                       f"http.shutdown_secs ({shutdown} s) + 1 s = {needed} s")

    # The database: a URL from a Secret, never a literal (it holds the password), never a
    # SQLite path.
    url = next((e for e in app.get("env") or [] if e.get("name") == "DRUMBEAT_DATABASE__URL"), None)
    ref = ((url or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    if url is None:
        problem(where, "drumbeat does not set DRUMBEAT_DATABASE__URL")
    elif "value" in url or not ref.get("name") or not ref.get("key"):
        problem(where, "DRUMBEAT_DATABASE__URL is not taken from a Secret (secretKeyRef): it holds the password")
    elif ref["key"] not in secrets.get(ref["name"], set()):
        problem(where, f"DRUMBEAT_DATABASE__URL comes from the Secret {ref['name']}, key {ref['key']}, "
                       "which the Secret example does not show")
    if env_value(app, "DRUMBEAT_DATABASE__PATH") is not None:
        problem(where, "drumbeat sets DRUMBEAT_DATABASE__PATH: on PostgreSQL the URL names the database")
    if env_value(app, "DRUMBEAT_DISCORD__GATEWAY") != "false":
        problem(where, "DRUMBEAT_DISCORD__GATEWAY is not \"false\": several processes take Discord's interactions over HTTP")

    # Spread over nodes: losing one node costs one process.
    spread = [t for t in pod.get("topologySpreadConstraints") or []
              if t.get("topologyKey") == "kubernetes.io/hostname"
              and selects((t.get("labelSelector") or {}).get("matchLabels") or {}, pod_labels)]
    anti = (pod.get("affinity") or {}).get("podAntiAffinity") or {}
    terms = list(anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []) + [
        t.get("podAffinityTerm") or {} for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    anti = [t for t in terms if t.get("topologyKey") == "kubernetes.io/hostname"
            and selects((t.get("labelSelector") or {}).get("matchLabels") or {}, pod_labels)]
    if not spread and not anti:
        problem(where, "the pods are not spread over nodes (topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname)")
    ok(f"{where}: Deployment ({replicas} replicas, rolling update, probes, grace {grace} s, "
       f"{len(containers)} non-root containers, database URL from a Secret, no gateway, spread over nodes)")


def check_pdb(where: str, doc: dict, deployments: list[dict]) -> None:
    spec = doc.get("spec") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    target = next((d for d in deployments
                   if selects(selector, ((d.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {})),
                  None)
    if target is None:
        problem(where, "the PodDisruptionBudget selects no Deployment's pods")
        return
    replicas = (target.get("spec") or {}).get("replicas", 1)
    if "maxUnavailable" in spec:
        if spec["maxUnavailable"] in (0, "0%"):
            problem(where, "maxUnavailable 0 blocks every drain")
    elif isinstance(spec.get("minAvailable"), int):
        if spec["minAvailable"] >= replicas:
            problem(where, f"minAvailable {spec['minAvailable']} of {replicas} replicas blocks every drain")
    else:
        problem(where, "the PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
    ok(f"{where}: PodDisruptionBudget over the Deployment {target['metadata']['name']}")


def check_cnpg_cluster(where: str, doc: dict) -> None:
    """The optional CloudNativePG cluster: its CRD's group, high availability, a database
    and an owner for Drumbeat."""
    if doc.get("apiVersion") != "postgresql.cnpg.io/v1":
        problem(where, f"a CloudNativePG Cluster is postgresql.cnpg.io/v1, not {doc.get('apiVersion')}")
    spec = doc.get("spec") or {}
    instances = spec.get("instances")
    if not isinstance(instances, int) or instances < 2:
        problem(where, f"instances is {instances!r}: a primary and at least one standby")
    initdb = (spec.get("bootstrap") or {}).get("initdb") or {}
    if not initdb.get("database") or not initdb.get("owner"):
        problem(where, "bootstrap.initdb names no database and owner")
    if not (spec.get("storage") or {}).get("size"):
        problem(where, "no storage.size")
    ok(f"{where}: CloudNativePG Cluster ({instances} instances, database {initdb.get('database')})")


def check_secret(where: str, doc: dict) -> None:
    if doc["metadata"]["name"] == "drumbeat":
        keys = set((doc.get("stringData") or {}) | (doc.get("data") or {}))
        if keys != set(CREDENTIALS):
            problem(where, f"Secret drumbeat has keys {sorted(keys)}, expected the credential names {list(CREDENTIALS)}")
    for field in ("data", "stringData"):
        for key, value in (doc.get(field) or {}).items():
            if value not in ("", None):
                problem(where, f"Secret {doc['metadata']['name']} holds a value for {key}: placeholders only")


def load_manifests(directory: Path) -> tuple[list[tuple[str, dict]], tuple[Path, dict] | None]:
    """The documents of a kustomization's directory (not its subdirectories), and the
    kustomization itself."""
    docs: list[tuple[str, dict]] = []
    kustomization = None
    for path in sorted(list(directory.glob("*.yaml")) + list(directory.glob("*.yml"))):
        for doc in load_all(path):
            if not isinstance(doc, dict):
                problem(rel(path), "a document is not a mapping")
                continue
            if doc.get("kind") == "Kustomization":
                kustomization = (path, doc)
                continue
            name = (doc.get("metadata") or {}).get("name")
            if not (doc.get("apiVersion") and doc.get("kind") and name):
                problem(rel(path), "a document lacks apiVersion, kind or metadata.name")
                continue
            docs.append((rel(path), doc))
    ok(f"{rel(directory)}: {len(docs)} documents with apiVersion, kind and metadata.name")
    return docs, kustomization


def check_services(docs: list[tuple[str, dict]]) -> None:
    workloads = [d for _, d in docs if d["kind"] in ("StatefulSet", "Deployment")]
    for where, doc in docs:
        if doc["kind"] != "Service":
            continue
        spec = doc.get("spec") or {}
        if not spec.get("ports"):
            problem(where, "the Service has no ports")
        if not any(selects(spec.get("selector") or {},
                           ((w.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {})
                   for w in workloads):
            problem(where, f"the Service {doc['metadata']['name']} selects no workload's pods")


def check_kustomization_lists(directory: Path, kustomization, optional: tuple[str, ...] = ()) -> None:
    """The kustomization lists every manifest of its directory but the Secret example and
    the optional ones (which must stay out of its default resources)."""
    if kustomization is None:
        problem(rel(directory), "no kustomization.yaml")
        return
    kpath, k = kustomization
    listed = set(k.get("resources") or [])
    for r in listed:
        if not (directory / r).exists():
            problem(rel(kpath), f"lists {r}, which does not exist")
    for name in optional:
        if not (directory / name).exists():
            problem(rel(directory), f"{name} is missing")
        if name in listed:
            problem(rel(kpath), f"lists {name}, which is optional (it needs its operator installed)")
    for path in sorted(directory.glob("*.y*ml")):
        if (path.name not in listed and path != kpath and not path.name.startswith("secret.")
                and path.name not in optional):
            problem(rel(kpath), f"does not list {path.name}")
    but = " and ".join(["the Secret example", *optional])
    ok(f"{rel(kpath)}: lists every manifest but {but}")


def check_kubernetes() -> None:
    docs, kustomization = load_manifests(K8S)
    configmaps = {d["metadata"]["name"]: d.get("data") or {} for _, d in docs if d["kind"] == "ConfigMap"}
    kinds = [d["kind"] for _, d in docs]
    for kind in ("StatefulSet", "Service", "ConfigMap", "Secret"):
        if kind not in kinds:
            problem("deploy/k8s", f"no {kind}")
    for where, doc in docs:
        if doc["kind"] == "StatefulSet":
            check_statefulset(where, doc, configmaps)
        elif doc["kind"] == "Secret":
            check_secret(where, doc)
    check_services(docs)
    check_kustomization_lists(K8S, kustomization)


# The CloudNativePG cluster, outside the default resources of the PostgreSQL kustomization.
CNPG_CLUSTER = "cnpg-cluster.yaml"


def check_kubernetes_postgres() -> None:
    docs, kustomization = load_manifests(K8S_POSTGRES)
    configmaps = {d["metadata"]["name"]: d.get("data") or {} for _, d in docs if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"]: set((d.get("stringData") or {}) | (d.get("data") or {}))
               for _, d in docs if d["kind"] == "Secret"}
    deployments = [d for _, d in docs if d["kind"] == "Deployment"]
    kinds = [d["kind"] for _, d in docs]
    for kind in ("Deployment", "PodDisruptionBudget", "Service", "ConfigMap", "Secret", "Cluster"):
        if kind not in kinds:
            problem(rel(K8S_POSTGRES), f"no {kind}")
    if "StatefulSet" in kinds:
        problem(rel(K8S_POSTGRES), "a StatefulSet: on PostgreSQL the processes are a Deployment")
    for where, doc in docs:
        if doc["kind"] == "Deployment":
            check_deployment(where, doc, configmaps, secrets)
        elif doc["kind"] == "PodDisruptionBudget":
            check_pdb(where, doc, deployments)
        elif doc["kind"] == "Secret":
            check_secret(where, doc)
        elif doc["kind"] == "Cluster":
            if not where.endswith("/" + CNPG_CLUSTER):
                problem(where, f"the CloudNativePG Cluster belongs in {CNPG_CLUSTER}")
            check_cnpg_cluster(where, doc)
    check_services(docs)
    check_kustomization_lists(K8S_POSTGRES, kustomization, optional=(CNPG_CLUSTER,))


def check_k8s_layout() -> None:
    """Every directory of manifests under deploy/k8s is one of those checked above."""
    for path in sorted(K8S.rglob("*.y*ml")):
        if path.parent not in (K8S, K8S_POSTGRES):
            problem(rel(path), "is in a directory of manifests that this lint does not check")


# --- Compose ---------------------------------------------------------------------------

COMPOSE = DEPLOY / "docker-compose.yml"
COMPOSE_POSTGRES = DEPLOY / "docker-compose.postgres.yml"


def compose_document(path: Path) -> dict | None:
    docs = load_all(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        problem(rel(path), "expected one YAML document")
        return None
    return docs[0]


def check_compose_drumbeat(path: Path, doc: dict, name: str, svc: dict) -> None:
    """What every Drumbeat service promises: an image built from the Dockerfile, the
    /healthz health check, a restart policy, a grace period, an env file, a port, and the
    three secrets as files with CREDENTIALS_DIRECTORY."""
    where = f"{rel(path)}: {name}"
    build = svc.get("build") or {}
    dockerfile = (path.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve()
    if not dockerfile.exists():
        problem(where, f"build points at {dockerfile}, which does not exist")
    test = " ".join((svc.get("healthcheck") or {}).get("test") or [])
    if "/healthz" not in test:
        problem(where, "the healthcheck does not call /healthz")
    for key in ("restart", "stop_grace_period", "env_file", "ports"):
        if not svc.get(key):
            problem(where, f"the service has no {key}")
    env = svc.get("environment") or {}
    cred_dir = env.get("CREDENTIALS_DIRECTORY") if isinstance(env, dict) else None
    if cred_dir != "/run/secrets":
        problem(where, "the service does not set CREDENTIALS_DIRECTORY=/run/secrets")
    top = doc.get("secrets") or {}
    for secret in CREDENTIALS:
        if secret not in (svc.get("secrets") or []):
            problem(where, f"the service does not take the secret {secret}")
        source = (top.get(secret) or {}).get("file", "")
        if not source.startswith("./secrets/"):
            problem(rel(path), f"the secret {secret} is not a file in deploy/secrets/")


def check_env_example() -> None:
    example = DEPLOY / "drumbeat.env.example"
    if not example.exists():
        problem(rel(COMPOSE), "deploy/drumbeat.env.example is missing")
        return
    names = set()
    for n, line in enumerate(example.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            names.add(name.strip())
            if value.strip():
                problem(f"{rel(example)}:{n}", f"{name} has a value: placeholders only")
    for name in SECRET_VARS + ("DRUMBEAT_DATABASE__URL",):
        if name in names:
            problem(rel(example), f"{name} is an environment variable there: secrets are files (deploy/secrets/)")


def check_compose() -> None:
    path = COMPOSE
    doc = compose_document(path)
    if doc is None:
        return
    svc = (doc.get("services") or {}).get("drumbeat")
    if not isinstance(svc, dict):
        problem(rel(path), "no service drumbeat")
        return
    check_compose_drumbeat(path, doc, "drumbeat", svc)
    if not any(str(v).endswith(":/data") for v in svc.get("volumes") or []):
        problem(rel(path), "no volume on /data")
    if svc.get("deploy", {}).get("replicas", 1) != 1:
        problem(rel(path), "more than one replica: SQLite has one writer")
    check_env_example()
    ignore = DEPLOY / "secrets" / ".gitignore"
    if not ignore.exists() or "*" not in ignore.read_text(encoding="utf-8").split():
        problem("deploy/secrets", "no .gitignore that ignores every secret file")
    ok(f"{rel(path)}: service drumbeat with volume, env file, secrets as files, healthcheck, restart and grace period")


def check_compose_postgres() -> None:
    path = COMPOSE_POSTGRES
    doc = compose_document(path)
    if doc is None:
        return
    where = rel(path)
    services = doc.get("services") or {}
    top = doc.get("secrets") or {}
    other = compose_document(COMPOSE) if COMPOSE.exists() else None
    if not doc.get("name") or doc.get("name") == (other or {}).get("name"):
        problem(where, "no project name of its own: `up` would take the SQLite file's containers for orphans")

    # PostgreSQL: the official image, ready only once it answers over TCP, its data on a
    # volume, its password from a secret file.
    pg = services.get("postgres")
    if not isinstance(pg, dict):
        problem(where, "no service postgres")
        pg = {}
    else:
        if not str(pg.get("image", "")).startswith("postgres:"):
            problem(f"{where}: postgres", "the image is not the official postgres image")
        test = " ".join((pg.get("healthcheck") or {}).get("test") or [])
        if "pg_isready" not in test:
            problem(f"{where}: postgres", "the healthcheck does not call pg_isready")
        if not any(":/var/lib/postgresql" in str(v) for v in pg.get("volumes") or []):
            problem(f"{where}: postgres", "no volume on /var/lib/postgresql/data")
        pg_env = pg.get("environment") or {}
        if "POSTGRES_PASSWORD" in pg_env:
            problem(f"{where}: postgres", "POSTGRES_PASSWORD is a variable: use POSTGRES_PASSWORD_FILE")
        password_file = str(pg_env.get("POSTGRES_PASSWORD_FILE", ""))
        secret = password_file.removeprefix("/run/secrets/")
        if secret == password_file or secret not in (pg.get("secrets") or []) \
                or not str((top.get(secret) or {}).get("file", "")).startswith("./secrets/"):
            problem(f"{where}: postgres", "POSTGRES_PASSWORD_FILE is not a secret file in deploy/secrets/")
        if not pg.get("restart"):
            problem(f"{where}: postgres", "the service has no restart")

    # Drumbeat: several services of one image, each waiting for PostgreSQL to be healthy,
    # on a port of its own, with the database URL from a secret file and no gateway.
    drumbeats = {n: s for n, s in services.items() if n.startswith("drumbeat") and isinstance(s, dict)}
    if len(drumbeats) < 2:
        problem(where, f"{len(drumbeats)} Drumbeat service(s): this file runs several processes")
    host_ports: list[str] = []
    for name, svc in drumbeats.items():
        check_compose_drumbeat(path, doc, name, svc)
        at = f"{where}: {name}"
        depends = svc.get("depends_on") or {}
        if not isinstance(depends, dict) or (depends.get("postgres") or {}).get("condition") != "service_healthy":
            problem(at, "does not wait for postgres to be healthy (depends_on … condition: service_healthy)")
        if (svc.get("deploy") or {}).get("replicas", 1) != 1:
            problem(at, "deploy.replicas: one process per service, each on its own port")
        host_ports += [str(p).rsplit(":", 1)[0] for p in svc.get("ports") or []]
        env = svc.get("environment") or {}
        if not isinstance(env, dict):
            problem(at, "environment is not a mapping")
            continue
        if "DRUMBEAT_DATABASE__PATH" in env:
            problem(at, "sets DRUMBEAT_DATABASE__PATH: on PostgreSQL the URL names the database")
        if str(env.get("DRUMBEAT_DISCORD__GATEWAY")).lower() != "false":
            problem(at, "DRUMBEAT_DISCORD__GATEWAY is not false: several processes take Discord's interactions over HTTP")
        if "DRUMBEAT_DATABASE__URL" in env:
            problem(at, "DRUMBEAT_DATABASE__URL is a variable (it holds the password): give database.url in a secret file")
        config = str(env.get("DRUMBEAT_CONFIG", ""))
        secret = config.removeprefix("/run/secrets/")
        source = str((top.get(secret) or {}).get("file", ""))
        if secret == config or secret not in (svc.get("secrets") or []) or not source.startswith("./secrets/"):
            problem(at, "DRUMBEAT_CONFIG is not a secret file in deploy/secrets/ (the one that holds database.url)")
    if len(set(host_ports)) != len(host_ports):
        problem(where, f"two Drumbeat services publish the same port: {host_ports}")
    ok(f"{where}: postgres (pg_isready, volume, password file) and {len(drumbeats)} Drumbeat services "
       "waiting for it, each on its own port, database URL and secrets as files, no gateway")


def check_compose_layout() -> None:
    """Every compose file in deploy/ is one of those checked above."""
    for path in sorted(list(DEPLOY.glob("*compose*.y*ml"))):
        if path not in (COMPOSE, COMPOSE_POSTGRES):
            problem(rel(path), "is a compose file this lint does not check")


# --- Dockerfile ------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    out, buf, start = [], "", 0
    for n, line in enumerate(text.splitlines(), 1):
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue
        if not buf:
            start = n
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    return out


def check_dockerfile() -> None:
    path = DEPLOY / "Dockerfile"
    where = rel(path)
    ins = dockerfile_instructions(path.read_text(encoding="utf-8"))
    froms = [(n, a) for n, i, a in ins if i == "FROM"]
    if len(froms) < 2:
        problem(where, "not multi-stage: fewer than two FROM lines")
    stages = [a.split()[-1] for _, a in froms if " as " in a.lower()]
    copies_from = [a for _, i, a in ins if i == "COPY" and a.startswith("--from=")]
    if not any(a.split()[0].removeprefix("--from=") in stages for a in copies_from):
        problem(where, "the final stage copies nothing from a named build stage")
    runs = [(n, a) for n, i, a in ins if i == "RUN"]
    if not any("cargo build --release --locked" in a for _, a in runs):
        problem(where, "no `cargo build --release --locked`")
    last_stage = max(n for n, _ in froms) if froms else 0
    users = [a for n, i, a in ins if i == "USER" and n > last_stage]
    if not users:
        problem(where, "the final stage sets no USER")
    elif users[-1].split(":")[0] in ("root", "0"):
        problem(where, f"the final stage runs as {users[-1]}")
    checks = [a for _, i, a in ins if i == "HEALTHCHECK"]
    if not checks or "/healthz" not in checks[-1]:
        problem(where, "no HEALTHCHECK calling /healthz")
    for n, i, a in ins:
        if i == "ADD" and re.search(r"(https?|ftp)://|git@", a):
            problem(f"{where}:{n}", "ADD of a URL: download in a RUN with a checksum instead")
        if i == "COPY" and not a.startswith("--from="):
            for src in shlex.split(a)[:-1]:
                if not src.startswith("--") and not list(ROOT.glob(src)):
                    problem(f"{where}:{n}", f"COPY of {src}, which is not in the repository")
    for expected in ('ENTRYPOINT ["drumbeat"]', 'CMD ["run"]', "EXPOSE 8080"):
        i, _, a = expected.partition(" ")
        if not any(ii == i and aa == a for _, ii, aa in ins):
            problem(where, f"no {expected}")
    if not any(i == "VOLUME" and "/data" in a for _, i, a in ins):
        problem(where, "no VOLUME for /data")
    # Every RUN is shell: it must at least be valid shell.
    for n, a in runs:
        if a.startswith("["):
            continue
        r = subprocess.run(["/bin/sh", "-n", "-c", a], capture_output=True, text=True)
        if r.returncode != 0:
            problem(f"{where}:{n}", f"RUN is not valid shell: {r.stderr.strip()}")
    ignore = ROOT / ".dockerignore"
    patterns = ignore.read_text(encoding="utf-8").split() if ignore.exists() else []
    for needed in ("target/", "*.db", "config/secrets.toml", "deploy/secrets/"):
        if needed not in patterns:
            problem(".dockerignore", f"does not exclude {needed}")
    ok(f"{where}: {len(froms)} stages, USER {users[-1] if users else '?'}, HEALTHCHECK, no ADD of URLs, RUN lines are valid shell")


# --- systemd ---------------------------------------------------------------------------

REQUIRED_UNIT_SETTINGS = [
    "StateDirectory=drumbeat", "EnvironmentFile=", "NoNewPrivileges=yes", "ProtectSystem=strict",
    "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
    "CapabilityBoundingSet=", "MemoryDenyWriteExecute=yes", "LockPersonality=yes",
    "RestrictNamespaces=yes", "UMask=0077", "Restart=on-failure", "TimeoutStopSec=",
    "KillSignal=SIGTERM", "ExecStart=",
] + [f"LoadCredential={c}:" for c in CREDENTIALS]

# The exposure score of `systemd-analyze security`, times ten: 20 is "2.0 OK".
EXPOSURE_THRESHOLD = 20


def check_systemd() -> None:
    unit = DEPLOY / "systemd" / "drumbeat.service"
    where = rel(unit)
    lines = [l.strip() for l in unit.read_text(encoding="utf-8").splitlines()]
    for setting in REQUIRED_UNIT_SETTINGS:
        if not any(l == setting or (setting.endswith(("=", ":")) and l.startswith(setting)) for l in lines):
            problem(where, f"lacks {setting}")
    if not any(l in ("DynamicUser=yes", "DynamicUser=true") or l.startswith("User=") for l in lines):
        problem(where, "neither DynamicUser=yes nor a dedicated User=")
    exec_start = next((l.partition("=")[2] for l in lines if l.startswith("ExecStart=")), "")
    binary = exec_start.split()[0] if exec_start else ""
    if not binary.startswith("/"):
        problem(where, f"ExecStart {binary!r} is not an absolute path")
        return
    ok(f"{where}: hardening settings present")

    analyze = shutil.which("systemd-analyze")
    units = next((d for d in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if d.is_dir()), None)
    if analyze is None or units is None:
        print("skip  systemd-analyze verify: systemd-analyze or the system's units are not on this machine")
        return
    # Verify the unit byte for byte in a scratch root that has the system's own units and,
    # in place of the binary (not built here), a stub at the ExecStart path.
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(units, root / "usr/lib/systemd/system", symlinks=True)
        stub = root / binary.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
        (root / "etc/systemd/system").mkdir(parents=True)
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
        # verify reports unknown keys and bad values as warnings with status 0: any
        # output at all is a problem.
        r = subprocess.run([analyze, "verify", "--man=no", f"--root={root}", unit.name],
                           capture_output=True, text=True)
        out = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or out:
            problem(where, f"systemd-analyze verify: {out or f'exit status {r.returncode}'}")
        else:
            ok(f"{where}: systemd-analyze verify (binary stubbed at {binary})")
        r = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", f"--root={root}",
                            f"--threshold={EXPOSURE_THRESHOLD}", unit.name],
                           capture_output=True, text=True)
        score = next((l.strip() for l in r.stdout.splitlines() if "Overall exposure" in l), "")
        if r.returncode != 0:
            problem(where, f"systemd-analyze security: above {EXPOSURE_THRESHOLD / 10}: {score or r.stderr.strip()}")
        else:
            ok(f"{where}: systemd-analyze security: {score.removeprefix('→ ')}")


# --- Prometheus alert rules --------------------------------------------------------------

# What a Prometheus server or the process collector provides besides Drumbeat's own names.
OTHER_METRICS = {"up", "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                 "process_virtual_memory_bytes", "process_virtual_memory_max_bytes",
                 "process_resident_memory_bytes", "process_start_time_seconds", "process_threads"}


def exported_metrics() -> set[str]:
    """Drumbeat's metric names, from the one module that defines them."""
    source = (ROOT / "src" / "telemetry" / "metrics.rs").read_text(encoding="utf-8")
    return set(re.findall(r'"(drumbeat_[a-z_]+)"', source))


def check_alert_rules() -> None:
    files = sorted((DEPLOY / "prometheus").glob("*.y*ml"))
    if not files:
        problem("deploy/prometheus", "no alert rules")
        return
    known = exported_metrics() | OTHER_METRICS
    for path in files:
        where = rel(path)
        docs = load_all(path)
        if len(docs) != 1 or not isinstance(docs[0], dict) or not docs[0].get("groups"):
            problem(where, "expected one document with `groups:`")
            continue
        count = 0
        for group in docs[0]["groups"]:
            if not group.get("name") or not group.get("rules"):
                problem(where, "a group lacks a name or rules")
                continue
            for rule in group["rules"]:
                count += 1
                name = rule.get("alert") or rule.get("record")
                if not name or not isinstance(rule.get("expr"), str):
                    problem(where, f"rule {name!r} lacks alert/record or expr")
                    continue
                if rule.get("alert"):
                    if (rule.get("labels") or {}).get("severity") not in ("critical", "warning", "info"):
                        problem(where, f"{name}: no severity label (critical, warning, info)")
                    if not (rule.get("annotations") or {}).get("summary"):
                        problem(where, f"{name}: no summary annotation")
                if rule.get("for") is not None and not re.fullmatch(r"\d+[smhd]", str(rule["for"])):
                    problem(where, f"{name}: `for: {rule['for']}` is not a duration")
                expr = re.sub(r'"[^"]*"', '""', rule["expr"])
                for metric in re.findall(r"\b((?:drumbeat|process)_[a-z_]+|up)\b", expr):
                    base = re.sub(r"_(bucket|sum|count)$", "", metric)
                    if metric not in known and base not in known:
                        problem(where, f"{name}: {metric} is not a metric Drumbeat exports")
        ok(f"{where}: {count} rules, each with an expression on exported metrics, severity and summary")
        promtool = shutil.which("promtool")
        if promtool is None:
            print("skip  promtool check rules: promtool is not on this machine")
        else:
            r = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
            if r.returncode != 0:
                problem(where, f"promtool check rules: {(r.stdout + r.stderr).strip()}")
            else:
                ok(f"{where}: promtool check rules")


def kustomize(kubectl: str, directory: Path, where: str) -> None:
    r = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True)
    if r.returncode != 0:
        problem(where, f"kubectl kustomize: {r.stderr.strip()}")
        return
    rendered = [d for d in yaml.safe_load_all(r.stdout) if d]
    kinds = sorted({d.get("kind", "?") for d in rendered})
    ok(f"{where}: kubectl kustomize renders {len(rendered)} objects ({', '.join(kinds)})")


def check_kustomize() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("skip  kubectl kustomize: kubectl is not on this machine")
        return
    kustomize(kubectl, K8S, "deploy/k8s")
    kustomize(kubectl, K8S_POSTGRES, rel(K8S_POSTGRES))
    # The optional CloudNativePG cluster, added to the resources as the kustomization's
    # comment says.
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "postgres"
        shutil.copytree(K8S_POSTGRES, copy)
        kpath = copy / "kustomization.yaml"
        k = yaml.safe_load(kpath.read_text(encoding="utf-8"))
        k["resources"] = [r for r in k.get("resources") or [] if r != CNPG_CLUSTER] + [CNPG_CLUSTER]
        kpath.write_text(yaml.safe_dump(k), encoding="utf-8")
        kustomize(kubectl, copy, f"{rel(K8S_POSTGRES)} with {CNPG_CLUSTER}")


def main() -> int:
    files = yaml_files()
    for path in files:
        load_all(path)
    parsed = sum(1 for p in files if _parsed[p] is not None)
    if parsed == len(files):
        ok(f"deploy: {len(files)} YAML files parse")
    check_kubernetes()
    check_kubernetes_postgres()
    check_k8s_layout()
    check_compose()
    check_compose_postgres()
    check_compose_layout()
    check_dockerfile()
    check_systemd()
    check_alert_rules()
    check_kustomize()
    if problems:
        print(f"\n{len(problems)} problem(s) in deploy/", file=sys.stderr)
        return 1
    print("deploy/ lints clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
