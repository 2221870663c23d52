#!/usr/bin/env python3
"""Deployment files: deploy/k8s, deploy/systemd.

Kubernetes (deploy/k8s/*.yaml):
  - every YAML document parses (PyYAML) and is checked against the Kubernetes
    API models of python3-kubernetes (Debian; the 1.22 API): no unknown or
    mistyped field, no missing required field, at every level;
  - the structure that matters: the kinds, StatefulSet serviceName == the
    headless Service (publishNotReadyAddresses, Parallel start), 4 replicas,
    volumeClaimTemplates mounted at node.json's data_dir, /healthz and
    /readyz httpGet probes on the port node.json's "http" listens on,
    selectors matching the pod labels, PodDisruptionBudget maxUnavailable 1,
    non-root pods with read-only root file systems, resources everywhere;
  - deploy/k8s/make-secrets.sh (run with the built cdl) writes a genesis whose
    validator addresses are the headless service's pod names and prints the
    kubectl commands that create every ConfigMap and Secret the StatefulSet
    mounts, with the keys it mounts;
  - a pod is simulated: the init container's script runs (POD_NAME=cdl-2)
    over the files make-secrets.sh wrote, then the node container's command
    runs the real cdl-node with the ConfigMap's node.json (paths moved under a
    temp dir, addresses to free loopback ports): it must come up as
    validator-2, answer /healthz 200 and /readyz 503 (no quorum without
    peers), and stop cleanly on SIGTERM;
  - the Dockerfile installs the Debian package of every library that the built
    binaries link (ldd + dpkg -S).

systemd (deploy/systemd):
  - `systemd-analyze verify` on cdl-node.service (in a scratch root holding
    /usr/local/bin/cdl-node) prints nothing and exits 0; the unit has the
    expected hardening keys;
  - every key of node.example.json is a cdl-node flag (--help), and cdl-node
    started with that file (paths and addresses moved, nothing else) against
    a `cdl genesis init --tls` genesis comes up and stops cleanly;
  - install.sh --dry-run installs the files where node.example.json and the
    unit expect them.

Usage: deploy_test.py --repo REPO --node CDL_NODE --cdl CDL
Needs /usr/bin/python3 with python3-yaml and python3-kubernetes, and
systemd-analyze (package systemd): deploy/install-deps.sh installs them.
"""
import argparse
import copy
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml
import kubernetes.client as k8s

FAILURES = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)
    return cond


# ---------------------------------------------------------------- schema ----

KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("v1", "Service"): "V1Service",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
}


def schema_errors(value, type_name, path):
    """Errors of `value` (parsed YAML) against the python3-kubernetes type
    `type_name` ('V1StatefulSet', 'list[V1Container]', 'dict(str, str)', ...).
    Returns (errors, model-or-value)."""
    errors = []
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return ["%s: expected a list, got %r" % (path, value)], None
        out = []
        for i, item in enumerate(value):
            e, v = schema_errors(item, type_name[5:-1], "%s[%d]" % (path, i))
            errors += e
            out.append(v)
        return errors, out
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            return ["%s: expected a map, got %r" % (path, value)], None
        inner = type_name[5:-1].split(", ", 1)[1]
        out = {}
        for k, item in value.items():
            if not isinstance(k, str):
                errors.append("%s: map key %r is not a string" % (path, k))
            e, v = schema_errors(item, inner, "%s.%s" % (path, k))
            errors += e
            out[k] = v
        return errors, out
    if type_name == "str":
        ok = isinstance(value, str)
    elif type_name == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "bool":
        ok = isinstance(value, bool)
    elif type_name == "datetime":
        ok = isinstance(value, str)
    elif type_name == "object":  # IntOrString and free-form fields
        ok = isinstance(value, (str, int, dict, list)) and not isinstance(value, bool)
    else:
        cls = getattr(k8s, type_name, None)
        if cls is None:
            return ["%s: unknown model %s" % (path, type_name)], None
        if not isinstance(value, dict):
            return ["%s: expected a %s object, got %r" % (path, type_name, value)], None
        by_json = {j: p for p, j in cls.attribute_map.items()}
        kwargs = {}
        for key, item in value.items():
            if key not in by_json:
                errors.append("%s: unknown field %r for %s" % (path, key, type_name))
                continue
            attr = by_json[key]
            e, v = schema_errors(item, cls.openapi_types[attr], "%s.%s" % (path, key))
            errors += e
            kwargs[attr] = v
        if errors:
            return errors, None
        try:
            # The models' setters reject missing required fields.
            return [], cls(**kwargs)
        except (ValueError, TypeError) as e:
            return ["%s: %s" % (path, e)], None
    if not ok:
        return ["%s: expected %s, got %r" % (path, type_name, value)], None
    return [], value


