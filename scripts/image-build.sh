#!/usr/bin/env bash
# Build wirewatch:latest with podman (`make image` runs this, then scripts/image-smoke.sh).
#
# Base image: the Dockerfile's pinned python:3.11-slim when podman has it or can pull it;
# otherwise (no image registry reachable) a Debian bookworm base made locally with mmdebstrap,
# kept as localhost/wirewatch-base:bookworm so that later builds reuse it and their layers.
# torch: from a local folder holding the torch 2.13.0 CPU wheel when this machine's pip knows
# one ($PIP_FIND_LINKS or pip's find-links), mounted into the build; otherwise from the
# PyTorch CPU index. Everything else from the package index, at requirements.lock's versions.
#
# Environment: IMAGE (wirewatch:latest), BASE_IMAGE (skip the detection), WHEELS (a folder with
# the torch wheel, "" for none), PIP_CA (a CA bundle for pip, "" for none).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-wirewatch:latest}
LOCAL_BASE=localhost/wirewatch-base:bookworm
TORCH_WHEEL_GLOB='torch-2.13.0+cpu-cp311-*.whl'

say() { printf 'image-build: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

pinned_base() {
    sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile
}

pip_setting() {  # the first value pip is configured with for KEY (find-links, cert)
    python3 -m pip config list 2>/dev/null | sed -n "s/^[^=]*\.$1='\(.*\)'\$/\1/p" | head -n 1
}

local_base() {
    if podman image exists "$LOCAL_BASE"; then
        say "base: $LOCAL_BASE (made earlier)"
    else
        command -v mmdebstrap > /dev/null || fail "no image registry and no mmdebstrap to make a base"
        say "base: no image registry reachable; making $LOCAL_BASE with mmdebstrap"
        local dir started=$SECONDS
        dir=$(mktemp -d)
        mmdebstrap --quiet --variant=minbase \
            --include=python3,python3-venv,python-is-python3,ca-certificates \
            --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            bookworm "$dir/rootfs.tar" || { rm -rf "$dir"; fail "mmdebstrap could not make the base"; }
        podman import --quiet "$dir/rootfs.tar" "$LOCAL_BASE" > /dev/null
        rm -rf "$dir"
        say "base: made in $((SECONDS - started)) s"
    fi
    echo "$LOCAL_BASE"
}

choose_base() {
    if [[ -n ${BASE_IMAGE:-} ]]; then echo "$BASE_IMAGE"; return; fi
    local pinned
    pinned=$(pinned_base)
    if podman image exists "$pinned" || timeout 300 podman pull --quiet "$pinned" > /dev/null 2>&1; then
        say "base: $pinned"
        echo "$pinned"
    else
        local_base
    fi
}

wheel_folder() {  # a folder with the torch CPU wheel, or nothing
    if [[ -n ${WHEELS+set} ]]; then echo "$WHEELS"; return; fi
    local candidate
    for candidate in ${PIP_FIND_LINKS:-} $(pip_setting find-links); do
        candidate=${candidate#file://}
        if compgen -G "$candidate/$TORCH_WHEEL_GLOB" > /dev/null; then echo "$candidate"; return; fi
    done
}

ca_bundle() {
    if [[ -n ${PIP_CA+set} ]]; then echo "$PIP_CA"; return; fi
    echo "${PIP_CERT:-$(pip_setting cert)}"
}

main() {
    command -v podman > /dev/null || fail "podman is not installed (apt-get install podman)"
    local base wheels ca
    base=$(choose_base)
    wheels=$(wheel_folder)
    ca=$(ca_bundle)
    local args=(--isolation=chroot --network=host --format=docker --layers
        --build-arg "BASE_IMAGE=$base" --tag "$IMAGE")
    local pip_options=""
    if [[ -n $wheels ]]; then
        say "torch: the CPU wheel in $wheels (no index)"
        args+=(--volume "$(realpath "$wheels"):/run/host-pip/wheels:ro" --build-arg TORCH_INDEX_URL=)
        pip_options+="--find-links /run/host-pip/wheels "
    else
        say "torch: the PyTorch CPU index"
    fi
    if [[ -n $ca ]]; then
        [[ -r $ca ]] || fail "pip's CA bundle $ca is not readable"
        args+=(--volume "$(realpath "$ca"):/run/host-pip/ca.pem:ro")
        pip_options+="--cert /run/host-pip/ca.pem"
    fi
    args+=(--build-arg "PIP_EXTRA_OPTIONS=$pip_options")
    local started=$SECONDS
    podman build "${args[@]}" . || fail "podman build (see the step above)"
    local size
    size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
    say "built $IMAGE in $((SECONDS - started)) s: $((size / 1000000)) MB"
}

main "$@"
