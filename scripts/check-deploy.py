#!/usr/bin/env python3
"""Offline checks of deploy/kubernetes/ (no cluster here): every manifest validates against the
Kubernetes API schema (kubernetes-validate --strict), and every container's command line, with
the parameters the manifests give it substituted as Kubernetes would, is accepted by the
shopbench binary: it gets past the flags, the config file and the mix and stops only where it
would reach a server (exit 3), never at bad input (exit 2).

Usage: scripts/check-deploy.py PATH-TO-SHOPBENCH-BINARY
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "kubernetes"
KUBERNETES = "1.30.0"  # the oldest release the manifests promise (Indexed Jobs are GA since 1.24)


def main() -> int:
    binary = sys.argv[1]
    files = sorted(DEPLOY.glob("*.yaml"))
    subprocess.run(
        ["kubernetes-validate", "--strict", "-k", KUBERNETES, *map(str, files)], check=True
    )
    docs = {}
    for f in files:
        for d in yaml.safe_load_all(f.read_text()):
            docs[(d["kind"], d["metadata"]["name"])] = d
    with tempfile.TemporaryDirectory() as tmp:
        mounted = Path(tmp) / "etc-shopbench"
        mounted.mkdir()
        for (kind, _), d in docs.items():
            if kind == "ConfigMap" and d["metadata"]["name"] == "shopbench-config":
                for name, text in d["data"].items():
                    (mounted / name).write_text(text)
        failed = 0
        for (kind, name), d in docs.items():
            if kind != "Job":
                continue
            spec = d["spec"]
            pod = spec["template"]["spec"]
            for c in pod["containers"]:
                env = {}
                for ref in c.get("envFrom", []):
                    key = "configMapRef" if "configMapRef" in ref else "secretRef"
                    src = docs[("ConfigMap" if key == "configMapRef" else "Secret", ref[key]["name"])]
                    env.update(src.get("data") or src.get("stringData") or {})
                for e in c.get("env", []):
                    env[e["name"]] = e["value"]
                # The mount point, here.
                env = {k: v.replace("/etc/shopbench", str(mounted)) for k, v in env.items()}
                args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in c["args"]]
                # Nothing listens here: every server is unreachable.
                dead = "http://127.0.0.1:9"
                env.update(
                    DATABASE_URL="postgres://postgres:x@127.0.0.1:9/shopbench",
                    REDIS_URL="redis://127.0.0.1:9/0",
                    CLICKHOUSE_URL=dead,
                    S3_ENDPOINT=dead,
                    SHOPBENCH_HOME=str(Path(tmp) / "home"),
                )
                if spec.get("completionMode") == "Indexed":
                    env["JOB_COMPLETION_INDEX"] = str(spec["completions"] - 1)
                    shards = [a for a in args if a.startswith("--shards=")]
                    if shards != [f"--shards={spec['completions']}"]:
                        print(f"{name}: --shards must equal completions ({spec['completions']}): {shards}")
                        failed += 1
                run = subprocess.run(
                    [binary, *args],
                    env={**os.environ, **env},
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                verdict = "ok" if run.returncode == 3 else "FAILED"
                print(f"{name}: shopbench {' '.join(args)} -> exit {run.returncode} ({verdict}): {run.stderr.strip()}")
                if run.returncode != 3:
                    failed += 1
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