def validate_object(doc, where):
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in KINDS:
        return ["%s: apiVersion/kind %s/%s is not one this test knows" % (where, key[0], key[1])]
    errors, _ = schema_errors(doc, KINDS[key], where)
    return errors


def self_test_schema(sts):
    # The checker must catch what it is meant to catch.
    bad = copy.deepcopy(sts)
    bad["spec"]["replica"] = 4
    check(any("unknown field 'replica'" in e for e in validate_object(bad, "x")),
          "schema check misses an unknown field")
    bad = copy.deepcopy(sts)
    bad["spec"]["replicas"] = "4"
    check(any("expected int" in e for e in validate_object(bad, "x")), "schema check misses a mistyped field")
    bad = copy.deepcopy(sts)
    del bad["spec"]["template"]["spec"]["containers"][0]["name"]
    check(any("name" in e for e in validate_object(bad, "x")), "schema check misses a missing required field")


# ----------------------------------------------------------------- helpers ---

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Node:
    """A cdl-node process started by `argv`; up once `cdl status` answers."""

    def __init__(self, argv, cdl, client, workdir, env=None):
        self.log_path = os.path.join(workdir, "node.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.cdl = cdl
        self.client = client

    def wait_up(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return None
            r = subprocess.run([self.cdl, "--node", self.client, "--json", "status"], capture_output=True,
                               text=True, timeout=30)
            if r.returncode == 0:
                return json.loads(r.stdout)
            time.sleep(0.2)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        with open(self.log_path) as f:
            return self.proc.returncode, f.read()


def node_flags(node_bin):
    r = subprocess.run([node_bin, "--help"], capture_output=True, text=True, timeout=30)
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", r.stdout))


# ------------------------------------------------------------- kubernetes ----

def load_manifests(k8s_dir):
    objects = {}
    files = sorted(f for f in os.listdir(k8s_dir) if f.endswith((".yaml", ".yml")))
    check(files, "no YAML files in " + k8s_dir)
    for f in files:
        with open(os.path.join(k8s_dir, f)) as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d is not None]
        check(docs, f + ": no YAML document")
        for i, doc in enumerate(docs):
            where = "%s[%d] %s/%s" % (f, i, doc.get("kind"), doc.get("metadata", {}).get("name"))
            for e in validate_object(doc, where):
                check(False, "schema: " + e)
            key = (doc.get("kind"), doc.get("metadata", {}).get("name"))
            check(key not in objects, "%s defined twice" % (key,))
            objects[key] = doc
    print("k8s: %d objects in %d files parsed and schema-checked: %s" %
          (len(objects), len(files), ", ".join("%s/%s" % k for k in sorted(objects))))
    return objects


def one(objects, kind, pred=lambda o: True):
    found = [o for (k, _), o in objects.items() if k == kind and pred(o)]
    check(len(found) == 1, "expected exactly one %s (matching), found %d" % (kind, len(found)))
    return found[0] if found else None


def mount_for(container, path):
    """The volumeMount whose mountPath is the longest prefix of `path`."""
    best = None
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                best = m
    return best


def run_make_secrets(repo, cdl, workdir):
    out = os.path.join(workdir, "k8s-secrets")
    r = subprocess.run(["bash", os.path.join(repo, "deploy", "k8s", "make-secrets.sh"),
                        "--founder", "reg-cn:regulator:CN:China regulator",
                        "--founder", "acc-eu:accreditor:EU", "--out", out, "--cdl", cdl],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "make-secrets.sh failed: " + r.stderr)
    check("dry run" in r.stderr, "make-secrets.sh without --apply must say it is a dry run")
    created = {}  # (kind, name) -> {key: file}
    for line in r.stdout.splitlines():
        argv = shlex.split(line)
        check(argv[:1] == ["kubectl"], "make-secrets.sh printed a line that is no kubectl command: " + line)
        if argv[3:5] == ["create", "configmap"]:
            kind, name, rest = "ConfigMap", argv[5], argv[6:]
        elif argv[3:6] == ["create", "secret", "generic"]:
            kind, name, rest = "Secret", argv[6], argv[7:]
        else:
            check(False, "unexpected command: " + line)
            continue
        check(argv[1:3] == ["-n", "cdl"], "%s: not in namespace cdl" % line)
        files = {}
        for a in rest:
            m = re.fullmatch(r"--from-file=([^=]+)=(.+)", a)
            check(m is not None, "%s: argument %s is not --from-file=KEY=FILE" % (line, a))
            if m:
                files[m.group(1)] = m.group(2)
                check(os.path.isfile(m.group(2)), "%s: %s does not exist" % (line, m.group(2)))
        created[(kind, name)] = files
    print("make-secrets.sh: %d kubectl commands: %s" % (len(created), ", ".join("%s/%s" % k for k in created)))
    # A rerun must not overwrite existing keys.
    r2 = subprocess.run(["bash", os.path.join(repo, "deploy", "k8s", "make-secrets.sh"),
                         "--founder", "reg-cn:regulator:CN", "--out", out, "--cdl", cdl],
                        capture_output=True, text=True, timeout=60)
    check(r2.returncode != 0 and "already exists" in r2.stderr, "make-secrets.sh overwrote an existing genesis")
    # --apply runs exactly the printed commands (a stand-in kubectl records them).
    bin_dir = os.path.join(workdir, "fake-kubectl")
    os.makedirs(bin_dir)
    log = os.path.join(workdir, "kubectl.log")
    with open(os.path.join(bin_dir, "kubectl"), "w") as f:
        f.write('#!/bin/sh\nprintf "%%s\\n" "kubectl $*" >> %s\n' % shlex.quote(log))
    os.chmod(os.path.join(bin_dir, "kubectl"), 0o755)
    r3 = subprocess.run(["bash", os.path.join(repo, "deploy", "k8s", "make-secrets.sh"),
                         "--founder", "reg-cn:regulator:CN", "--out", out + "-applied", "--cdl", cdl, "--apply"],
                        capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"]))
    check(r3.returncode == 0, "make-secrets.sh --apply failed: " + r3.stderr)
    ran = open(log).read().splitlines() if os.path.exists(log) else []
    check(ran == r3.stdout.splitlines() and len(ran) == 6,
          "make-secrets.sh --apply ran %s, printed %s" % (ran, r3.stdout.splitlines()))
    for k in range(4):
        mode = os.stat(os.path.join(out, "validator-%d.key" % k)).st_mode & 0o777
        check(mode == 0o600, "validator-%d.key has mode %o, not 600" % (k, mode))
    return out, created


def check_kubernetes(repo, node_bin, cdl, workdir):
    objects = load_manifests(os.path.join(repo, "deploy", "k8s"))
    kinds = {k for k, _ in objects}
    for kind in ("Namespace", "ServiceAccount", "ConfigMap", "Service", "StatefulSet", "PodDisruptionBudget",
                 "NetworkPolicy"):
        check(kind in kinds, "no %s in deploy/k8s" % kind)
    namespace = one(objects, "Namespace")
    ns = namespace["metadata"]["name"] if namespace else None
    check(ns == "cdl", "the namespace must be make-secrets.sh's default, cdl")
    for (kind, name), o in objects.items():
        if kind != "Namespace":
            check(o["metadata"].get("namespace") == ns, "%s/%s is not in namespace %s" % (kind, name, ns))

    sts = one(objects, "StatefulSet")
    if sts is None:
        return
    self_test_schema(sts)
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    check(spec.get("replicas") == 4, "StatefulSet replicas must be 4")
    check(labels_match(spec["selector"]["matchLabels"], pod_labels), "StatefulSet selector does not match its pods")
    check(spec.get("podManagementPolicy") == "Parallel",
          "podManagementPolicy must be Parallel (no validator is ready before a quorum runs)")
    check(spec.get("updateStrategy", {}).get("type", "RollingUpdate") == "RollingUpdate",
          "updates must roll one pod at a time")

    headless = one(objects, "Service", lambda s: s["spec"].get("clusterIP") == "None")
    client = one(objects, "Service", lambda s: s["spec"].get("clusterIP") != "None")
    if headless is None or client is None:
        return
    check(spec["serviceName"] == headless["metadata"]["name"], "StatefulSet serviceName != the headless Service")
    check(headless["spec"].get("publishNotReadyAddresses") is True,
          "the headless Service must publish not-ready pods (peers connect before readiness)")
    for svc in (headless, client):
        check(labels_match(svc["spec"]["selector"], pod_labels),
              "Service %s selector does not match the pods" % svc["metadata"]["name"])

    pdb = one(objects, "PodDisruptionBudget")
    if pdb:
        check(pdb["spec"].get("maxUnavailable") == 1, "PodDisruptionBudget maxUnavailable must be 1 (f for n=4)")
        check(pdb["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"],
              "PodDisruptionBudget selector != StatefulSet selector")
    netpol = one(objects, "NetworkPolicy")
    if netpol:
        check(labels_match(netpol["spec"]["podSelector"]["matchLabels"], pod_labels),
              "NetworkPolicy does not select the pods")

    # Security and resources of every container.
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, "pods must run as non-root")
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pods must use the RuntimeDefault seccomp profile")
    check(pod.get("automountServiceAccountToken") is False, "no service account token in the pods")
    containers = pod.get("containers", [])
    init_containers = pod.get("initContainers", [])
    for c in containers + init_containers:
        sc = c.get("securityContext", {})
        check(sc.get("readOnlyRootFilesystem") is True, "%s: root file system must be read-only" % c["name"])
        check(sc.get("allowPrivilegeEscalation") is False, "%s: allowPrivilegeEscalation must be false" % c["name"])
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], "%s: must drop all capabilities" % c["name"])
        res = c.get("resources", {})
        for part in ("requests", "limits"):
            check({"cpu", "memory"} <= set(res.get(part, {})), "%s: %s for cpu and memory" % (c["name"], part))
    check(len(containers) == 1, "one container (cdl-node) per pod")
    if not containers:
        return
    main = containers[0]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in containers + init_containers:
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes or m["name"] in [t["metadata"]["name"] for t in spec["volumeClaimTemplates"]],
                  "%s mounts unknown volume %s" % (c["name"], m["name"]))

    # The node's command: --config FILE from a ConfigMap of deploy/k8s.
    command = " ".join(main.get("command", []) + main.get("args", []))
    m = re.search(r"--config (\S+)", command)
    check(m is not None, "the node container passes no --config")
    if not m:
        return
    config_path = m.group(1)
    cm_mount = mount_for(main, config_path)
    check(cm_mount is not None, "--config %s is on no volume" % config_path)
    cm_volume = volumes.get(cm_mount["name"], {}) if cm_mount else {}
    cm = objects.get(("ConfigMap", cm_volume.get("configMap", {}).get("name")))
    check(cm is not None, "--config %s is not on a ConfigMap of deploy/k8s" % config_path)
    if cm is None:
        return
    rel = os.path.relpath(config_path, cm_mount["mountPath"])
    check(rel in cm["data"], "ConfigMap %s has no key %s" % (cm["metadata"]["name"], rel))
    node_json = json.loads(cm["data"][rel])
    flags = node_flags(node_bin)
    for key in node_json:
        check("--" + key.replace("_", "-") in flags, "node.json key %s is no cdl-node flag" % key)
    check("--validator-id" in flags and "--validator-id" in command, "the validator id comes from the ordinal")

    # Ports and probes against node.json.
    ports = {p["name"]: p["containerPort"] for p in main.get("ports", [])}
    for name, key in (("grpc", "listen"), ("peer", "peer_listen"), ("http", "http")):
        check(key in node_json and ports.get(name) == port_of(node_json[key]),
              "node.json must set %s, on containerPort %s" % (key, name))
    check(node_json.get("http", "").startswith("0.0.0.0:"),
          "the HTTP gateway must listen on all pod addresses for the probes")
    for svc in (headless, client):
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort", p["port"])
            check(tp in ports or tp in ports.values(), "Service %s targets unknown port %s" %
                  (svc["metadata"]["name"], tp))
    peer_port = [p["port"] for p in headless["spec"]["ports"] if p.get("name") == "peer"]
    check(peer_port == [ports.get("peer")], "the headless Service must carry the peer port")

    def probe(name):
        p = main.get(name, {}).get("httpGet", {})
        port = p.get("port")
        return p.get("path"), ports.get(port, port)

    check(probe("livenessProbe") == ("/healthz", ports.get("http")), "livenessProbe: httpGet /healthz on http")
    check(probe("readinessProbe") == ("/readyz", ports.get("http")), "readinessProbe: httpGet /readyz on http")
    if "startupProbe" in main:
        check(probe("startupProbe") == ("/healthz", ports.get("http")), "startupProbe: httpGet /healthz on http")

    # The data dir is the volumeClaimTemplate.
    vct_names = [t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])]
    check(vct_names, "no volumeClaimTemplates")
    data_mount = mount_for(main, node_json["data_dir"])
    check(data_mount is not None and data_mount["name"] in vct_names and not data_mount.get("readOnly"),
          "data_dir %s is not on a writable volumeClaimTemplate" % node_json["data_dir"])

    # What make-secrets.sh creates is what the pods mount.
    secrets_dir, created = run_make_secrets(repo, cdl, workdir)
    provided = {}  # (kind, name) -> {key: file}
    for (kind, name), o in objects.items():
        if kind in ("ConfigMap", "Secret"):
            provided[(kind, name)] = {k: None for k in o.get("data", {})}
    provided.update(created)

    def source_keys(src):
        if "configMap" in src:
            return ("ConfigMap", src["configMap"]["name"]), src["configMap"].get("items")
        if "secret" in src:
            return ("Secret", src["secret"].get("secretName") or src["secret"].get("name")), src["secret"].get("items")
        return None, None

    for v in volumes.values():
        sources = [s for s in v.get("projected", {}).get("sources", [])] or [v]
        for src in sources:
            ref, items = source_keys(src)
            if ref is None:
                continue
            check(ref in provided, "volume %s mounts %s/%s, which neither deploy/k8s nor make-secrets.sh creates" %
                  (v["name"], ref[0], ref[1]))
            for it in items or []:
                check(it["key"] in provided.get(ref, {}), "volume %s: %s/%s has no key %s" %
                      (v["name"], ref[0], ref[1], it["key"]))

    # Validator addresses in the genesis: the headless Service's pod names.
    with open(os.path.join(secrets_dir, "genesis.json")) as f:
        genesis = json.load(f)
    want = ["%s-%d.%s.%s.svc.cluster.local:%d" % (sts["metadata"]["name"], k, headless["metadata"]["name"], ns,
                                                  ports.get("peer")) for k in range(4)]
    got = [v["address"] for v in genesis["validators"]]
    check(got == want, "genesis validator addresses %s != %s" % (got, want))
    check([v["id"] for v in genesis["validators"]] == ["validator-%d" % k for k in range(4)],
          "genesis validator ids must be validator-0..3 (the pod ordinals)")

    simulate_pod(main, init_containers, volumes, node_json, config_path, created, node_bin, cdl, workdir)


