#!/usr/bin/env python3
"""Keeps README.md and docs/*.md true to the repository and to the orch binary.

Usage: check_docs.py ORCH REPO_ROOT

  ORCH       the built orch binary (it finds its plugins relative to itself)
  REPO_ROOT  the repository whose README.md and docs/*.md are checked

Checks, printing FILE:LINE and what is wrong for each failure:

  links      every relative markdown link points to a file or directory that exists, and
             every #anchor is a heading of the target file (GitHub's rule: lowercase,
             punctuation dropped except hyphens and underscores, spaces become hyphens,
             repeated headings get -1, -2 ...)
  examples   every ```toml block with an [experiment] table is a whole experiment file:
             `ORCH plan FILE --db TMP/x.db` must exit 0. A block that shows an error on
             purpose is marked on the line before its fence with
                 <!-- docs-check: expect-error -->
             and orch plan must then refuse it (exit status above 0). A block that cannot
             be planned here (it needs a plugin built elsewhere, or is a fragment) is marked
                 <!-- docs-check: skip (why) -->
             and the reason is printed.
  paths      every repository path in inline code, in ```sh blocks and in links
             (experiments/*.toml, scripts/*.sh, bench/*.sh, examples/..., tests/..., ...)
             exists
  index      every docs/*.md file is linked from README.md
  length     README.md has at most 260 lines

Exit status: 0 when everything holds, 1 when something does not, 2 on bad usage.
Standard library only.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

README_MAX_LINES = 260
PLAN_TIMEOUT_S = 120

# Top-level folders of the repository whose paths the documentation names. build/ and
# data/ are left out: they are made by the build and the scripts, not kept in git.
REPO_DIRS = ("experiments", "scripts", "bench", "examples", "tests", "sdk", "host",
             "storage", "plugins", "cmake")
PATH_RE = re.compile(r"(?<![\w./~$-])((?:%s)/[\w.+/-]*)" % "|".join(REPO_DIRS))
FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
HEADING_RE = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
LINK_RE = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
MARKER_RE = re.compile(r"^\s*<!--\s*docs-check:\s*(.*?)\s*-->\s*$")
EXPERIMENT_TABLE_RE = re.compile(r"^\s*\[\s*experiment\s*\]\s*(#.*)?$", re.M)


class Failures:
    def __init__(self):
        self.items = []

    def add(self, path, line, message):
        self.items.append((path, line, message))
        print("%s:%d: %s" % (path, line, message))


def github_slug(heading_text):
    """The anchor GitHub gives a heading."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading_text)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)                              # inline HTML
    text = text.lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


class Document:
    """One markdown file, split into what the checks need."""

    def __init__(self, root, rel):
        self.rel = rel
        self.path = os.path.join(root, rel)
        with open(self.path, encoding="utf-8") as f:
            self.lines = f.read().split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.headings = []      # (line, text)
        self.fences = []        # (first line, info, body lines, marker or None, marker line)
        self.prose = []         # (first line, text) of each paragraph outside fences
        self.markers = []       # (line, text) of every docs-check marker
        self._parse()
        self.anchors = set()
        seen = {}
        for _, text in self.headings:
            slug = github_slug(text)
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            self.anchors.add(slug if n == 0 else "%s-%d" % (slug, n))

    def _parse(self):
        fence = None            # (char, length, info, first line, marker, marker line)
        body = []
        paragraph, paragraph_start = [], 0
        last_nonblank = None    # (line number, text) of the last non-blank line outside fences
        for number, line in enumerate(self.lines, start=1):
            m = FENCE_RE.match(line)
            if fence is not None:
                if m and m.group(2)[0] == fence[0] and len(m.group(2)) >= fence[1] \
                        and line.strip() == m.group(2):
                    self.fences.append((fence[3], fence[2], body, fence[4], fence[5]))
                    fence, body = None, []
                else:
                    body.append(line)
                continue
            if m:
                if paragraph:
                    self.prose.append((paragraph_start, "\n".join(paragraph)))
                    paragraph = []
                marker, marker_line = None, None
                if last_nonblank is not None:
                    mm = MARKER_RE.match(last_nonblank[1])
                    if mm:
                        marker, marker_line = mm.group(1), last_nonblank[0]
                fence = (m.group(2)[0], len(m.group(2)), m.group(3).lower(), number,
                         marker, marker_line)
                last_nonblank = (number, line)
                continue
            if line.strip():
                last_nonblank = (number, line)
            mm = MARKER_RE.match(line)
            if mm:
                self.markers.append((number, mm.group(1)))
            h = HEADING_RE.match(line)
            if h:
                self.headings.append((number, h.group(2)))
            if not line.strip():
                if paragraph:
                    self.prose.append((paragraph_start, "\n".join(paragraph)))
                    paragraph = []
            else:
                if not paragraph:
                    paragraph_start = number
                paragraph.append(line)
        if paragraph:
            self.prose.append((paragraph_start, "\n".join(paragraph)))
        if fence is not None:
            self.unclosed_fence = fence[3]
        else:
            self.unclosed_fence = None


