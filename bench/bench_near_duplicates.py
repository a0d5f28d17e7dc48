"""Near duplicates: the precision / recall table the default radius is chosen from, and the search at scale.

1. Precision / recall of "perceptual hashes within radius r" (``near_duplicates``: 64-bit DCT pHash of
   the 64 x 64 grey thumbnail), on photos shipped inside installed packages, nothing downloaded:
   scikit-image's ``skimage.data`` (astronaut, camera, coffee, chelsea, rocket, coins, moon, page,
   text, immunohistochemistry, hubble_deep_field, retina, grass, gravel, brick, clock, cell and the
   left view of stereo_motorcycle; ``cat`` is chelsea again, so left out) and matplotlib's sample
   data (grace_hopper.jpg, Minduka_Present_Blue_Pack.png).
   Positives: each photo against its copies re-encoded as JPEG (q 60, 70, 80, 90), resized (x0.5, 0.7,
   1.4, 2), brightness-scaled (x0.9, 1.1), cropped by 5% (from each corner and centred), and all of
   these at once (seeded random q 60-90, scale 0.5-2, brightness 0.9-1.1, a 5% crop).
   Negatives: every copy of a photo against every other photo ("photos"), and, harder, the four
   non-overlapping quadrants of each photo of 400 px or more against each other ("tiles": same
   camera, light and texture, no shared pixel, so a copy detector must tell them apart).
   pHash bits are balanced (32 ones), so distances are even and an odd radius equals the even one below.
   The last columns estimate the search at 10^6 images: expected false pairs among spread-out hashes
   (C(32, k)^2 / C(64, 32) per pair at distance 2k) and the candidates the multi-index checks.
2. 10^6 random hashes with 1,000 planted near pairs (1..radius bits flipped): search time, memory
   (peak of numpy allocations traced by tracemalloc, and growth of the peak RSS), every pair found?

Usage: python bench/bench_near_duplicates.py [--n 1000000] [--pairs 1000] [--radius 4] [--skip-table]
"""
from __future__ import annotations

import argparse
import itertools
import math
import resource
import time
import tracemalloc

import cv2
import numpy as np

SKIMAGE = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "page", "text", "immunohistochemistry",
           "hubble_deep_field", "retina", "grass", "gravel", "brick", "clock", "cell")
MATPLOTLIB = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png")


