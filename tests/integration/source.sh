#!/bin/bash
# cairn repo fetch / ls against real repositories made by git: local paths,
# file://, git daemon (git://) and git http-backend behind a CGI server, all
# on 127.0.0.1; results checked against git rev-parse / git ls-tree.
. "$(dirname "$0")/lib.sh"

export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home"
mkdir -p "$HOME"
git config --global user.email t@example.com
git config --global user.name T
git config --global init.defaultBranch main
ST="$TMP/state"
PIDS=()
cleanup_servers() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'cleanup_servers; rm -rf "$TMP"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# --- the repository: branches, tags, a 5,000-file tree, symlinks in and out
R="$TMP/srv/repo.git"
W="$TMP/work"
git init -q "$W"
(
	cd "$W"
	mkdir -p apps/web big
	printf 'kind: A\n' > apps/web/a.yaml
	ln -s apps/web/a.yaml in
	ln -s ../../etc/passwd out
	for d in $(seq 0 49); do mkdir big/$d; for f in $(seq 0 99); do echo "$d/$f" > big/$d/$f.txt; done; done
	git add -A && git commit -qm one && git tag v1.2.0
	echo b > apps/web/b.yaml && git add -A && git commit -qm two && git tag -a v1.3.0 -m r
	git checkout -qb dev && echo d > d && git add d && git commit -qm dev && git checkout -q main
)
mkdir -p "$TMP/srv"
git clone -q --bare "$W" "$R"
git -C "$R" config http.receivepack true

rev() { git -C "$R" rev-parse "$1^{commit}"; }

# --- local path and file://
out=$("$CAIRN" repo fetch "$R" --state-dir "$ST")
check "fetch local path prints HEAD" [ "$out" = "$(rev main)" ]
out=$("$CAIRN" repo fetch "file://$R" --revision dev --state-dir "$ST")
check "file:// shares the mirror and resolves a branch" [ "$out" = "$(rev dev)" ]
check "one mirror for path and file://" [ "$(ls "$ST/repos" | grep -c '\.git$')" = 1 ]
out=$("$CAIRN" repo fetch "$R" --revision '^1.2' --state-dir "$ST")
check "semver constraint picks the highest tag" [ "$out" = "$(rev v1.3.0)" ]
out=$("$CAIRN" repo fetch "$R" --revision '1.2.*' --state-dir "$ST")
check "wildcard constraint" [ "$out" = "$(rev v1.2.0)" ]
short=$(rev dev | cut -c1-8)
out=$("$CAIRN" repo fetch "$R" --revision "$short" --state-dir "$ST")
check "abbreviated commit id" [ "$out" = "$(rev dev)" ]
err=$("$CAIRN" repo fetch "$R" --revision nope --state-dir "$ST" 2>&1); rc=$?
check "unknown revision fails with exit 1" [ $rc = 1 ]
check "unknown revision message" grep -q "revision 'nope' not found" <<<"$err"

# ls -r against git ls-tree -r (files and links)
"$CAIRN" repo ls "$R" main -r --state-dir "$ST" --no-fetch > "$TMP/ls.txt"
grep -v '^dir ' "$TMP/ls.txt" | cut -f2 | LC_ALL=C sort > "$TMP/ls.cairn"
git -C "$R" ls-tree -r --name-only main | LC_ALL=C sort > "$TMP/ls.git"
check "ls -r lists what git ls-tree -r lists (5,000+ files)" cmp -s "$TMP/ls.cairn" "$TMP/ls.git"
check "5,000-file tree" [ "$(grep -c '^file .*big/' "$TMP/ls.txt")" = 5000 ]
out=$("$CAIRN" repo ls "$R" v1.3.0 apps/web --state-dir "$ST" --no-fetch | cut -f2 | tr '\n' ' ')
check "ls of a sub-directory at a tag" [ "$out" = "a.yaml b.yaml " ]
out=$("$CAIRN" repo ls "$R" main in --state-dir "$ST" --no-fetch 2>&1); rc=$?
check "ls of a file is refused" [ $rc = 1 ]
err=$("$CAIRN" repo ls "$R" main out --state-dir "$ST" --no-fetch 2>&1); rc=$?
check "symlink out of the tree is an error naming it" grep -q "symlink 'out' points outside" <<<"$err"

# --- git daemon (git://)
GP=$(free_port)
git daemon --listen=127.0.0.1 --port="$GP" --base-path="$TMP/srv" --export-all \
	--enable=receive-pack --reuseaddr "$TMP/srv" >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$GP"
