#!/usr/bin/env bash
# Smoke-test the built image (`make image` runs this after scripts/image-build.sh).
#
# Without a container runtime (podman run cannot set rlimits in some sandboxes), the image's
# own filesystem is entered: `podman image mount` (read-only, like compose's read_only: true)
# and chroot as the image's USER, with the image's ENV and WORKDIR, tmpfs on /tmp and /data,
# the config at /config/wirewatch.yaml, in a fresh network namespace (loopback only).
#
# Checks: the image runs as a non-root user; its final stage has no compiler, no pip and no
# test folders; it is under IMAGE_MAX_MB; the models and the gazetteer load with no network;
# `wirewatch check` passes on config/wirewatch.container.yaml; `wirewatch demo` runs to its
# summary; the image's HEALTHCHECK fails before the service is up and passes once
# `wirewatch run` (the image's ENTRYPOINT and CMD) serves /healthz; SIGTERM then stops it with
# exit status 0.
# Exit status 0 only when every check passes; each failure says what and shows its output.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-wirewatch:latest}
IMAGE_MAX_MB=${IMAGE_MAX_MB:-1500}
CONFIG=${CONFIG:-config/wirewatch.container.yaml}
HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-240}
WORK=$(mktemp -d)
FAILED=()

say() { printf 'image-smoke: %s\n' "$*"; }
pass() { say "PASS  $1"; }
fail() {  # fail NAME OUTPUT
    say "FAIL  $1"
    [[ -z ${2:-} ]] || printf '%s\n' "$2" | tail -n 25 | sed 's/^/    | /'
    FAILED+=("$1")
}

