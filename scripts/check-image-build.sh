#!/usr/bin/env bash
# Proves, without a Docker daemon, that the Dockerfile's build stage builds from exactly what it
# copies: its COPY sources go into an empty folder, its RUN commands run there in order, and any
# file the build needs but the stage does not copy makes this fail. Then, with the development
# dependencies pruned as the runtime stage has them, the compiled server must pass the image's
# HEALTHCHECK (readiness) when started with the image's CMD, and must refuse ROOMKEY_GRAPHQL_IDE=true
# with a configuration error.
#
# Understands the subset of Dockerfile syntax the build stage uses (FROM … AS build, WORKDIR, plain
# COPY, RUN) and fails on anything else rather than guess. The commands run on this machine's
# Node.js, not the image's. KEEP=1 keeps the folder for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
dockerfile=Dockerfile
stage=build
started=$SECONDS

step() {
  printf '==> [%3d s] %s\n' "$((SECONDS - started))" "$*" >&2
}

fail() {
  printf 'check-image-build: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/roomkey-image.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ ${KEEP:-} == 1 ]]; then echo "check-image-build: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The Dockerfile as one instruction per line: comments dropped, continuation lines joined.
instructions() {
  awk '
    /^[[:space:]]*#/ && !pending { next }
    /^[[:space:]]*$/ && !pending { next }
    {
      line = pending $0
      if (line ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, " ", line); pending = line; next }
      pending = ""
      print line
    }
  ' "$dockerfile"
}

# Every COPY source must be let through by the .dockerignore allowlist, or Docker never sees it.
allowed_in_context() {
  grep -qxF -- "!$1" .dockerignore
}

