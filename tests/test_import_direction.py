"""
Imports go one way (docs/architecture.md):

    toolkit  <-  organizations  <-  statements  <-  site

"A <- B": B may import A, never the reverse. The toolkit is the part of `tracker` that knows no
app (text checks, the API's shared machinery, the admin's tools, restoring, security); the site
is the part that puts the apps together (addresses, error pages, kept answers, sitemaps,
settings, the servers' entry points).

Read from the source with `ast`, without importing anything, so a module that is never imported
by the tests is held to the rules too:

- direction: a module imports nothing from a layer above its own, counting an import inside a
  function, and a model named by its label in a relation ("statements.Statement");
- no import of a project module inside a function or method: that is how a cycle is hidden;
- no project module reached by name at run time (importlib.import_module, __import__,
  import_string, apps.get_model): the same cycle, by another road.

Migrations are left out: each app's migrations depend on the other app's where the schema
needed it, and Django orders them by their `dependencies` (docs/architecture.md).
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("tracker", "organizations", "statements")

LAYERS = ("toolkit", "organizations", "statements", "site")
TOOLKIT = {
    "tracker",
    "tracker.text",
    "tracker.api",
    "tracker.admin_tools",
    "tracker.restore",
    "tracker.history",
    "tracker.security",
    "tracker.authentication",
    "tracker.middleware",
    "tracker.filtering",
    "tracker.cache",
    "tracker.throttling",
    "tracker.db_router",
    "tracker.postgresql",
    "tracker.postgresql.base",
}
SITE = {
    "tracker.urls",
    "tracker.views",
    "tracker.errors",
    "tracker.response_cache",
    "tracker.sitemaps",
    "tracker.settings",
    "tracker.wsgi",
    "tracker.asgi",
    "tracker.gunicorn.conf",  # tracker/gunicorn.conf.py, read by gunicorn, not imported
}
RUN_TIME_IMPORTS = {"import_module", "__import__", "import_string", "get_model"}
RELATIONS = {"ForeignKey", "OneToOneField", "ManyToManyField"}

# Known offenders, each as (file, what it reaches, rule): none. An entry that no longer matches
# anything fails the test, so the list can only shrink.
ALLOWED: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    reached: str
    rule: str
    why: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.why} [{self.rule}]"


def project_files() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_project_module(name: str) -> bool:
    parts = name.split(".")
    if parts[0] not in APPS:
        return False
    path = ROOT.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def layer(module: str) -> str:
    """The layer of a project module; a tracker module in no list is a failure of its own."""
    app = module.split(".")[0]
    if app in ("organizations", "statements"):
        return app
    if module in TOOLKIT:
        return "toolkit"
    if module in SITE:
        return "site"
    raise LookupError(module)


def in_layer_of(module: str) -> str:
    """The module an import reaches, shortened to one whose layer is known."""
    parts = module.split(".")
    while len(parts) > 1 and not _known(".".join(parts)):
        parts.pop()
    return ".".join(parts)


def _known(module: str) -> bool:
    try:
        layer(module)
    except LookupError:
        return False
    return True


def reached_by(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The project modules an import statement reaches (a package, or modules in it)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([base] if base else [])])
        # `from statements import cosigning` reaches the module statements.cosigning.
        names = [
            f"{base}.{alias.name}" if is_project_module(f"{base}.{alias.name}") else base
            for alias in node.names
        ]
    return sorted({name for name in names if is_project_module(name)})


def run_time_target(node: ast.Call) -> str | None:
    """The project module or app a run-time import names, or "?" when it is not spelt out."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in RUN_TIME_IMPORTS or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return "?"
    app = first.value.split(".")[0]
    return first.value if app in APPS else None


