"""invoke.py -- call the handler component's `handle` through wasmtime's own
canonical ABI, embedded with wasmtime-py (PyPI `wasmtime`, pinned in
scripts/requirements-wasmtime.txt), for the calls that `wasmtime run
--invoke` cannot carry: its argument is one command-line string, and Linux
caps one at 128 KiB, so a list<u8> body over about 40 KiB does not fit.

    build/venv/bin/python tests/wasmtime/invoke.py COMPONENT < calls.json

calls.json is a JSON list of {"method", "headers": [[name, value]...],
"body": base64, "secrets": [...]}. Each call gets a fresh store and
instance, as `wasmtime run --invoke` gives it. Prints a JSON list with one
answer per call, in the neutral form the tests compare: a result or a
variant is {"tag", "val"}, an option is its value or null, an enum case is
its name, a record is an object keyed by its WIT field names.
"""
import base64
import json
import sys

from wasmtime import Engine, Store
from wasmtime.component import (Component, Linker, ListType, OptionType, Record,
                                RecordType, ResultType, TupleType, Variant, VariantType)


def variant(cases, v):
    """A result or variant value: wasmtime-py gives a Variant when its cases'
    payloads could be confused, and the bare payload when their Python
    classes tell them apart; either way, {"tag", "val"}."""
    if isinstance(v, Variant):
        tag, payload = v.tag, v.payload
    else:
        tag = None
        for name, ty in cases:
            classes = set()
            if ty is not None:
                ty.add_classes(classes)
            if ty is None and v is None or ty is not None and isinstance(v, tuple(classes)):
                tag = name
                break
        if tag is None:
            raise TypeError("value fits no case: %r" % (v,))
        payload = v
    ty = dict(cases)[tag]
    return {"tag": tag, "val": None if ty is None else plain(ty, payload)}


def plain(ty, v):
    """A wasmtime-py component value of WIT type `ty` as plain JSON data."""
    if isinstance(ty, ResultType):
        return variant([("ok", ty.ok), ("err", ty.err)], v)
    if isinstance(ty, VariantType):
        return variant(ty.cases, v)
    if isinstance(ty, OptionType):
        return None if v is None else plain(ty.payload, v)
    if isinstance(ty, RecordType):
        return {name: plain(t, getattr(v, name)) for name, t in ty.fields}
    if isinstance(ty, ListType):
        return list(v) if isinstance(v, bytes) else [plain(ty.element, x) for x in v]
    if isinstance(ty, TupleType):
        return [plain(t, x) for t, x in zip(ty.elements, v)]
    return v                      # strings, numbers, enum case names


def main():
    engine = Engine()
    component = Component.from_file(engine, sys.argv[1])
    linker = Linker(engine)
    answers = []
    for call in json.load(sys.stdin):
        store = Store(engine)
        instance = linker.instantiate(store, component)
        iface = instance.get_export_index(store, "panora:webhook/handler@0.1.0")
        handle = instance.get_func(store, instance.get_export_index(store, "handle", iface))
        req = Record()
        req.method = call["method"]
        req.headers = [tuple(h) for h in call["headers"]]
        req.body = base64.b64decode(call["body"])
        result = handle.type(store).result
        answers.append(plain(result, handle(store, req, call["secrets"])))
        handle.post_return(store)
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
