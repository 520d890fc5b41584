#!/usr/bin/env bash
# Read-path benchmark, run by hand (not part of the suite):
#   (a) the thread page of a 200-comment thread (the embed_url the API returns),
#   (b) a hello-world Flask app (bench/hello.py), and (b') the very bytes of (a)
#       from a bare Flask view in it,
#   (c) Isso 0.14 serving the same 200 comments (GET /?uri=/path),
# each served in turn by gunicorn with deploy/gunicorn.conf.py (same worker class,
# workers and threads for all three), loaded by wrk from this machine.
#
#   bench/read.sh
#   DURATION=30s CONNECTIONS=32 WRK_THREADS=2 COMMENTS=200 bench/read.sh
#   GUNICORN_EXTRA="--max-requests 0" bench/read.sh   # extra flags, all three servers
#
# Outputs (databases, logs, wrk reports, the table) go to bench/out/read/.
# Isso is installed once into its own venv, bench/out/isso-venv (needs PyPI).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT_DIR:-$ROOT/bench/out/read}
VENV=${VENV:-$ROOT/.venv}
ISSO_VENV=${ISSO_VENV:-$ROOT/bench/out/isso-venv}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-1}
COMMENTS=${COMMENTS:-200}
PORT=${PORT:-18731}
# Isso takes most of a second per 200-comment answer: wrk's default 2 s timeout
# would drop those requests from the latencies instead of counting them.
WRK_TIMEOUT=${WRK_TIMEOUT:-30s}
# deploy/gunicorn.conf.py reads these; its defaults are 2 x cores workers, 8 threads.
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-$(($(nproc) * 2))}
export GUNICORN_THREADS=${GUNICORN_THREADS:-8}
# No access log for any of the three: we measure the apps, not the log writer.
export GUNICORN_ACCESS_LOG=/dev/null

if ! command -v wrk >/dev/null; then
    echo "wrk is not installed: sudo apt-get install -y wrk" \
        "(or build it from https://github.com/wg/wrk)" >&2
    exit 1
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
[ -x "$VENV/bin/gunicorn" ] || { echo "no $VENV: run make setup first" >&2; exit 1; }

GUNICORN_VERSION=$("$VENV/bin/python" -c \
    'import importlib.metadata as m; print(m.version("gunicorn"))')
if [ ! -x "$ISSO_VENV/bin/isso" ] || [ ! -x "$ISSO_VENV/bin/gunicorn" ]; then
    echo "installing isso 0.14.0 and gunicorn $GUNICORN_VERSION into $ISSO_VENV"
    python3 -m venv "$ISSO_VENV"
    "$ISSO_VENV/bin/pip" install --quiet "isso==0.14.0" "gunicorn==$GUNICORN_VERSION"
fi

rm -rf "$OUT"
mkdir -p "$OUT/instance" "$OUT/isso"

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

# start NAME COMMAND...: gunicorn in the background, on $PORT, logging to OUT/NAME.log.
start() {
    local name=$1
    shift
    # shellcheck disable=SC2086  # GUNICORN_EXTRA is a list of flags
    "$@" --config "$ROOT/deploy/gunicorn.conf.py" --bind "127.0.0.1:$PORT" \
        ${GUNICORN_EXTRA:-} >"$OUT/$name.log" 2>&1 &
    SERVER_PID=$!
}

wait_for() {
    for _ in $(seq 150); do
        if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "server did not answer $1; see $OUT/*.log" >&2
    exit 1
}

# measure NAME URL: check one response, warm up, then the measured run.
measure() {
    local name=$1 url=$2
    wait_for "$url"
    curl -fsS -o "$OUT/$name.body" -w "%{http_code} %{size_download}\n" "$url" \
        >"$OUT/$name.response"
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" \
        "$url" >/dev/null
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$WRK_TIMEOUT" \
        --latency "$url" \
        | tee "$OUT/$name.wrk"
}

# --- (a) this service: fresh SQLite database, migrations, 200 comments ----------
export MODERATION_DATABASE_URL="sqlite:///$OUT/moderation.db"
export MODERATION_INSTANCE_PATH="$OUT/instance"
export MODERATION_PUBLIC_URL="http://127.0.0.1:$PORT"
# As deploy/env.example: web nodes leave screening to `flask moderation worker`.
export MODERATION_IN_PROCESS_WORKER=false
"$VENV/bin/flask" --app moderation db upgrade >"$OUT/migrate.log" 2>&1
"$VENV/bin/python" bench/read_seed.py --xml "$OUT/comments.xml" --comments "$COMMENTS"

start service "$VENV/bin/gunicorn" wsgi:app
API="http://127.0.0.1:$PORT/api/v1/sites/bench/threads/bench-article"
wait_for "$API"
EMBED_URL=$(curl -fsS "$API" | "$VENV/bin/python" -c \
    'import json, sys; print(json.load(sys.stdin)["embed_url"])')
echo "(a) thread page: $EMBED_URL"
measure service "$EMBED_URL"
# Not a target, for context: the same comments as JSON, like Isso's answer.
echo "(a') comments API: $API/comments"
measure api "$API/comments"
stop_server

