"""Checks a catalog dump with Python's `jsonschema`, an implementation independent of
Herald's: every schema is a valid draft 2020-12 schema and its example passes it.

    python3 check_schemas.py CATALOG_JSON

CATALOG_JSON is a list of `{"preset", "name", "schema", "example"}`. Prints one line per
failure and the count checked; exits non-zero on any failure.
"""

import json
import sys

from jsonschema import Draft202012Validator

types = json.load(open(sys.argv[1]))
failures = 0
for t in types:
    where = f"{t['preset']} {t['name']}"
    schema, example = t.get("schema"), t.get("example")
    if not isinstance(schema, dict) or not isinstance(example, dict):
        print(f"FAIL {where}: no schema or no example")
        failures += 1
        continue
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        print(f"FAIL {where}: not declared draft 2020-12")
        failures += 1
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # the schema itself is not valid
        print(f"FAIL {where}: invalid schema: {e}")
        failures += 1
        continue
    for error in Draft202012Validator(schema).iter_errors(example):
        print(f"FAIL {where}: example at {error.json_path}: {error.message}")
        failures += 1
print(f"checked {len(types)} types, {failures} failures")
sys.exit(1 if failures else 0)
