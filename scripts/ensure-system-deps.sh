#!/usr/bin/env bash
# Make sure the system packages neurochip needs are present on a Debian/Ubuntu machine:
# ngspice's shared library (the circuit stage), a C compiler and Python headers (the Cython
# emulator), and venv/pip; with --test also Debian's chromium (the HTML report's headless
# render test).  Installs what is missing as root or through sudo; otherwise stops with one
# message that says what to install.
set -euo pipefail
PY=${PYTHON:-python3}
missing=()

have_ngspice() {
    [ -n "${NGSPICE_LIBRARY_PATH:-}" ] && [ -e "${NGSPICE_LIBRARY_PATH}" ] && return 0
    ldconfig -p 2>/dev/null | grep -q 'libngspice\.so' && return 0
    compgen -G '/usr/lib/*/libngspice.so*' >/dev/null || compgen -G '/usr/lib/libngspice.so*' >/dev/null \
        || compgen -G '/usr/local/lib/libngspice.so*' >/dev/null
}
have_ngspice || missing+=(ngspice libngspice0)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
"$PY" - <<'PYEOF' 2>/dev/null || missing+=(python3-dev)
import sysconfig, os, sys
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PYEOF
"$PY" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ "${1:-}" = "--test" ]; then
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

echo "neurochip set-up: installing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "error: missing system packages: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