# --- (b) hello world under the same settings ------------------------------------
BENCH_PAGE="$OUT/service.body" start hello "$VENV/bin/gunicorn" --chdir "$ROOT/bench" hello:app
echo "(b) hello world: http://127.0.0.1:$PORT/"
measure hello "http://127.0.0.1:$PORT/"
# The same bytes as (a), from a bare Flask view: issue 15's reference.
echo "(b') the thread page's bytes from a bare Flask view: http://127.0.0.1:$PORT/page"
measure bare "http://127.0.0.1:$PORT/page"
stop_server

# --- (c) Isso 0.14: its own SQLite database, the same comments ------------------
cat >"$OUT/isso.cfg" <<EOF
[general]
dbpath = $OUT/isso/comments.db
host = https://news.example/
[moderation]
enabled = false
[guard]
enabled = false
[server]
listen = http://127.0.0.1:$PORT/
EOF
# --empty-id: isso 0.14 skips threads whose <id> element has no children (#135).
"$ISSO_VENV/bin/isso" -c "$OUT/isso.cfg" import --type disqus --empty-id \
    "$OUT/comments.xml" >"$OUT/isso-import.log" 2>&1
tail -n 2 "$OUT/isso-import.log"
ISSO_SETTINGS="$OUT/isso.cfg" start isso "$ISSO_VENV/bin/gunicorn" isso.run:application
ISSO_URL="http://127.0.0.1:$PORT/?uri=/bench-article/"
echo "(c) isso 0.14: $ISSO_URL"
measure isso "$ISSO_URL"
stop_server

# --- the table -------------------------------------------------------------------
WRK_THREADS=$WRK_THREADS CONNECTIONS=$CONNECTIONS DURATION=$DURATION \
    GUNICORN_EXTRA=${GUNICORN_EXTRA:-} \
    "$VENV/bin/python" - "$OUT" "$COMMENTS" <<'EOF' | tee "$OUT/summary.md"
import json, os, re, sys
from pathlib import Path

out, comments = Path(sys.argv[1]), int(sys.argv[2])

def seconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

def report(name):
    text = (out / f"{name}.wrk").read_text()
    status, size = (out / f"{name}.response").read_text().split()
    found = dict(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        avg=seconds(re.search(r"Latency\s+(\S+)", text).group(1)),
        p50=seconds(re.search(r"\s50%\s+(\S+)", text).group(1)),
        p99=seconds(re.search(r"\s99%\s+(\S+)", text).group(1)),
        errors=int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0,
        socket=re.search(r"Socket errors: (.*)", text),
        status=status, size=int(size),
    )
    return found

def shown(name):
    # What each response holds: the page's comments, or isso's JSON count.
    body = (out / f"{name}.body").read_text(errors="replace")
    if name == "isso":
        data = json.loads(body)
        def count(replies):
            return sum(1 + count(r.get("replies", [])) for r in replies)
        return f"{count(data['replies'])} comments (JSON)"
    if name == "api":
        return f"{len(json.loads(body)['comments'])} comments (JSON)"
    if name in ("service", "bare"):
        marker = 'class="comment"'
        return f"{body.count(marker)} comments (HTML)"
    return "text"

rows = {
    "service": "(a) thread page",
    "bare": "(b') the same bytes, bare Flask view",
    "hello": "(b) hello world",
    "isso": "(c) isso 0.14",
    "api": "(a') comments API, JSON",
}
results = {name: report(name) for name in rows}
env = os.environ
print(
    f"Thread of {comments} comments. gunicorn gthread, {env['WEB_CONCURRENCY']} workers"
    f" x {env['GUNICORN_THREADS']} threads; wrk -t{env['WRK_THREADS']}"
    f" -c{env['CONNECTIONS']} -d{env['DURATION']} on {os.cpu_count()} CPUs"
    + (f"; gunicorn {env['GUNICORN_EXTRA']}" if env.get("GUNICORN_EXTRA") else "")
)
restarts = {
    name: (out / f"{name}.log").read_text().count("Autorestarting worker")
    for name in ("service", "hello", "isso")
}
print(f"workers recycled (max_requests) during the runs: {restarts}")
print()
print("| server | requests/s | avg | p50 | p99 | non-2xx | response | holds |")
print("|---|---|---|---|---|---|---|---|")
for name, label in rows.items():
    r = results[name]
    print(
        f"| {label} | {r['rps']:,.0f} | {r['avg']*1e3:.1f} ms | {r['p50']*1e3:.1f} ms "
        f"| {r['p99']*1e3:.1f} ms | {r['errors']} | {r['status']}, {r['size']:,} B "
        f"| {shown(name)} |"
    )
a, b, c = (results[n]["rps"] for n in ("service", "hello", "isso"))
same = results["bare"]["rps"]
print()
print(f"(a)/(b') = {a / same:.2f}  (target >= 0.8)" if same else "(b') answered nothing")
print(f"(a)/(b) = {a / b:.2f}" if b else "(b) answered nothing")
print(f"(a)/(c) = {a / c:.1f}x  (target >= 50x)" if c else "(c) answered nothing")
for name, r in results.items():
    if r["socket"]:
        print(f"note: {name}: socket errors: {r['socket'].group(1)}")
EOF