# COPY <source>… <destination>, relative to the stage's WORKDIR, with Docker's meaning: a directory
# source copies its contents; several sources or a trailing slash make the destination a folder.
copy_sources() {
  local workdir=$1 arg src
  shift
  local -a args=()
  for arg in "$@"; do
    case $arg in
      --from=*) fail "the $stage stage copies from another stage or image ($arg)" ;;
      --chown=* | --chmod=* | --link) ;;
      --*) fail "unsupported COPY flag in the $stage stage: $arg" ;;
      \[*) fail "the JSON form of COPY is not supported here: $*" ;;
      *) args+=("$arg") ;;
    esac
  done
  ((${#args[@]} >= 2)) || fail "COPY needs a source and a destination: $*"
  local dest=${args[-1]}
  unset 'args[-1]'
  local target
  if [[ $dest == /* ]]; then target=$work$dest; else target=$workdir/$dest; fi
  local as_folder=false
  if ((${#args[@]} > 1)) || [[ $dest == */ || $dest == . ]]; then as_folder=true; fi
  for src in "${args[@]}"; do
    [[ $src == *[\*\?\[]* ]] && fail "wildcard COPY sources are not supported here: $src"
    [[ -e $src ]] || fail "COPY source $src does not exist in the repository"
    allowed_in_context "$src" || fail "COPY source $src is not let through by .dockerignore (add !$src)"
    if [[ -d $src ]]; then
      mkdir -p "$target"
      cp -a "$src/." "$target/"
    elif $as_folder; then
      mkdir -p "$target"
      cp -a "$src" "$target/"
    else
      mkdir -p "$(dirname "$target")"
      cp -a "$src" "$target"
    fi
    echo "  copied $src"
  done
}

# Replays the build stage in $work; prints the stage's final WORKDIR (as a path under $work).
replay_build_stage() {
  local in_stage=false seen=false workdir=$work
  while read -r keyword rest; do
    keyword=${keyword^^}
    if [[ $keyword == FROM ]]; then
      in_stage=false
      if [[ ${rest,,} =~ [[:space:]]as[[:space:]]+${stage}$ ]]; then
        in_stage=true
        seen=true
      fi
      continue
    fi
    $in_stage || continue
    case $keyword in
      WORKDIR)
        if [[ $rest == /* ]]; then workdir=$work$rest; else workdir=$workdir/$rest; fi
        mkdir -p "$workdir"
        ;;
      COPY)
        read -r -a words <<<"$rest"
        copy_sources "$workdir" "${words[@]}" >&2
        ;;
      RUN)
        step "RUN $rest"
        (cd "$workdir" && sh -c "$rest") >&2 || fail "RUN failed: $rest"
        ;;
      *) fail "unsupported instruction in the $stage stage: $keyword (teach this script or simplify the stage)" ;;
    esac
  done < <(instructions)
  $seen || fail "no stage named $stage in $dockerfile"
  echo "$workdir"
}

# The runtime stage's `COPY --from=build <source>` paths, as the build stage must leave them.
runtime_copies() {
  instructions | awk -v stage="$stage" 'toupper($1) == "COPY" {
    for (i = 2; i < NF; i++) if ($i == "--from=" stage) { while (i < NF - 1 && $(i + 1) ~ /^--/) i++; print $(i + 1); break }
  }'
}

# The image's HEALTHCHECK and CMD (exec form, a JSON array), so the smoke test runs what Docker would.
healthcheck_command() {
  instructions | awk 'toupper($1) == "HEALTHCHECK" { sub(/^.*[[:space:]]CMD[[:space:]]+/, ""); print }'
}

start_command() {
  instructions | awk 'toupper($1) == "CMD" { sub(/^[^[:space:]]+[[:space:]]+/, ""); cmd = $0 } END { print cmd }'
}

# One argument per line from an exec-form JSON array; fails on the shell form.
exec_form() {
  node -e 'const a = JSON.parse(process.argv[1]); if (!Array.isArray(a)) process.exit(1); for (const s of a) console.log(s);' "$1" ||
    fail "not an exec-form JSON array: $1"
}

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });"
}

# The server's environment as the runtime stage sets it, on this machine only: production, the
# embedded database in the replayed app folder, fresh keys, nothing inherited from this shell.
production_env() {
  local master audit
  master=$(node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")
  audit=$(node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")
  server_env=(-i "PATH=$PATH" "HOME=$HOME" NODE_ENV=production HOST=127.0.0.1 "PORT=$1"
    "ROOMKEY_DATA_DIR=$PWD/.data" "ROOMKEY_MASTER_KEYS=m1:$master" "ROOMKEY_AUDIT_KEYS=a1:$audit"
    LOG_LEVEL=warn ROOMKEY_DRAIN_MS=0)
}

step "build stage of $dockerfile, replayed in $work"
export npm_config_prefer_offline=true npm_config_update_notifier=false
app=$(replay_build_stage)
cd "$app"

step "runtime stage inputs"
while read -r path; do
  [[ $path == /* ]] || path=/$path
  [[ -e $work$path ]] || fail "the runtime stage copies $path from the $stage stage, which has no such path"
  echo "  $path present"
done < <(cd "$repo" && runtime_copies)

step "production dependencies only (npm prune --omit=dev), as in the runtime stage"
npm prune --omit=dev --no-audit --no-fund >"$work/prune.log" 2>&1 ||
  fail "npm prune failed: $(cat "$work/prune.log")"

port=$(free_port)
production_env "$port"

mapfile -t start_argv < <(exec_form "$(cd "$repo" && start_command)")
((${#start_argv[@]} > 0)) || fail "the Dockerfile has no CMD in exec form"

step "ROOMKEY_GRAPHQL_IDE=true is refused where the IDE is not installed"
set +e
ide_out=$(env "${server_env[@]}" ROOMKEY_GRAPHQL_IDE=true "${start_argv[@]}" 2>&1)
ide_code=$?
set -e
[[ $ide_code == 78 && $ide_out == *'ROOMKEY_GRAPHQL_IDE:'* ]] ||
  fail "expected exit 78 with a ROOMKEY_GRAPHQL_IDE configuration error, got $ide_code: $ide_out"
echo "  exit 78: ${ide_out//$'\n'/ }"

step "the compiled server passes the image's HEALTHCHECK"
probe=$(cd "$repo" && healthcheck_command)
[[ $probe == *'/health/ready'* ]] || fail "the HEALTHCHECK does not probe /health/ready: $probe"
mapfile -t probe_argv < <(exec_form "$probe")
env "${server_env[@]}" "${start_argv[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
healthy=false
for _ in $(seq 1 60); do
  if PORT=$port "${probe_argv[@]}"; then
    healthy=true
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 1
done
$healthy || fail "the server never became ready; its output: $(cat "$work/server.log")"
echo "  ready on 127.0.0.1:$port"

step "image build check passed in $((SECONDS - started)) s"
