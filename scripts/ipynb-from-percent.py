#!/usr/bin/python3
"""Write a tslab notebook from a text file in the "percent" format.

Cells start with a line `// %% [markdown]` or `// %%`, optionally followed by
tags in the form `tags=["parameters"]`. Markdown cells may prefix each line
with `// `. The .ipynb is the source that gets committed; this converter only
saves typing JSON by hand.

Usage: /usr/bin/python3 scripts/ipynb-from-percent.py SOURCE.ts OUT.ipynb
"""
import json
import re
import sys

import nbformat

HEADER = re.compile(r"^// %%(?P<markdown> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def convert(text):
    cells = []
    kind, tags, lines = None, [], []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^// ?", "", line) for line in body.split("\n"))
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.split("\n"):
        match = HEADER.match(line)
        if match:
            flush()
            kind = "markdown" if match.group("markdown") else "code"
            tags = json.loads(match.group("tags")) if match.group("tags") else []
            lines = []
        else:
            lines.append(line)
    flush()
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"name": "tslab", "display_name": "TypeScript", "language": "typescript"},
        "language_info": {
            "name": "typescript",
            "file_extension": ".ts",
            "mimetype": "text/typescript",
            "codemirror_mode": {"name": "javascript", "typescript": True},
        },
    }
    for cell in notebook.cells:
        cell.pop("id", None)
    return notebook


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ipynb-from-percent.py SOURCE OUT.ipynb")
    with open(sys.argv[1], encoding="utf-8") as source:
        notebook = convert(source.read())
    notebook.nbformat_minor = 4
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        nbformat.write(notebook, out)


if __name__ == "__main__":
    main()
