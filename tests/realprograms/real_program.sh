#!/usr/bin/env bash
# Runs a real program that nobody here wrote under a preload library and
# checks its output: python3, sqlite3, git and g++ exercise every entry point
# of the malloc family and operator new/delete in ways our tests would not;
# perl, xz (with threads) and node (V8, libuv's thread pool and worker
# threads) add other runtimes and other ways of using threads.
# usage: real_program.sh PRELOAD_LIBRARY python3|sqlite3|git|gxx|perl|xz|node|python3-regrtest
set -euo pipefail
preload=$1
program=$2
[ -f "$preload" ] || { echo "no preload library at $preload"; exit 1; }
preload=$(readlink -f "$preload")  # before the cd below: a relative path would not load there
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

under() { LD_PRELOAD="$preload" "$@"; }

# The loader skips a library it cannot preload with only a warning, and the
# program would then pass on the C library's malloc: make sure it is mapped.
maps=$(under cat /proc/self/maps)  # whole, not piped: grep -q would leave cat a SIGPIPE
if ! grep -qF "$preload" <<<"$maps"; then
  echo "FAIL: $preload is not mapped in a process started under it"
  exit 1
fi
expect_equal() {
  if [ "$1" != "$2" ]; then
    echo "FAIL: expected [$2], got [$1]"
    exit 1
  fi
}

case "$program" in
python3)
  cat > heavy.py <<'PY'
import hashlib, json, random, threading
random.seed(42)
table = {}
for i in range(200000):
    table["key%d" % i] = ["x" * (i % 97), i, {"n": i * 3}]
for i in range(0, 200000, 2):
    del table["key%d" % i]
blob = json.dumps(table, sort_keys=True)
back = json.loads(blob)
assert back == table
def worker(seed, out):
    r = random.Random(seed)
    items = [bytes(r.getrandbits(8) for _ in range(r.randint(1, 300))) for _ in range(3000)]
    items.sort()
    out.append(hashlib.sha256(b"".join(items)).hexdigest())
outs = []
threads = [threading.Thread(target=worker, args=(s, outs)) for s in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(len(table), hashlib.sha256(blob.encode()).hexdigest()[:16], len(sorted(outs)))
PY
  expected=$(python3 heavy.py)
  got=$(under python3 heavy.py)
  expect_equal "$got" "$expected"
  case "$got" in 100000\ *\ 4) ;; *) echo "FAIL: unexpected python output [$got]"; exit 1 ;; esac
  ;;
sqlite3)
  sql="CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 50000)
INSERT INTO t SELECT x, 'name-' || x || '-' || hex(randomblob(8)), x * 7 % 1000 FROM c;
CREATE INDEX t_value ON t(value);
SELECT count(*), sum(value), sum(length(name)) FROM t;
SELECT value, count(*) FROM t WHERE value < 3 GROUP BY value ORDER BY value;
DELETE FROM t WHERE id % 3 = 0;
VACUUM;
SELECT count(*), sum(id) FROM t;"
  got=$(echo "$sql" | under sqlite3 test.db)
  expected="50000|24975000|1338894
0|50
1|50
2|50
33334|833366667"
  expect_equal "$got" "$expected"
  ;;
git)
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.invalid
  export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
  under git init -q repo
  cd repo
  for d in $(seq 1 20); do
    mkdir -p "dir$d"
    for f in $(seq 1 100); do echo "file $d/$f $(( d * f ))" > "dir$d/file$f.txt"; done
  done
  under git add -A
  under git -c init.defaultBranch=main commit -qm "2000 files"
  for f in $(seq 1 50); do echo change >> "dir3/file$f.txt"; done
  changed=$(under git status --porcelain | wc -l)
  expect_equal "$changed" "50"
  under git commit -qam "change 50"
  files=$(under git ls-files | wc -l)
  expect_equal "$files" "2000"
  under git gc -q
  log=$(under git log --format=%s | tr '\n' ,)
  expect_equal "$log" "change 50,2000 files,"
  under git fsck --no-progress 2>&1 | grep -v '^$' && { echo "FAIL: git fsck complained"; exit 1; } || true
  diffstat=$(under git diff --shortstat HEAD~1 HEAD)
  expect_equal "$diffstat" " 50 files changed, 50 insertions(+)"
  ;;
