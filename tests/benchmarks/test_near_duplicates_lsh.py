"""MinHash LSH near-duplicate grouping: candidates get their exact Jaccard; unrelated texts stay apart."""

from __future__ import annotations

from tradeie.corpus import near_duplicate_groups, shingles, jaccard
from tradeie.document import Document

BASE = (
    "India and the United States signed a framework agreement on critical minerals on Tuesday, "
    "officials said, after months of talks over supply chains, tariffs and export controls in New Delhi."
)
NEAR = BASE.replace("on Tuesday", "on Wednesday")
OTHER = (
    "The European Union imposed a provisional duty of 17 percent on imports of steel wire "
    "from three countries, citing dumping found by its investigation last year."
)


def test_near_copy_grouped_with_exact_jaccard_and_unrelated_apart():
    docs = [Document(id="b", text=NEAR), Document(id="a", text=BASE), Document(id="c", text=OTHER)]
    groups, sims = near_duplicate_groups(docs)
    assert groups == {"a": "a", "b": "a", "c": "c"}
    assert sims[("a", "b")] == round(jaccard(shingles(BASE), shingles(NEAR)), 4)
    assert ("a", "c") not in sims and ("b", "c") not in sims
