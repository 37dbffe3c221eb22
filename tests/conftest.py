"""Shared test fixtures: third-party fixture paths, the Labelbox oracle, report invariant checks.

Files written by other tools are never copied into this repository: tests read them in place from
``../shared/fixtures-public`` and ``../shared/fixtures-wild`` (``LBC_SHARED`` names another folder
holding both). Without that folder (a user's clone) the tests that need it are skipped, and say
why; ``LBC_REQUIRE_SHARED=1`` (set by ``.ci/run``) turns that skip into a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

#: Hypothesis profiles. The reader fuzz tests (tests/fuzz) take their case count from the
#: profile: ``ci`` (the default here, 300 per reader, about a minute for all five) and
#: ``--hypothesis-profile=long`` (10,000 per reader; run it before a release). Tests that
#: set ``max_examples`` themselves keep their own count.
settings.register_profile("ci", max_examples=300, deadline=None)
settings.register_profile("long", max_examples=10_000, deadline=None)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LBC_SHARED") or ROOT.parent / "shared").resolve()
PUBLIC = SHARED / "fixtures-public"
WILD = SHARED / "fixtures-wild"
#: Third-party fixtures (other converters' test files), laid out as ``<format>/<source>/<path>``.
FIXTURES = PUBLIC
#: This project's own fixtures (made by scripts in fixtures/; see fixtures/README.md).
OWN_FIXTURES = ROOT / "fixtures"
HAVE_SHARED = PUBLIC.is_dir() and WILD.is_dir()
MISSING_SHARED = f"third-party fixtures not found at {SHARED} (set LBC_SHARED to the shared/ folder)"
ORACLE_SCRIPT = Path(os.environ.get("LB_ORACLE_SCRIPT", SHARED / "tools" / "lb_oracle.py"))


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """pyproject's addopts run the suite on every core (``-n auto``, pytest-xdist). Without
    xdist (``-p no:xdist``, or a clone without the dev extra) ``-n`` is accepted and ignored,
    so the same command runs the tests in this one process."""
    if not pluginmanager.has_plugin("xdist"):
        # _addoption: lowercase short flags are reserved to plugins; xdist declares -n the same way
        parser.getgroup("xdist", "pytest-xdist (not loaded)")._addoption(
            "-n", "--numprocesses", dest="numprocesses", default=None,
            help="run in parallel with pytest-xdist; ignored here: xdist is not loaded")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "shared: reads third-party fixtures from ../shared in place")
    if os.environ.get("LBC_REQUIRE_SHARED") and not HAVE_SHARED:
        raise pytest.UsageError(f"LBC_REQUIRE_SHARED is set but {MISSING_SHARED}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, with the reason, every test that reads ../shared when it is not there.

    A test needs it when it is marked ``shared`` or asks for the ``fixtures`` / ``wild`` fixtures.
    """
    if HAVE_SHARED:
        return
    skip = pytest.mark.skip(reason=MISSING_SHARED)
    for item in items:
        if _needs_shared(item):
            item.add_marker(skip)


def _under_shared(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_under_shared(v) for v in value)
    return isinstance(value, (str, Path)) and str(value).startswith(str(SHARED))


def _needs_shared(item: pytest.Item) -> bool:
    """Marked ``shared``, asks for ``fixtures``/``wild``, is parametrized with a path under
    ../shared, or names a module-level path under ../shared in its body."""
    if item.get_closest_marker("shared"):
        return True
    names = getattr(item, "fixturenames", ())
    if "fixtures" in names or "wild" in names:
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is not None and any(_under_shared(v) for v in callspec.params.values()):
        return True
    func = getattr(item, "function", None)
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    module_globals = getattr(func, "__globals__", {})
    return any(_under_shared(module_globals.get(name)) for name in code.co_names)


@pytest.fixture
def fixtures() -> Path:
    """../shared/fixtures-public: small files from other converters' suites, read in place."""
    return PUBLIC


@pytest.fixture
def wild() -> Path:
    """../shared/fixtures-wild: real exports from public repositories, read in place."""
    return WILD


def shared_json(path: Path) -> dict:
    """A JSON file under ../shared read at collection time; empty when ../shared is absent."""
    if not HAVE_SHARED:
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


class OracleResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.returncode = proc.returncode
        self.output = proc.stdout + proc.stderr
        last = [ln for ln in proc.stdout.splitlines() if "rows ok" in ln]
        self.summary = last[-1] if last else ""
        parts = self.summary.replace(",", "").split()
        self.ok = int(parts[0]) if parts else -1
        self.failed = int(parts[3]) if len(parts) > 3 else -1


def _oracle_python() -> str | None:
    return os.environ.get("LB_ORACLE_PYTHON")


