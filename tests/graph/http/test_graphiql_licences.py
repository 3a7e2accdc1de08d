"""The licence notices of what GraphiQL's vendored bundles carry ship beside them, complete.

`graphiql.min.js` is a webpack bundle of GraphiQL and some 80 npm packages, and npm's tarball has
only GraphiQL's licence; `graphiql@<version>/LICENSE.third-party.txt` collects the others. These
tests read the names the vendored files themselves give (webpack's module headers, `/*!` and
`@license` banners, `| MIT` notices, embedded fonts) and fail when one has no notice, so a
re-vendored bundle that brings a new library cannot ship without its licence.
"""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from graph.http.assets import REVENDOR, SHIPPED_DIR, ShippedFile, shipped_files

ROOT = Path(__file__).resolve().parents[3]
NOTICES = "LICENSE.third-party.txt"

# webpack's header above each module: `!*** ../../../node_modules/codemirror/lib/codemirror.js ***!`
_MODULE_HEADER = re.compile(r"^\s*!\*{3} (?P<request>.+?) \*{3}!\s*$", re.MULTILINE)
# `/*! js-cookie v3.0.5 | MIT */`, `/*!\n * set-value <https://...>\n * Copyright ...`; not the
# webpack headers (`/*!****`) and not `/*! ./utils */`, webpack's note of a require's request.
_BANG_BANNER = re.compile(r"/\*!(?!\*)(?P<body>.*?)\*/", re.DOTALL)
_LICENSE_TAG = re.compile(r"@license\s+(?P<name>[^\s*]+)")
# A short notice naming its licence after a bar: `/* Modernizr 3.0.0pre (Custom Build) | MIT */`
_BAR_NOTICE = re.compile(r"/\*[!\s*]*(?P<name>[\w.@/-]+) [^*|\n]*\|\s*[A-Z][\w.-]*\s*\*/")
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*?font-family:\s*(?P<family>[^;}]+)", re.DOTALL)
_NOTICE_NAME = re.compile(r"^Name: (?P<name>.+)$", re.MULTILINE)
_NOTICE_ENTRY = re.compile(r"^Name: .+\nVersion: \S+\nLicense: \S+\nIn: .+$", re.MULTILINE)


def _module_package(request: str, own: str) -> str | None:
    """The npm package a webpack module header's request is a file of (None: not bundled code)."""
    resource = request.rsplit("!", 1)[-1].removeprefix("css ")  # drop a loader chain
    if resource.startswith("external "):
        return None  # left to the page (React, ReactDOM)
    if "node_modules/" in resource:
        parts = resource.rsplit("node_modules/", 1)[1].split("/")
        return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]
    if resource.startswith("./"):
        return own
    if resource.startswith("../../"):
        # A workspace package of the graphql/graphiql monorepo: packages/graphiql-react is
        # @graphiql/react, packages/codemirror-graphql is codemirror-graphql.
        folder = resource.removeprefix("../../").split("/")[0]
        return (
            "@graphiql/" + folder.removeprefix("graphiql-")
            if folder.startswith("graphiql-")
            else folder
        )
    raise AssertionError(f"a webpack module header of an unknown kind: {request!r}")


def banner_names(text: str, own: str) -> set[str]:
    """What the banners and module headers of one vendored file name, lower-cased."""
    names: set[str] = set()
    for match in _MODULE_HEADER.finditer(text):
        package = _module_package(match["request"], own)
        if package is not None:
            names.add(package)
    for match in _BANG_BANNER.finditer(text):
        lines = [line.strip().lstrip("*").strip() for line in match["body"].splitlines()]
        words = " ".join(line for line in lines if line).split()
        if len(words) > 1:  # a single word is webpack's note of a require, not a banner
            names.add(words[0])
    names.update(match["name"] for match in _LICENSE_TAG.finditer(text))
    names.update(match["name"] for match in _BAR_NOTICE.finditer(text))
    names.update(match["family"].strip().strip("'\"") for match in _FONT_FACE.finditer(text))
    return {name.lower() for name in names}


def noticed_names(entry: ShippedFile, directory: Path = SHIPPED_DIR) -> set[str]:
    """The `Name:` entries of the entry's licence files (notice files have them), lower-cased."""
    return {
        match["name"].strip().lower()
        for licence in entry.licences
        for match in _NOTICE_NAME.finditer((directory / licence).read_text(encoding="utf-8"))
    }


def uncovered(names: set[str], entry: ShippedFile, noticed: set[str]) -> set[str]:
    """The names no licence of `entry` covers: not its own package, nor one its notices name.

    A banner may name the project rather than the package (`@license React` over
    react-dom.production.min.js), so a name covers the packages it prefixes with a dash.
    """
    own = entry.asset.package.lower()
    return {name for name in names if name != own and not own.startswith(f"{name}-")} - noticed


def _bundles() -> list[ShippedFile]:
    return [entry for entry in shipped_files() if entry.asset.path.endswith((".js", ".css"))]


