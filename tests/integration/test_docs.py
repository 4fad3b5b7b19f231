#!/usr/bin/env python3
"""The documentation runs as written.

Every ```sh, ```bash and ```console block of README.md and docs/user-guide.md
is run, in the order the document gives them, and the test fails when one
does not work as it reads:

- Where: one scratch directory per document, laid out as a checkout is seen
  from its root after a build: `build/ecorridor` (the binary under test),
  copies of `data/` and `tests/fixtures/`, and `../shared/data` (the real
  test data, when present).
  Blocks of one document share that directory, so a block may use a file an
  earlier block made (`graph build` before `route`), as a reader following
  the page would.
- How: a clean environment (PATH=/usr/bin:/bin, so a bare `ecorridor`
  fails as it does for a reader who has not installed it; HOME in the
  scratch directory; LANG=C.UTF-8). An ```sh or ```bash block runs as one
  bash script under `set -eo pipefail` and must exit 0. curl runs with
  `--fail-with-body` (from the scratch HOME's .curlrc), so an HTTP error
  fails the block as a reader would see it fail.
- Output: in a ```console block, lines starting with `$ ` are commands (a
  trailing backslash continues one), the other lines are what the doc says
  they print. Each shown line must appear in the output (stdout and stderr
  together), in the order shown, compared with runs of blanks as one; a
  line `...` stands for lines left out, and `...` inside a line for text
  left out (timings, say).
- A hub: a block after the line `<!-- docs-test: hub -->` needs a running
  hub. The test starts one as ./scripts/demo does (`serve --db build/demo.db
  --region data/demo/rhine_alpine`), on a free port rather than 8080, which
  may be taken on a shared machine: `127.0.0.1:8080` in those blocks is
  replaced by the address it listens on. It runs until the document ends
  and must then stop cleanly on SIGINT.
- Not run: a block whose first line is `# not run by the docs test: REASON`
  (visible in the rendered page) is not run: it installs packages, builds,
  or runs until Ctrl-C. A block that uses `../shared/data` is skipped with
  a message when that directory is absent, as on a user's fresh clone.
- Install: the README's install line, which is not run as a block (it
  writes into the reader's home), is checked on its own: `cmake --install`
  of the build under test into a scratch prefix, then `ecorridor help`
  with only that prefix's bin added to PATH.
- Guard: an untagged block must not look runnable (a first line `$ ...`):
  examples are tagged so that they are tested; untagged blocks are
  synopses and sample output.

usage: test_docs.py ECORRIDOR_BINARY PROJECT_DIR DATA_DIR
"""
import os, re, shutil, signal, subprocess, sys, tempfile, threading, time, urllib.request

exe, root, data = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
DOCS = ["README.md", "docs/user-guide.md"]
RUNNABLE = {"sh", "bash", "console"}
NOT_RUN = re.compile(r"^# not run by the docs test: (\S.*)$")
HUB_MARK = "<!-- docs-test: hub -->"
# A block that takes longer has hung: the slowest, `plan` on the demo region, takes 15 s in a
# release build and about a minute under ASan on a slow 2-core machine.
BLOCK_TIMEOUT = 180
have_data = os.path.isdir(data)
failures = []
counts = {"run": 0, "not run": 0, "skipped": 0}