gxx)
  cat > prog.cpp <<'CPP'
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>
template <int N> struct Fib { static constexpr long value = Fib<N - 1>::value + Fib<N - 2>::value; };
template <> struct Fib<1> { static constexpr long value = 1; };
template <> struct Fib<0> { static constexpr long value = 0; };
int main() {
  std::map<std::string, std::vector<std::unique_ptr<int>>> m;
  for (int i = 0; i < 1000; ++i) m[std::to_string(i % 10)].push_back(std::make_unique<int>(i));
  long sum = 0;
  for (auto& [k, v] : m) for (auto& p : v) sum += *p;
  std::regex re("([a-z]+)([0-9]+)");
  std::smatch match;
  std::string text = "abc123";
  std::regex_match(text, match, re);
  std::cout << sum << " " << Fib<60>::value << " " << match[2] << "\n";
}
CPP
  under g++ -std=c++20 -O2 -o prog prog.cpp
  got=$(under ./prog)
  expect_equal "$got" "499500 1548008755920 123"
  ;;
perl)
  # Hashes that grow and shrink, strings of every length, a big sort and
  # regular expressions: perl's own allocator is off in Debian's build, so
  # every scalar goes through malloc.
  cat > heavy.pl <<'PL'
use strict; use warnings; use Digest::MD5 qw(md5_hex);
my %h;
for my $i (1 .. 400000) {
  $h{"k$i"} = "v" x ($i % 97);
  delete $h{"k" . ($i - 5)} if $i % 3 == 0;
}
my $total = 0;
$total += length($h{$_}) for keys %h;
my @sorted = sort { $a cmp $b } map { sprintf("%08x", ($_ * 2654435761) % 4294967296) } 1 .. 200000;
my $text = join(",", map { "w$_=" . ($_ * 7 % 1000) } 1 .. 100000);
my $matches = () = $text =~ /w\d+=9\d\d/g;
print scalar(keys %h), " $total ", md5_hex(join("", @sorted)), " $matches\n";
PL
  expected=$(perl heavy.pl)
  got=$(under perl heavy.pl)
  expect_equal "$got" "$expected"
  case "$got" in 266668\ *\ *\ 10000) ;; *) echo "FAIL: unexpected perl output [$got]"; exit 1 ;; esac
  ;;
xz)
  # Multi-threaded compression: xz -T2 hands blocks of megabytes to worker
  # threads, which allocate and free their buffers (large blocks, across
  # threads); the round trip must give the input back.
  command -v xz > /dev/null || { echo "SKIP: xz is not installed (xz-utils)"; exit 77; }
  seq 1 3000000 | awk '{ print $1, $1 * 7919 % 104729, ($1 % 13 == 0 ? "thirteen" : "other") }' > input.txt
  under xz -T2 -3 --block-size=1MiB -c input.txt > input.txt.xz
  under xz -d -T2 -c input.txt.xz > output.txt
  cmp input.txt output.txt || { echo "FAIL: xz round trip changed the data"; exit 1; }
  blocks=$(xz --robot --list input.txt.xz | awk '$1 == "totals" { print $3 }')
  # One block would leave the second thread with nothing to compress.
  [ "$blocks" -ge 2 ] || { echo "FAIL: xz wrote $blocks block(s), work for one thread only"; exit 1; }
  ;;
node)
  # V8 and libuv: a main thread that churns Maps and strings, zlib on
  # libuv's thread pool, and worker threads (each an isolate with threads
  # of its own) that allocate and end while others still run.
  command -v node > /dev/null || { echo "SKIP: node is not installed (nodejs)"; exit 77; }
  cat > heavy.js <<'JS'
