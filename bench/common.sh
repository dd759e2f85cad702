# Shared by the benchmarks: start the platform (Release) on a fresh data folder and sign up a user with a key.
# Source it from a script whose working directory is the repository root.

# start_platform: builds and starts the AppHost; sets WORK (a temp folder removed on exit), LOG, PORT and WEB.
start_platform() {
  dotnet build AppHost -c Release -nologo -v q >/dev/null
  WORK=$(mktemp -d /tmp/platform-bench-XXXXXX)
  chmod 755 "$WORK"
  LOG="$WORK/apphost.log"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ASPNETCORE_ENVIRONMENT=Production dotnet AppHost/bin/Release/net10.0/Platform.AppHost.dll --data-dir "$WORK/data" --port "$PORT" >"$LOG" 2>&1 &
  APPHOST=$!
  # IDEs outlive the platform by design (adopted on the next start): a bench's own, under $WORK, are ended with it.
  trap 'kill -TERM "$APPHOST" 2>/dev/null; wait "$APPHOST" 2>/dev/null || true; pkill -f "$WORK/" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  # READY_TIMEOUT_S (default 120) and AppHost__HealthTimeoutSeconds (each service, default 60) stretch on a busy machine.
  for _ in $(seq 1 $((${READY_TIMEOUT_S:-120} * 2))); do grep -q "Platform is ready" "$LOG" && break; sleep 0.5; done
  grep -q "Platform is ready" "$LOG" || { echo "platform did not start:"; tail -40 "$LOG"; exit 1; }
  WEB="http://127.0.0.1:$PORT"
}

# sign_up SCOPE: registers on the page, then creates an access key of SCOPE (read|full) with that session; sets KEY.
sign_up() {
  local jar="$WORK/cookies" token
  token=$(curl -s -c "$jar" "$WEB/Account/Register" | grep -oE 'name="__RequestVerificationToken" type="hidden" value="[^"]+"' | sed 's/.*value="//;s/"$//')
  curl -s -b "$jar" -c "$jar" -o /dev/null -X POST "$WEB/Account/Register" \
    --data-urlencode "Input.Email=bench@example.test" --data-urlencode "Input.DisplayName=Bench" \
    --data-urlencode "Input.Password=benchmark password 1" --data-urlencode "Input.ConfirmPassword=benchmark password 1" \
    --data-urlencode "__RequestVerificationToken=$token"
  KEY=$(curl -s -b "$jar" -H 'Content-Type: application/json' -d "{\"name\":\"bench\",\"scope\":\"$1\"}" "$WEB/api/v1/access-keys" \
    | python3 -c 'import sys,json; print(json.load(sys.stdin)["key"])')
}