def materialize(volume, created, root):
    """Writes the files a configMap/secret/projected volume would show."""
    os.makedirs(root, exist_ok=True)
    sources = volume.get("projected", {}).get("sources") or [volume]
    for src in sources:
        if "secret" in src:
            ref = ("Secret", src["secret"].get("secretName") or src["secret"].get("name"))
            items = src["secret"].get("items")
        elif "configMap" in src:
            ref = ("ConfigMap", src["configMap"]["name"])
            items = src["configMap"].get("items")
        else:
            continue
        files = created.get(ref, {})
        for it in items or [{"key": k, "path": k} for k in files]:
            dst = os.path.join(root, it["path"])
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(files[it["key"]], dst)
            os.chmod(dst, 0o440)


def simulate_pod(main, init_containers, volumes, node_json, config_path, created, node_bin, cdl, workdir):
    """Runs the init container's script and the node container's command of
    pod cdl-2 on this machine, every mount a folder under `root`."""
    root = os.path.join(workdir, "pod")
    mounts = {}
    for c in [main] + init_containers:
        for m in c.get("volumeMounts", []):
            mounts[m["mountPath"]] = os.path.join(root, m["name"])
    for path in mounts.values():
        os.makedirs(path, exist_ok=True)
    for name, v in volumes.items():
        if "configMap" in v and ("ConfigMap", v["configMap"]["name"]) not in created:
            continue  # a ConfigMap of deploy/k8s: node.json is written below
        if "secret" in v or "projected" in v or "configMap" in v:
            materialize(v, created, os.path.join(root, name))

    def moved(text):
        for mp in sorted(mounts, key=len, reverse=True):
            text = text.replace(mp, mounts[mp])
        return text

    # The ConfigMap's node.json, paths moved, addresses on free loopback ports.
    cfg = {k: (moved(v) if isinstance(v, str) and v.startswith("/") else v) for k, v in node_json.items()}
    client = "127.0.0.1:%d" % free_port()
    http = "127.0.0.1:%d" % free_port()
    cfg.update(listen=client, peer_listen="127.0.0.1:%d" % free_port(), http=http)
    with open(moved(config_path), "w") as f:
        json.dump(cfg, f)

    env = dict(os.environ, POD_NAME="cdl-2")
    for c in init_containers:
        script = c["command"][-1]
        check(c["command"][:2] == ["/bin/sh", "-c"], "init container %s: /bin/sh -c SCRIPT" % c["name"])
        r = subprocess.run(["/bin/sh", "-c", moved(script)], env=env, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "init container %s failed: %s" % (c["name"], r.stderr))
    key_path = moved(node_json["key"])
    check(os.path.isfile(key_path) and os.stat(key_path).st_mode & 0o777 == 0o600,
          "the init container must leave the key at %s with mode 0600" % node_json["key"])
    if os.path.isfile(key_path):
        with open(key_path) as a, open(created[("Secret", "cdl-validator-2")]["validator.key"]) as b:
            check(a.read() == b.read(), "pod cdl-2 got a key other than validator-2's")

    bad = subprocess.run(["/bin/sh", "-c", moved(init_containers[0]["command"][-1])],
                         env=dict(os.environ, POD_NAME="cdl-7"), capture_output=True, text=True, timeout=30)
    check(bad.returncode != 0 and "cdl-validator-7" in bad.stderr,
          "the init container must fail, naming the Secret, for a pod without a key")

    command = main["command"]
    check(command[:2] == ["/bin/sh", "-c"] and command[2].startswith("exec /usr/local/bin/cdl-node "),
          "the node container runs: /bin/sh -c 'exec /usr/local/bin/cdl-node ...'")
    script = moved(command[2]).replace("/usr/local/bin/cdl-node", node_bin)
    node = Node(["/bin/sh", "-c", script], cdl, client, workdir, env=env)
    try:
        status = node.wait_up()
        healthz = readyz = (None, "")
        if status:
            healthz = http_get("http://%s/healthz" % http)
            readyz = http_get("http://%s/readyz" % http)
    finally:
        code, log = node.stop()
    check(status is not None, "the simulated pod's cdl-node did not come up:\n" + log[-2000:])
    if status:
        check(status.get("node_id") == "validator-2", "pod cdl-2 must run validator-2: %s" % status)
        check(status.get("chain_id") == "cdl-k8s", "the pod must serve make-secrets.sh's chain: %s" % status)
        check(healthz[0] == 200, "/healthz answered %s %s" % healthz)
        check(readyz[0] == 503, "/readyz without peers must be 503, got %s %s" % readyz)
        print("k8s pod cdl-2 simulated: validator-2 up, /healthz %s, /readyz %s" % (healthz[0], readyz[0]))
    check(code == 0 and "stopped cleanly" in log, "cdl-node did not stop cleanly on SIGTERM (exit %s)" % code)


