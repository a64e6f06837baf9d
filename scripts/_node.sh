# shellcheck shell=bash
# Sourced by scripts/test-frontend and scripts/ensure-e2e-deps: defines ensure_node_modules,
# which runs `npm ci` in frontend/ when node_modules is missing or was installed from another
# package-lock.json: the lock's SHA-256 is kept in node_modules/.pev-lock-sha256 after an
# install. Contents, not file times: a fresh checkout (a new clone, a git worktree) has a newer
# lock file with the same contents, and must not reinstall (and so empty) a shared node_modules.

NODE_FRONTEND="$(cd "$(dirname "${BASH_SOURCE[0]}")/../frontend" && pwd)"

ensure_node_modules() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
        echo "error: node and npm are needed (Node.js >= 20) for the card's tests and build" >&2
        return 1
    }
    local stamp="$NODE_FRONTEND/node_modules/.pev-lock-sha256" want
    want="$(sha256sum "$NODE_FRONTEND/package-lock.json" | cut -d' ' -f1)"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "Installing the card's node packages (npm ci in frontend/)" >&2
        (cd "$NODE_FRONTEND" && npm ci --no-audit --no-fund --loglevel=error) || return 1
        echo "$want" >"$stamp"
    fi
}
