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

/* A loop the compiler vectorises, compiled twice, for AVX2 and for the baseline, and picked by the CPU at load time
 * (GCC on x86-64; elsewhere the baseline only). AVX2 alone enables no FMA: no float operation is fused. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DG_CLONES
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

/* ``times`` (0 or more) successive halvings of one plane (row i at ``src + i * row_stride``) into ``out`` (out_rows x
 * c_at[times], contiguous). ``c_at[l]``: the columns after step l; ``level[l]``: scratch rows of step l (l < times).
 * Each output row is made from the 2**times input rows under it, so nothing larger than a row of every step is
 * written in between. */
static void halve_plane(const uint8_t *src, Py_ssize_t row_stride, Py_ssize_t times, const Py_ssize_t *c_at,
                        Py_ssize_t out_rows, uint8_t *const *level, uint8_t *out)
{
    const Py_ssize_t tall = (Py_ssize_t)1 << times, out_cols = c_at[times];
    for (Py_ssize_t i = 0; i < out_rows; i++) {
        const uint8_t *first = src + i * tall * row_stride;
        uint8_t *o = out + i * out_cols;
        if (times == 0) {
            memcpy(o, first, (size_t)out_cols);
            continue;
        }
        if (times == 1) {
            halve_row(first, first + row_stride, o, out_cols);
            continue;
        }
        for (Py_ssize_t j = 0; j < tall / 2; j++)  /* step 1, from the input rows */
            halve_row(first + 2 * j * row_stride, first + (2 * j + 1) * row_stride, level[1] + j * c_at[1], c_at[1]);
        for (Py_ssize_t l = 2; l <= times; l++) {
            Py_ssize_t n = (Py_ssize_t)1 << (times - l), w_in = c_at[l - 1];
            for (Py_ssize_t j = 0; j < n; j++)
                halve_row(level[l - 1] + 2 * j * w_in, level[l - 1] + (2 * j + 1) * w_in,
                          l == times ? o : level[l] + j * c_at[l], c_at[l]);
        }
    }
}

#define AREA_MAX_SCALE 8                  /* inputs per output along a side, at most */
#define AREA_TAPS (AREA_MAX_SCALE + 2)    /* room for the inputs an output overlaps (at most 9), one to spare */
#define AREA_MAX_DIVISOR 257              /* p_r x p_c: 255 times it fits 16 bits */

/* The taps of an area shrink of n inputs to m (0 < m <= n <= 8 m): with n / m = p / q in lowest terms, output t
 * covers [t p, (t + 1) p) in q-ths of an input; ``first[t]``: the first input it overlaps; ``w[t * AREA_TAPS + j]``:
 * how many q-ths of input first[t] + j it covers (0 past its last). Returns p; ``*taps`` (unless NULL): the most
 * inputs an output overlaps. */
static Py_ssize_t area_taps(Py_ssize_t n, Py_ssize_t m, Py_ssize_t *first, uint16_t *w, int *taps)
{
    Py_ssize_t g = n, r = m;
    while (r) {
        Py_ssize_t t = g % r;
        g = r, r = t;
    }
    const Py_ssize_t p = n / g, q = m / g;
    int most = 0;
    for (Py_ssize_t t = 0; t < m; t++) {
        const Py_ssize_t lo = t * p, hi = lo + p;
        first[t] = lo / q;
        for (int j = 0; j < AREA_TAPS; j++) {
            const Py_ssize_t k = first[t] + j, a = lo > k * q ? lo : k * q, b = hi < (k + 1) * q ? hi : (k + 1) * q;
            w[t * AREA_TAPS + j] = b > a ? (uint16_t)(b - a) : 0;
            if (b > a && j + 1 > most)
                most = j + 1;
        }
    }
    if (taps)
        *taps = most;
    return p;
}

/* An area shrink's plan: the taps of both sides (area_taps), the divisor D = p_r p_c, and scratch. */
typedef struct {
    Py_ssize_t cols, out_rows, out_cols, pad;  /* pad: cols rounded up to 8 with AREA_TAPS columns to spare */
    const Py_ssize_t *fy, *fx;
    const uint16_t *wy, *wx;
    int tx;
    uint32_t divisor;
    uint16_t *rowsum;    /* 8 rows of pad 16-bit sums, zero past cols */
    uint16_t *across;    /* pad x 8: those 8 rows' sums, column by column (SSE2) */
    uint16_t *wide;      /* out_cols x AREA_TAPS x 8: each of wx repeated 8 times (SSE2) */
} AreaPlan;

/* Output row t's weighted sum of its input rows into ``sum`` (16-bit: at most 255 p_r; vectorised by the compiler). */
static void area_row_sum(const uint8_t *src, Py_ssize_t row_stride, const AreaPlan *a, Py_ssize_t t, uint16_t *sum)
{
    const uint8_t *r = src + a->fy[t] * row_stride;
    const uint16_t *w = a->wy + t * AREA_TAPS, w0 = w[0];
    const Py_ssize_t cols = a->cols;
    for (Py_ssize_t x = 0; x < cols; x++)
        sum[x] = (uint16_t)(w0 * r[x]);
    for (int j = 1; j < AREA_TAPS && w[j]; j++) {
        const uint8_t *rj = r + j * row_stride;
        const uint16_t wj = w[j];
        for (Py_ssize_t x = 0; x < cols; x++)
            sum[x] = (uint16_t)(sum[x] + wj * rj[x]);
    }
}

/* Output row t from its row sums ``sum`` (zero past cols): each output's weighted sum M of them (at most
 * 255 p_r p_c < 2**16), then (2 M + D) / (2 D) as a product by a 32-bit reciprocal (exact: 2 M + D < 2**18 and
 * 2 D < 2**10, so its error stays below 1 / (2 D)). */
static void area_columns(const AreaPlan *a, const uint16_t *sum, uint8_t *o)
{
    const uint64_t reciprocal = (((uint64_t)1 << 32) + 2 * a->divisor - 1) / (2 * a->divisor);
    for (Py_ssize_t u = 0; u < a->out_cols; u++) {
        const uint16_t *s = sum + a->fx[u], *wu = a->wx + u * AREA_TAPS;
        uint32_t m = 0;
        for (int j = 0; j < a->tx; j++)
            m += (uint32_t)wu[j] * s[j];
        o[u] = (uint8_t)(((uint64_t)(2 * m + a->divisor) * reciprocal) >> 32);
    }
}

