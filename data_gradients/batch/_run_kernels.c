/* Loops over the horizontal runs of segmentation masks that numpy can only express as many passes
 * (see run_kernels.py, which checks every argument, and segmentation_view.py, which has the numpy
 * way of each). Plain CPython: arrays come in through the buffer protocol, C-contiguous, checked
 * by the caller for dtype and length. Every result is defined by the runs alone, so it is the same
 * as the numpy way's (tests/batch/test_run_kernels.py compares them).
 *
 * Types: run coordinates and classes are int32 (the caller falls back to numpy for batches of 2**31
 * pixels or more), indices into runs are int64 (numpy's intp on the 64-bit platforms we build for). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DG_CTZ64(x) __builtin_ctzll(x)
#define DG_HAVE_CTZ 1
#endif

/* The first column from ``x`` on where the uint8 ``row`` differs from ``v`` (``width`` if none): 16 or 8 bytes a step. */
static Py_ssize_t run_end(const uint8_t *row, Py_ssize_t x, Py_ssize_t width, uint8_t v)
{
#if defined(DG_HAVE_CTZ) && defined(__SSE2__)
    const __m128i wanted = _mm_set1_epi8((char)v);
    while (x + 16 <= width) {
        unsigned same = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(row + x)), wanted));
        if (same != 0xFFFFu)
            return x + __builtin_ctz(~same);
        x += 16;
    }
#endif
#if defined(DG_HAVE_CTZ) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t pattern = 0x0101010101010101ULL * v;
    while (x + 8 <= width) {
        uint64_t word;
        memcpy(&word, row + x, 8);
        word ^= pattern;
        if (word)
            return x + (DG_CTZ64(word) >> 3);  /* the lowest differing byte is the first in memory */
        x += 8;
    }
#endif
    while (x < width && row[x] == v)
        x++;
    return x;
}

/* The first column from ``x`` on where the int32 ``row`` differs from ``v`` (``width`` if none). */
static Py_ssize_t run_end_int32(const int32_t *row, Py_ssize_t x, Py_ssize_t width, int32_t v)
{
#if defined(DG_HAVE_CTZ) && defined(__SSE2__)
    const __m128i wanted = _mm_set1_epi32(v);
    while (x + 4 <= width) {
        unsigned same = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(row + x)), wanted));
        if (same != 0xFFFFu)
            return x + (__builtin_ctz(~same) >> 2);
        x += 4;
    }
#endif
    while (x < width && row[x] == v)
        x++;
    return x;
}

/* mask_runs(masks, itemsize, rows, width, height, table, row, x0, x1, label, value, c_row, c_x0, c_x1, c_cls,
 *           c_image) -> (runs, counted runs)
 *
 * Every run of the (rows, width) ``masks`` in raster order: row, first and last column, and its value; and
 * the counted runs (value >= 0) apart: row, first and last column, class (the value) and image
 * (row // height). ``masks`` are uint8 labels (itemsize 1: a run's value is table[label], the table int32
 * with 256 entries, and ``label`` gets its label) or int32 ids (itemsize 4: the value is the id; ``table``
 * and ``label`` are not read and may be empty). Outputs int32 but ``label`` (uint8). They hold room for as
 * many runs as ``row`` is long; when there are more, only the counts are returned: the caller calls again
 * with room for all of them. */