def blocks(path):
    """(line, lang, text, hub) for each fenced block of a markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^```\s*([A-Za-z0-9_-]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i + 1, m.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        prev = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        out.append((start, lang, "\n".join(lines[i + 1:j]), prev == HUB_MARK))
        i = j + 1
    return out


def console_parts(text):
    """The commands of a console block as one script, and the lines it shows."""
    cmds, shown, cont = [], [], False
    for line in text.split("\n"):
        if cont:
            cmds[-1] += "\n" + line
            cont = line.endswith("\\")
        elif line.startswith("$ "):
            cmds.append(line[2:])
            cont = line.endswith("\\")
        elif line.strip():
            shown.append(line)
    return "\n".join(cmds), shown


def norm(s):
    return " ".join(s.split())


def missing_lines(shown, output):
    """The first shown line not found, in order, in the output; None when all are."""
    got = [norm(x) for x in output.split("\n")]
    at = 0
    for want in shown:
        w = norm(want)
        if w == "...":
            continue
        pieces = [p.strip() for p in w.split("...")]

        def fits(line):
            pos = 0
            for p in pieces:
                k = line.find(p, pos)
                if k < 0:
                    return False
                pos = k + len(p)
            return True

        while at < len(got) and not fits(got[at]):
            at += 1
        if at == len(got):
            return want
        at += 1
    return None


class Hub:
    def __init__(self, cwd, env):
        self.proc = subprocess.Popen(
            ["./build/ecorridor", "serve", "--db", "build/demo.db", "--region", "data/demo/rhine_alpine",
             "--listen", "127.0.0.1:0"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        # It says where it listens in its first lines (what it loads may come first).
        m, said = None, []
        while not m and len(said) < 100:
            line = self.proc.stdout.readline()
            if not line:
                break
            said.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("the hub did not say where it listens: %r" % "".join(said))
        self.addr = "127.0.0.1:" + m.group(1)
        # The rest of what it prints is read and dropped, so that it never
        # waits on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen("http://%s/healthz" % self.addr, timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed after 20 s"
        return rc


def scratch_for(tmp, doc):
    """A directory that looks like the project's root after a build."""
    base = os.path.join(tmp, doc.replace("/", "_"))
    proj = os.path.join(base, "project")
    os.makedirs(os.path.join(proj, "build"))
    os.symlink(exe, os.path.join(proj, "build", "ecorridor"))
    shutil.copytree(os.path.join(root, "data"), os.path.join(proj, "data"))
    shutil.copytree(os.path.join(root, "tests", "fixtures"), os.path.join(proj, "tests", "fixtures"))
    if have_data:
        os.makedirs(os.path.join(base, "shared"))
        os.symlink(data, os.path.join(base, "shared", "data"))
    home = os.path.join(base, "home")
    os.makedirs(home)
    with open(os.path.join(home, ".curlrc"), "w") as f:
        f.write("fail-with-body\nsilent\nshow-error\nmax-time = 30\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "TERM": "dumb"}
    return proj, env


def run_doc(tmp, doc):
    path = os.path.join(root, doc)
    proj, env = scratch_for(tmp, doc)
    hub = None
    n_runnable = 0
    try:
        for line, lang, text, needs_hub in blocks(path):
            where = "%s:%d" % (doc, line)
            first = text.lstrip("\n").split("\n", 1)[0]
            if lang not in RUNNABLE:
                if first.startswith("$ "):
                    failures.append("%s: a block showing commands (`$ ...`) must be ```console so that it is tested"
                                    % where)
                continue
            n_runnable += 1
            m = NOT_RUN.match(first)
            if m:
                counts["not run"] += 1
                print("not run  %s: %s" % (where, m.group(1)))
                continue
            if "../shared/data" in text and not have_data:
                counts["skipped"] += 1
                print("SKIP     %s: needs ../shared/data, which is absent" % where)
                continue
            if needs_hub and hub is None:
                hub = Hub(proj, env)
            if needs_hub:
                text = text.replace("127.0.0.1:8080", hub.addr).replace("localhost:8080", hub.addr)
            script, shown = console_parts(text) if lang == "console" else (text, [])
            t0 = time.time()
            try:
                p = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=proj, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   timeout=BLOCK_TIMEOUT)
                rc, output = p.returncode, p.stdout
            except subprocess.TimeoutExpired as e:
                rc, output = "timeout after %d s" % BLOCK_TIMEOUT, (e.stdout or b"").decode(errors="replace")
            counts["run"] += 1
            lost = missing_lines(shown, output) if rc == 0 else None
            if rc != 0 or lost is not None:
                why = "exit %s" % rc if rc != 0 else "output lacks the line %r" % lost.strip()
                failures.append("%s (%s%s): %s\n--- block:\n%s\n--- output (last 40 lines):\n%s" % (
                    where, lang, ", hub" if needs_hub else "", why, text,
                    "\n".join(output.rstrip().split("\n")[-40:])))
                print("FAIL     %s" % where)
            else:
                print("ok       %s (%s%s, %.1f s)" % (where, lang, ", hub" if needs_hub else "", time.time() - t0))
    finally:
        if hub is not None:
            rc = hub.stop()
            if rc != 0:
                failures.append("%s: the hub the test started exited %s on SIGINT" % (doc, rc))
    if n_runnable == 0:
        failures.append("%s: no ```sh, ```bash or ```console block found" % doc)


def check_install(tmp):
    build = os.path.dirname(exe)
    if not os.path.exists(os.path.join(build, "cmake_install.cmake")):
        print("SKIP     install: %s is not a CMake build directory" % build)
        return
    prefix = os.path.join(tmp, "prefix")
    p = subprocess.run(["cmake", "--install", build, "--prefix", prefix], capture_output=True, text=True)
    env = {"PATH": os.path.join(prefix, "bin") + ":/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
    q = subprocess.run(["bash", "-c", "ecorridor help"], env=env, cwd=tmp, capture_output=True, text=True) \
        if p.returncode == 0 else None
    if q is None or q.returncode != 0 or "usage: ecorridor" not in q.stdout:
        failures.append("install: `cmake --install` did not put a working ecorridor in PREFIX/bin: %s %s" % (
            p.stdout + p.stderr, q and (q.stdout + q.stderr)))
        print("FAIL     install")
    else:
        print("ok       install: cmake --install puts ecorridor in PREFIX/bin")


def main():
    tmp = tempfile.mkdtemp(prefix="ec_docs_")
    try:
        for doc in DOCS:
            run_doc(tmp, doc)
        check_install(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("\nFAIL " + f)
    print("\n%d blocks run, %d not run (marked), %d skipped (no ../shared/data), %d failures" % (
        counts["run"], counts["not run"], counts["skipped"], len(failures)))
    sys.exit(1 if failures else 0)


main()