def test_each_graphiql_has_its_third_party_notices_in_the_installed_package() -> None:
    graphiqls = [entry for entry in shipped_files() if entry.asset.package == "graphiql"]
    assert graphiqls, "the manifest lists no graphiql file"
    for entry in graphiqls:
        notices = f"{entry.asset.spec}/{NOTICES}"
        assert notices in entry.licences, f"the manifest lists no {notices} for {entry.asset.name}"
        installed = files("graph.http").joinpath("graphiql", entry.asset.spec, NOTICES)
        assert installed.is_file(), f"{notices} is not in the installed package"
        text = installed.read_text(encoding="utf-8")
        names = _NOTICE_NAME.findall(text)
        assert names, f"{notices} has no notice"
        assert len(names) == len(_NOTICE_ENTRY.findall(text)), (
            "each notice gives Name, Version, License and In, in that order"
        )
        assert len(set(names)) == len(names), "a package has two notices"


def test_the_wheel_takes_every_licence_file() -> None:
    """pyproject's package data for graph.http matches each licence file the manifest lists."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["graph.http"]
    package = SHIPPED_DIR.parent
    shipped = {path for pattern in patterns for path in package.glob(pattern) if path.is_file()}
    licences = {SHIPPED_DIR / licence for entry in shipped_files() for licence in entry.licences}
    assert licences, "the manifest lists no licence file"
    assert not licences - shipped, f"the wheel leaves out {sorted(map(str, licences - shipped))}"


def test_each_kind_of_banner_is_read() -> None:
    bundle = "\n".join(
        [
            "/*!**********************************************************!*\\",
            "  !*** ../../../node_modules/@scope/pkg/dist/index.js ***!",
            "  \\**********************************************************/",
            "  !*** ../../../node_modules/outer/node_modules/nested/x.js ***!",
            "  !*** ../../graphiql-toolkit/esm/index.js ***!",
            "  !*** ../../codemirror-graphql/esm/hint.js ***!",
            "  !*** ./cdn.ts ***!",
            '  !*** external "React" ***!',
            "  !*** css ../../../node_modules/css-loader/cjs.js!../../graphiql-react/a.css ***!",
            'require(/*! ./lib */ "./lib.js"), require(/*! react */ "react");',
            "/*! tiny-lib v1.0.0 | MIT */",
            "/*!\n * set-value <https://github.com/jonschlinkert/set-value>\n *\n * Copyright",
            " * Released under the MIT License.\n */",
            "/**\n * @license React\n * react.production.min.js\n */",
            "(function(){/*\n Modernizr 3.0.0pre (Custom Build) | MIT\n*/",
            "@font-face {\n  font-family: 'Fira Code';\n  src: url(data:font/woff;base64,AA);\n}",
        ]
    )
    assert banner_names(bundle, "graphiql") == {
        "@scope/pkg",
        "nested",
        "@graphiql/toolkit",
        "codemirror-graphql",
        "graphiql",
        "@graphiql/react",
        "tiny-lib",
        "set-value",
        "react",
        "modernizr",
        "fira code",
    }


def test_the_vendored_bundle_is_one_the_parser_understands() -> None:
    """GraphiQL's bundle names its packages in webpack's module headers: an empty parse fails."""
    for entry in _bundles():
        if entry.asset.package == "graphiql" and entry.asset.path.endswith(".js"):
            text = (SHIPPED_DIR / entry.asset.name).read_text(encoding="utf-8")
            names = banner_names(text, entry.asset.package)
            assert len(names) >= 10, (
                f"{entry.asset.name} names only {sorted(names)}: its build changed the way it "
                "names what it bundles, so teach banner_names to read it"
            )


def test_a_library_without_a_notice_is_caught(tmp_path: Path) -> None:
    bundle = (
        "/*!****************************************************!*\\\n"
        "  !*** ../../../node_modules/left-pad/index.js ***!\n"
        "  \\****************************************************/\n"
        '/*! ./lib */\n/*! tiny-lib v1.0.0 | MIT */\nrequire(/*! left-pad */ "left-pad");\n'
    )
    (tmp_path / "graphiql@9.9.9").mkdir()
    (tmp_path / "graphiql@9.9.9" / NOTICES).write_text(
        "Name: left-pad\nVersion: 1.3.0\nLicense: WTFPL\nIn: graphiql.min.js\n", encoding="utf-8"
    )
    entry = next(entry for entry in _bundles() if entry.asset.package == "graphiql")
    entry = ShippedFile(asset=entry.asset, licences=(f"graphiql@9.9.9/{NOTICES}",))
    names = banner_names(bundle, "graphiql")
    assert names == {"left-pad", "tiny-lib"}
    assert uncovered(names, entry, noticed_names(entry, tmp_path)) == {"tiny-lib"}


@pytest.mark.parametrize("entry", _bundles(), ids=lambda entry: entry.asset.name)
def test_every_name_a_vendored_file_gives_has_a_licence_notice(entry: ShippedFile) -> None:
    text = (SHIPPED_DIR / entry.asset.name).read_text(encoding="utf-8")
    missing = uncovered(banner_names(text, entry.asset.package), entry, noticed_names(entry))
    assert not missing, (
        f"{entry.asset.name} carries {sorted(missing)}, which no licence file the manifest lists "
        f"for it names ({', '.join(entry.licences)}): add each one's notice (Name, Version, "
        f"License, In, its full licence text) to a LICENSE.* file in {entry.asset.spec}/ (for "
        f"GraphiQL: {NOTICES}) and list that file in the manifest (`{REVENDOR}` does)"
    )
