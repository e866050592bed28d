#!/usr/bin/env bash
# The Debian packages a make target needs, installed when missing (apt-get; sudo unless root).
#   scripts/system-packages.sh test    chromium (the dashboard's browser tests, driven by
#                                      Playwright's Python API, never `playwright install`) and
#                                      postgresql (a throwaway server: tests/fixtures/postgres.py)
#   scripts/system-packages.sh image   podman, mmdebstrap (a local base image where no registry
#                                      is reachable) and iproute2 (the smoke test's netns)
set -euo pipefail

missing=()
need() {  # need PACKAGE CHECK...: PACKAGE when CHECK fails
    local package=$1
    shift
    "$@" > /dev/null 2>&1 || missing+=("$package")
}
has_postgresql() { compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' > /dev/null; }

case "${1:-}" in
    test)
        need chromium command -v chromium
        need postgresql has_postgresql
        ;;
    image)
        need podman command -v podman
        need mmdebstrap command -v mmdebstrap
        need iproute2 command -v ip
        ;;
    *)
        echo "usage: $0 test|image" >&2
        exit 2
        ;;
esac

[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
