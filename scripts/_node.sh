# shellcheck shell=bash
# Sourced by scripts/test-frontend and scripts/ensure-e2e-deps: defines ensure_node_modules,
# which runs `npm ci` in frontend/ when node_modules is missing or older than package-lock.json
# (npm writes node_modules/.package-lock.json at every install).

NODE_FRONTEND="$(cd "$(dirname "${BASH_SOURCE[0]}")/../frontend" && pwd)"

ensure_node_modules() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
        echo "error: node and npm are needed (Node.js >= 20) for the card's tests and build" >&2
        return 1
    }
    local stamp="$NODE_FRONTEND/node_modules/.package-lock.json"
    if [[ ! -f "$stamp" || "$NODE_FRONTEND/package-lock.json" -nt "$stamp" ]]; then
        echo "Installing the card's node packages (npm ci in frontend/)" >&2
        (cd "$NODE_FRONTEND" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