out=$("$CAIRN" repo fetch "git://127.0.0.1:$GP/repo.git" --revision v1.3.0 --state-dir "$ST")
check "git:// fetch resolves an annotated tag" [ "$out" = "$(rev v1.3.0)" ]
"$CAIRN" repo ls "git://127.0.0.1:$GP/repo" main -r --state-dir "$ST" --no-fetch | grep -v '^dir ' \
	| cut -f2 | LC_ALL=C sort > "$TMP/ls2"
check "git:// and git://...repo (no .git) share a mirror" cmp -s "$TMP/ls2" "$TMP/ls.git"
(cd "$W" && echo c > c && git add c && git commit -qm three && git push -q "$R" main)
out=$("$CAIRN" repo fetch "git://127.0.0.1:$GP/repo.git" --state-dir "$ST")
check "git:// fetch sees a new commit" [ "$out" = "$(rev main)" ]

# --- git http-backend behind a CGI server
HP=$(free_port)
cat > "$TMP/cgi.py" <<'PY'
# Minimal CGI front for git http-backend: decodes chunked request bodies
# (libgit2 sends them), which python's CGIHTTPRequestHandler does not.
import http.server, os, subprocess, sys
ROOT = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))
    def run(self):
        path, _, query = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=ROOT, GIT_HTTP_EXPORT_ALL="1",
                   REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""), REMOTE_ADDR="127.0.0.1")
        data = self.body() if self.command == "POST" else b""
        env["CONTENT_LENGTH"] = str(len(data))
        out = subprocess.run(["git", "http-backend"], input=data, env=env,
                             capture_output=True).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        status = 200
        hdrs = []
        for line in head.split(b"\r\n"):
            k, _, v = line.decode().partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                hdrs.append((k, v.strip()))
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)
    do_GET = do_POST = run
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$TMP/cgi.py" "$HP" "$TMP/srv" >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$HP"
out=$("$CAIRN" repo fetch "http://127.0.0.1:$HP/repo.git" --revision dev --state-dir "$ST" 2>&1)
check "http:// (git http-backend) fetch resolves a branch" [ "$out" = "$(rev dev)" ]
err=$("$CAIRN" repo fetch "http://u:sekrit@127.0.0.1:$HP/repo.git" --state-dir "$ST" 2>&1); rc=$?
check "password in a URL is refused" [ $rc = 1 ]
check "the refusal does not print the password" bash -c '! grep -q sekrit <<<"$1" && grep -q "\*\*\*@" <<<"$1"' _ "$err"

# --- crash safety: kill fetches mid-way, then fetch again
for i in 1 2 3; do
	rm -rf "$TMP/st2"
	"$CAIRN" repo fetch "git://127.0.0.1:$GP/repo.git" --state-dir "$TMP/st2" >/dev/null 2>&1 &
	p=$!; sleep 0.0$((i * 3)); kill -9 $p 2>/dev/null; wait $p 2>/dev/null
	out=$("$CAIRN" repo fetch "git://127.0.0.1:$GP/repo.git" --state-dir "$TMP/st2")
	check "fetch after a killed fetch ($i)" [ "$out" = "$(rev main)" ]
done
m=$(ls -d "$ST"/repos/*.git | head -1)
: > "$m/HEAD"
out=$("$CAIRN" repo fetch "$R" --state-dir "$ST")
check "a corrupted mirror is recreated" [ "$out" = "$(rev main)" ]

# --- two processes fetching the same mirror
rm -rf "$TMP/st3"
FP=()
for i in 1 2 3 4; do
	"$CAIRN" repo fetch "git://127.0.0.1:$GP/repo.git" --state-dir "$TMP/st3" > "$TMP/par$i" 2>&1 &
	FP+=($!)
done
wait_ok=1
for p in "${FP[@]}"; do wait "$p" || wait_ok=0; done
check "four concurrent fetches of one mirror succeed" [ "$wait_ok" = 1 ]
check "and agree" [ "$(cat "$TMP"/par* | sort -u)" = "$(rev main)" ]

# --- usage
"$CAIRN" repo --help | grep -q "cairn repo fetch"; check "repo --help" [ $? = 0 ]
"$CAIRN" repo fetch >/dev/null 2>&1; check "missing URL is a usage error" [ $? = 2 ]
"$CAIRN" repo frob x >/dev/null 2>&1; check "unknown subcommand is a usage error" [ $? = 2 ]

done_testing
