#!/usr/bin/env bash
# make_venv.sh NAME PYTHON_VERSION REQUIREMENTS
# Create .venv/NAME with the wanted Python and install REQUIREMENTS into it.
# Skips everything when the requirements have not changed since the last install.
set -euo pipefail

name=$1 version=$2 requirements=$3
venv=".venv/$name"
stamp="$venv/.installed"
want=$(sha256sum "$requirements" | cut -d' ' -f1)

if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    exit 0
fi

find_python() {
    local candidate
    # 1. on PATH, if it really runs (a pyenv shim for a version that is not active does not)
    for candidate in "python$version" "python3"; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c "import sys; sys.exit(0 if sys.version.startswith('$version.') else 1)" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    # 2. pyenv's versions folder
    local root
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    for candidate in $(ls -d "$root"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V -r); do
        if "$candidate" -c "import venv" 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! python=$(find_python); then
    cat >&2 <<MSG
error: Python $version is needed for .venv/$name but none was found.
       Looked for python$version on PATH and in pyenv's versions folder.
       Install it, for example:  pyenv install $version   (or: apt-get install python$version python$version-venv)
MSG
    exit 1
fi

if [[ ! -x $venv/bin/python ]]; then
    echo "setting up $venv with $python"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
else
    echo "updating $venv"
fi
"$venv/bin/python" -m pip install --quiet -r "$requirements"
echo "$want" >"$stamp"