def check_dockerfile(repo, binaries):
    with open(os.path.join(repo, "deploy", "k8s", "Dockerfile")) as f:
        text = f.read()
    m = re.search(r"apt-get install -y --no-install-recommends\s*\\?\s*(.*?)\s*&&", text, re.S)
    check(m is not None, "Dockerfile: no apt-get install line")
    listed = set(m.group(1).replace("\\", " ").split()) if m else set()
    libs = {}  # library path -> binary linking it
    for b in binaries:
        r = subprocess.run(["ldd", b], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "ldd %s failed" % b)
        for lib in re.findall(r"=> (/\S+)", r.stdout):
            if re.search(r"/lib(asan|ubsan|tsan|lsan)\.so", lib):
                print("Dockerfile: %s is a sanitizer runtime (make asan), not part of the image" % lib)
                continue
            libs.setdefault(lib, b)
    candidates = {lib: [lib, os.path.realpath(lib), "/usr" + lib] for lib in libs}
    # One dpkg -S for all paths (each call reads every file list).
    d = subprocess.run(["dpkg", "-S"] + sorted({c for cs in candidates.values() for c in cs}),
                       capture_output=True, text=True, timeout=120)
    owner = {}
    for line in d.stdout.splitlines():
        pkgs, _, path = line.partition(": ")
        owner[path.strip()] = pkgs.split(":")[0].split(",")[0].strip()
    needed = set()
    for lib, cands in candidates.items():
        pkg = next((owner[c] for c in cands if c in owner), None)
        check(pkg is not None, "no Debian package owns %s (linked by %s)" % (lib, libs[lib]))
        if pkg:
            needed.add(pkg)
    check(needed <= listed, "Dockerfile misses runtime packages: %s" % sorted(needed - listed))
    check("COPY build/node/cdl-node build/cli/cdl /usr/local/bin/" in text, "Dockerfile copies the binaries")
    check(re.search(r"^USER 10001", text, re.M) is not None, "the image runs as uid 10001 like the StatefulSet")
    if needed <= listed:
        print("Dockerfile: installs all %d packages the binaries link" % len(needed))


