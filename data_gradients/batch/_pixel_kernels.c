/* Loops over the pixels of uint8 images that OpenCV and numpy spread over several passes or calls
 * (see pixel_kernels.py, which checks every argument and has the numpy or OpenCV way of each, and
 * the tests in tests/batch/test_pixel_kernels.py, which compare both). Plain CPython: arrays come in
 * through the buffer protocol, C-contiguous; the caller checks dtypes and shapes, these functions
 * check that every buffer is large enough for what they read and write.
 *
 * Every result is made of integers, or of the same float32 operations in the same order as the
 * numpy way (image_scores), so it is the same bytes. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* One output row of a 2 x 2 area mean, (a + b + c + d + 2) >> 2 (OpenCV's INTER_AREA at a scale of two). */
static void halve_row(const uint8_t *r0, const uint8_t *r1, uint8_t *d, Py_ssize_t out_cols)
{
    Py_ssize_t x = 0;
#if defined(__SSE2__)
    const __m128i low = _mm_set1_epi16(0x00FF), two = _mm_set1_epi16(2);
    for (; x + 16 <= out_cols; x += 16) {
        __m128i a0 = _mm_loadu_si128((const __m128i *)(r0 + 2 * x)), a1 = _mm_loadu_si128((const __m128i *)(r0 + 2 * x + 16));
        __m128i b0 = _mm_loadu_si128((const __m128i *)(r1 + 2 * x)), b1 = _mm_loadu_si128((const __m128i *)(r1 + 2 * x + 16));
        __m128i s0 = _mm_add_epi16(_mm_add_epi16(_mm_and_si128(a0, low), _mm_srli_epi16(a0, 8)),
                                   _mm_add_epi16(_mm_and_si128(b0, low), _mm_srli_epi16(b0, 8)));
        __m128i s1 = _mm_add_epi16(_mm_add_epi16(_mm_and_si128(a1, low), _mm_srli_epi16(a1, 8)),
                                   _mm_add_epi16(_mm_and_si128(b1, low), _mm_srli_epi16(b1, 8)));
        s0 = _mm_srli_epi16(_mm_add_epi16(s0, two), 2);
        s1 = _mm_srli_epi16(_mm_add_epi16(s1, two), 2);
        _mm_storeu_si128((__m128i *)(d + x), _mm_packus_epi16(s0, s1));
    }
#endif
    for (; x < out_cols; x++)
        d[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2) >> 2);
}

/* halve(src, planes, rows, cols, plane_stride, row_stride, times, dst): ``times`` successive 2 x 2 area means
 * of ``planes`` planes of ``rows`` x ``cols`` bytes, plane k's row i at ``src + k * plane_stride + i * row_stride``;
 * each step leaves out an odd last row or column and rounds as OpenCV does, so the result is that of ``times``
 * calls of ``cv2.resize(..., INTER_AREA)`` at a scale of two. Written to ``dst`` as (planes, R, C) uint8, R and C
 * the sizes after the last step. The steps in between live in a few rows of scratch: each output row is made
 * from the 2**times input rows under it, so nothing larger than a row of every step is written. */