def related_label(node: ast.Call) -> str | None:
    """The app of a relation to a model named by label: ForeignKey("statements.Statement")."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in RELATIONS:
        return None
    target = node.args[0] if node.args else None
    for keyword in node.keywords:
        if keyword.arg == "to":
            target = keyword.value
    if isinstance(target, ast.Constant) and isinstance(target.value, str) and "." in target.value:
        app = target.value.split(".")[0]
        if app in APPS:
            return f"{app}.models"
    return None


class Reader(ast.NodeVisitor):
    def __init__(self, path: Path):
        self.path = path.relative_to(ROOT).as_posix()
        self.module = module_name(path)
        self.is_package = path.name == "__init__.py"
        self.depth = 0  # functions we are inside
        self.problems: list[Problem] = []

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_Import(self, node):
        for reached in reached_by(node, self.module, self.is_package):
            self.check_direction(node, reached, f"imports {reached}")
            if self.depth:
                self.add(
                    node,
                    reached,
                    "inside a function",
                    f"{self.module} imports {reached} inside a function: import it at the "
                    "top of the module, or move the code so that no cycle needs hiding",
                )

    visit_ImportFrom = visit_Import

    def visit_Call(self, node):
        if (target := run_time_target(node)) is not None:
            self.add(
                node,
                target,
                "run-time import",
                f"{self.module} reaches {target} by name at run time: import it, in the "
                "direction of the layers",
            )
        if (target := related_label(node)) is not None:
            self.check_direction(node, target, f"relates to a model of {target}")
        self.generic_visit(node)

    def check_direction(self, node, reached: str, what: str):
        try:
            mine, theirs = layer(self.module), layer(in_layer_of(reached))
        except LookupError:
            return  # a module in no layer: test_every_project_module_is_in_a_layer says so
        if LAYERS.index(theirs) > LAYERS.index(mine):
            self.add(
                node,
                reached,
                "direction",
                f"{self.module} ({mine}) {what} ({theirs}): "
                f"{mine} may import only {', '.join(LAYERS[: LAYERS.index(mine) + 1])}",
            )

    def add(self, node, reached: str, rule: str, why: str):
        self.problems.append(Problem(self.path, node.lineno, reached, rule, why))


def read(path: Path) -> list[Problem]:
    reader = Reader(path)
    reader.visit(ast.parse(path.read_text(), filename=str(path)))
    return reader.problems


def all_problems() -> list[Problem]:
    return [problem for path in project_files() for problem in read(path)]


def test_every_project_module_is_in_a_layer():
    unplaced = []
    for path in project_files():
        try:
            layer(module_name(path))
        except LookupError:
            unplaced.append(path.relative_to(ROOT).as_posix())
    assert not unplaced, (
        f"Put each of these in TOOLKIT or SITE (and in docs/architecture.md): {unplaced}"
    )


def test_imports_go_one_way():
    problems = [
        problem
        for problem in all_problems()
        if (problem.path, problem.reached, problem.rule) not in ALLOWED
    ]
    assert not problems, "Imports against the layers:\n" + "\n".join(map(str, problems))


def test_every_allowed_offence_still_happens():
    found = {(problem.path, problem.reached, problem.rule) for problem in all_problems()}
    stale = sorted(ALLOWED - found)
    assert not stale, f"No longer needed: delete from ALLOWED: {stale}"


# --- The rules can fail: each is shown a module that breaks it. -------------------------------

BROKEN = {  # a module's source, and the problems it has: (line, what it reaches, rule)
    "organizations/example.py": (
        "from statements.models import Signature\n",
        (1, "statements.models", "direction"),
    ),
    "organizations/inside.py": (
        "def count():\n    from statements import models\n    return models\n",
        (2, "statements.models", "direction"),
        (2, "statements.models", "inside a function"),
    ),
    "statements/cycle.py": (
        "class Thing:\n    def get(self):\n        from .models import Statement\n",
        (3, "statements.models", "inside a function"),
    ),
    "tracker/api.py": (
        "from tracker import response_cache\n",
        (1, "tracker.response_cache", "direction"),
    ),
    "tracker/text.py": (
        "import organizations.models\n",
        (1, "organizations.models", "direction"),
    ),
    "organizations/lazy.py": (
        "from django.apps import apps\nSignature = apps.get_model('statements', 'Signature')\n",
        (2, "statements", "run-time import"),
    ),
    "organizations/by_name.py": (
        "import importlib\ndef load(name):\n    return importlib.import_module(name)\n",
        (3, "?", "run-time import"),
    ),
    "organizations/relation.py": (
        "from django.db import models\n"
        "class A(models.Model):\n"
        "    s = models.ForeignKey('statements.Statement', on_delete=models.CASCADE)\n",
        (3, "statements.models", "direction"),
    ),
}


@pytest.mark.parametrize("path", BROKEN)
def test_a_module_against_the_rules_is_named_with_its_line_and_rule(path):
    source, *expected = BROKEN[path]
    reader = Reader(ROOT / path)  # read as if it were that file of the project
    reader.visit(ast.parse(source))
    assert [(p.line, p.reached, p.rule) for p in reader.problems] == expected
    for problem in reader.problems:
        assert str(problem).startswith(f"{path}:{problem.line}: ")
        assert str(problem).endswith(f"[{problem.rule}]")


def test_imports_in_the_right_direction_pass():
    for path, source in {
        "statements/fine.py": "from organizations.models import Organization\n"
        "from tracker.api import ReadOnlyViewSet\nfrom .models import Signature\n",
        "tracker/urls.py": "from statements import views\nfrom tracker.errors import not_found\n",
        "tracker/api.py": "def f():\n    from django.template import loader\n",
    }.items():
        reader = Reader(ROOT / path)
        reader.visit(ast.parse(source))
        assert reader.problems == [], path