const { Worker } = require("worker_threads");
const zlib = require("zlib");
const crypto = require("crypto");
const map = new Map();
for (let i = 0; i < 300000; i++) {
  map.set("k" + i, { n: i, s: "x".repeat(i % 61) });
  if (i % 3 === 0) map.delete("k" + (i - 2));
}
let sum = 0;
for (const value of map.values()) sum += value.n + value.s.length;
const body = `
  const { parentPort, workerData } = require("worker_threads");
  const crypto = require("crypto");
  let parts = [];
  for (let i = 0; i < 100000; i++) {
    parts.push(JSON.stringify({ i, w: workerData, s: "y".repeat(i % 97) }));
    if (parts.length > 500) parts = [];
  }
  parentPort.postMessage(crypto.createHash("sha256").update(parts.join("")).digest("hex").slice(0, 12));`;
const runs = [];
for (let w = 0; w < 4; w++) {
  runs.push(new Promise((resolve, reject) => {
    const worker = new Worker(body, { eval: true, workerData: w });
    worker.on("message", resolve);
    worker.on("error", reject);
  }));
}
const input = Buffer.from("abcdefgh".repeat(1 << 20));
const squeezed = [];
for (let i = 0; i < 4; i++) squeezed.push(new Promise((resolve, reject) =>
  zlib.gzip(input, (error, out) => error ? reject(error) : zlib.gunzip(out, (e, back) => e ? reject(e) : resolve(back.equals(input))))));
Promise.all([Promise.all(runs), Promise.all(squeezed)]).then(([hashes, same]) => {
  console.log(map.size, sum, hashes.join(","), same.every(Boolean));
});
JS
  expected=$(node heavy.js)
  got=$(under node heavy.js)
  expect_equal "$got" "$expected"
  case "$got" in 200001\ *\ true) ;; *) echo "FAIL: unexpected node output [$got]"; exit 1 ;; esac
  ;;
python3-regrtest)
  # CPython's own regression tests (Debian's libpython3.11-testsuite) of
  # the modules that allocate the most, with threads, fork, exec, mmap and
  # signals among them, every object through malloc (PYTHONMALLOC=malloc,
  # not CPython's small-object allocator). test_threading found that the
  # purge thread kept a process alive after its last thread had ended.
  python=/usr/bin/python3
  if ! "$python" -c 'import test.test_dict' 2>/dev/null; then
    echo "SKIP: CPython's test suite is not installed (libpython3.11-testsuite; scripts/install-deps.sh installs it)"
    exit 77
  fi
  modules=(test_threading test_dict test_list test_set test_bytes test_re test_json test_gc test_weakref
           test_collections test_itertools test_hashlib test_array test_struct test_mmap test_deque test_heapq
           test_unicode test_zlib test_bz2 test_pickle test_fork1 test_queue test_memoryview test_tracemalloc
           test_decimal test_os test_io test_subprocess)
  status=0
  # --timeout: a test that hangs is killed (and reported) after 5 minutes.
  under env PYTHONMALLOC=malloc "$python" -m test -j2 --timeout 300 "${modules[@]}" > regrtest.log 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    # A module that also fails without the preload library fails for this
    # machine's sake (no network, running as root), not for ours.
    failed=$(sed -n '/tests\{0,1\} failed:$/,/^$/p' regrtest.log | grep '^    ' | tr -s ' ' '\n' | grep '^test_' || true)
    tail -40 regrtest.log
    [ -n "$failed" ] || { echo "FAIL: CPython's tests ended with status $status"; exit 1; }
    for module in $failed; do
      if env PYTHONMALLOC=malloc "$python" -m test --timeout 300 "$module" > baseline.log 2>&1; then
        echo "FAIL: $module fails under $(basename "$preload") and passes without it"
        exit 1
      fi
      echo "note: $module fails without the preload library too; not counted"
    done
  fi
  grep -q "Tests result: SUCCESS" regrtest.log || [ "$status" -ne 0 ] || { echo "FAIL: no result line"; exit 1; }
  ;;
*)
  echo "unknown program $program"; exit 2 ;;
esac
echo "PASS: $program under $(basename "$preload")"