static PyObject *mask_runs(PyObject *self, PyObject *args)
{
    Py_buffer masks, table, row, x0, x1, label, value, c_row, c_x0, c_x1, c_cls, c_image;
    Py_ssize_t itemsize, rows, width, height;
    if (!PyArg_ParseTuple(args, "y*nnnny*w*w*w*w*w*w*w*w*w*w*", &masks, &itemsize, &rows, &width, &height, &table,
                          &row, &x0, &x1, &label, &value, &c_row, &c_x0, &c_x1, &c_cls, &c_image))
        return NULL;
    Py_ssize_t capacity = row.len / 4, n = 0, m = 0;
    Py_buffer *outputs[] = {&x0, &x1, &value, &c_row, &c_x0, &c_x1, &c_cls, &c_image};
    int u8 = itemsize == 1;
    int ok = (u8 || itemsize == 4) && height > 0 && rows >= 0 && width >= 0 &&
             masks.len >= rows * width * itemsize && (!u8 || (table.len >= 256 * 4 && label.len >= capacity));
    for (int i = 0; i < 8; i++)
        ok = ok && outputs[i]->len / 4 >= capacity;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "mask_runs: a buffer is too short, or itemsize is not 1 or 4");
    } else {
        const int32_t *tab = (const int32_t *)table.buf;
        int32_t *o_row = (int32_t *)row.buf, *o_x0 = (int32_t *)x0.buf, *o_x1 = (int32_t *)x1.buf;
        int32_t *o_value = (int32_t *)value.buf, *o_crow = (int32_t *)c_row.buf, *o_cx0 = (int32_t *)c_x0.buf;
        int32_t *o_cx1 = (int32_t *)c_x1.buf, *o_ccls = (int32_t *)c_cls.buf, *o_cimage = (int32_t *)c_image.buf;
        uint8_t *o_label = (uint8_t *)label.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < rows; r++) {
            const uint8_t *p8 = (const uint8_t *)masks.buf + r * width;
            const int32_t *p32 = (const int32_t *)masks.buf + r * width;
            int32_t image = (int32_t)(r / height);
            Py_ssize_t x = 0;
            while (x < width) {
                Py_ssize_t e;
                int32_t id;
                if (u8) {
                    e = run_end(p8, x + 1, width, p8[x]);
                    id = tab[p8[x]];
                } else {
                    id = p32[x];
                    e = run_end_int32(p32, x + 1, width, id);
                }
                if (n < capacity) {
                    o_row[n] = (int32_t)r;
                    o_x0[n] = (int32_t)x;
                    o_x1[n] = (int32_t)(e - 1);
                    o_value[n] = id;
                    if (u8)
                        o_label[n] = p8[x];
                    if (id >= 0) {
                        o_crow[m] = (int32_t)r;
                        o_cx0[m] = (int32_t)x;
                        o_cx1[m] = (int32_t)(e - 1);
                        o_ccls[m] = id;
                        o_cimage[m] = image;
                    }
                }
                n++;
                m += id >= 0;
                x = e;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&masks); PyBuffer_Release(&table); PyBuffer_Release(&row); PyBuffer_Release(&x0);
    PyBuffer_Release(&x1); PyBuffer_Release(&label); PyBuffer_Release(&value); PyBuffer_Release(&c_row);
    PyBuffer_Release(&c_x0); PyBuffer_Release(&c_x1); PyBuffer_Release(&c_cls); PyBuffer_Release(&c_image);
    return ok ? Py_BuildValue("nn", n, m) : NULL;
}

/* Marks in ``out`` the runs of a row with a column both in an interval of [a, a_end) and in one of [b, b_end):
 * two sorted lists of disjoint intervals lo..hi (empty where lo > hi), merged. Intervals that meet lie in one
 * run of the row (the runs of a row are disjoint): tag[a] for the first list. */
static void mark_meeting(const int32_t *lo, const int32_t *hi, const int64_t *tag, Py_ssize_t a, Py_ssize_t a_end,
                         Py_ssize_t b, Py_ssize_t b_end, uint8_t *out)
{
    while (a < a_end && b < b_end) {
        if (lo[a] > hi[a]) {
            a++;
        } else if (lo[b] > hi[b]) {
            b++;
        } else {
            if (lo[a] <= hi[b] && lo[b] <= hi[a])
                out[tag[a]] = 1;
            if (hi[a] < hi[b])
                a++;
            else
                b++;
        }
    }
}

