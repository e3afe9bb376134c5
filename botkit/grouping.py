"""Group texts by meaning: average-linkage clustering on cosine similarity (the workbench's gaps, `botkit review`)."""

from __future__ import annotations

import numpy as np


def average_linkage(similarity: np.ndarray, min_similarity: float) -> list[list[int]]:
    """Indices per group: two groups merge while the mean similarity between their members is at least
    `min_similarity`. Lance-Williams updates keep each merge O(n)."""
    n = len(similarity)
    linkage = similarity.astype(np.float64).copy()
    np.fill_diagonal(linkage, -np.inf)
    members = {i: [i] for i in range(n)}
    while len(members) > 1:
        alive = np.array(sorted(members))
        sub = linkage[np.ix_(alive, alive)]
        a, b = np.unravel_index(int(np.argmax(sub)), sub.shape)
        if sub[a, b] < min_similarity:
            break
        keep, drop = int(alive[a]), int(alive[b])
        size_keep, size_drop = len(members[keep]), len(members[drop])
        merged = (size_keep * linkage[keep] + size_drop * linkage[drop]) / (size_keep + size_drop)
        linkage[keep, :] = merged
        linkage[:, keep] = merged
        linkage[keep, keep] = -np.inf
        linkage[drop, :] = -np.inf
        linkage[:, drop] = -np.inf
        members[keep] += members.pop(drop)
    return [sorted(g) for g in members.values()]
