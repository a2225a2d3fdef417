"""``python -m bench [NAME [options]]``: run every benchmark, or the one named."""
from __future__ import annotations

import sys

from bench import benchmarks, entry_point


def main(argv: list[str]) -> int:
    found = benchmarks()
    if argv and argv[0] in ("-h", "--help", "--list"):
        print("usage: python -m bench [NAME [options]]\n\nbenchmarks:")
        for name, module in found.items():
            summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
            print(f"  {name:<10} {summary}")
        return 0
    if argv:
        name, options = argv[0], argv[1:]
        if name not in found:
            print(f"unknown benchmark {name!r}; known: {', '.join(found)}", file=sys.stderr)
            return 2
        return entry_point(found[name])(options)
    status = 0
    for name, module in found.items():
        print(f"=== {name} ===", flush=True)
        status = max(status, entry_point(module)([]))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
