# shellcheck shell=bash
# Sourced by the scripts in scripts/: moves to the repository root and defines ensure_venv,
# which creates .venv with ${PYTHON:-python3.14} when it is missing and (re)installs
# requirements_test.txt when the venv is new or the file changed since the last install
# (its sha256 is kept in .venv/.requirements-stamp).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

PYTHON="${PYTHON:-python3.14}"
VENV="$REPO_ROOT/.venv"
REQUIREMENTS="$REPO_ROOT/requirements_test.txt"
REQUIREMENTS_STAMP="$VENV/.requirements-stamp"

_venv_die() {
    echo "error: $*" >&2
    exit 1
}

_venv_sha256() {
    "$VENV/bin/python" -c \
        'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

ensure_venv() {
    local new=0
    if [[ ! -x "$VENV/bin/python" ]]; then
        command -v "$PYTHON" >/dev/null 2>&1 || _venv_die \
            "'$PYTHON' was not found. Home Assistant 2026.x needs Python >= 3.14.2: install it," \
            "or point PYTHON at one (PYTHON=/path/to/python3.14 $0)." \
            "On a bare Debian machine, 'bash .ci/run' can provide one."
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 14, 2))' 2>/dev/null || _venv_die \
            "'$PYTHON' is $("$PYTHON" -V 2>&1); Home Assistant 2026.x needs Python >= 3.14.2." \
            "Point PYTHON at a newer interpreter."
        echo "Creating $VENV with $("$PYTHON" -V 2>&1)" >&2
        "$PYTHON" -m venv "$VENV"
        new=1
    fi
    "$VENV/bin/python" -c '' 2>/dev/null || _venv_die \
        "$VENV/bin/python does not run (was its interpreter removed?). Delete .venv and retry."

    [[ -f "$REQUIREMENTS" ]] || _venv_die "$REQUIREMENTS is missing."

    # Two scripts started at once must not install into the same venv concurrently.
    if command -v flock >/dev/null 2>&1; then
        exec {_venv_lock_fd}>"$VENV/.install-lock"
        flock "$_venv_lock_fd"
    fi

    local want have=""
    want="$(_venv_sha256 "$REQUIREMENTS")"
    [[ -f "$REQUIREMENTS_STAMP" ]] && have="$(<"$REQUIREMENTS_STAMP")"
    if ((new)) || [[ "$want" != "$have" ]]; then
        echo "Installing $(basename "$REQUIREMENTS") into $VENV ..." >&2
        "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet \
            -r "$REQUIREMENTS" >&2 || _venv_die "pip install -r $REQUIREMENTS failed."
        printf '%s\n' "$want" >"$REQUIREMENTS_STAMP"
    fi

    if [[ -n "${_venv_lock_fd:-}" ]]; then
        exec {_venv_lock_fd}>&-
        unset _venv_lock_fd
    fi
}