def photos():
    import matplotlib.cbook as cbook
    import skimage.data

    out = []
    for name in SKIMAGE:
        im = getattr(skimage.data, name)()
        out.append((name, np.repeat(im[:, :, None], 3, axis=2) if im.ndim == 2 else im[:, :, :3]))
    out.append(("stereo_motorcycle", skimage.data.stereo_motorcycle()[0]))
    for name in MATPLOTLIB:
        with cbook.get_sample_data(name) as fh:
            out.append((name, cv2.imdecode(np.frombuffer(fh.read(), np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]))
    return out


def jpeg(im, q):
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(im[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(q)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


def resize(im, f):
    h, w = im.shape[:2]
    return cv2.resize(im, (max(1, round(w * f)), max(1, round(h * f))),
                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)


def brighten(im, f):
    return np.clip(im.astype(np.float32) * f, 0, 255).astype(np.uint8)


def crop(im, where):
    h, w = im.shape[:2]
    dy, dx = round(0.05 * h), round(0.05 * w)
    y0, x0 = {"tl": (0, 0), "tr": (0, dx), "bl": (dy, 0), "br": (dy, dx), "centre": (dy // 2, dx // 2)}[where]
    return im[y0:y0 + h - dy, x0:x0 + w - dx]


def copies(im, rng):
    """{family: [copies]} of one photo."""
    combined = []
    for _ in range(4):
        c = jpeg(im, rng.integers(60, 91))
        c = resize(c, float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))))
        c = brighten(c, rng.uniform(0.9, 1.1))
        combined.append(crop(c, ["tl", "tr", "bl", "br", "centre"][int(rng.integers(5))]))
    return {
        "jpeg 60-90": [jpeg(im, q) for q in (60, 70, 80, 90)],
        "resize 0.5-2x": [resize(im, f) for f in (0.5, 0.7, 1.4, 2.0)],
        "brightness 10%": [brighten(im, f) for f in (0.9, 1.1)],
        "crop 5%": [crop(im, w) for w in ("tl", "tr", "bl", "br", "centre")],
        "all at once": combined,
    }


def phash(images):
    from data_gradients.feature_extractors.common.perceptual_hash import phash_from_grey
    from data_gradients.feature_extractors.common.thumbnails import compute_thumbnails

    greys = [compute_thumbnails(np.ascontiguousarray(im.transpose(2, 0, 1))[None]).grey for im in images]
    return phash_from_grey(np.concatenate(greys))


def distances(a, b):
    from data_gradients.feature_extractors.common.perceptual_hash import hamming

    return hamming(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))


def table(max_radius: int = 16, n_scale: int = 10**6) -> None:
    rng = np.random.default_rng(0)
    shots = photos()
    base = phash([im for _, im in shots])
    positives, all_copies = {}, []  # family -> distances; (photo index, hash) of every copy
    for k, (_, im) in enumerate(shots):
        for family, ims in copies(im, rng).items():
            h = phash(ims)
            positives.setdefault(family, []).extend(distances(np.full(len(h), base[k]), h).tolist())
            all_copies += [(k, x) for x in h]
    neg_photos = [int(distances(x, base[j])) for k, x in all_copies for j in range(len(shots)) if j != k]
    neg_photos += [int(distances(base[a], base[b])) for a, b in itertools.combinations(range(len(shots)), 2)]
    tiles = []
    for _, im in shots:
        h, w = im.shape[:2]
        if min(h, w) >= 400:
            tiles += [im[:h // 2, :w // 2], im[:h // 2, w // 2:], im[h // 2:, :w // 2], im[h // 2:, w // 2:]]
    th = phash(tiles)
    neg_tiles = [int(distances(th[a], th[b])) for a, b in itertools.combinations(range(len(th)), 2)]
    pos_all = [d for fam in positives.values() for d in fam]
    print(f"photos: {len(shots)} ({', '.join(n for n, _ in shots)})")
    print(f"positive pairs: {len(pos_all)} ({', '.join(f'{f} {len(v)}' for f, v in positives.items())}); negative pairs: "
          f"photos {len(neg_photos)} (closest {min(neg_photos)} bits), tiles {len(neg_tiles)} (closest {min(neg_tiles)} bits)")
    fams = list(positives)
    head = f"{'r':>3s}" + "".join(f"{f:>15s}" for f in fams) + f"{'recall':>8s}{'FP photos':>10s}{'FP tiles':>9s}" \
           f"{'precision':>10s}{'false pairs @1M':>17s}{'candidates @1M':>16s}"
    print("\nrecall per family, false positives among negatives, and the estimate at 10^6 spread-out hashes")
    print(head)
    total = math.comb(64, 32)
    for r in range(0, max_radius + 1, 2):
        rec = [np.mean(np.asarray(positives[f]) <= r) for f in fams]
        tp = int(np.sum(np.asarray(pos_all) <= r))
        fp_p, fp_t = int(np.sum(np.asarray(neg_photos) <= r)), int(np.sum(np.asarray(neg_tiles) <= r))
        precision = tp / max(tp + fp_p + fp_t, 1)
        p_pair = sum(math.comb(32, k) ** 2 for k in range(r // 2 + 1)) / total
        false_pairs = n_scale * (n_scale - 1) / 2 * p_pair
        cand = (r + 1) * n_scale**2 / 2 / 2 ** (64 / (r + 1))
        print(f"{r:3d}" + "".join(f"{x:15.2f}" for x in rec) + f"{tp / len(pos_all):8.2f}{fp_p:10d}{fp_t:9d}{precision:10.3f}"
              f"{false_pairs:17.2g}{cand:16.2g}")


def scale(n: int, n_pairs: int, radius: int) -> None:
    from data_gradients.feature_extractors.common.hash_index import near_pairs

    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 2**64 - 1, n - n_pairs, dtype=np.uint64, endpoint=True)
    src = rng.choice(len(hashes), n_pairs, replace=False)
    flips = np.zeros(n_pairs, dtype=np.uint64)
    for k in range(n_pairs):
        for b in rng.choice(64, int(rng.integers(1, radius + 1)), replace=False):
            flips[k] |= np.uint64(1) << np.uint64(b)
    hashes = np.concatenate([hashes, hashes[src] ^ flips])
    planted = set(zip(src.tolist(), range(n - n_pairs, n)))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    t = time.perf_counter()
    pairs = near_pairs(hashes, radius)
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = set(zip(pairs.i.tolist(), pairs.j.tolist()))
    print(f"\n{n:,} hashes ({hashes.nbytes / 2**20:.0f} MB), {n_pairs} planted pairs 1-{radius} bits apart, radius {radius}: "
          f"{seconds:.1f} s, peak traced memory {peak:.0f} MB, peak RSS growth {rss1 - rss0:.0f} MB "
          f"(process peak {rss1:.0f} MB with torch imported); {len(found)} pairs found, planted found: "
          f"{len(planted & found)} of {n_pairs}" + ("" if planted <= found else "  <-- MISSING")
          + f"; hashes left out of the search: {pairs.skipped}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10**6)
    p.add_argument("--pairs", type=int, default=1000)
    p.add_argument("--radius", type=int, default=None, help="default: near_duplicates.RADIUS")
    p.add_argument("--skip-table", action="store_true")
    args = p.parse_args(argv)
    cv2.setNumThreads(1)
    from data_gradients.feature_extractors.common.near_duplicates import RADIUS

    if not args.skip_table:
        table()
    scale(args.n, args.pairs, RADIUS if args.radius is None else args.radius)


if __name__ == "__main__":
    main()