/* run_pairs(row, x0, x1, cls, height, up4, low4, up_diag, low_diag, lo4, hi4, survives) -> (pairs4, pairs_diag)
 *
 * Pairs of runs (upper, lower) of one class in adjacent rows of one image (row // height equal):
 * 4-adjacent (sharing a column) and corner-only (8-adjacent only: the upper run ends one column before
 * the lower one starts, or the other way round). Runs are in raster order. One left-to-right merge per
 * pair of rows, so the pairs come by lower row, then by column. Each pair output holds 2 * runs; lo4 and
 * hi4 (int32, as long) are scratch.
 *
 * ``survives`` (uint8, one per run): 1 where some pixel of the run survives a 3x3 erosion of its class
 * (pixels outside the image are background): a column x where the run, a run of its class above and one
 * below all cover x-1..x+1. For a 4-adjacent pair those columns are [max(x0) + 1, min(x1) - 1] (lo4, hi4);
 * a row's intervals from the pairs above it and from the pairs below it are two sorted lists, intersected. */
static PyObject *run_pairs(PyObject *self, PyObject *args)
{
    Py_buffer b_row, b_x0, b_x1, b_cls, b_u4, b_l4, b_ud, b_ld, b_lo, b_hi, b_out;
    Py_ssize_t height;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nw*w*w*w*w*w*w*", &b_row, &b_x0, &b_x1, &b_cls, &height, &b_u4, &b_l4,
                          &b_ud, &b_ld, &b_lo, &b_hi, &b_out))
        return NULL;
    Py_ssize_t n = b_row.len / 4, n4 = 0, nd = 0;
    int ok = height > 0 && b_x0.len / 4 >= n && b_x1.len / 4 >= n && b_cls.len / 4 >= n && b_u4.len / 8 >= 2 * n &&
             b_l4.len / 8 >= 2 * n && b_ud.len / 8 >= 2 * n && b_ld.len / 8 >= 2 * n && b_lo.len / 4 >= 2 * n &&
             b_hi.len / 4 >= 2 * n && b_out.len >= n;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "run_pairs: a buffer is too short");
    } else {
        const int32_t *row = (const int32_t *)b_row.buf, *x0 = (const int32_t *)b_x0.buf;
        const int32_t *x1 = (const int32_t *)b_x1.buf, *cls = (const int32_t *)b_cls.buf;
        int64_t *u4 = (int64_t *)b_u4.buf, *l4 = (int64_t *)b_l4.buf, *ud = (int64_t *)b_ud.buf, *ld = (int64_t *)b_ld.buf;
        int32_t *lo = (int32_t *)b_lo.buf, *hi = (int32_t *)b_hi.buf;
        uint8_t *out = (uint8_t *)b_out.buf;
        Py_BEGIN_ALLOW_THREADS
        memset(out, 0, (size_t)n);
        Py_ssize_t up_begin = 0, up_end = 0;  /* the runs of the row above the current one */
        Py_ssize_t prev_begin = 0, prev_end = 0, prev_row = -2;  /* the 4-adjacent pairs whose lower row is prev_row */
        Py_ssize_t k = 0;
        while (k < n) {
            Py_ssize_t begin = k, r = row[k];
            while (k < n && row[k] == r)
                k++;
            Py_ssize_t end = k, block = n4;
            if (up_end > up_begin && row[up_begin] == r - 1 && r % height != 0) {
                Py_ssize_t i = up_begin, j = begin;
                while (i < up_end && j < end) {
                    if (cls[i] == cls[j]) {
                        if (x0[j] <= x1[i] && x0[i] <= x1[j]) {
                            u4[n4] = i;
                            l4[n4] = j;
                            lo[n4] = (x0[i] > x0[j] ? x0[i] : x0[j]) + 1;
                            hi[n4] = (x1[i] < x1[j] ? x1[i] : x1[j]) - 1;
                            n4++;
                        } else if (x1[i] + 1 == x0[j] || x1[j] + 1 == x0[i]) {
                            ud[nd] = i;
                            ld[nd] = j;
                            nd++;
                        }
                    }
                    if (x1[i] < x1[j]) {
                        i++;
                    } else if (x1[j] < x1[i]) {
                        j++;
                    } else {  /* both end at one column: the next runs may touch these at a corner */
                        if (j + 1 < end && x0[j + 1] == x1[i] + 1 && cls[j + 1] == cls[i]) {
                            ud[nd] = i;
                            ld[nd] = j + 1;
                            nd++;
                        }
                        if (i + 1 < up_end && x0[i + 1] == x1[j] + 1 && cls[i + 1] == cls[j]) {
                            ud[nd] = i + 1;
                            ld[nd] = j;
                            nd++;
                        }
                        i++;
                        j++;
                    }
                }
                if (prev_row == r - 1)  /* row r - 1: intervals from above (previous block), from below (this one) */
                    mark_meeting(lo, hi, l4, prev_begin, prev_end, block, n4, out);
            }
            prev_begin = block;
            prev_end = n4;
            prev_row = n4 > block ? r : -2;
            up_begin = begin;
            up_end = end;
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_row); PyBuffer_Release(&b_x0); PyBuffer_Release(&b_x1); PyBuffer_Release(&b_cls);
    PyBuffer_Release(&b_u4); PyBuffer_Release(&b_l4); PyBuffer_Release(&b_ud); PyBuffer_Release(&b_ld);
    PyBuffer_Release(&b_lo); PyBuffer_Release(&b_hi); PyBuffer_Release(&b_out);
    return ok ? Py_BuildValue("nn", n4, nd) : NULL;
}

