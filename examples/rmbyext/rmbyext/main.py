"""rmbyext EXT [EXT...]: delete the regular files in the current directory whose
extension is one of EXT (given with or without the dot; case-sensitive).
Directories, symbolic links and files in subdirectories are left alone. Each
removed file is printed as "Removing: NAME"; the exit code is 1 when a file
could not be removed, 2 for a usage error.
"""

import os
import sys


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if not args or any(a in ("-h", "--help") for a in args):
        print("Usage: rmbyext EXT [EXT...]", file=sys.stderr)
        return 0 if args else 2
    wanted = {"." + a.lstrip(".") for a in args}
    failed = False
    for name in sorted(os.listdir(".")):
        if os.path.splitext(name)[1] not in wanted:
            continue
        if os.path.islink(name) or not os.path.isfile(name):
            continue
        print(f"Removing: {name}")
        try:
            os.remove(name)
        except OSError as err:
            print(f"rmbyext: {name}: {err.strerror}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