#if defined(__SSE2__)
/* The 8 x 8 16-bit matrix in r[0..7] (a row each) transposed in place. */
static inline void transpose8(__m128i *r)
{
    const __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
    const __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
    const __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
    const __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
    const __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
    const __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
    const __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
    const __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
    r[0] = _mm_unpacklo_epi64(b0, b4), r[1] = _mm_unpackhi_epi64(b0, b4);
    r[2] = _mm_unpacklo_epi64(b1, b5), r[3] = _mm_unpackhi_epi64(b1, b5);
    r[4] = _mm_unpacklo_epi64(b2, b6), r[5] = _mm_unpackhi_epi64(b2, b6);
    r[6] = _mm_unpacklo_epi64(b3, b7), r[7] = _mm_unpackhi_epi64(b3, b7);
}

/* round(M / D) of 8 16-bit sums, as bytes in the low half: float32 M * (1 / D) + 0.5, truncated. Exact: M / D is
 * never within 1 / (2 D) >= 2**-9 of a half (D odd) and the float error is below 255 * 2**-22 + 2**-16. */
static inline __m128i area_round(__m128i m, __m128 inverse)
{
    const __m128i zero = _mm_setzero_si128();
    const __m128 half = _mm_set1_ps(0.5f);
    __m128i lo = _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(m, zero)), inverse), half));
    __m128i hi = _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(m, zero)), inverse), half));
    return _mm_packus_epi16(_mm_packs_epi32(lo, hi), zero);
}

/* Output rows t0..t0 + 7, 8 at a time along the row: their row sums turned column by column (8 lanes, one a row),
 * so that each output column's weighted sum is a few 16-bit vector products (sums at most 2**16 - 1: no carry
 * lost), then turned back 8 columns at a time. */
static void area_eight_rows(const uint8_t *src, Py_ssize_t row_stride, const AreaPlan *a, Py_ssize_t t0, uint8_t *out)
{
    const Py_ssize_t pad = a->pad, out_cols = a->out_cols;
    for (int i = 0; i < 8; i++)
        area_row_sum(src, row_stride, a, t0 + i, a->rowsum + i * pad);
    __m128i *across = (__m128i *)a->across;
    for (Py_ssize_t x = 0; x < pad; x += 8) {
        __m128i r[8];
        for (int i = 0; i < 8; i++)
            r[i] = _mm_loadu_si128((const __m128i *)(a->rowsum + i * pad + x));
        transpose8(r);
        for (int i = 0; i < 8; i++)
            _mm_storeu_si128(across + x + i, r[i]);
    }
    const __m128 inverse = _mm_set1_ps(1.0f / (float)a->divisor);
    for (Py_ssize_t u0 = 0; u0 < out_cols; u0 += 8) {
        __m128i m[8];
        for (int k = 0; k < 8; k++) {
            const Py_ssize_t u = u0 + k < out_cols ? u0 + k : out_cols - 1;  /* past the last column: a copy of it */
            const __m128i *s = across + a->fx[u], *w = (const __m128i *)a->wide + u * AREA_TAPS;
            __m128i acc = _mm_mullo_epi16(_mm_loadu_si128(s), _mm_loadu_si128(w));
            for (int j = 1; j < a->tx; j++)
                acc = _mm_add_epi16(acc, _mm_mullo_epi16(_mm_loadu_si128(s + j), _mm_loadu_si128(w + j)));
            m[k] = acc;
        }
        transpose8(m);
        for (int i = 0; i < 8; i++) {
            __m128i bytes = area_round(m[i], inverse);
            uint8_t *o = out + (t0 + i) * out_cols + u0;
            if (u0 + 8 <= out_cols) {
                _mm_storel_epi64((__m128i *)o, bytes);
            } else {
                uint8_t tmp[16];
                _mm_storeu_si128((__m128i *)tmp, bytes);
                memcpy(o, tmp, (size_t)(out_cols - u0));
            }
        }
    }
}
#endif

/* The exact area means of one plane (row i at ``src + i * row_stride``), rounded to nearest (D odd: never a half),
 * into ``out`` (out_rows x out_cols, contiguous). */
static void area_plane(const uint8_t *src, Py_ssize_t row_stride, const AreaPlan *a, uint8_t *out)
{
    Py_ssize_t t = 0;
#if defined(__SSE2__)
    for (; t + 8 <= a->out_rows; t += 8)
        area_eight_rows(src, row_stride, a, t, out);
#endif
    for (; t < a->out_rows; t++) {
        area_row_sum(src, row_stride, a, t, a->rowsum);
        area_columns(a, a->rowsum, out + t * a->out_cols);
    }
}

/* shrink(src, planes, rows, cols, plane_stride, row_stride, times, out_rows, out_cols, dst[, at]): each of ``planes``
 * planes of ``rows`` x ``cols`` bytes (plane k's row i at ``src + k * plane_stride + i * row_stride``, or at ``src +
 * at[k] + i * row_stride`` with ``at``, int64 offsets: planes picked out of a batch without a copy) halved
 * ``times`` times (2 x 2 area means, each step leaving out an odd last row or column and rounding as OpenCV does:
 * the bytes of as many ``cv2.resize(..., INTER_AREA)`` calls at a scale of two), then, unless that is already
 * out_rows x out_cols, shrunk to it by exact area means rounded half up (at most 8 inputs an output along a side,
 * p_r x p_c at most 257; the caller keeps to sizes where that is OpenCV's byte). Written to ``dst`` as (planes,
 * out_rows, out_cols) uint8. A plane's halvings live in scratch while its area means are taken: it is read once. */