static int64_t find_root(int64_t *parent, int64_t a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];  /* path halving */
        a = parent[a];
    }
    return a;
}

/* run_components(n_runs, up, low, up2, low2, parent, component, first) -> components
 *
 * Union-find over the pairs (up[i], low[i]) and (up2[i], low2[i]) (int64 arrays, each pair of one length),
 * the smaller root kept, so every tree is rooted at its smallest run; ``component[r]`` is then the number of
 * r's component, components numbered in the order of their first (smallest) run, and ``first[c]`` that run.
 * ``parent`` is scratch (n_runs int64). */
static PyObject *run_components(PyObject *self, PyObject *args)
{
    Py_buffer b_up, b_low, b_up2, b_low2, b_parent, b_comp, b_first;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "ny*y*y*y*w*w*w*", &n, &b_up, &b_low, &b_up2, &b_low2, &b_parent, &b_comp, &b_first))
        return NULL;
    Py_ssize_t pairs = b_up.len / 8, pairs2 = b_up2.len / 8, k = 0;
    int ok = n >= 0 && b_low.len / 8 == pairs && b_low2.len / 8 == pairs2 && b_parent.len / 8 >= n &&
             b_comp.len / 8 >= n && b_first.len / 8 >= n;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "run_components: a buffer has the wrong length");
    } else {
        const int64_t *lists[2][2] = {{(const int64_t *)b_up.buf, (const int64_t *)b_low.buf},
                                      {(const int64_t *)b_up2.buf, (const int64_t *)b_low2.buf}};
        const Py_ssize_t lengths[2] = {pairs, pairs2};
        int64_t *parent = (int64_t *)b_parent.buf, *comp = (int64_t *)b_comp.buf, *first = (int64_t *)b_first.buf;
        for (int l = 0; l < 2 && ok; l++)
            for (Py_ssize_t i = 0; i < lengths[l] && ok; i++)
                ok = lists[l][0][i] >= 0 && lists[l][0][i] < n && lists[l][1][i] >= 0 && lists[l][1][i] < n;
        if (!ok) {
            PyErr_SetString(PyExc_IndexError, "run_components: a pair names a run out of range");
        } else {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t i = 0; i < n; i++)
                parent[i] = i;
            for (int l = 0; l < 2; l++) {
                const int64_t *up = lists[l][0], *low = lists[l][1];
                for (Py_ssize_t i = 0; i < lengths[l]; i++) {
                    int64_t a = find_root(parent, up[i]), b = find_root(parent, low[i]);
                    if (a < b)
                        parent[b] = a;
                    else if (b < a)
                        parent[a] = b;
                }
            }
            for (Py_ssize_t i = 0; i < n; i++) {
                int64_t root = find_root(parent, i);  /* root <= i: already numbered unless root == i */
                if (root == i) {
                    first[k] = i;
                    comp[i] = k++;
                } else {
                    comp[i] = comp[root];
                }
            }
            Py_END_ALLOW_THREADS
        }
    }
    PyBuffer_Release(&b_up); PyBuffer_Release(&b_low); PyBuffer_Release(&b_up2); PyBuffer_Release(&b_low2);
    PyBuffer_Release(&b_parent); PyBuffer_Release(&b_comp); PyBuffer_Release(&b_first);
    return ok ? PyLong_FromSsize_t(k) : NULL;
}