static PyObject *halve(PyObject *self, PyObject *args)
{
    Py_buffer b_src, b_dst;
    Py_ssize_t planes, rows, cols, plane_stride, row_stride, times;
    if (!PyArg_ParseTuple(args, "y*nnnnnnw*", &b_src, &planes, &rows, &cols, &plane_stride, &row_stride, &times, &b_dst))
        return NULL;
    Py_ssize_t r_at[32], c_at[32];  /* rows and columns after each step */
    int ok = planes >= 0 && rows >= 0 && cols >= 0 && plane_stride >= 0 && row_stride >= cols && times >= 1 && times < 31;
    if (ok) {
        r_at[0] = rows, c_at[0] = cols;
        for (Py_ssize_t l = 1; l <= times; l++)
            r_at[l] = r_at[l - 1] / 2, c_at[l] = c_at[l - 1] / 2;
        ok = b_dst.len >= planes * r_at[times] * c_at[times];
    }
    Py_ssize_t out_rows = ok ? r_at[times] : 0, out_cols = ok ? c_at[times] : 0, tall = (Py_ssize_t)1 << (ok ? times : 0);
    if (ok && planes > 0 && out_rows > 0 && out_cols > 0)  /* the last byte read lies inside src */
        ok = (planes - 1) * plane_stride + (tall * out_rows - 1) * row_stride + tall * out_cols <= b_src.len;
    uint8_t *scratch = NULL;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "halve: bad sizes or strides, or buffers too small");
    } else if (times > 1 && out_rows > 0 && out_cols > 0 && !(scratch = PyMem_Malloc((size_t)(tall * c_at[1])))) {
        ok = 0;  /* steps 1..times-1: at most 2**(times - l) rows of c_at[l] bytes each, c_at[l] halving: < 2**times x c_at[1] */
        PyErr_NoMemory();
    } else if (out_rows > 0 && out_cols > 0) {
        const uint8_t *src = (const uint8_t *)b_src.buf;
        uint8_t *dst = (uint8_t *)b_dst.buf, *level[32];
        if (times > 1) {
            level[1] = scratch;
            for (Py_ssize_t l = 2; l < times; l++)
                level[l] = level[l - 1] + ((Py_ssize_t)1 << (times - l + 1)) * c_at[l - 1];
        }
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < planes; k++)
            for (Py_ssize_t i = 0; i < out_rows; i++) {
                const uint8_t *first = src + k * plane_stride + i * tall * row_stride;
                uint8_t *out = dst + (k * out_rows + i) * out_cols;
                if (times == 1) {
                    halve_row(first, first + row_stride, out, out_cols);
                    continue;
                }
                for (Py_ssize_t j = 0; j < tall / 2; j++)  /* step 1, from the input rows */
                    halve_row(first + 2 * j * row_stride, first + (2 * j + 1) * row_stride, level[1] + j * c_at[1], c_at[1]);
                for (Py_ssize_t l = 2; l <= times; l++) {
                    Py_ssize_t n = (Py_ssize_t)1 << (times - l), w_in = c_at[l - 1];
                    for (Py_ssize_t j = 0; j < n; j++)
                        halve_row(level[l - 1] + 2 * j * w_in, level[l - 1] + (2 * j + 1) * w_in,
                                  l == times ? out : level[l] + j * c_at[l], c_at[l]);
                }
            }
        Py_END_ALLOW_THREADS
    }
    PyMem_Free(scratch);
    PyBuffer_Release(&b_src); PyBuffer_Release(&b_dst);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define DG_VNNI 1
/* The int8 row x key products with AVX-512 VNNI. ``vpdpbusd`` multiplies unsigned by signed bytes: the keys
 * are the unsigned side, each flipped to u = key + 128 (``packed`` holds, for each 4 bytes of a row, the 16
 * columns' 4 flipped keys: 64 bytes, one register), and the image bytes s (int8) the signed side, broadcast 4 at a
 * time straight from memory. sum(s * key) = sum(s * u) - 128 * sum(s), exact in int32 (|sum(s * u)| <= 4096 * 128
 * * 255 < 2**27); sum(s) is read with ``vpsadbw`` on the bytes flipped the same way (sum(s) = sum(b ^ 0x80) - 128 k). */
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static int32_t row_sum_vnni(const uint8_t *row, Py_ssize_t k)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    __m512i bytes = zero;  /* 8 sums of 8 flipped bytes each */
    for (Py_ssize_t j = 0; j < k; j += 64)
        bytes = _mm512_add_epi64(bytes, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512((const void *)(row + j)), flip), zero));
    return (int32_t)(_mm512_reduce_add_epi64(bytes) - 128 * (int64_t)k);
}

#define DG_BCAST(p) _mm512_set1_epi32(load32(p))
/* acc += u8 keys . s8 image bytes, written as the instruction itself: GCC 12 copies the accumulators of the
 * intrinsic between registers at every step (16 moves for 8 products), which made the loop three times slower */
