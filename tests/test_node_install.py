"""scripts/_node.sh installs the card's node packages only when the lock's contents change.

A fresh checkout (a clone, a git worktree) has a newer package-lock.json with the same contents:
comparing file times made it run `npm ci` again, which empties a node_modules shared with
another checkout. The function is run with a stand-in ``npm`` that records its calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "_node.sh", tmp_path / "scripts" / "_node.sh")
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend" / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text('#!/bin/sh\necho "$@" >> "$NPM_CALLS"\nmkdir -p node_modules\n')
    npm.chmod(0o755)
    return tmp_path


def _ensure(checkout: Path) -> list[str]:
    calls = checkout / "calls.txt"
    env = {
        **os.environ,
        "PATH": f"{checkout / 'bin'}:{os.environ['PATH']}",
        "NPM_CALLS": str(calls),
    }
    subprocess.run(
        ["bash", "-c", "source scripts/_node.sh && ensure_node_modules"],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
    )
    return calls.read_text().splitlines() if calls.exists() else []


def test_installs_once_and_not_again_for_a_newer_lock_with_the_same_contents(
    tmp_path: Path,
) -> None:
    checkout = _checkout(tmp_path)
    assert len(_ensure(checkout)) == 1
    lock = checkout / "frontend" / "package-lock.json"
    os.utime(lock, (lock.stat().st_atime + 3600, lock.stat().st_mtime + 3600))
    assert len(_ensure(checkout)) == 1  # touched, same contents: nothing installed


def test_a_changed_lock_installs_again(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path)
    _ensure(checkout)
    (checkout / "frontend" / "package-lock.json").write_text('{"lockfileVersion": 3, "x": 1}\n')
    assert len(_ensure(checkout)) == 2
