"""The start's rotations in a process of their own, while the caller builds the model.

``python -m wachtplanner.solver.apart GIVEN TAKEN PARENT BUILT`` reads the pickled
``(scenario, shifts, fixed, params)`` from the file GIVEN and writes the pickled result of
``api.first_rosters_by_id`` to the file TAKEN (``api._beside_the_build`` starts it, PARENT
being its process id); the start's lowering and its trades end once the file BUILT exists
(the caller's model is built, and waits for the start). A module
run as a program rather than a ``multiprocessing`` child: a spawned child imports the caller's
main script again, and a script without a ``__main__`` guard would run its solve once more.
Both files are the caller's own, in a temporary folder only it can write to; where the caller
is gone when the start is made (killed outright), this process removes that folder.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from pathlib import Path

from wachtplanner.solver.api import first_rosters_by_id


def main(given: Path, taken: Path, parent: int, built: Path) -> None:
    """Make the start of the pickled scenario in ``given`` and pickle it to ``taken``.

    Where this process's parent is no longer ``parent``, nobody will read it: the folder of
    both files is removed instead (the caller's cleanup did not run).
    """
    scenario, shifts, fixed, params = pickle.loads(given.read_bytes())
    result = first_rosters_by_id(scenario, shifts, fixed, params, stop=built.exists)
    if os.getppid() != parent:
        shutil.rmtree(given.parent, ignore_errors=True)
        return
    partial = taken.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(result))
    partial.replace(taken)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
