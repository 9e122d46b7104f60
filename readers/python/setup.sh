#!/bin/bash
# A virtualenv with the Python readers' requirements (PyPI), once per machine: prints the path of its python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="${COLLAB_PYTHON_VENV:-$HOME/.cache/collab-python/$(sha256sum "$here/requirements.txt" | cut -c1-12)}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
echo "$venv/bin/python"