class OracleServer:
    """One long-lived oracle process (tests/oracle_server.py) answering every oracle run of
    this test process: the SDK is imported once, not once per file checked. Falls back to a
    process per run (``python lb_oracle.py ...``, the same checks) if the server cannot start
    or dies; ``LBC_ORACLE_SERVER=0`` always does that."""

    def __init__(self, python: str, script: Path) -> None:
        self.python, self.script = python, script
        self.proc: subprocess.Popen[str] | None = None
        self.broken = os.environ.get("LBC_ORACLE_SERVER") == "0"

    def _start(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [self.python, str(Path(__file__).with_name("oracle_server.py")), str(self.script)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )
        assert proc.stdout is not None
        if json.loads(proc.stdout.readline() or "{}").get("ready") is not True:
            self._stop(proc)
            raise OSError("oracle server did not start")
        return proc

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        if not self.broken:
            try:
                if self.proc is None:
                    self.proc = self._start()
                assert self.proc.stdin is not None and self.proc.stdout is not None
                self.proc.stdin.write(json.dumps(argv) + "\n")
                self.proc.stdin.flush()
                reply = json.loads(self.proc.stdout.readline())
                return subprocess.CompletedProcess(argv, reply["returncode"], reply["stdout"], reply["stderr"])
            except (OSError, ValueError, KeyError):
                self.broken = True
                self.close()
        return subprocess.run([self.python, str(self.script), *argv], capture_output=True, text=True, check=False)

    @staticmethod
    def _stop(proc: subprocess.Popen[str]) -> None:
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        if self.proc is not None:
            proc, self.proc = self.proc, None
            self._stop(proc)


@pytest.fixture(scope="session")
def oracle_server():
    """The test process's :class:`OracleServer` (None without LB_ORACLE_PYTHON); closed at the end."""
    python = _oracle_python()
    if not python or not ORACLE_SCRIPT.is_file():
        yield None
        return
    server = OracleServer(python, ORACLE_SCRIPT)
    yield server
    server.close()


@pytest.fixture
def oracle(oracle_server):
    """Run ../shared/tools/lb_oracle.py (the Labelbox SDK 5.2.1 parser) on an NDJSON file.

    Needs LB_ORACLE_PYTHON: a Python with ``labelbox[data]==5.2.1`` installed (.ci/run
    sets one up). Without it the oracle tests are skipped, and say so. Runs go to one oracle
    process per test process (:class:`OracleServer`): same script, same arguments, same output.
    """
    if oracle_server is None:
        if os.environ.get("LB_REQUIRE_ORACLE"):
            pytest.fail(f"oracle required but missing (LB_ORACLE_PYTHON={_oracle_python()!r}, {ORACLE_SCRIPT})")
        pytest.skip("LB_ORACLE_PYTHON not set or oracle script missing (CI sets both)")

    def run(path: Path, *, mode: str = "mal", media: str = "image", extra: tuple[str, ...] = ()) -> OracleResult:
        return OracleResult(oracle_server.run([str(path), "--mode", mode, "--media", media, *extra]))

    return run


def read_ndjson(path: Path) -> list[dict]:
    """Every row of an NDJSON file."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# -- issue 12 item 10: the ontology round trip, shared by the reader tests --------------------

#: The row key each Labelbox tool type writes its geometry under.
ROW_KEY_OF_TOOL = {"rectangle": "bbox", "polygon": "polygon", "raster-segmentation": "mask", "point": "point", "line": "line"}


def derived_tools(path: Path) -> dict[str, str]:
    """Tool name -> tool type of an ontology JSON file."""
    return {t["name"]: t["tool"] for t in json.loads(path.read_text(encoding="utf-8"))["tools"]}


def with_schema_ids(path: Path) -> Path:
    """The ontology as Labelbox would export it after creation: every tool, classification and
    option gets a cuid-like ``featureSchemaId`` (25 characters). Written beside ``path``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    counter = iter(range(10**6))

    def stamp(node: dict) -> None:
        node["featureSchemaId"] = f"ckschema{next(counter):017d}"
        for child in [*(node.get("classifications") or []), *(node.get("options") or [])]:
            stamp(child)

    for node in [*data["tools"], *data["classifications"]]:
        stamp(node)
    out = path.with_name("ids-" + path.name)
    out.write_text(json.dumps(data), encoding="utf-8")
    return out


def ontology_round_trip(source: list[str], tmp_path: Path, *args: str) -> tuple[dict[str, str], list[dict]]:
    """``lbconvert ontology`` -> schema ids added -> ``convert --ontology``.

    Returns the derived tools (name -> type) and the converted rows; asserts both commands
    exit 0 and that every object row is mapped (by ``schemaId``) to a tool of its own kind.
    """
    from converters.cli import main

    ont = tmp_path / "derived-ontology.json"
    assert main(["ontology", *source, *args, "-o", str(ont)]) == 0
    given = with_schema_ids(ont)
    out = tmp_path / "round-trip.ndjson"
    assert main(["convert", *source, *args, "-o", str(out), "--ontology", str(given), "--quiet"]) == 0
    tools = {t["featureSchemaId"]: t["tool"] for t in json.loads(given.read_text(encoding="utf-8"))["tools"]}
    rows = read_ndjson(out)
    objects = [r for r in rows if any(k in r for k in ROW_KEY_OF_TOOL.values())]
    assert objects, "no object rows"
    for row in objects:
        assert "name" not in row and row.get("schemaId") in tools, row
        assert ROW_KEY_OF_TOOL[tools[row["schemaId"]]] in row, (tools[row["schemaId"]], sorted(row))
    return derived_tools(ont), rows
