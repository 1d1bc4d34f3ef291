"""Validates an OpenAPI document with `openapi-spec-validator`, independently of Herald.

    python3 check_openapi.py DOCUMENT_JSON

Prints `valid OpenAPI 3.1` or the validator's error, and exits non-zero on an error.
"""

import json
import sys

from openapi_spec_validator import OpenAPIV31SpecValidator

spec = json.load(open(sys.argv[1]))
if spec.get("openapi", "").startswith("3.1") is not True:
    print(f"not an OpenAPI 3.1 document: {spec.get('openapi')!r}")
    sys.exit(1)
errors = list(OpenAPIV31SpecValidator(spec).iter_errors())
for e in errors[:10]:
    print(f"invalid: {e.message} at {list(e.absolute_path)}")
if errors:
    sys.exit(1)
print("valid OpenAPI 3.1")