/* component_boxes(component, row, x0, x1, area, left, right, bottom)
 *
 * Per component (outputs int64, as many as components, filled here): pixels, first and last column,
 * last row, summed over its runs (``component`` int64 per run, each below the outputs' length). */
static PyObject *component_boxes(PyObject *self, PyObject *args)
{
    Py_buffer b_comp, b_row, b_x0, b_x1, b_area, b_left, b_right, b_bottom;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*w*w*", &b_comp, &b_row, &b_x0, &b_x1, &b_area, &b_left, &b_right,
                          &b_bottom))
        return NULL;
    Py_ssize_t n = b_comp.len / 8, k = b_area.len / 8;
    int ok = b_row.len / 4 >= n && b_x0.len / 4 >= n && b_x1.len / 4 >= n && b_left.len / 8 == k &&
             b_right.len / 8 == k && b_bottom.len / 8 == k;
    const int64_t *comp = (const int64_t *)b_comp.buf;
    for (Py_ssize_t i = 0; i < n && ok; i++)
        ok = comp[i] >= 0 && comp[i] < k;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "component_boxes: a buffer has the wrong length or a component is out of range");
    } else {
        const int32_t *row = (const int32_t *)b_row.buf, *x0 = (const int32_t *)b_x0.buf, *x1 = (const int32_t *)b_x1.buf;
        int64_t *area = (int64_t *)b_area.buf, *left = (int64_t *)b_left.buf, *right = (int64_t *)b_right.buf;
        int64_t *bottom = (int64_t *)b_bottom.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t c = 0; c < k; c++) {
            area[c] = 0;
            left[c] = INT64_MAX;
            right[c] = -1;
            bottom[c] = -1;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t c = comp[i];
            area[c] += (int64_t)x1[i] - x0[i] + 1;
            if (x0[i] < left[c]) left[c] = x0[i];
            if (x1[i] > right[c]) right[c] = x1[i];
            if (row[i] > bottom[c]) bottom[c] = row[i];
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_comp); PyBuffer_Release(&b_row); PyBuffer_Release(&b_x0); PyBuffer_Release(&b_x1);
    PyBuffer_Release(&b_area); PyBuffer_Release(&b_left); PyBuffer_Release(&b_right); PyBuffer_Release(&b_bottom);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* perimeter_counts(component, x0, x1, up4, low4, up_diag, axis, diag)
 *
 * The contour of every component as whole numbers of steps (convexity.run_perimeters: the length is
 * axis + diag * sqrt(2), taken by the caller): a run's horizontal steps are walked twice, less once per column
 * pair covered from above or below; each 4-adjacent pair of runs [a, b] above [c, d] has two end windows, a
 * vertical step where a == c (b == d), else a diagonal one; a corner-only pair, two diagonal steps. Both
 * outputs int64, one per component, filled here. */