#define DG_DP(acc, keys, bytes) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(keys), "v"(bytes))
static inline int32_t load32(const uint8_t *p)
{
    int32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Four rows at a time: each key register loaded (64 KB of keys for 4096-byte rows: from L2, not L1) serves four
 * rows; two accumulators a row keep eight ``vpdpbusd`` chains in flight. */
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void products_vnni(const uint8_t *rows, Py_ssize_t m, Py_ssize_t k, const uint8_t *packed, int32_t *out)
{
    Py_ssize_t r = 0;
    for (; r + 4 <= m; r += 4) {
        const uint8_t *p0 = rows + r * k, *p1 = p0 + k, *p2 = p1 + k, *p3 = p2 + k;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (Py_ssize_t j = 0; j < k; j += 8) {
            const __m512i k0 = _mm512_loadu_si512((const void *)(packed + j * 16));
            const __m512i k1 = _mm512_loadu_si512((const void *)(packed + j * 16 + 64));
            DG_DP(a0, k0, DG_BCAST(p0 + j)); DG_DP(a1, k1, DG_BCAST(p0 + j + 4));
            DG_DP(b0, k0, DG_BCAST(p1 + j)); DG_DP(b1, k1, DG_BCAST(p1 + j + 4));
            DG_DP(c0, k0, DG_BCAST(p2 + j)); DG_DP(c1, k1, DG_BCAST(p2 + j + 4));
            DG_DP(d0, k0, DG_BCAST(p3 + j)); DG_DP(d1, k1, DG_BCAST(p3 + j + 4));
        }
        _mm512_storeu_si512((void *)(out + r * 16), _mm512_sub_epi32(_mm512_add_epi32(a0, a1), _mm512_set1_epi32(128 * row_sum_vnni(p0, k))));
        _mm512_storeu_si512((void *)(out + r * 16 + 16), _mm512_sub_epi32(_mm512_add_epi32(b0, b1), _mm512_set1_epi32(128 * row_sum_vnni(p1, k))));
        _mm512_storeu_si512((void *)(out + r * 16 + 32), _mm512_sub_epi32(_mm512_add_epi32(c0, c1), _mm512_set1_epi32(128 * row_sum_vnni(p2, k))));
        _mm512_storeu_si512((void *)(out + r * 16 + 48), _mm512_sub_epi32(_mm512_add_epi32(d0, d1), _mm512_set1_epi32(128 * row_sum_vnni(p3, k))));
    }
    for (; r < m; r++) {
        const uint8_t *p0 = rows + r * k;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0;
        for (Py_ssize_t j = 0; j < k; j += 8) {
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512((const void *)(packed + j * 16)), DG_BCAST(p0 + j));
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512((const void *)(packed + j * 16 + 64)), DG_BCAST(p0 + j + 4));
        }
        _mm512_storeu_si512((void *)(out + r * 16), _mm512_sub_epi32(_mm512_add_epi32(a0, a1), _mm512_set1_epi32(128 * row_sum_vnni(p0, k))));
    }
}

static int have_vnni(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
}
#else
static int have_vnni(void) { return 0; }
#endif

/* key_products(rows, m, k, packed, out): ``out`` (m x 16 int32) = the (m, k) bytes of ``rows`` read as int8 times
 * the (k, 16) int8 keys, given as ``packed`` (k / 4 groups of 16 columns x 4 keys, each key + 128 as uint8). Only
 * where the CPU has AVX-512 VNNI (the module's ``VNNI`` is 1); k a multiple of 64 up to 4096. */
static PyObject *key_products(PyObject *self, PyObject *args)
{
    Py_buffer b_rows, b_packed, b_out;
    Py_ssize_t m, k;
    if (!PyArg_ParseTuple(args, "y*nny*w*", &b_rows, &m, &k, &b_packed, &b_out))
        return NULL;
    int ok = m >= 0 && k >= 64 && k % 64 == 0 && k <= 4096 && b_rows.len / k >= m && b_packed.len >= k * 16
             && b_out.len / 64 >= m;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "key_products: bad sizes (k a multiple of 64 up to 4096), or buffers too small");
    } else if (!have_vnni()) {
        ok = 0;
        PyErr_SetString(PyExc_RuntimeError, "key_products: this CPU has no AVX-512 VNNI");
    } else {
#ifdef DG_VNNI
        Py_BEGIN_ALLOW_THREADS
        products_vnni((const uint8_t *)b_rows.buf, m, k, (const uint8_t *)b_packed.buf, (int32_t *)b_out.buf);
        Py_END_ALLOW_THREADS
#endif
    }
    PyBuffer_Release(&b_rows); PyBuffer_Release(&b_packed); PyBuffer_Release(&b_out);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* The sum of the ``n`` bytes at ``p``: 16 at a time with SSE2's sums of absolute differences from zero. */
static int64_t byte_sum(const uint8_t *p, Py_ssize_t n)
{
    int64_t total = 0;
    Py_ssize_t j = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    while (j + 16 <= n) {  /* 64-bit lanes, flushed every 2**20 steps (far below their range) */
        __m128i acc = zero;
        Py_ssize_t stop = j + ((Py_ssize_t)16 << 20) < n ? j + ((Py_ssize_t)16 << 20) : n;
        for (; j + 16 <= stop; j += 16)
            acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_loadu_si128((const __m128i *)(p + j)), zero));
        int64_t lanes[2];
        _mm_storeu_si128((__m128i *)lanes, acc);
        total += lanes[0] + lanes[1];
    }
