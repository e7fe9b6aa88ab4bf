"""One accelvp run in this (fresh) process: the request is JSON on stdin, the result goes to the
file it names. accelvp.run() starts one such process per simulation (SystemC elaborates a
model once per process)."""
import json
import os
import sys


def main():
    req = json.load(sys.stdin)
    os.environ.setdefault("SC_COPYRIGHT_MESSAGE", "DISABLE")
    # Whatever the model prints on stdout (SystemC notices) goes to stderr with the log.
    os.dup2(2, 1)
    from accelvp import _core
    if req.get("data_dir"):
        _core.set_data_dir(req["data_dir"])
    code, message = _core.run(req["config"], req["workload"], req["overrides"], req["mode"], req["seed"],
                              req["stats_file"], req["trace_file"])
    with open(req["result"], "w") as f:
        json.dump({"exit_code": code, "message": message}, f)
    sys.stdout.flush()
    # Leave without tearing SystemC down again (the CLI ends the same way: process exit).
    os._exit(0)


if __name__ == "__main__":
    main()