static PyObject *perimeter_counts(PyObject *self, PyObject *args)
{
    Py_buffer b_comp, b_x0, b_x1, b_u4, b_l4, b_ud, b_axis, b_diag;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*w*w*", &b_comp, &b_x0, &b_x1, &b_u4, &b_l4, &b_ud, &b_axis, &b_diag))
        return NULL;
    Py_ssize_t n = b_comp.len / 8, n4 = b_u4.len / 8, nd = b_ud.len / 8, k = b_axis.len / 8;
    const int64_t *comp = (const int64_t *)b_comp.buf, *u4 = (const int64_t *)b_u4.buf;
    const int64_t *l4 = (const int64_t *)b_l4.buf, *ud = (const int64_t *)b_ud.buf;
    int ok = b_x0.len / 4 >= n && b_x1.len / 4 >= n && b_l4.len / 8 == n4 && b_diag.len / 8 == k;
    for (Py_ssize_t i = 0; i < n && ok; i++)
        ok = comp[i] >= 0 && comp[i] < k;
    for (Py_ssize_t i = 0; i < n4 && ok; i++)
        ok = u4[i] >= 0 && u4[i] < n && l4[i] >= 0 && l4[i] < n;
    for (Py_ssize_t i = 0; i < nd && ok; i++)
        ok = ud[i] >= 0 && ud[i] < n;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "perimeter_counts: wrong lengths, or a run or component out of range");
    } else {
        const int32_t *x0 = (const int32_t *)b_x0.buf, *x1 = (const int32_t *)b_x1.buf;
        int64_t *axis = (int64_t *)b_axis.buf, *diag = (int64_t *)b_diag.buf;
        Py_BEGIN_ALLOW_THREADS
        memset(axis, 0, (size_t)k * 8);
        memset(diag, 0, (size_t)k * 8);
        for (Py_ssize_t i = 0; i < n; i++)
            axis[comp[i]] += 2 * ((int64_t)x1[i] - x0[i]);
        for (Py_ssize_t i = 0; i < n4; i++) {
            int64_t a = x0[u4[i]], b = x1[u4[i]], c = x0[l4[i]], d = x1[l4[i]];
            int64_t lo1 = c > a - 1 ? c : a - 1, hi1 = d - 1 < b ? d - 1 : b;
            int64_t lo2 = a > c - 1 ? a : c - 1, hi2 = b - 1 < d ? b - 1 : d;
            int64_t covered = (hi1 >= lo1 ? hi1 - lo1 + 1 : 0) + (hi2 >= lo2 ? hi2 - lo2 + 1 : 0);
            int64_t ends = (a != c) + (b != d);
            int64_t owner = comp[u4[i]];
            axis[owner] += 2 - ends - covered;
            diag[owner] += ends;
        }
        for (Py_ssize_t i = 0; i < nd; i++)
            diag[comp[ud[i]]] += 2;
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_comp); PyBuffer_Release(&b_x0); PyBuffer_Release(&b_x1); PyBuffer_Release(&b_u4);
    PyBuffer_Release(&b_l4); PyBuffer_Release(&b_ud); PyBuffer_Release(&b_axis); PyBuffer_Release(&b_diag);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* The length of the convex part (bulging to larger x) of the chain of points (x[y], y), y = 0..m-1: its
 * vertices are the points left after dropping, as long as any is, a point not strictly beyond the segment
 * joining its neighbours (one pass of a monotone chain gives the same vertices); the steps between
 * consecutive vertices summed in order, each hypot(dx, dy). ``sx``, ``sy``: room for m points. */
static double convex_chain_length(const int64_t *x, Py_ssize_t m, int64_t *sx, int64_t *sy)
{
    Py_ssize_t top = 0;
    for (Py_ssize_t y = 0; y < m; y++) {
        while (top >= 2 && (sx[top - 1] - sx[top - 2]) * (y - sy[top - 2]) <=
                               (x[y] - sx[top - 2]) * (sy[top - 1] - sy[top - 2]))
            top--;
        sx[top] = x[y];
        sy[top] = y;
        top++;
    }
    double length = 0.0;
    for (Py_ssize_t i = 1; i < top; i++)
        length += hypot((double)(sx[i] - sx[i - 1]), (double)(sy[i] - sy[i - 1]));
    return length;
}