static PyObject *shrink(PyObject *self, PyObject *args)
{
    Py_buffer b_src, b_dst, b_at = {0};
    Py_ssize_t planes, rows, cols, plane_stride, row_stride, times, out_rows, out_cols;
    if (!PyArg_ParseTuple(args, "y*nnnnnnnnw*|y*", &b_src, &planes, &rows, &cols, &plane_stride, &row_stride, &times,
                          &out_rows, &out_cols, &b_dst, &b_at))
        return NULL;
    const int64_t *at = (const int64_t *)b_at.buf;  /* optional: plane k at src + at[k] instead */
    Py_ssize_t r_at[32], c_at[32];  /* rows and columns after each halving */
    int ok = planes >= 0 && rows >= 0 && cols >= 0 && plane_stride >= 0 && row_stride >= cols && times >= 0
             && times < 31 && out_rows >= 0 && out_cols >= 0
             && b_dst.len / (out_rows * out_cols > 0 ? out_rows * out_cols : 1) >= planes;
    if (ok) {
        r_at[0] = rows, c_at[0] = cols;
        for (Py_ssize_t l = 1; l <= times; l++)
            r_at[l] = r_at[l - 1] / 2, c_at[l] = c_at[l - 1] / 2;
    }
    const Py_ssize_t hr = ok ? r_at[times] : 0, hc = ok ? c_at[times] : 0;  /* after the halvings */
    const int area = ok && (hr != out_rows || hc != out_cols);
    if (ok && area)
        ok = out_rows > 0 && out_cols > 0 && out_rows <= hr && hr <= AREA_MAX_SCALE * out_rows && out_cols <= hc
             && hc <= AREA_MAX_SCALE * out_cols;
    const Py_ssize_t tall = (Py_ssize_t)1 << (ok ? times : 0);
    if (ok && planes > 0 && hr > 0 && hc > 0)  /* the last byte read lies inside src */
        ok = (planes - 1) * plane_stride + (tall * hr - 1) * row_stride + tall * hc <= b_src.len;
    if (ok && at) {  /* every plane's last byte read lies inside src too */
        ok = b_at.len / 8 >= planes;
        for (Py_ssize_t k = 0; ok && k < planes && hr > 0 && hc > 0; k++)
            ok = at[k] >= 0 && at[k] <= b_src.len && (tall * hr - 1) * row_stride + tall * hc <= b_src.len - at[k];
    }
    AreaPlan plan = {0};
    Py_ssize_t *first = NULL;
    uint16_t *weights = NULL;
    uint8_t *scratch = NULL;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "shrink: bad sizes or strides, or buffers too small");
    } else if (area) {
        const Py_ssize_t pad = (hc + AREA_TAPS + 7) / 8 * 8;
        first = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(out_rows + out_cols));
        weights = PyMem_Malloc(sizeof(uint16_t) * AREA_TAPS * (size_t)(out_rows + out_cols));
        /* 8 rows of sums, the same turned, the weights along the row 8 times each */
        plan.rowsum = PyMem_Calloc((size_t)(16 * pad + 8 * AREA_TAPS * out_cols), sizeof(uint16_t));
        if (!first || !weights || !plan.rowsum) {
            ok = 0;
            PyErr_NoMemory();
        } else {
            plan.cols = hc, plan.out_rows = out_rows, plan.out_cols = out_cols, plan.pad = pad;
            plan.fy = first, plan.fx = first + out_rows, plan.wy = weights, plan.wx = weights + AREA_TAPS * out_rows;
            plan.across = plan.rowsum + 8 * pad, plan.wide = plan.across + 8 * pad;
            Py_ssize_t divisor = area_taps(hr, out_rows, first, weights, NULL)
                                 * area_taps(hc, out_cols, first + out_rows, weights + AREA_TAPS * out_rows, &plan.tx);
            plan.divisor = (uint32_t)divisor;
            for (Py_ssize_t i = 0; i < AREA_TAPS * out_cols; i++)
                for (int lane = 0; lane < 8; lane++)
                    plan.wide[8 * i + lane] = plan.wx[i];
            if (divisor > AREA_MAX_DIVISOR || divisor % 2 == 0) {
                ok = 0;
                PyErr_SetString(PyExc_ValueError, "shrink: the area means' divisor p_r x p_c is even or above 257");
            }
        }
    }
    /* scratch: the halvings' rows in between (< 2**times x c_at[1]) and, before area means, the halved plane */
    const size_t between = times > 1 ? (size_t)(tall * c_at[1]) : 0, plane_bytes = area && times ? (size_t)(hr * hc) : 0;
    if (ok && hr > 0 && hc > 0 && between + plane_bytes > 0 && !(scratch = PyMem_Malloc(between + plane_bytes))) {
        ok = 0;
        PyErr_NoMemory();
    }
    if (ok && planes > 0 && out_rows > 0 && out_cols > 0) {
        const uint8_t *src = (const uint8_t *)b_src.buf;
        uint8_t *dst = (uint8_t *)b_dst.buf, *level[32], *halved = scratch + between;
        if (times > 1) {
            level[1] = scratch;
            for (Py_ssize_t l = 2; l < times; l++)
                level[l] = level[l - 1] + ((Py_ssize_t)1 << (times - l + 1)) * c_at[l - 1];
        }
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < planes; k++) {
            const uint8_t *plane = src + (at ? (Py_ssize_t)at[k] : k * plane_stride);
            uint8_t *out = dst + k * out_rows * out_cols;
            if (!area) {
                halve_plane(plane, row_stride, times, c_at, hr, level, out);
            } else if (times) {  /* the halved plane, still in cache, to its area means */
                halve_plane(plane, row_stride, times, c_at, hr, level, halved);
                area_plane(halved, hc, &plan, out);
            } else {
                area_plane(plane, row_stride, &plan, out);
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyMem_Free(scratch); PyMem_Free(first); PyMem_Free(weights); PyMem_Free(plan.rowsum);
    PyBuffer_Release(&b_src); PyBuffer_Release(&b_dst);
    if (b_at.buf)
        PyBuffer_Release(&b_at);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define DG_VNNI 1
/* The int8 row x key products with AVX-512 VNNI, in 256-bit registers (AVX-512VL): on an Intel Xeon (Ice Lake),
 * 0.11-0.13 ms per 640 x 480 image against 0.16-0.18 for the same loop in 512-bit registers, timed in turn (the
 * wide form runs at a lower clock); the same on 224 x 224 images. ``vpdpbusd`` multiplies unsigned by signed
 * bytes: the keys are the unsigned side, each flipped to u = key + 128 (``packed`` holds, for each 4 bytes of a
 * row, the 16 columns' 4 flipped keys: 64 bytes, two registers of 8 columns), and the image bytes s (int8) the
 * signed side, broadcast 4 at a time. sum(s * key) = sum(s * u) - 128 * sum(s), exact in int32 (|sum(s * u)| <=
 * 4096 * 128 * 255 < 2**27); sum(s) is read with ``vpsadbw`` on the bytes flipped the same way
 * (sum(s) = sum(b ^ 0x80) - 128 k). */
__attribute__((target("avx2")))
static int32_t row_sum(const uint8_t *row, Py_ssize_t k)
{
    const __m256i flip = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
    __m256i bytes = zero;  /* 4 sums of 8 flipped bytes each */
    for (Py_ssize_t j = 0; j < k; j += 32)
        bytes = _mm256_add_epi64(bytes, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const void *)(row + j)), flip), zero));
    int64_t lanes[4];
    _mm256_storeu_si256((void *)lanes, bytes);
    return (int32_t)(lanes[0] + lanes[1] + lanes[2] + lanes[3] - 128 * (int64_t)k);
}