# ----------------------------------------------------------------- systemd ----

def parse_unit(path):
    sections, current = {}, None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                current = line.strip("[]")
                sections.setdefault(current, {})
                continue
            check("=" in line and current, "%s:%d is neither a section nor KEY=VALUE" % (path, n))
            k, v = line.split("=", 1)
            sections[current].setdefault(k.strip(), []).append(v.strip())
    return sections


def check_systemd(repo, node_bin, cdl, workdir):
    unit_path = os.path.join(repo, "deploy", "systemd", "cdl-node.service")
    unit = parse_unit(unit_path)
    svc = unit.get("Service", {})
    want = {
        "User": "cdl", "ExecStart": "/usr/local/bin/cdl-node --config /etc/cdl/node.json",
        "Restart": "on-failure", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/cdl",
        "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "yes", "PrivateDevices": "yes",
    }
    for k, v in want.items():
        check(svc.get(k) == [v], "unit: %s=%s expected, got %s" % (k, v, svc.get(k)))
    check("LimitNOFILE" in svc, "unit: LimitNOFILE")
    check(unit.get("Install", {}).get("WantedBy") == ["multi-user.target"], "unit: WantedBy=multi-user.target")

    # systemd-analyze verify, in a scratch root that has the binary where the
    # unit runs it from. Any message is a failure (it warns and exits 0 on
    # unknown keys and bad values).
    tool = shutil.which("systemd-analyze")
    check(tool is not None, "systemd-analyze not found (package systemd; deploy/install-deps.sh installs it)")
    if tool:
        root = os.path.join(workdir, "systemd-root")
        os.makedirs(os.path.join(root, "usr/local/bin"))
        os.makedirs(os.path.join(root, "etc/systemd/system"))
        os.makedirs(os.path.join(root, "usr/lib/systemd"))
        shutil.copytree("/usr/lib/systemd/system", os.path.join(root, "usr/lib/systemd/system"), symlinks=True)
        dst = os.path.join(root, "usr/local/bin/cdl-node")
        real = os.path.realpath(node_bin)  # a symlink would point outside the root
        try:
            os.link(real, dst)
        except OSError:
            shutil.copy2(real, dst)
        shutil.copy(unit_path, os.path.join(root, "etc/systemd/system/cdl-node.service"))
        r = subprocess.run([tool, "verify", "--root=" + root, "--man=no", "cdl-node.service"],
                           capture_output=True, text=True, timeout=120)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and not out, "systemd-analyze verify: exit %d: %s" % (r.returncode, out))
        if r.returncode == 0 and not out:
            print("systemd-analyze verify cdl-node.service: clean")
        # And it does catch mistakes.
        with open(os.path.join(root, "etc/systemd/system/cdl-node.service"), "a") as f:
            f.write("ProtectSystm=strict\n")
        r = subprocess.run([tool, "verify", "--root=" + root, "--man=no", "cdl-node.service"],
                           capture_output=True, text=True, timeout=120)
        check("ProtectSystm" in r.stdout + r.stderr, "systemd-analyze verify does not report an unknown key")

    # node.example.json: every key is a flag, and cdl-node runs with it.
    example_path = os.path.join(repo, "deploy", "systemd", "node.example.json")
    with open(example_path) as f:
        example = json.load(f)
    flags = node_flags(node_bin)
    for key in example:
        check("--" + key.replace("_", "-") in flags, "node.example.json key %s is no cdl-node flag" % key)
    check(example.get("data_dir") == "/var/lib/cdl", "node.example.json data_dir must be the unit's ReadWritePaths")

    gen = os.path.join(workdir, "systemd-genesis")
    r = subprocess.run([cdl, "genesis", "init", "--chain-id", "deploy-test", "-o", gen, "--validators", "4",
                        "--tls", "--founder", "reg-cn:regulator:CN"], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "cdl genesis init --tls: " + r.stderr)
    # Where install.sh puts each file: its --dry-run says.
    fake_build = os.path.join(workdir, "fake-build")
    os.makedirs(os.path.join(fake_build, "node"))
    os.makedirs(os.path.join(fake_build, "cli"))
    os.symlink(node_bin, os.path.join(fake_build, "node", "cdl-node"))
    os.symlink(cdl, os.path.join(fake_build, "cli", "cdl"))
    r = subprocess.run(["bash", os.path.join(repo, "deploy", "systemd", "install.sh"), "--from", gen,
                        "--validator", "1", "--build", fake_build, "--dry-run"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "install.sh --dry-run: " + r.stderr)
    installed = {}
    for line in r.stdout.splitlines():
        argv = shlex.split(line)
        if argv and argv[0] == "install" and "-d" not in argv:
            installed[argv[-1]] = argv[-2]
            if argv[-1] == "/etc/cdl/validator.key":
                check(argv[argv.index("-m") + 1] == "0600", "install.sh: the key must be installed 0600")
    check(installed.get("/usr/local/bin/cdl-node") == os.path.join(fake_build, "node", "cdl-node"),
          "install.sh must install cdl-node where ExecStart runs it")
    check(installed.get("/etc/cdl/node.json", "").endswith("node.example.json"),
          "install.sh must install node.example.json as /etc/cdl/node.json (the unit's --config)")
    check(installed.get("/etc/systemd/system/cdl-node.service", "").endswith("cdl-node.service"),
          "install.sh must install the unit")
    for key in ("genesis", "key", "tls_ca", "tls_cert"):
        check(example[key] in installed, "install.sh installs nothing at node.example.json's %s %s" %
              (key, example[key]))
    check(installed.get(example["key"], "").endswith("validator-1.key"), "install.sh: key of --validator 1")

    # Run cdl-node with the example: the files install.sh would install, in a
    # scratch folder; addresses on free loopback ports; nothing else changed.
    etc = os.path.join(workdir, "etc-cdl")
    os.makedirs(etc)
    cfg = dict(example)
    for key in ("genesis", "key", "tls_ca", "tls_cert"):
        dst = os.path.join(etc, os.path.basename(example[key]))
        shutil.copyfile(installed[example[key]], dst)
        cfg[key] = dst
    os.chmod(cfg["key"], 0o600)
    cfg["data_dir"] = os.path.join(workdir, "var-lib-cdl")
    client = "127.0.0.1:%d" % free_port()
    http = "127.0.0.1:%d" % free_port()
    cfg.update(listen=client, peer_listen="127.0.0.1:%d" % free_port(), http=http)
    check(set(cfg) == set(example) and all(type(cfg[k]) is type(example[k]) for k in cfg),
          "the test changed only values")
    config = os.path.join(etc, "node.json")
    with open(config, "w") as f:
        json.dump(cfg, f)
    node = Node([node_bin, "--config", config], cdl, client, workdir)
    try:
        status = node.wait_up()
        healthz = http_get("http://%s/healthz" % http) if status else (None, "")
    finally:
        code, log = node.stop()
    check(status is not None, "cdl-node --config (node.example.json) did not come up:\n" + log[-2000:])
    if status:
        check(status.get("node_id") == "validator-1", "the example config runs validator-1 (its key): %s" % status)
        check(healthz[0] == 200, "/healthz on the example's http address answered %s" % (healthz,))
        print("systemd: cdl-node --config node.example.json up as validator-1, /healthz %s" % healthz[0])
    check(code == 0 and "stopped cleanly" in log, "cdl-node did not stop cleanly (exit %s)" % code)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--node", required=True, help="cdl-node binary")
    ap.add_argument("--cdl", required=True, help="cdl binary")
    args = ap.parse_args()
    node_bin, cdl = os.path.abspath(args.node), os.path.abspath(args.cdl)
    with tempfile.TemporaryDirectory(prefix="cdl-deploy-") as tmp:
        os.makedirs(os.path.join(tmp, "k8s"))
        check_kubernetes(args.repo, node_bin, cdl, os.path.join(tmp, "k8s"))
        check_dockerfile(args.repo, [node_bin, cdl])
        os.makedirs(os.path.join(tmp, "systemd"))
        check_systemd(args.repo, node_bin, cdl, os.path.join(tmp, "systemd"))
    failed = len(FAILURES)
    print("%d passed, %d failed" % (CHECKS[0] - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
