#!/usr/bin/env bash
# Bundle test (minutes, gigabytes; not part of the unit tests):
#   packaging/test_bundle.sh [--no-build] [--startup-runs N]
# builds dist/topdown/ and the .deb (packaging/build.py), extracts the .deb with `dpkg-deb -x`
# into a temp folder and, from `/` in a clean environment (env -i, no venv, no source tree),
# checks the package layout and runs the installed `topdown-cli self-test` (also with DataLoader
# worker processes) and `topdown --self-test`; then times the installed app's start-up
# (benchmarks/startup.py --bundle). Prints one JSON summary line last; exit 0 when all passed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}  # only builds and reads JSON here; the bundle runs without it
BUILD=1
RUNS=7
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0 ;;
        --startup-runs) RUNS=$2; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

say() { echo "[test_bundle] $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

build_s=null
if [ $BUILD = 1 ]; then
    SECONDS=0
    "$PY" "$ROOT/packaging/build.py"
    build_s=$SECONDS
fi
deb=$(ls -t "$ROOT"/dist/topdown_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no dist/topdown_*.deb; run packaging/build.py"

tmp=$(mktemp -d /tmp/topdown-bundle-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
mkdir -p "$tmp/home"
say "extracting $(basename "$deb") into $root"
dpkg-deb -x "$deb" "$root"

# --- the package's layout: programs, menu entry, icons
for f in usr/bin/topdown usr/bin/topdown-cli opt/topdown/topdown opt/topdown/topdown-cli \
         usr/share/applications/topdown.desktop \
         usr/share/icons/hicolor/48x48/apps/topdown.png \
         usr/share/icons/hicolor/256x256/apps/topdown.png \
         usr/share/icons/hicolor/scalable/apps/topdown.svg; do
    [ -e "$root/$f" ] || fail "$f is missing from the package"
done
[ -x "$root/usr/bin/topdown" ] || fail "usr/bin/topdown is not executable"
grep -q '^Exec=topdown' "$root/usr/share/applications/topdown.desktop" || fail "Exec= is not topdown"
grep -q '^Icon=topdown$' "$root/usr/share/applications/topdown.desktop" || fail "Icon= is not topdown"
dpkg-deb -f "$deb" Package Version Architecture Depends >&2

# --- run the installed programs from /, with nothing of the build machine's environment
clean() { (cd / && env -i HOME="$tmp/home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen "$@"); }
check_json() {  # $1 = label, $2 = output file: the last line must be {"ok": true, ...}
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
label, path = sys.argv[1], sys.argv[2]
lines = [x for x in open(path).read().splitlines() if x.strip()]
if not lines:
    sys.exit(f"{label}: no output")
r = json.loads(lines[-1])
if r.get("ok") is not True or not r.get("frozen"):
    sys.exit(f"{label}: not ok: {r.get('error')}\n{r.get('traceback', '')}")
for key in ("seconds", "torch", "cuda", "cuda_available", "device"):
    if key not in r:
        sys.exit(f"{label}: {key!r} missing from {r}")
print(json.dumps({"seconds": r["seconds"], "torch": r["torch"], "cuda": r["cuda"],
                  "cuda_available": r["cuda_available"], "device": r["device"],
                  "steps": sorted(r["steps"])}))
EOF
}
run_check() {  # $1 = label, rest = command; prints check_json's summary
    local label=$1; shift
    say "running: $*"
    local rc=0
    clean "$@" >"$tmp/$label.out" 2>"$tmp/$label.err" || rc=$?
    tail -n 5 "$tmp/$label.err" >&2 || true
    [ $rc = 0 ] || { cat "$tmp/$label.out" >&2; fail "$label exited with $rc"; }
    check_json "$label" "$tmp/$label.out" || fail "$label reported a failure"
}
bin="$root/usr/bin"
cli=$(run_check cli "$bin/topdown-cli" self-test)
workers=$(run_check workers "$bin/topdown-cli" self-test --workers 2)
gui=$(run_check gui "$bin/topdown" --self-test)
grep -q '"window"' <<<"$gui" || fail "topdown --self-test did not run the window step"

# --- a real X server (Xvfb), when there is one: Qt's xcb platform plugin loads and paints
xcb=null
if command -v Xvfb >/dev/null; then
    Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$tmp/display" 2>/dev/null &
    xpid=$!
    for _ in $(seq 50); do [ -s "$tmp/display" ] && break; sleep 0.1; done
    disp=":$(cat "$tmp/display")"
    say "running: $bin/topdown --startup-probe on Xvfb $disp (xcb)"
    xcb=$(cd / && env -i HOME="$tmp/home" PATH=/usr/bin:/bin DISPLAY="$disp" QT_QPA_PLATFORM=xcb \
        TOPDOWN_CONFIG_DIR="$tmp/xcb-config" "$bin/topdown" --startup-probe 2>"$tmp/xcb.err" \
        | grep '^{' || true)
    kill "$xpid" 2>/dev/null || true
    [ -n "$xcb" ] || { cat "$tmp/xcb.err" >&2; fail "the window did not show on X11 (xcb)"; }
else
    say "no Xvfb: the xcb platform plugin is not exercised"
fi
say "cli: $cli"
say "workers: $workers"
say "gui: $gui"

# --- installed start-up: window shown (torch loads after)
startup=$(cd / && "$PY" "$ROOT/benchmarks/startup.py" --bundle "$bin/topdown" --runs "$RUNS" \
    --json --clean-env) || fail "start-up probe failed"
say "startup: $startup"

"$PY" - "$deb" "$ROOT/dist/topdown" "$build_s" "$cli" "$workers" "$gui" "$startup" "$xcb" <<'EOF'
import json, os, sys
deb, bundle, build_s, cli, workers, gui, startup, xcb = sys.argv[1:]
size = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(bundle) for f in fs)
print(json.dumps({
    "ok": True,
    "build_seconds": None if build_s == "null" else round(float(build_s), 1),
    "bundle_bytes": size, "deb_bytes": os.path.getsize(deb),
    "cli_self_test": json.loads(cli), "cli_self_test_workers": json.loads(workers),
    "gui_self_test": json.loads(gui), "startup": json.loads(startup),
    "xcb_window_shown": None if xcb == "null" else "shown_at" in json.loads(xcb),
}))
EOF