/* hull_parts(component, row, x0, x1, top, height, left, right, sx, sy, ends, right_chain, left_chain)
 *
 * For convexity.run_hull_lengths: per component (top row and rows given, every row between held by
 * some run of it), the widths of its first and last rows summed (``ends``, int64) and the lengths of the
 * convex parts of its right chain (last column of each row) and of its left chain (first column, mirrored),
 * float64. ``left``, ``right``, ``sx``, ``sy``: int64 scratch, as many as rows of all components. */
static PyObject *hull_parts(PyObject *self, PyObject *args)
{
    Py_buffer b_comp, b_row, b_x0, b_x1, b_top, b_height, b_left, b_right, b_sx, b_sy, b_ends, b_rc, b_lc;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*w*w*w*w*w*w*w*", &b_comp, &b_row, &b_x0, &b_x1, &b_top, &b_height,
                          &b_left, &b_right, &b_sx, &b_sy, &b_ends, &b_rc, &b_lc))
        return NULL;
    Py_ssize_t n = b_comp.len / 8, k = b_top.len / 8, total = 0;
    const int64_t *comp = (const int64_t *)b_comp.buf, *top = (const int64_t *)b_top.buf;
    const int64_t *height = (const int64_t *)b_height.buf;
    const int32_t *row = (const int32_t *)b_row.buf;
    int ok = b_row.len / 4 >= n && b_x0.len / 4 >= n && b_x1.len / 4 >= n && b_height.len / 8 == k &&
             b_ends.len / 8 == k && b_rc.len / 8 == k && b_lc.len / 8 == k;
    for (Py_ssize_t c = 0; c < k && ok; c++) {
        ok = height[c] >= 1;
        total += height[c];
    }
    ok = ok && b_left.len / 8 >= total && b_right.len / 8 >= total && b_sx.len / 8 >= total && b_sy.len / 8 >= total;
    for (Py_ssize_t i = 0; i < n && ok; i++)
        ok = comp[i] >= 0 && comp[i] < k && row[i] >= top[comp[i]] && row[i] < top[comp[i]] + height[comp[i]];
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "hull_parts: wrong lengths, or a run outside its component's rows");
    } else {
        const int32_t *x0 = (const int32_t *)b_x0.buf, *x1 = (const int32_t *)b_x1.buf;
        int64_t *left = (int64_t *)b_left.buf, *right = (int64_t *)b_right.buf;
        int64_t *sx = (int64_t *)b_sx.buf, *sy = (int64_t *)b_sy.buf, *ends = (int64_t *)b_ends.buf;
        double *rc = (double *)b_rc.buf, *lc = (double *)b_lc.buf;
        Py_BEGIN_ALLOW_THREADS
        int64_t *offset = sx;  /* the first slot of each component's rows, then scratch for the chains */
        Py_ssize_t at = 0;
        for (Py_ssize_t c = 0; c < k; c++) {
            offset[c] = at;
            at += height[c];
        }
        for (Py_ssize_t s = 0; s < total; s++) {
            left[s] = INT64_MAX;
            right[s] = INT64_MIN;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t s = offset[comp[i]] + row[i] - top[comp[i]];
            if (x0[i] < left[s]) left[s] = x0[i];
            if (x1[i] > right[s]) right[s] = x1[i];
        }
        /* the offsets are done with: sx, sy now hold the chains' points */
        at = 0;
        for (Py_ssize_t c = 0; c < k; c++) {
            Py_ssize_t m = (Py_ssize_t)height[c];
            int64_t *l = left + at, *r = right + at;
            ends[c] = (r[0] - l[0]) + (r[m - 1] - l[m - 1]);
            for (Py_ssize_t y = 0; y < m; y++)
                l[y] = -l[y];  /* mirrored: the left chain bulges to larger x too */
            rc[c] = convex_chain_length(r, m, sx, sy);
            lc[c] = convex_chain_length(l, m, sx, sy);
            at += m;
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_comp); PyBuffer_Release(&b_row); PyBuffer_Release(&b_x0); PyBuffer_Release(&b_x1);
    PyBuffer_Release(&b_top); PyBuffer_Release(&b_height); PyBuffer_Release(&b_left); PyBuffer_Release(&b_right);
    PyBuffer_Release(&b_sx); PyBuffer_Release(&b_sy); PyBuffer_Release(&b_ends); PyBuffer_Release(&b_rc);
    PyBuffer_Release(&b_lc);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* cell_counts(row, x0, x1, cls, height, width, grid, counts)
 *
 * Pixels of each class in each cell of a grid x grid grid, summed over the runs (counted runs of images of
 * height x width; ``cls`` below the classes of ``counts``): row y of an image is in grid row y * grid // height,
 * column x in grid column x * grid // width, so grid column c holds the columns ceil(c * width / grid) to
 * ceil((c + 1) * width / grid) - 1. ``counts`` (int64, classes x grid x grid) is zeroed here. */
static PyObject *cell_counts(PyObject *self, PyObject *args)
{
    Py_buffer b_row, b_x0, b_x1, b_cls, b_counts;
    Py_ssize_t height, width, grid;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nnnw*", &b_row, &b_x0, &b_x1, &b_cls, &height, &width, &grid, &b_counts))
        return NULL;
    Py_ssize_t n = b_row.len / 4, cells = grid * grid, classes = grid > 0 ? b_counts.len / 8 / (grid * grid) : 0;
    const int32_t *row = (const int32_t *)b_row.buf, *x0 = (const int32_t *)b_x0.buf;
    const int32_t *x1 = (const int32_t *)b_x1.buf, *cls = (const int32_t *)b_cls.buf;
    int ok = height > 0 && width > 0 && grid > 0 && b_x0.len / 4 >= n && b_x1.len / 4 >= n && b_cls.len / 4 >= n;
    for (Py_ssize_t i = 0; i < n && ok; i++)
        ok = cls[i] >= 0 && cls[i] < classes && row[i] >= 0 && x0[i] >= 0 && x0[i] <= x1[i] && x1[i] < width;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "cell_counts: bad sizes, or a run outside the image or the classes");
    } else {
        int64_t *counts = (int64_t *)b_counts.buf;
        Py_BEGIN_ALLOW_THREADS
        memset(counts, 0, (size_t)(classes * cells) * 8);
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t gy = (int64_t)(row[i] % height) * grid / height;
            int64_t *line = counts + cls[i] * cells + gy * grid;
            int64_t a = x0[i], b = x1[i];
            int64_t c = a * grid / width, last = b * grid / width;
            for (; c <= last; c++) {
                int64_t start = (c * width + grid - 1) / grid, end = ((c + 1) * width + grid - 1) / grid - 1;
                if (start < a) start = a;
                if (end > b) end = b;
                line[c] += end - start + 1;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_row); PyBuffer_Release(&b_x0); PyBuffer_Release(&b_x1); PyBuffer_Release(&b_cls);
    PyBuffer_Release(&b_counts);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"mask_runs", mask_runs, METH_VARARGS, "Runs of uint8 labels looked up, or of int32 ids (see run_kernels.mask_runs)."},
    {"run_pairs", run_pairs, METH_VARARGS, "Same-class pairs of runs in adjacent rows, and erosion survival (see run_kernels.run_pairs)."},
    {"run_components", run_components, METH_VARARGS, "Union-find over run pairs (see run_kernels.run_components)."},
    {"component_boxes", component_boxes, METH_VARARGS, "Area and bounding box per component."},
    {"perimeter_counts", perimeter_counts, METH_VARARGS, "Axis and diagonal contour steps per component."},
    {"hull_parts", hull_parts, METH_VARARGS, "End widths and convex chain lengths per component."},
    {"cell_counts", cell_counts, METH_VARARGS, "Pixels per class and grid cell, from the runs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_run_kernels", "Compiled loops over mask runs.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__run_kernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", 3) < 0) {  /* run_kernels.VERSION: the signatures */
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
