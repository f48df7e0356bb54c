# shellcheck shell=bash
# Sourced by scripts/install-deps, scripts/test and scripts/demo: picks the Python to use.
#
# HAVEN_PYTHON wins if set. Otherwise: an active virtualenv's python; else python3 itself if
# pip may install into it; else (Debian's "externally managed" system Python) the project's
# own virtualenv .venv/ (created by scripts/install-deps).

haven_pick_python() {
    local root=$1
    if [[ -n "${HAVEN_PYTHON:-}" ]]; then
        PY=$HAVEN_PYTHON
    elif [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]]; then
        PY=$VIRTUAL_ENV/bin/python
    elif [[ -x "$root/.venv/bin/python" ]]; then
        PY=$root/.venv/bin/python
    elif command -v python3 >/dev/null 2>&1 && ! python3 - <<'PYEOF' 2>/dev/null
import os, sys, sysconfig
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if os.path.exists(marker) and sys.prefix == sys.base_prefix else 1)
PYEOF
    then
        PY=$(command -v python3)
    else
        PY=$root/.venv/bin/python
    fi
    export PY
}
