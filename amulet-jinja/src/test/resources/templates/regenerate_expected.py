#!/usr/bin/env python3
"""Regenerates the .expected files of the Jinja fixtures with Python's jinja2, set up as Hugging Face's
transformers sets it up for chat templates (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loop controls, raise_exception, strftime_now, HF's tojson).

Each NAME.jinja is rendered with every context of NAME.json (a JSON list of objects), or of
chat_contexts.json when NAME.json does not exist. Context i gives NAME.i.expected (the rendered text) or,
when rendering raises, NAME.i.error (the exception message). Run from any directory:
    python3 regenerate_expected.py
"""
import datetime
import glob
import json
import os

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
# The Java test renders with a fixed clock at this local time.
FIXED_NOW = datetime.datetime(2024, 7, 26, 9, 5, 7)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    env = environment()
    for old in glob.glob(os.path.join(HERE, "cases", "*.expected")) + glob.glob(os.path.join(HERE, "cases", "*.error")):
        os.remove(old)
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "*.jinja"))):
        name = os.path.splitext(path)[0]
        ctx_path = name + ".json" if os.path.exists(name + ".json") else os.path.join(HERE, "cases", "chat_contexts.json")
        with open(path, encoding="utf-8", newline="") as f:
            source = f.read()
        with open(ctx_path, encoding="utf-8") as f:
            contexts = json.load(f)
        template = env.from_string(source)
        for i, ctx in enumerate(contexts):
            try:
                out, ext = template.render(**ctx), "expected"
            except Exception as e:  # noqa: BLE001 - the message is the expected result
                out, ext = str(e), "error"
            with open(f"{name}.{i}.{ext}", "w", encoding="utf-8", newline="") as f:
                f.write(out)
        print(os.path.basename(path), len(contexts))


if __name__ == "__main__":
    main()
