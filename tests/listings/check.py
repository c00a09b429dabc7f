#!/usr/bin/env python3
"""Parses every code listing of every lesson in its own language's parser.

Usage: tests/listings/check.py [LESSONS_DIR | LESSON_FILE]...   (default: lessons/)

Every `[[listings]]` and `[[fixes.listings]]` of every `SLUG/lesson.toml` of each folder, and of
each lesson file named (the studio's blank lesson), is checked:

- Go with `gofmt -e` (Debian's golang-go),
- Python with `ast.parse` (this interpreter),
- Elixir with `Code.string_to_quoted/1` (Debian's elixir).

A listing that is a fragment is wrapped the same way every time (lessons/README.md, "Code
listings"): Go without a `package` clause gets `package listing` above it, and Go whose first
line is not a top-level declaration is a function body, wrapped in `func listing() { ... }`.
Python and Elixir are parsed as they are. An error names the lesson, the fix (or `bug`), the
listing's file and the line in the listing itself (wrapping lines are subtracted). The exit
status is 1 if any listing does not parse, 2 if a parser is missing.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

GO_DECLARATION = re.compile(r"^(func|var|const|type|import)\b")

# Reads file names from argv, parses each and prints `path<TAB>ok` or `path<TAB>line<TAB>message`.
ELIXIR_PARSER = r"""
for path <- System.argv() do
  case Code.string_to_quoted(File.read!(path), file: path) do
    {:ok, _} ->
      IO.puts("#{path}\tok")

    {:error, {meta, message, token}} ->
      line = if is_list(meta), do: Keyword.get(meta, :line, 0), else: meta
      message = if is_binary(message), do: message, else: inspect(message)
      message = String.replace(message <> token, ~r/\s+/, " ")
      IO.puts("#{path}\t#{line}\t#{message}")
  end
end
"""


class Listing:
    """One listing to check, with where it comes from."""

    def __init__(self, path, fix, file, code):
        self.path = path
        self.fix = fix or "bug"
        self.file = file
        self.code = code.lstrip("\n")
        self.offset = 0  # lines added above the listing by wrapping
        self.source = self.code

    def where(self, line):
        return f"{self.path}: {self.fix}: {self.file}: line {line}"


def lesson_files(places):
    """The lesson files of each place: a lesson file itself, or a folder's SLUG/lesson.toml."""
    for place in places:
        if os.path.isfile(place):
            yield place
            continue
        for slug in sorted(os.listdir(place)):
            path = os.path.join(place, slug, "lesson.toml")
            if os.path.isfile(path):
                yield path


def listings(places):
    """Every listing of every lesson, in folder order."""
    found = []
    for path in lesson_files(places):
        with open(path, "rb") as f:
            lesson = tomllib.load(f)
        language = lesson["language"]
        for listing in lesson.get("listings", []):
            found.append((language, Listing(path, None, listing["file"], listing["code"])))
        for fix in lesson.get("fixes", []):
            for listing in fix.get("listings", []):
                found.append(
                    (language, Listing(path, fix["slug"], listing["file"], listing["code"]))
                )
    return found


def wrap_go(listing):
    """The documented wrapping: a package clause, and a function around a bare body."""
    first = next((l for l in listing.code.splitlines() if l.strip()), "")
    if first.startswith("package "):
        return
    prefix = "package listing\n\n"
    suffix = ""
    if not GO_DECLARATION.match(first) and not first.startswith("//"):
        prefix += "func listing() {\n"
        suffix = "\n}\n"
    listing.source = prefix + listing.code + suffix
    listing.offset = prefix.count("\n")


def need(tool):
    if shutil.which(tool) is None:
        print(
            f"listings: `{tool}` is missing; `.ci/install test` installs it "
            "(Debian's golang-go and elixir)",
            file=sys.stderr,
        )
        sys.exit(2)


def check_python(listing):
    try:
        ast.parse(listing.source, filename=listing.file)
    except SyntaxError as e:
        return [(e.lineno or 0, e.msg)]
    return []


def check_many(tool_args, group, parse_output):
    """Writes each listing to a file, runs the parser over all of them, maps errors back."""
    errors = {}
    with tempfile.TemporaryDirectory() as scratch:
        paths = {}
        for index, listing in enumerate(group):
            path = os.path.join(scratch, f"listing{index}")
            with open(path, "w") as f:
                f.write(listing.source)
            paths[path] = listing
        run = subprocess.run(tool_args + list(paths), capture_output=True, text=True)
        for path, line, message in parse_output(run):
            errors.setdefault(paths[path], []).append((line, message))
        if run.returncode != 0 and not errors:
            print(run.stdout + run.stderr, file=sys.stderr)
            sys.exit(2)
    return errors


def gofmt_output(run):
    # `gofmt -e -l FILES`: errors go to stderr as `FILE:LINE:COLUMN: message`.
    for line in run.stderr.splitlines():
        m = re.match(r"^(.*?):(\d+):(\d+): (.*)$", line)
        if m:
            yield m.group(1), int(m.group(2)), m.group(4)


def elixir_output(run):
    for line in run.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) == 3:
            yield fields[0], int(fields[1]), fields[2]


def main():
    found = listings(sys.argv[1:] or ["lessons"])
    by_language = {}
    for language, listing in found:
        by_language.setdefault(language, []).append(listing)

    errors = {}
    for language, group in by_language.items():
        if language == "go":
            need("gofmt")
            for listing in group:
                wrap_go(listing)
            errors.update(check_many(["gofmt", "-e", "-l"], group, gofmt_output))
        elif language == "python":
            for listing in group:
                problems = check_python(listing)
                if problems:
                    errors[listing] = problems
        elif language == "elixir":
            need("elixir")
            errors.update(
                check_many(["elixir", "-e", ELIXIR_PARSER, "--"], group, elixir_output)
            )
        else:
            for listing in group:
                errors[listing] = [(0, f"no parser for language `{language}`")]

    for listing, problems in errors.items():
        # The first error is the one to fix; a parser's later ones often follow from it.
        line, message = problems[0]
        print(f"{listing.where(line - listing.offset)}: {message}", file=sys.stderr)
    count = len(found)
    if errors:
        print(f"listings: {len(errors)} of {count} listings do not parse", file=sys.stderr)
        sys.exit(1)
    languages = ", ".join(sorted(by_language))
    print(f"listings: all {count} listings parse ({languages})")


if __name__ == "__main__":
    main()