#endif
    for (; j < n; j++)
        total += p[j];
    return total;
}

/* channel_counts(pixels, images, channels, plane, table, counts, sums): ``counts`` (channels x 256 int64) = each
 * channel's value counts over the batch, and ``sums`` (images x channels int64) = each plane's sum, of
 * ``pixels`` (images, channels, plane) uint8, the plane even. The pixels are counted two at a time, as 16-bit
 * values, into ``table`` (channels x 65536 uint32 scratch, zeroed here): the pairs' joint histogram, whose row
 * and column sums are the channel's value counts (whichever byte is the high one). One increment for two
 * pixels, and neighbouring pixels are alike, so the few bins they touch stay cached. Fewer than 2**32 pairs a
 * channel (the caller checks; so is this function). */
static PyObject *channel_counts(PyObject *self, PyObject *args)
{
    Py_buffer b_pix, b_table, b_counts, b_sums;
    Py_ssize_t images, channels, plane;
    if (!PyArg_ParseTuple(args, "y*nnnw*w*w*", &b_pix, &images, &channels, &plane, &b_table, &b_counts, &b_sums))
        return NULL;
    int ok = images >= 0 && channels >= 0 && plane >= 0 && plane % 2 == 0 && b_table.len / 4 / 65536 >= channels
             && b_counts.len / 8 / 256 >= channels && b_sums.len / 8 >= images * channels
             && (images * channels == 0 || b_pix.len / (images * channels) >= plane)
             && images * (plane / 2) < ((Py_ssize_t)1 << 32);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "channel_counts: an odd plane, 2**32 pairs or more, or buffers too small");
    } else {
        const uint8_t *pix = (const uint8_t *)b_pix.buf;
        uint32_t *table = (uint32_t *)b_table.buf;
        int64_t *counts = (int64_t *)b_counts.buf, *sums = (int64_t *)b_sums.buf;
        Py_BEGIN_ALLOW_THREADS
        memset(table, 0, (size_t)channels * 65536 * 4);
        for (Py_ssize_t i = 0; i < images; i++)
            for (Py_ssize_t a = 0; a < channels; a++) {
                const uint8_t *p = pix + (i * channels + a) * plane;
                uint32_t *t = table + a * 65536;
                Py_ssize_t j = 0;
                for (; j + 8 <= plane; j += 8) {
                    uint64_t w;
                    memcpy(&w, p + j, 8);
                    t[w & 0xFFFF]++; t[(w >> 16) & 0xFFFF]++; t[(w >> 32) & 0xFFFF]++; t[w >> 48]++;
                }
                for (; j < plane; j += 2) {
                    uint16_t v;
                    memcpy(&v, p + j, 2);
                    t[v]++;
                }
                sums[i * channels + a] = byte_sum(p, plane);
            }
        for (Py_ssize_t a = 0; a < channels; a++) {  /* each byte value: its row and its column of the table */
            const uint32_t *t = table + a * 65536;
            int64_t *c = counts + a * 256;
            memset(c, 0, 256 * 8);
            for (int hi = 0; hi < 256; hi++) {
                int64_t row = 0;
                for (int lo = 0; lo < 256; lo++) {
                    uint32_t v = t[hi * 256 + lo];
                    row += v;
                    c[lo] += v;
                }
                c[hi] += row;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_pix); PyBuffer_Release(&b_table); PyBuffer_Release(&b_counts); PyBuffer_Release(&b_sums);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* image_scores(planes, grey, images, side, squares, levels, greys, laplacian, spread): per (side x side)
 * thumbnail i, from its (3, side, side) channel planes and (side, side) grey plane (uint8, contiguous):
 * - ``levels[i]`` (256 int64): counts of min(rint(sqrt(squares[0][R] + squares[1][G] + squares[2][B])), 255),
 *   the float32 table terms added in that order (``squares``: 3 x 256 float32);
 * - ``greys[i]`` (256 int64): counts of the grey values;
 * - ``laplacian[i]`` (2 int64): sum and sum of squares over the inner pixels of the 4-neighbour Laplacian
 *   (up + down + left + right - 4 x centre, OpenCV's ksize=1 kernel) of the grey plane;
 * - ``spread[i]`` (int64): the largest max(R, G, B) - min(R, G, B) over its pixels. */
/* The square root of ``total`` rounded to the nearest integer, halves to even (as OpenCV's cvRound): with SSE,
 * the instructions themselves (``nearbyintf`` is a call into libm without SSE4.1, which cost more than the rest
 * of the loop); the correctly rounded ``sqrtf`` and the default rounding mode either way. */
static inline int round_root(float total)
{
#if defined(__SSE2__)
    return _mm_cvtss_si32(_mm_sqrt_ss(_mm_set_ss(total)));
#else
    return (int)nearbyintf(sqrtf(total));
#endif
}

static PyObject *image_scores(PyObject *self, PyObject *args)
{
    Py_buffer b_planes, b_grey, b_sq, b_levels, b_greys, b_lap, b_spread;
    Py_ssize_t n, side;
    if (!PyArg_ParseTuple(args, "y*y*nny*w*w*w*w*", &b_planes, &b_grey, &n, &side, &b_sq, &b_levels, &b_greys, &b_lap,
                          &b_spread))
        return NULL;
    Py_ssize_t p = side * side;
    int ok = n >= 0 && side >= 0 && b_planes.len >= n * 3 * p && b_grey.len >= n * p && b_sq.len >= 3 * 256 * 4
             && b_levels.len / 8 >= n * 256 && b_greys.len / 8 >= n * 256 && b_lap.len / 8 >= n * 2
             && b_spread.len / 8 >= n;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "image_scores: buffers smaller than the thumbnails or the scores");
    } else {
        const uint8_t *planes = (const uint8_t *)b_planes.buf, *grey = (const uint8_t *)b_grey.buf;
        const float *sq = (const float *)b_sq.buf;
        int64_t *levels = (int64_t *)b_levels.buf, *greys = (int64_t *)b_greys.buf;
        int64_t *lap = (int64_t *)b_lap.buf, *spread = (int64_t *)b_spread.buf;
        Py_BEGIN_ALLOW_THREADS
        memset(levels, 0, (size_t)n * 256 * 8);
        memset(greys, 0, (size_t)n * 256 * 8);
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint8_t *r = planes + i * 3 * p, *g = r + p, *b = g + p, *y = grey + i * p;
            int64_t *lv = levels + i * 256, *gv = greys + i * 256;
            int most = 0;
            for (Py_ssize_t j = 0; j < p; j++) {
                float total = sq[r[j]];  /* float32 sums, rounded after each addition (SSE: no wider registers) */
                total = total + sq[256 + g[j]];
                total = total + sq[512 + b[j]];
                int level = round_root(total);
                lv[level >= 255 ? 255 : level]++;
                gv[y[j]]++;
                int hi = r[j] > g[j] ? r[j] : g[j], lo = r[j] < g[j] ? r[j] : g[j];
                hi = hi > b[j] ? hi : b[j];
                lo = lo < b[j] ? lo : b[j];
                most = hi - lo > most ? hi - lo : most;
            }
            int64_t s1 = 0, s2 = 0;
            for (Py_ssize_t row = 1; row + 1 < side; row++)
                for (Py_ssize_t x = 1; x + 1 < side; x++) {
                    const uint8_t *c = y + row * side + x;
                    int64_t v = (int64_t)c[-side] + c[side] + c[-1] + c[1] - 4 * (int64_t)c[0];
                    s1 += v;
                    s2 += v * v;
                }
            lap[2 * i] = s1;
            lap[2 * i + 1] = s2;
            spread[i] = most;
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_planes); PyBuffer_Release(&b_grey); PyBuffer_Release(&b_sq); PyBuffer_Release(&b_levels);
    PyBuffer_Release(&b_greys); PyBuffer_Release(&b_lap); PyBuffer_Release(&b_spread);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"halve", halve, METH_VARARGS, "Successive 2 x 2 area means of strided planes (see pixel_kernels.halve)."},
    {"channel_counts", channel_counts, METH_VARARGS, "Value counts per channel and sums per plane (see pixel_kernels.channel_counts)."},
    {"key_products", key_products, METH_VARARGS, "int8 rows times the image-hash keys, AVX-512 VNNI (see pixel_kernels.key_products)."},
    {"image_scores", image_scores, METH_VARARGS, "Per-thumbnail counts behind the image-quality scores."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pixel_kernels", "Compiled loops over image pixels.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__pixel_kernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddIntConstant(m, "VERSION", 2) < 0  /* pixel_kernels.VERSION: the signatures */
                      || PyModule_AddIntConstant(m, "VNNI", have_vnni()) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