def code_spans(text):
    """(start, end, content) of each inline code span in a paragraph (CommonMark's rule:
    a run of backticks closes with the next run of the same length)."""
    spans = []
    i = 0
    while i < len(text):
        if text[i] != "`":
            i += 1
            continue
        j = i
        while j < len(text) and text[j] == "`":
            j += 1
        run = j - i
        k = j
        close = -1
        while k < len(text):
            if text[k] == "`":
                e = k
                while e < len(text) and text[e] == "`":
                    e += 1
                if e - k == run:
                    close = k
                    break
                k = e
            else:
                k += 1
        if close < 0:
            i = j
            continue
        spans.append((i, close + run, text[j:close]))
        i = close + run
    return spans


def line_of(start_line, text, offset):
    return start_line + text.count("\n", 0, offset)


def check_links(doc, docs_by_path, root, failures, counts):
    for start, text in doc.prose:
        masked = list(text)
        for s, e, _ in code_spans(text):
            for k in range(s, e):
                if masked[k] != "\n":
                    masked[k] = " "
        masked = "".join(masked)
        for m in LINK_RE.finditer(masked):
            target = m.group(2)
            line = line_of(start, text, m.start())
            shown = text[m.start():m.end()].replace("\n", " ")
            if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) \
                    or target.startswith("//"):
                continue    # absolute URLs (https:, mailto:) are not checked here
            counts["links"] += 1
            path_part, _, anchor = target.partition("#")
            if path_part:
                if path_part.startswith("/"):
                    failures.add(doc.rel, line, "link %s: absolute path; use a path relative "
                                 "to %s" % (shown, os.path.dirname(doc.rel) or "the repository root"))
                    continue
                resolved = os.path.normpath(os.path.join(os.path.dirname(doc.path), path_part))
                rel_resolved = os.path.relpath(resolved, root)
                if rel_resolved.startswith(".."):
                    failures.add(doc.rel, line, "link %s: points outside the repository (%s)"
                                 % (shown, rel_resolved))
                    continue
                if not os.path.exists(resolved):
                    hint = ""
                    if os.path.exists(os.path.join(root, path_part)):
                        hint = "; from %s it is %s" % (doc.rel, os.path.relpath(
                            os.path.join(root, path_part), os.path.dirname(doc.path)))
                    failures.add(doc.rel, line, "link %s: %s does not exist%s"
                                 % (shown, rel_resolved, hint))
                    continue
            else:
                rel_resolved = doc.rel
            if anchor:
                if not rel_resolved.endswith(".md"):
                    continue    # anchors of other files (source lines) are not checked
                target_doc = docs_by_path.get(rel_resolved)
                if target_doc is None:
                    target_doc = Document(root, rel_resolved)
                    docs_by_path[rel_resolved] = target_doc
                if anchor not in target_doc.anchors:
                    near = [a for a in sorted(target_doc.anchors)
                            if anchor in a or a in anchor]
                    failures.add(doc.rel, line, "link %s: no heading with anchor #%s in %s%s"
                                 % (shown, anchor, rel_resolved,
                                    "; did you mean #%s?" % near[0] if near else ""))


def check_path_text(doc, line, text, root, failures, counts):
    for m in PATH_RE.finditer(text):
        path = m.group(1).rstrip(".")
        after = text[m.end():m.end() + 1]
        if after in ("<", "{", "*", "$"):
            continue    # a pattern, not a path: plugins/<kind>s/..., backends/{cpu,...}
        parts = [p for p in path.split("/") if p]
        if any(re.fullmatch(r"[A-Z][A-Z_]+", p) for p in parts):
            continue    # a placeholder: experiments/FILE, DIR
        counts["paths"] += 1
        if not os.path.exists(os.path.join(root, path)):
            failures.add(doc.rel, line, "%s does not exist in the repository" % path)


def check_paths(doc, root, failures, counts):
    for start, text in doc.prose:
        for s, _, content in code_spans(text):
            check_path_text(doc, line_of(start, text, s), content, root, failures, counts)
    for first, info, body, _, _ in doc.fences:
        if info in ("sh", "bash", "shell", "console"):
            for i, line in enumerate(body):
                check_path_text(doc, first + 1 + i, line.split("#")[0] if info != "console"
                                else line, root, failures, counts)


