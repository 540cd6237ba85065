"""Fitted tree ensembles as plain arrays, and scoring from those arrays (no pickles, no threads).

A fitted scikit-learn random forest is exported from its trees' public `tree_`
attributes (children, split feature, threshold, leaf value) into flat numpy arrays that can be
stored as an `.npz` next to JSON metadata and read back with `allow_pickle=False`. Scoring walks
every tree level by level, vectorised over rows, and adds the trees up in their fixed order, so a
prediction is the same number in every process: scikit-learn's threaded `predict_proba` adds the
trees' outputs in whatever order the threads finish, which changed the last bit of
`p_purchase_90d` between two runs.

One ensemble = trees concatenated: `offsets[i]` is the first node of tree i; `left`/`right` are
absolute node indices (-1 at a leaf), `feature`/`threshold` the split, `value` the leaf output.
Thresholds are compared against the features cast to float32, as scikit-learn's trees do.
"""

from __future__ import annotations

import numpy as np


def _tree_arrays(tree, leaf_value: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "left": tree.children_left.astype(np.int32),
        "right": tree.children_right.astype(np.int32),
        "feature": tree.feature.astype(np.int32),
        "threshold": tree.threshold.astype(np.float64),
        "value": leaf_value.astype(np.float64),
    }


def _concat(trees: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    sizes = np.array([len(t["left"]) for t in trees], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    out: dict[str, np.ndarray] = {"offsets": offsets}
    for name in ("left", "right"):
        out[name] = np.concatenate(
            [
                np.where(t[name] >= 0, t[name] + off, -1)
                for t, off in zip(trees, offsets, strict=True)
            ]
        ).astype(np.int32)
    for name in ("feature", "threshold", "value"):
        out[name] = np.concatenate([t[name] for t in trees])
    return out


def export_forest(forest) -> dict[str, np.ndarray]:
    """A fitted RandomForestClassifier (binary: value = P(class 1) per leaf) or Regressor."""
    trees = []
    for est in forest.estimators_:
        values = est.tree_.value[:, 0, :]
        # A classifier's leaf holds class shares (or counts): keep P(class 1).
        leaf = values[:, 1] / values.sum(axis=1) if values.shape[1] > 1 else values[:, 0]
        trees.append(_tree_arrays(est.tree_, leaf))
    return _concat(trees)


def _tree_sum(arrays: dict[str, np.ndarray], x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Sum over trees (in stored order) of each row's leaf value.

    Every tree is walked at once for a block of rows (a rows x trees matrix of node indices,
    advanced one level per step), so the Python loop runs once per tree level, not per tree.
    Leaves point to themselves, so a row that reached its leaf just stays there.
    """
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    n_features = x32.shape[1]
    leaf = arrays["left"] < 0
    nodes = np.arange(len(leaf))
    left = np.where(leaf, nodes, arrays["left"]).astype(np.int64)
    right = np.where(leaf, nodes, arrays["right"]).astype(np.int64)
    feature = np.where(leaf, 0, arrays["feature"]).astype(np.int64)
    threshold = np.where(leaf, np.inf, arrays["threshold"])
    value = arrays["value"]
    offsets = arrays["offsets"].astype(np.int64)
    depth = _max_depth(left, right, offsets)
    total = np.empty(len(x32), dtype=np.float64)
    for lo in range(0, len(x32), chunk):
        block = x32[lo : lo + chunk]
        flat = block.ravel()
        base = (np.arange(len(block), dtype=np.int64) * n_features)[:, None]
        node = np.broadcast_to(offsets, (len(block), len(offsets))).copy()
        for _ in range(depth):
            go_left = flat[base + feature[node]] <= threshold[node]
            node = np.where(go_left, left[node], right[node])
        # Trees are added left to right in a fixed order: the same float sum in every process.
        leaves = value[node]
        acc = np.zeros(len(block), dtype=np.float64)
        for j in range(leaves.shape[1]):
            acc += leaves[:, j]
        total[lo : lo + chunk] = acc
    return total


def _max_depth(left: np.ndarray, right: np.ndarray, offsets: np.ndarray) -> int:
    """Levels below the roots (children of a node have higher indices in scikit-learn trees)."""
    depth = np.zeros(len(left), dtype=np.int64)
    frontier = offsets
    level = 0
    while True:
        children = np.concatenate([left[frontier], right[frontier]])
        children = children[children != np.concatenate([frontier, frontier])]
        if len(children) == 0:
            return level
        level += 1
        depth[children] = level
        frontier = children


def forest_predict(arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Mean leaf value over the forest's trees (P(class 1) for a classifier)."""
    if len(x) == 0:
        return np.zeros(0)
    return _tree_sum(arrays, x) / len(arrays["offsets"])
