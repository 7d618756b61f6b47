#!/usr/bin/env python3
"""Eval result rows for timing a reward model: ROWS rows (questions x methods x one preference) whose answers are
about WORDS words of ordinary English, in the layout `amulet eval` writes (what `amulet score` reads).

usage: python3 make_rows.py OUT.jsonl ROWS WORDS"""
import json, random, sys

out, rows, words = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
vocab = ("the rain water cloud falls when air cools and vapour condenses into drops that grow heavy enough to reach "
         "ground most of it comes from oceans where sun warms surface so that molecules escape into atmosphere then "
         "wind carries them over land mountains force rising cooling which is why slopes facing sea are wetter").split()
rng = random.Random(3)
methods = ["base", "pref", "beam", "la", "amulet"]
with open(out, "w") as f:
    for i in range(rows):
        text = " ".join(rng.choice(vocab) for _ in range(words)).capitalize() + "."
        f.write(json.dumps({"index": i // len(methods), "method": methods[i % len(methods)], "preference": "concise",
                            "preference_text": "Your answer should be concise as much as possible.",
                            "question": f"Question {i // len(methods)}: why does it rain?", "text": text}) + "\n")