#define DG_BCAST(p) _mm256_set1_epi32(load32(p))
/* acc += u8 keys . s8 image bytes, written as the instruction itself: GCC 12 copies the accumulators of the
 * intrinsic between registers at every step (16 moves for 8 products), which made the loop three times slower */
#define DG_DP(acc, keys, bytes) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(keys), "v"(bytes))
static inline int32_t load32(const uint8_t *p)
{
    int32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Row r's 16 sums (two accumulators of 8 columns, ``lo`` and ``hi``, each the sum of an even and an odd one) less
 * 128 * sum(s), to ``out``. */
__attribute__((target("avx512f,avx512vl")))
static inline void store_row(int32_t *out, __m256i lo, __m256i hi, const uint8_t *row, Py_ssize_t k)
{
    const __m256i offset = _mm256_set1_epi32(128 * row_sum(row, k));
    _mm256_storeu_si256((void *)out, _mm256_sub_epi32(lo, offset));
    _mm256_storeu_si256((void *)(out + 8), _mm256_sub_epi32(hi, offset));
}

/* Four rows at a time: each key register loaded (64 KB of keys for 4096-byte rows: from L2, not L1) serves four
 * rows; 16 accumulators (two groups of 4 bytes x two halves of the columns x four rows) keep 16 ``vpdpbusd``
 * chains in flight. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void products_vnni(const uint8_t *rows, Py_ssize_t m, Py_ssize_t k, const uint8_t *packed, int32_t *out)
{
    Py_ssize_t r = 0;
    for (; r + 4 <= m; r += 4) {
        const uint8_t *p0 = rows + r * k, *p1 = p0 + k, *p2 = p1 + k, *p3 = p2 + k;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        __m256i e0 = a0, e1 = a0, f0 = a0, f1 = a0, g0 = a0, g1 = a0, h0 = a0, h1 = a0;
        for (Py_ssize_t j = 0; j < k; j += 8) {
            const uint8_t *key = packed + j * 16;
            const __m256i k0 = _mm256_loadu_si256((const void *)key), k1 = _mm256_loadu_si256((const void *)(key + 32));
            const __m256i k2 = _mm256_loadu_si256((const void *)(key + 64)), k3 = _mm256_loadu_si256((const void *)(key + 96));
            __m256i x;
            x = DG_BCAST(p0 + j); DG_DP(a0, k0, x); DG_DP(a1, k1, x);
            x = DG_BCAST(p1 + j); DG_DP(b0, k0, x); DG_DP(b1, k1, x);
            x = DG_BCAST(p2 + j); DG_DP(c0, k0, x); DG_DP(c1, k1, x);
            x = DG_BCAST(p3 + j); DG_DP(d0, k0, x); DG_DP(d1, k1, x);
            x = DG_BCAST(p0 + j + 4); DG_DP(e0, k2, x); DG_DP(e1, k3, x);
            x = DG_BCAST(p1 + j + 4); DG_DP(f0, k2, x); DG_DP(f1, k3, x);
            x = DG_BCAST(p2 + j + 4); DG_DP(g0, k2, x); DG_DP(g1, k3, x);
            x = DG_BCAST(p3 + j + 4); DG_DP(h0, k2, x); DG_DP(h1, k3, x);
        }
        store_row(out + r * 16, _mm256_add_epi32(a0, e0), _mm256_add_epi32(a1, e1), p0, k);
        store_row(out + r * 16 + 16, _mm256_add_epi32(b0, f0), _mm256_add_epi32(b1, f1), p1, k);
        store_row(out + r * 16 + 32, _mm256_add_epi32(c0, g0), _mm256_add_epi32(c1, g1), p2, k);
        store_row(out + r * 16 + 48, _mm256_add_epi32(d0, h0), _mm256_add_epi32(d1, h1), p3, k);
    }
    for (; r < m; r++) {
        const uint8_t *p0 = rows + r * k;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, e0 = a0, e1 = a0;
        for (Py_ssize_t j = 0; j < k; j += 8) {
            const uint8_t *key = packed + j * 16;
            __m256i x = DG_BCAST(p0 + j);
            DG_DP(a0, _mm256_loadu_si256((const void *)key), x); DG_DP(a1, _mm256_loadu_si256((const void *)(key + 32)), x);
            x = DG_BCAST(p0 + j + 4);
            DG_DP(e0, _mm256_loadu_si256((const void *)(key + 64)), x); DG_DP(e1, _mm256_loadu_si256((const void *)(key + 96)), x);
        }
        store_row(out + r * 16, _mm256_add_epi32(a0, e0), _mm256_add_epi32(a1, e1), p0, k);
    }
}

static int have_vnni(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
           && __builtin_cpu_supports("avx512vnni");
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

/* The pairs of a plane's two halves (``half`` bytes each, a multiple of 8) counted together, each into its own
 * table, a word of each in turn: neighbouring pairs are often the same (flat regions), and increments of one bin
 * that follow each other wait for each other; the other half's increments fill that wait. On an Intel Xeon (Ice
 * Lake), the whole call against one table a channel (median of 40 in turn, ms per 640 x 480 image): 0.31 against
 * 0.34 on the feature bench's JPEG'd detection images, 0.36 against 0.39 on the demo's rendered ones, 0.057 against
 * 0.059 per 224 x 224 image; but 0.69 against 0.58 on uniform noise, whose bins spread over the whole table, which
 * two tables make twice as large for the cache. */
static void count_halves(const uint8_t *p, Py_ssize_t half, uint32_t *a, uint32_t *b)
{
    const uint8_t *q = p + half;
    for (Py_ssize_t j = 0; j + 8 <= half; j += 8) {
        uint64_t w, v;
        memcpy(&w, p + j, 8);
        memcpy(&v, q + j, 8);
        a[w & 0xFFFF]++; b[v & 0xFFFF]++; a[(w >> 16) & 0xFFFF]++; b[(v >> 16) & 0xFFFF]++;
        a[(w >> 32) & 0xFFFF]++; b[(v >> 32) & 0xFFFF]++; a[w >> 48]++; b[v >> 48]++;
    }
}

/* An image's three planes (``n`` bytes each, n even) counted pair by pair together, each into its own table, a word
 * of each in turn: three chains of increments that do not wait for each other, and one sweep over the image. On an
 * Intel Xeon (Ice Lake), counting alone, best of 40 in turn, ms per image: 0.040 against 0.051 for count_halves plane
 * by plane on the real suite's 224 x 224 images (0.078 against 0.114 on uniform noise), 0.24 against 0.30 at
 * 640 x 480; but 0.92 against 0.74 on 1280 x 720 street scenes, whose image (2.7 MB) and three tables (768 KB) no
 * longer fit in L2 together: used for planes up to THREE_PLANES_MAX bytes. The whole call, halving included (best of
 * 100, the two builds in turn in one process): 0.053 against 0.064 ms per 224 x 224 image, 0.32 against 0.37 at
 * 640 x 480. */
#define THREE_PLANES_MAX (512 * 1024)
static void count_three(const uint8_t *r, const uint8_t *g, const uint8_t *b, Py_ssize_t n, uint32_t *t,
                        uint32_t *u, uint32_t *s)
{
    Py_ssize_t j = 0;
    for (; j + 8 <= n; j += 8) {
        uint64_t x, y, z;
        memcpy(&x, r + j, 8);
        memcpy(&y, g + j, 8);
        memcpy(&z, b + j, 8);
        t[x & 0xFFFF]++; u[y & 0xFFFF]++; s[z & 0xFFFF]++;
        t[(x >> 16) & 0xFFFF]++; u[(y >> 16) & 0xFFFF]++; s[(z >> 16) & 0xFFFF]++;
        t[(x >> 32) & 0xFFFF]++; u[(y >> 32) & 0xFFFF]++; s[(z >> 32) & 0xFFFF]++;
        t[x >> 48]++; u[y >> 48]++; s[z >> 48]++;
    }
    for (; j < n; j += 2) {
        uint16_t x, y, z;
        memcpy(&x, r + j, 2);
        memcpy(&y, g + j, 2);
        memcpy(&z, b + j, 2);
        t[x]++; u[y]++; s[z]++;
    }
}

/* channel_counts(pixels, images, channels, plane, table, counts, sums): ``counts`` (channels x 256 int64) = each
 * channel's value counts over the batch, and ``sums`` (images x channels int64) = each plane's sum, of
 * ``pixels`` (images, channels, plane) uint8, the plane even. The pixels are counted two at a time, as 16-bit
 * values, into ``table`` (channels x 2 x 65536 uint32 scratch, zeroed here as used; two tables a channel, see
 * count_halves, or the first of them for an image's three planes together, see count_three): the pairs' joint
 * histogram, whose row and column sums are the channel's value counts (whichever byte is the high one). One
 * increment for two pixels, and neighbouring pixels are alike, so the few bins they
 * touch stay cached. Fewer than 2**32 pairs a channel (the caller checks; so is this function). */
static PyObject *channel_counts(PyObject *self, PyObject *args)
{
    Py_buffer b_pix, b_table, b_counts, b_sums, b_half = {0};
    Py_ssize_t images, channels, plane, cols = 0, step = 0, half_rows = 0;
    if (!PyArg_ParseTuple(args, "y*nnnw*w*w*|nnnw*", &b_pix, &images, &channels, &plane, &b_table, &b_counts, &b_sums,
                          &cols, &step, &half_rows, &b_half))
        return NULL;
    const Py_ssize_t half_cols = cols / 2;
    int ok = images >= 0 && channels >= 0 && plane >= 0 && plane % 2 == 0 && b_table.len / 8 / 65536 >= channels
             && b_counts.len / 8 / 256 >= channels && b_sums.len / 8 >= images * channels
             && (images * channels == 0 || b_pix.len / (images * channels) >= plane)
             && images * (plane / 2) < ((Py_ssize_t)1 << 32);
    if (ok && b_half.buf)  /* rows 2 y step and (2 y + 1) step of each plane, y < half_rows, halved */
        ok = cols > 0 && step > 0 && half_rows >= 0 && plane % cols == 0 && (2 * half_rows - 1) * step < plane / cols
             && b_half.len / (half_rows * half_cols > 0 ? half_rows * half_cols : 1) >= images * channels;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "channel_counts: an odd plane, 2**32 pairs or more, or buffers too small");
    } else {
        const uint8_t *pix = (const uint8_t *)b_pix.buf;
        uint32_t *table = (uint32_t *)b_table.buf;
        int64_t *counts = (int64_t *)b_counts.buf, *sums = (int64_t *)b_sums.buf;
        Py_BEGIN_ALLOW_THREADS
        const int three = channels == 3 && plane <= THREE_PLANES_MAX;  /* count_three: one table a channel */
        for (Py_ssize_t a = 0; a < channels; a++)
            memset(table + a * 2 * 65536, 0, (size_t)(three ? 1 : 2) * 65536 * 4);
        const Py_ssize_t half = plane / 16 * 8;  /* each half a multiple of 8 bytes; the rest pair by pair */
        for (Py_ssize_t i = 0; i < images; i++) {
            if (three) {
                const uint8_t *p = pix + i * 3 * plane;
                count_three(p, p + plane, p + 2 * plane, plane, table, table + 2 * 65536, table + 4 * 65536);
            }
            for (Py_ssize_t a = 0; a < channels; a++) {
                const uint8_t *p = pix + (i * channels + a) * plane;
                uint32_t *t = table + a * 2 * 65536;
                if (!three) {
                    count_halves(p, half, t, t + 65536);
                    for (Py_ssize_t j = 2 * half; j < plane; j += 2) {
                        uint16_t v;
                        memcpy(&v, p + j, 2);
                        t[v]++;
                    }
                }
                sums[i * channels + a] = byte_sum(p, plane);
                if (b_half.buf) {  /* while the plane is in cache */
                    uint8_t *h = (uint8_t *)b_half.buf + (i * channels + a) * half_rows * half_cols;
                    for (Py_ssize_t y = 0; y < half_rows; y++)
                        halve_row(p + 2 * y * step * cols, p + (2 * y + 1) * step * cols, h + y * half_cols, half_cols);
                }
            }
        }
        for (Py_ssize_t a = 0; a < channels; a++) {  /* each byte value: its row and its column of the tables */
            const uint32_t *t = table + a * 2 * 65536, *u = t + 65536;
            int64_t *c = counts + a * 256;
            memset(c, 0, 256 * 8);
            for (int hi = 0; hi < 256; hi++) {
                int64_t row = 0;
                for (int lo = 0; lo < 256; lo++) {
                    uint32_t v = t[hi * 256 + lo] + (three ? 0 : u[hi * 256 + lo]);  /* below 2**32: the channel's pairs */
                    row += v;
                    c[lo] += v;
                }
                c[hi] += row;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_pix); PyBuffer_Release(&b_table); PyBuffer_Release(&b_counts); PyBuffer_Release(&b_sums);
    if (b_half.buf)
        PyBuffer_Release(&b_half);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* image_scores(planes, grey, images, side, weights, levels, greys, laplacian, spread): per (side x side)
 * thumbnail i, from its (3, side, side) channel planes and (side, side) grey plane (uint8, contiguous):
 * - ``levels[i]`` (256 int64): counts of min(rint(sqrt((w0 R) R + (w1 G) G + (w2 B) B)), 255), every product and
 *   sum a float32 operation in that order (``weights``: w0, w1, w2, float32);
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

/* A float32 value the compiler must not fuse into a following addition (no FMA contraction where a build enables
 * it): the sums are those of float32 products, as the numpy way's tables hold them. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__SSE2__)
#define DG_KEEP(v) __asm__("" : "+x"(v))
#else  /* scalar floats only here: through memory */
#define DG_KEEP(v) do { volatile float dg_keep = (v); (v) = dg_keep; } while (0)
#endif

#if defined(__SSE2__)
/* The four float32 terms (w v) v of the 32-bit lanes ``v`` (values 0..255) and weight ``w``. */
static inline __m128 square_terms(__m128i v, __m128 w)
{
    const __m128 f = _mm_cvtepi32_ps(v);
    __m128 t = _mm_mul_ps(w, f);
    DG_KEEP(t);
    t = _mm_mul_ps(t, f);
    DG_KEEP(t);
    return t;
}

/* The levels of 4 pixels (32-bit lanes of R, G, B), clamped at 255. */
static inline __m128i four_levels(__m128i r, __m128i g, __m128i b, const __m128 *w)
{
    const __m128i top = _mm_set1_epi32(255);
    __m128 total = _mm_add_ps(square_terms(r, w[0]), square_terms(g, w[1]));
    DG_KEEP(total);
    total = _mm_add_ps(total, square_terms(b, w[2]));
    __m128i level = _mm_cvtps_epi32(_mm_sqrt_ps(total));
    return _mm_xor_si128(level, _mm_and_si128(_mm_xor_si128(level, top), _mm_cmpgt_epi32(level, top)));
}

/* The sum and sum of squares (int32 lanes, added to ``s1`` and ``s2``) of the Laplacians at the 8 pixels from ``c``
 * (|v| <= 1020: 16-bit, and pairs of squares summed by ``pmaddwd`` stay far inside 32 bits). */
static inline void eight_laplacians(const uint8_t *c, Py_ssize_t side, __m128i *s1, __m128i *s2)
{
    const __m128i zero = _mm_setzero_si128(), ones = _mm_set1_epi16(1);
#define DG_ROW8(p) _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p)), zero)
    __m128i v = _mm_add_epi16(_mm_add_epi16(DG_ROW8(c - side), DG_ROW8(c + side)), _mm_add_epi16(DG_ROW8(c - 1), DG_ROW8(c + 1)));
    v = _mm_sub_epi16(v, _mm_slli_epi16(DG_ROW8(c), 2));
#undef DG_ROW8
    *s1 = _mm_add_epi32(*s1, _mm_madd_epi16(v, ones));
    *s2 = _mm_add_epi32(*s2, _mm_madd_epi16(v, v));
}
#endif

static PyObject *image_scores(PyObject *self, PyObject *args)
{
    Py_buffer b_planes, b_grey, b_w, b_levels, b_greys, b_lap, b_spread;
    Py_ssize_t n, side;
    if (!PyArg_ParseTuple(args, "y*y*nny*w*w*w*w*", &b_planes, &b_grey, &n, &side, &b_w, &b_levels, &b_greys, &b_lap,
                          &b_spread))
        return NULL;
    Py_ssize_t p = side * side;
    int ok = n >= 0 && side >= 0 && b_planes.len >= n * 3 * p && b_grey.len >= n * p && b_w.len >= 3 * 4
             && b_levels.len / 8 >= n * 256 && b_greys.len / 8 >= n * 256 && b_lap.len / 8 >= n * 2
             && b_spread.len / 8 >= n;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "image_scores: buffers smaller than the thumbnails or the scores");
    } else {
        const uint8_t *planes = (const uint8_t *)b_planes.buf, *grey = (const uint8_t *)b_grey.buf;
        const float *w = (const float *)b_w.buf;
        int64_t *levels = (int64_t *)b_levels.buf, *greys = (int64_t *)b_greys.buf;
        int64_t *lap = (int64_t *)b_lap.buf, *spread = (int64_t *)b_spread.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint8_t *r = planes + i * 3 * p, *g = r + p, *b = g + p, *y = grey + i * p;
            int64_t *lv = levels + i * 256, *gv = greys + i * 256;
            uint32_t lq[4][256], gq[4][256];  /* four counts a value, pixel j in the (j % 4)-th: no chain of increments */
            memset(lq, 0, sizeof lq);
            memset(gq, 0, sizeof gq);
            Py_ssize_t j = 0;
#if defined(__SSE2__)
            const __m128 wv[3] = {_mm_set1_ps(w[0]), _mm_set1_ps(w[1]), _mm_set1_ps(w[2])};
            const __m128i zero = _mm_setzero_si128();
            for (; j + 16 <= p; j += 16) {  /* the same float32 operations, 4 pixels a vector, 16 a step */
                const __m128i R = _mm_loadu_si128((const __m128i *)(r + j)), G = _mm_loadu_si128((const __m128i *)(g + j));
                const __m128i B = _mm_loadu_si128((const __m128i *)(b + j));
                int32_t lanes[16];
                for (int h = 0; h < 2; h++) {
                    const __m128i r16 = h ? _mm_unpackhi_epi8(R, zero) : _mm_unpacklo_epi8(R, zero);
                    const __m128i g16 = h ? _mm_unpackhi_epi8(G, zero) : _mm_unpacklo_epi8(G, zero);
                    const __m128i b16 = h ? _mm_unpackhi_epi8(B, zero) : _mm_unpacklo_epi8(B, zero);
                    _mm_storeu_si128((__m128i *)(lanes + 8 * h), four_levels(_mm_unpacklo_epi16(r16, zero),
                                     _mm_unpacklo_epi16(g16, zero), _mm_unpacklo_epi16(b16, zero), wv));
                    _mm_storeu_si128((__m128i *)(lanes + 8 * h + 4), four_levels(_mm_unpackhi_epi16(r16, zero),
                                     _mm_unpackhi_epi16(g16, zero), _mm_unpackhi_epi16(b16, zero), wv));
                }
                for (int k = 0; k < 16; k += 4) {
                    lq[0][lanes[k]]++; lq[1][lanes[k + 1]]++; lq[2][lanes[k + 2]]++; lq[3][lanes[k + 3]]++;
                    gq[0][y[j + k]]++; gq[1][y[j + k + 1]]++; gq[2][y[j + k + 2]]++; gq[3][y[j + k + 3]]++;
                }
            }
#endif
            for (; j < p; j++) {
                float tr = w[0] * (float)r[j], tg = w[1] * (float)g[j], tb = w[2] * (float)b[j];
                DG_KEEP(tr); DG_KEEP(tg); DG_KEEP(tb);
                tr = tr * (float)r[j], tg = tg * (float)g[j], tb = tb * (float)b[j];
                DG_KEEP(tr); DG_KEEP(tg); DG_KEEP(tb);
                float total = tr + tg;  /* float32 sums, rounded after each addition (SSE: no wider registers) */
                DG_KEEP(total);
                total = total + tb;
                int level = round_root(total);
                lq[j % 4][level >= 255 ? 255 : level]++;
                gq[j % 4][y[j]]++;
            }
            for (int v = 0; v < 256; v++) {
                lv[v] = (int64_t)lq[0][v] + lq[1][v] + lq[2][v] + lq[3][v];
                gv[v] = (int64_t)gq[0][v] + gq[1][v] + gq[2][v] + gq[3][v];
            }
            uint8_t most = 0;  /* a loop of byte maxima and minima the compiler vectorises */
            for (Py_ssize_t k = 0; k < p; k++) {
                uint8_t hi = r[k] > g[k] ? r[k] : g[k], lo = r[k] < g[k] ? r[k] : g[k];
                hi = hi > b[k] ? hi : b[k];
                lo = lo < b[k] ? lo : b[k];
                most = (uint8_t)(hi - lo) > most ? (uint8_t)(hi - lo) : most;
            }
            int64_t s1 = 0, s2 = 0;
            for (Py_ssize_t row = 1; row + 1 < side; row++) {
                Py_ssize_t x = 1;
#if defined(__SSE2__)
                __m128i a1 = _mm_setzero_si128(), a2 = a1;  /* a row's sums: at most 2**12 lanes' worth, 32 bits */
                for (; x + 8 < side && side <= 4096; x += 8)
                    eight_laplacians(y + row * side + x, side, &a1, &a2);
                int32_t l1[4], l2[4];
                _mm_storeu_si128((__m128i *)l1, a1);
                _mm_storeu_si128((__m128i *)l2, a2);
                s1 += (int64_t)l1[0] + l1[1] + l1[2] + l1[3];
                s2 += (int64_t)l2[0] + l2[1] + l2[2] + l2[3];
#endif
                for (; x + 1 < side; x++) {
                    const uint8_t *c = y + row * side + x;
                    int64_t v = (int64_t)c[-side] + c[side] + c[-1] + c[1] - 4 * (int64_t)c[0];
                    s1 += v;
                    s2 += v * v;
                }
            }
            lap[2 * i] = s1;
            lap[2 * i + 1] = s2;
            spread[i] = most;
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_planes); PyBuffer_Release(&b_grey); PyBuffer_Release(&b_w); PyBuffer_Release(&b_levels);
    PyBuffer_Release(&b_greys); PyBuffer_Release(&b_lap); PyBuffer_Release(&b_spread);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* One image's luma (see grey below): an IEEE float32 quotient, truncated, in a loop the compiler vectorises. */
DG_CLONES
static void grey_row(const uint8_t *restrict r, const uint8_t *restrict g, const uint8_t *restrict b,
                     uint8_t *restrict o, Py_ssize_t pixels)
{
    for (Py_ssize_t j = 0; j < pixels; j++)
        o[j] = (uint8_t)(int32_t)((float)(299 * r[j] + 587 * g[j] + 114 * b[j] + 500) / 1000.0f);
}

/* grey(planes, n, pixels, out): ``out`` (n x pixels uint8) = (299 R + 587 G + 114 B + 500) / 1000 of each pixel
 * of (n, 3, pixels) uint8 ``planes`` (ITU-R BT.601 luma, integer). The dividend is an integer below 2**24, exact in
 * float32, and the correctly rounded quotient of k + 999 / 1000 stays below k + 1 (float32's spacing below 256 is
 * 2**-16), so truncating it is the floor; in float32 the loop is vectorised. */
static PyObject *grey(PyObject *self, PyObject *args)
{
    Py_buffer b_planes, b_out;
    Py_ssize_t n, pixels;
    if (!PyArg_ParseTuple(args, "y*nnw*", &b_planes, &n, &pixels, &b_out))
        return NULL;
    int ok = n >= 0 && pixels >= 0 && (n == 0 || (b_planes.len / n / 3 >= pixels && b_out.len / n >= pixels));
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "grey: buffers smaller than the planes");
    } else {
        const uint8_t *planes = (const uint8_t *)b_planes.buf;
        uint8_t *out = (uint8_t *)b_out.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint8_t *r = planes + i * 3 * pixels, *g = r + pixels, *b = g + pixels;
            uint8_t *o = out + i * pixels;
            grey_row(r, g, b, o, pixels);
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_planes); PyBuffer_Release(&b_out);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* The DCT hash of one 64 x 64 grey thumbnail ``t`` (see phash below), ``d`` the 8 x 32 basis. */
DG_CLONES
static uint64_t phash_one(const uint8_t *t, const int32_t d[8][32])
{
    int32_t g[32][32], r[32][8];
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            const uint8_t *c = t + 2 * y * 64 + 2 * x;
            g[y][x] = c[0] + c[1] + c[64] + c[65];
        }
    for (int y = 0; y < 32; y++)  /* G D^T: |sum| <= 32 x 1020 x 4096 < 2**31 */
        for (int l = 0; l < 8; l++) {
            int32_t acc = 0;
            for (int x = 0; x < 32; x++)
                acc += g[y][x] * d[l][x];
            r[y][l] = acc;
        }
    int64_t coef[64], sorted[64];
    for (int k = 0; k < 8; k++)
        for (int l = 0; l < 8; l++) {
            int64_t acc = 0;
            for (int y = 0; y < 32; y++)
                acc += (int64_t)d[k][y] * r[y][l];
            coef[8 * k + l] = acc;
        }
    for (int j = 0; j < 64; j++) {  /* insertion sort of 64 values: faster here than counting ranks */
        const int64_t v = coef[j];
        int m = j;
        for (; m > 0 && sorted[m - 1] > v; m--)
            sorted[m] = sorted[m - 1];
        sorted[m] = v;
    }
    const int64_t middle = sorted[31] + sorted[32];
    uint64_t h = 0;
    for (int j = 0; j < 64; j++)
        h |= (uint64_t)(2 * coef[j] > middle) << j;
    return h;
}