cleanup() {
    podman image unmount "$IMAGE" > /dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

image_config() {  # the image's config as shell assignments: USER, WORKDIR, the env, the commands
    podman image inspect "$IMAGE" | python3 -c '
import json, shlex, sys
image = json.load(sys.stdin)[0]
config = image["Config"]
health = (image.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test") or []
print("IMAGE_USER=" + shlex.quote(config.get("User") or ""))
print("IMAGE_WORKDIR=" + shlex.quote(config.get("WorkingDir") or "/"))
print("IMAGE_ENV=(" + " ".join(map(shlex.quote, config.get("Env") or [])) + ")")
print("IMAGE_START=(" + " ".join(map(shlex.quote, (config.get("Entrypoint") or []) + (config.get("Cmd") or []))) + ")")
print("HEALTH_KIND=" + shlex.quote(health[0] if health else ""))
print("HEALTH_CMD=(" + " ".join(map(shlex.quote, health[1:])) + ")")
'
}

write_runner() {  # $WORK/in-image: run a bash script inside the image, as its user, offline
    cat > "$WORK/in-image" <<EOF
#!/usr/bin/env bash
# in-image SCRIPT: SCRIPT runs (by /bin/sh) in the image's root as $IMAGE_USER, no network.
set -euo pipefail
mount --make-rprivate /
ip link set lo up
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
mount -t tmpfs -o uid=${IMAGE_USER%%:*},gid=${IMAGE_USER##*:},mode=0700 tmpfs "$ROOT/data"
mount -t tmpfs -o mode=0755 tmpfs "$ROOT/config"
cp "$(realpath "$CONFIG")" "$ROOT/config/wirewatch.yaml"
for fs in dev proc sys; do mount --rbind "/\$fs" "$ROOT/\$fs"; done
printf '%s\n' "\$1" > "$ROOT/tmp/image-smoke.sh"
exec chroot --userspec="$IMAGE_USER" "$ROOT" /usr/bin/env -i $(printf '%q ' "${IMAGE_ENV[@]}") \
  HOME=/data SLACK_BOT_TOKEN=xoxb-image-smoke-test /bin/sh -c "cd $IMAGE_WORKDIR && exec /bin/sh /tmp/image-smoke.sh"
EOF
    chmod +x "$WORK/in-image"
}

in_image() {  # in_image SCRIPT: its output; its exit status
    timeout 600 unshare --mount --net --fork -- "$WORK/in-image" "$1" 2>&1
}

check_user() {
    case $IMAGE_USER in
        "" | 0 | 0:* | root | root:*) fail "runs as a non-root user (USER is '${IMAGE_USER}')" ;;
        *) pass "runs as user $IMAGE_USER" ;;
    esac
}

check_size() {
    local size
    size=$(($(podman image inspect --format '{{.Size}}' "$IMAGE") / 1000000))
    if ((size <= IMAGE_MAX_MB)); then pass "image size ${size} MB (limit ${IMAGE_MAX_MB} MB)"
    else fail "image size ${size} MB is over ${IMAGE_MAX_MB} MB"; fi
}

check_no_build_tools() {
    local found
    found=$(find "$ROOT/usr" "$ROOT/opt" "$ROOT/bin" "$ROOT/sbin" \( -type f -o -type l \) \
        \( -name gcc -o -name 'gcc-[0-9]*' -o -name cc -o -name 'c++' -o -name 'g++*' \
           -o -name 'clang*' -o -name tcc -o -name '*-linux-gnu-gcc*' \) -perm -u+x 2> /dev/null \
        | sed "s|^$ROOT||" || true)
    if [[ -z $found ]]; then pass "no compiler"; else fail "no compiler: found" "$found"; fi
    found=$(find "$ROOT/usr" "$ROOT/opt" \( \( -type f -o -type l \) -path '*/bin/pip*' \) \
        -o \( -type d \( -path '*-packages/pip' -o -path '*-packages/pip-*.dist-info' \) \) \
        2> /dev/null | sed "s|^$ROOT||" || true)
    if [[ -z $found ]]; then pass "no pip installed"; else fail "no pip installed: found" "$found"; fi
    found=$(find "$ROOT/opt/wirewatch" -type d \( -name tests -o -path '*/torch/test' \) \
        2> /dev/null | sed "s|^$ROOT||" || true)
    if [[ -z $found ]]; then pass "no test folders in /opt/wirewatch"
    else fail "no test folders in /opt/wirewatch: found" "$found"; fi
}

check_offline_models() {
    local out
    if out=$(in_image 'python -m pip --version' ); then
        fail "python -m pip fails in the image" "$out"
    else pass "python -m pip fails in the image"; fi
    if out=$(in_image 'python - <<"EOF"
import socket
try:
    socket.create_connection(("1.1.1.1", 443), timeout=3)
    raise SystemExit("the network is reachable: this check would prove nothing")
except OSError:
    pass
import torch
assert torch.__version__.endswith("+cpu"), f"torch {torch.__version__} is not the CPU build"
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import EventDetectors
from wirewatch.rules.leads import LeadEncoder
from wirewatch.rules.places import Gazetteer
vectors = Encoder().encode(["Gunmen attacked two police posts in Quetta"])
assert vectors.shape == (1, 384), vectors.shape
passages = LeadEncoder().passages(["Mobile internet was suspended in Quetta"])
assert passages.shape == (1, 384), passages.shape
EventDetectors.load()
region = Gazetteer.load().resolve_region("Balochistan")
assert region is not None, "the gazetteer does not know Balochistan"
print(f"torch {torch.__version__}; encoder {vectors.shape}; e5 {passages.shape}; {region}")
EOF'); then pass "models and gazetteer load offline as $IMAGE_USER: ${out##*$'\n'}"
    else fail "models and gazetteer load offline as $IMAGE_USER" "$out"; fi
}

check_config() {
    local out
    if out=$(in_image 'wirewatch check -c /config/wirewatch.yaml'); then
        pass "wirewatch check $CONFIG: $(head -n 1 <<< "$out")"
    else fail "wirewatch check $CONFIG" "$out"; fi
}

check_demo() {
    local out
    out=$(in_image 'wirewatch demo') || { fail "wirewatch demo" "$out"; return; }
    local polled
    polled=$(grep -o 'outlets polled: [0-9]*/[0-9]*; articles: [0-9]*; stories: [0-9]*' <<< "$out" || true)
    if ! grep -q '^=== demo summary' <<< "$out" || [[ -z $polled ]]; then
        fail "wirewatch demo runs to its summary" "$out"
    elif [[ $polled =~ polled:\ ([0-9]+)/([0-9]+).*stories:\ ([0-9]+) ]] \
        && [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]] && ((BASH_REMATCH[3] > 0)); then
        pass "wirewatch demo: $polled"
    else fail "wirewatch demo: every outlet polled and stories found" "$out"; fi
}

check_healthcheck() {
    [[ $HEALTH_KIND == CMD ]] || { fail "the image has a HEALTHCHECK CMD (got '${HEALTH_KIND}')"; return; }
    local health start out
    health=$(printf '%q ' "${HEALTH_CMD[@]}")
    start=$(printf '%q ' "${IMAGE_START[@]}")
    if out=$(in_image "
        if $health > /dev/null 2>&1; then echo 'HEALTHCHECK passed with no service'; exit 3; fi
        $start > /tmp/service.log 2>&1 &
        service=\$!
        deadline=\$((\$(date +%s) + $HEALTH_TIMEOUT_S))
        until $health > /dev/null 2>&1; do
            if ! kill -0 \$service 2> /dev/null; then echo 'the service exited:'; cat /tmp/service.log; exit 4; fi
            if [ \$(date +%s) -ge \$deadline ]; then echo 'no 200 in time:'; tail -n 20 /tmp/service.log; kill \$service; exit 5; fi
            sleep 2
        done
        took=\$((\$(date +%s) - deadline + $HEALTH_TIMEOUT_S))
        kill -TERM \$service
        if ! wait \$service; then echo 'SIGTERM did not stop it cleanly:'; tail -n 20 /tmp/service.log; exit 6; fi
        echo \"healthy after \$took s, stopped cleanly by SIGTERM\"
    "); then
        pass "HEALTHCHECK: fails with no service, 0 once '${IMAGE_START[*]}' is up (${out##*$'\n'})"
    else fail "HEALTHCHECK returns 0 against the service started from the image" "$out"; fi
}

main() {
    command -v podman > /dev/null || { say "podman is not installed"; exit 1; }
    podman image exists "$IMAGE" || { say "no image $IMAGE: run scripts/image-build.sh"; exit 1; }
    eval "$(image_config)"
    ROOT=$(podman image mount "$IMAGE")
    write_runner
    check_user
    check_size
    check_no_build_tools
    check_offline_models
    check_config
    check_demo
    check_healthcheck
    if ((${#FAILED[@]})); then
        say "${#FAILED[@]} check(s) failed in ${SECONDS} s: $(printf '%s; ' "${FAILED[@]}")"
        exit 1
    fi
    say "all checks passed in ${SECONDS} s"
}

main "$@"
