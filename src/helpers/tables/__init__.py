"""Find the three standard tables in a token stream and map them onto codebook keys.

``Mapper(cb, edition, path).feed(rows); .result()`` walks the physical rows of a
document (see :mod:`helpers.tokens`) once and returns the printed cells
(:class:`Mapped`).  The units:

* :mod:`.state` — the walking state shared by the units (current table, Table 2
  header, the record collecting values) and the records it collects;
* :mod:`.mapper` — the walk itself: what each row is in the current state, and
  the assembly of the cells at the end;
* :mod:`.table2` — Table 2 blocks, column headers, rows and units;
* :mod:`.table3` — Table 3 rows, unlabelled rows placed in template order, joint
  settling of ambiguous splits by the column identities;
* :mod:`.table4` — Table 4's 15 values;
* :mod:`.decode` — from a row's printed items to its cells: width, padding,
  digits run together (:mod:`helpers.splitting`).

Nothing is guessed: a row whose label is not recognised, whose width is wrong
or whose digits split in several ways is reported and its cells left unset.
"""

from .mapper import Mapper
from .state import T3_WIDTH, T4_WIDTH, Mapped, Record

__all__ = ["Mapper", "Mapped", "Record", "T3_WIDTH", "T4_WIDTH"]