/* phash(grey, images, dct, out): ``out[i]`` (uint64) = the DCT hash of (64 x 64) grey thumbnail i: its 2 x 2 cell
 * sums G (32 x 32, at most 1020), the 8 x 8 integers C = D G D^T (``dct``: D, 8 x 32 int64, |D| <= 4096, which the
 * caller checks: the rows of G times D^T stay below 2**31, C below 2**45), and bit 8 k + l set where 2 C[k][l] is
 * above the sum of the 32nd and 33rd smallest of the 64 coefficients (twice their median). All integers: the numpy
 * way's bytes. */
static PyObject *phash(PyObject *self, PyObject *args)
{
    Py_buffer b_grey, b_dct, b_out;
    Py_ssize_t images;
    if (!PyArg_ParseTuple(args, "y*ny*w*", &b_grey, &images, &b_dct, &b_out))
        return NULL;
    int ok = images >= 0 && b_grey.len / 4096 >= images && b_dct.len >= 8 * 32 * 8 && b_out.len / 8 >= images;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "phash: buffers smaller than the thumbnails, the basis or the hashes");
    } else {
        const uint8_t *grey = (const uint8_t *)b_grey.buf;
        const int64_t *dct = (const int64_t *)b_dct.buf;
        uint64_t *out = (uint64_t *)b_out.buf;
        Py_BEGIN_ALLOW_THREADS
        int32_t d[8][32];
        for (int k = 0; k < 8; k++)
            for (int x = 0; x < 32; x++)
                d[k][x] = (int32_t)dct[k * 32 + x];
        for (Py_ssize_t i = 0; i < images; i++)
            out[i] = phash_one(grey + i * 4096, (const int32_t (*)[32])d);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b_grey); PyBuffer_Release(&b_dct); PyBuffer_Release(&b_out);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"shrink", shrink, METH_VARARGS, "Halvings, then exact area means, of strided planes (see pixel_kernels.shrink)."},
    {"channel_counts", channel_counts, METH_VARARGS, "Value counts per channel and sums per plane (see pixel_kernels.channel_counts)."},
    {"key_products", key_products, METH_VARARGS, "int8 rows times the image-hash keys, AVX-512 VNNI (see pixel_kernels.key_products)."},
    {"image_scores", image_scores, METH_VARARGS, "Per-thumbnail counts behind the image-quality scores."},
    {"grey", grey, METH_VARARGS, "Integer BT.601 luma of RGB planes (see pixel_kernels.grey)."},
    {"phash", phash, METH_VARARGS, "DCT hashes of 64 x 64 grey thumbnails (see pixel_kernels.phash)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pixel_kernels", "Compiled loops over image pixels.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__pixel_kernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddIntConstant(m, "VERSION", 9) < 0  /* pixel_kernels.VERSION: the signatures */
                      || PyModule_AddIntConstant(m, "VNNI", have_vnni()) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