def check_examples(doc, orch, root, tmp, failures, counts):
    used_markers = set()
    for first, info, body, marker, marker_line in doc.fences:
        if marker is not None:
            used_markers.add(marker_line)
        text = "\n".join(body) + "\n"
        is_experiment = info == "toml" and EXPERIMENT_TABLE_RE.search(text)
        if marker is not None and not is_experiment:
            failures.add(doc.rel, marker_line, "docs-check marker '%s' is not right before a "
                         "```toml block with an [experiment] table" % marker)
            continue
        if not is_experiment:
            continue
        expect_error = False
        if marker is not None:
            skip = re.fullmatch(r"skip\s*\((.+)\)", marker)
            if skip:
                counts["skipped"] += 1
                print("%s:%d: skipped experiment file: %s" % (doc.rel, first, skip.group(1)))
                continue
            if marker == "expect-error":
                expect_error = True
            else:
                failures.add(doc.rel, marker_line, "unknown docs-check marker '%s'; use "
                             "'expect-error' or 'skip (reason)'" % marker)
                continue
        name = "%s-%d.toml" % (re.sub(r"[^\w]+", "_", doc.rel), first)
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        db = os.path.join(tmp, "x.db")
        command = [orch, "plan", path, "--db", db]
        started = time.monotonic()
        try:
            result = subprocess.run(command, cwd=root, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, universal_newlines=True,
                                    timeout=PLAN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            failures.add(doc.rel, first, "orch plan of this experiment file did not finish in "
                         "%d s" % PLAN_TIMEOUT_S)
            continue
        counts["planned"] += 1
        seconds = time.monotonic() - started
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        said = said[0] if said else "(no output)"
        # orch names the temporary file; name the documentation's line instead.
        said = re.sub(re.escape(path) + r":(\d+)",
                      lambda m: "%s:%d" % (doc.rel, first + int(m.group(1))), said)
        said = said.replace(path, "%s:%d" % (doc.rel, first))
        if result.returncode < 0:
            failures.add(doc.rel, first, "orch plan of this experiment file died from signal %d"
                         % -result.returncode)
        elif expect_error and result.returncode == 0:
            failures.add(doc.rel, first, "marked expect-error, but orch plan accepted this "
                         "experiment file; fix the example or drop the marker")
        elif not expect_error and result.returncode != 0:
            failures.add(doc.rel, first, "orch plan refused this experiment file (exit %d): %s"
                         % (result.returncode, said))
        else:
            print("%s:%d: orch plan %s (exit %d, %.1f s)%s"
                  % (doc.rel, first, "refused it as expected" if expect_error else "ok",
                     result.returncode, seconds, ": " + said if expect_error else ""))
    for line, text in doc.markers:
        if line not in used_markers:
            failures.add(doc.rel, line, "docs-check marker '%s' is not right before a "
                         "```toml block" % text)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    orch, root = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    if not (os.path.isfile(orch) and os.access(orch, os.X_OK)):
        sys.stderr.write("check_docs: %s is not an executable orch binary\n" % orch)
        return 2
    if not os.path.isfile(os.path.join(root, "README.md")):
        sys.stderr.write("check_docs: %s has no README.md\n" % root)
        return 2

    rels = ["README.md"]
    docs_dir = os.path.join(root, "docs")
    if os.path.isdir(docs_dir):
        rels += sorted("docs/" + n for n in os.listdir(docs_dir) if n.endswith(".md"))
    docs = [Document(root, rel) for rel in rels]
    docs_by_path = {d.rel: d for d in docs}
    failures = Failures()
    counts = {"links": 0, "paths": 0, "planned": 0, "skipped": 0}

    for doc in docs:
        if doc.unclosed_fence is not None:
            failures.add(doc.rel, doc.unclosed_fence, "code fence is never closed")

    readme = docs_by_path["README.md"]
    if len(readme.lines) > README_MAX_LINES:
        failures.add("README.md", len(readme.lines), "README.md has %d lines; keep it at most "
                     "%d and move detail into docs/" % (len(readme.lines), README_MAX_LINES))
    linked = set()
    for _, text in readme.prose:
        for m in LINK_RE.finditer(text):
            linked.add(os.path.normpath(m.group(2).partition("#")[0]))
    for doc in docs[1:]:
        if doc.rel not in linked:
            failures.add(doc.rel, 1, "not linked from README.md's documentation list")

    for doc in docs:
        check_links(doc, docs_by_path, root, failures, counts)
        check_paths(doc, root, failures, counts)
    with tempfile.TemporaryDirectory(prefix="orch-docs-check-") as tmp:
        for doc in docs:
            check_examples(doc, orch, root, tmp, failures, counts)

    print("docs check: %d files, %d links, %d repository paths, %d experiment files planned, "
          "%d skipped, %d README lines: %s"
          % (len(docs), counts["links"], counts["paths"], counts["planned"], counts["skipped"],
             len(readme.lines),
             "%d failure(s)" % len(failures.items) if failures.items else "all true"))
    return 1 if failures.items else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
