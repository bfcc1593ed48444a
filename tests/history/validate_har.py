"""Validates a HAR file against tests/schemas/har-1.2.schema.json and checks its entries are
in time order. Usage: validate_har.py SCHEMA HAR; prints "ok N" or the first problem."""
import json
import sys
from datetime import datetime

import jsonschema

schema = json.load(open(sys.argv[1]))
har = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(har), key=str)
if errors:
    print("invalid:", errors[0].json_path, errors[0].message)
    sys.exit(1)
starts = [
    datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00"))
    for e in har["log"]["entries"]
]
if starts != sorted(starts):
    print("entries out of time order:", [s.isoformat() for s in starts])
    sys.exit(1)
print("ok", len(starts))
