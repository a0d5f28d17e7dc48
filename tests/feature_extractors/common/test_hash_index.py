"""The multi-index search finds exactly the pairs an all-pairs scan finds; components are those of a plain union-find."""
import numpy as np
import pytest

from data_gradients.feature_extractors.common.hash_index import blocks, components, near_pairs
from data_gradients.feature_extractors.common.perceptual_hash import hamming, popcount


def all_pairs(hashes, radius):
    """The slow oracle: every pair, its distance by Python's int.bit_count-free popcount."""
    out = []
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            d = bin(int(hashes[i]) ^ int(hashes[j])).count("1")
            if d <= radius:
                out.append((i, j, d))
    return out


def planted(seed, n=150, near=60):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    flips = np.zeros(near, dtype=np.uint64)
    for k in range(near):  # 1-8 random bits flipped
        for b in rng.choice(64, int(rng.integers(1, 9)), replace=False):
            flips[k] |= np.uint64(1) << np.uint64(b)
    src = rng.integers(0, n, near)
    return np.concatenate([base, base[src] ^ flips, base[:5]])  # near copies and exact copies


@pytest.mark.parametrize("radius", [0, 1, 2, 4, 6, 9])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_pairs_as_all_pairs(radius, seed):
    h = planted(seed)
    p = near_pairs(h, radius)
    assert list(zip(p.i.tolist(), p.j.tolist(), p.distance.tolist())) == all_pairs(h, radius)
    assert p.skipped == 0


def test_structured_hashes_few_bits_and_one_block():
    # hashes that differ only inside one block, or only in the top bits: the block boundaries must not matter
    h = np.array([0, 1, 3, 7, 1 << 63, (1 << 63) | 1, 0xFFFF, 0xFFFF0000, 2**64 - 1, 2**64 - 2], dtype=np.uint64)
    for radius in range(0, 18):
        p = near_pairs(h, radius)
        assert list(zip(p.i.tolist(), p.j.tolist(), p.distance.tolist())) == all_pairs(h, radius)


def test_blocks_cover_64_bits_once():
    for radius in range(0, 20):
        spec = blocks(radius)
        assert len(spec) == radius + 1
        covered = 0
        for shift, mask in spec:
            assert covered & (mask << shift) == 0
            covered |= mask << shift
        assert covered == 2**64 - 1


def test_popcount_and_hamming():
    x = np.array([0, 1, 2**64 - 1, 0x5555], dtype=np.uint64)
    assert popcount(x).tolist() == [0, 1, 64, 8]
    assert hamming(x, np.zeros(4, np.uint64)).tolist() == [0, 1, 64, 8]


def test_components_equal_a_union_find():
    rng = np.random.default_rng(3)
    n = 200
    i, j = rng.integers(0, n, 150), rng.integers(0, n, 150)
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for a, b in zip(i.tolist(), j.tolist()):
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    expected = [find(a) for a in range(n)]
    assert components(n, i, j).tolist() == expected


def test_a_degenerate_set_stays_bounded_and_says_so(monkeypatch):
    import data_gradients.feature_extractors.common.hash_index as hi

    rng = np.random.default_rng(5)
    crowd = (rng.integers(0, 2**16, 400, dtype=np.uint64) << np.uint64(48)) | np.uint64(0xABCD)  # one shared low block
    spread = rng.integers(0, 2**64 - 1, 200, dtype=np.uint64, endpoint=True)
    h = np.concatenate([crowd, spread, spread[:10] ^ np.uint64(1)])
    full = near_pairs(h, 2)
    monkeypatch.setattr(hi, "MAX_CANDIDATES", 3 * 5_000)  # 5,000 per block: the crowd's 79,800 pairs are left out
    bounded = near_pairs(h, 2)
    assert full.skipped == 0 and bounded.skipped >= 400
    found = set(zip(bounded.i.tolist(), bounded.j.tolist()))
    assert found <= set(zip(full.i.tolist(), full.j.tolist()))  # what is found is right
    assert all((400 + k, 600 + k) in found for k in range(10))  # the spread-out pairs are still found


def test_stops_at_max_pairs(monkeypatch):
    import data_gradients.feature_extractors.common.hash_index as hi

    h = planted(0)
    full = near_pairs(h, 6)
    monkeypatch.setattr(hi, "MAX_PAIRS", 10)
    cut = near_pairs(h, 6)
    assert not full.truncated and len(full.i) > 10
    assert cut.truncated and 10 <= len(cut.i) < len(full.i)
    assert set(zip(cut.i.tolist(), cut.j.tolist())) <= set(zip(full.i.tolist(), full.j.tolist()))
