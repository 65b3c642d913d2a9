"""The strided entry of every elementwise node: one C function, compiled once per machine
(cached like every module) and called through its address, so that no node's module
carries (and compiles) a copy.

A node's ``_s`` entry passes its operand description, element sizes and its vectorized
chunk to ``lg_run_strided``. When every input is contiguous along the last axis, the
chunk runs once per row; otherwise the last two axes go in tiles, an input strided
along the last axis (a transposed matrix) first gathered into a small contiguous tile.
"""
from __future__ import annotations

from .compiler import CompileError, char_ptr, load_module

_SOURCE = r"""
#include <stdint.h>
typedef void (*lg_chunk_fn)(intptr_t, intptr_t, char **, int *);
/* The strided entry of an elementwise node. d describes the operands (outputs first):
   ndim, shape, then per operand its address and strides; size[k] is operand k's element
   size, 0 for an operand read as one scalar. Outputs are contiguous along the last axis
   (the caller allocates them in the iteration order). When every input is too, the chunk
   runs once per row. Otherwise the last two axes go in tiles of LG_TA rows x LG_TB
   columns: an input strided along the last axis (a transposed matrix) is first gathered
   into a small contiguous tile, reading it along its own contiguous axis, and the
   vectorized chunk runs on the tile's rows. (Row by row, a transposed operand's
   power-of-two row length maps its cache lines onto a few cache sets: ~6x slower.) */
#define LG_TA 16
#define LG_TB 128
#define LG_GATHER(T) { \
    T *t = (T *)tile; \
    if (sj == 0) for (int64_t a = 0; a < na; a++) {  /* broadcast along the row */ \
        const T v = *(const T *)(x + a * sa); \
        _Pragma("omp simd") for (int64_t j = 0; j < nj; j++) t[a * LG_TB + j] = v; \
    } else for (int64_t j = 0; j < nj; j++) { \
        const char *s = x + j * sj; \
        _Pragma("omp simd") for (int64_t a = 0; a < na; a++) t[a * LG_TB + j] = *(const T *)(s + a * sa); \
    } }
#if defined(__AVX512F__)
#include <immintrin.h>
/* r[i] holds row i of a 16x16 float block; afterwards r[i] holds its column i. */
static inline void lg_transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    for (int i = 0; i < 16; i += 8)
        for (int k = 0; k < 4; k++) {
            t[i + k] = _mm512_shuffle_f32x4(r[i + k], r[i + 4 + k], 0x88);
            t[i + 4 + k] = _mm512_shuffle_f32x4(r[i + k], r[i + 4 + k], 0xdd);
        }
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
        r[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xdd);
    }
}
#endif
/* x (na rows sa bytes apart, nj elements sj apart) -> tile (na rows of LG_TB elements) */
static void lg_tile_gather(char *tile, const char *x, int64_t na, int64_t nj, int64_t sa,
                           int64_t sj, int64_t size) {
#if defined(__AVX512F__)
    if (size == 4 && sa == 4 && na == 16 && sj != 0) {
        /* a transposed 4-byte matrix, a full tile of rows: 16x16 blocks through registers
           (each load is one column's 16 contiguous rows) instead of element by element */
        int64_t j = 0;
        for (; j + 16 <= nj; j += 16) {
            __m512 r[16];
            for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps((const float *)(x + (j + k) * sj));
            lg_transpose16(r);
            for (int a = 0; a < 16; a++) _mm512_storeu_ps((float *)tile + a * LG_TB + j, r[a]);
        }
        if (j == nj)
            return;
        tile += j * size;  /* the last columns element by element, below */
        x += j * sj;
        nj -= j;
    }
#endif
    switch (size) {
    case 1: LG_GATHER(uint8_t) break;
    case 2: LG_GATHER(uint16_t) break;
    case 4: LG_GATHER(uint32_t) break;
    default: LG_GATHER(uint64_t) break;  /* 8 bytes: C kernels have no complex */
    }
}
#undef LG_GATHER
static int lg_run_strided(const int64_t *d, int nops, int nout, const int64_t *size,
                          lg_chunk_fn f, intptr_t threshold) {
    const int nd = (int)d[0];
    const int64_t *shape = d + 1;
    char *base[nops]; int64_t sm[nops], si[nops]; int copy[nops];
    int64_t tile_bytes = 0, outer = 1;
    int inner_contig = 1;
    for (int k = 0; k < nops; k++) {
        const int64_t *st = d + 2 + nd + k * (nd + 1);
        base[k] = (char *)(intptr_t)d[1 + nd + k * (nd + 1)];
        si[k] = st[nd - 1];
        sm[k] = nd >= 2 ? st[nd - 2] : 0;
        copy[k] = k >= nout && size[k] && si[k] != size[k];
        if (copy[k]) { inner_contig = 0; tile_bytes += LG_TA * LG_TB * size[k]; }
    }
    const int64_t inner = shape[nd - 1], mid = nd >= 2 ? shape[nd - 2] : 1;
    for (int a = 0; a < nd - 2; a++) outer *= shape[a];
    /* blocks of LG_TA rows; single rows when no operand needs a tile */
    const int64_t ta = inner_contig ? 1 : LG_TA, nblk = (mid + ta - 1) / ta;
    const int64_t tb = inner_contig ? inner : LG_TB;
    int err = 0;
    #pragma omp parallel for reduction(|:err) if(outer * mid * inner > threshold && outer * nblk > 1) schedule(static)
    for (int64_t o = 0; o < outer * nblk; o++) {
        char *q[nops], *p[nops], *r[nops];
        _Alignas(64) char tiles[tile_bytes + 64];
        int64_t rest = o / nblk;
        const int64_t a0 = (o % nblk) * ta, na = a0 + ta < mid ? ta : mid - a0;
        for (int k = 0; k < nops; k++) q[k] = base[k] + a0 * sm[k];
        for (int a = nd - 3; a >= 0; a--) {
            const int64_t i = rest % shape[a];
            rest /= shape[a];
            for (int k = 0; k < nops; k++) q[k] += i * d[2 + nd + k * (nd + 1) + a];
        }
        for (int64_t j0 = 0; j0 < inner; j0 += tb) {
            const int64_t nj = j0 + tb < inner ? tb : inner - j0;
            char *tile = tiles;
            for (int k = 0; k < nops; k++) {
                p[k] = q[k] + j0 * si[k];
                if (!copy[k]) continue;
                lg_tile_gather(tile, p[k], na, nj, sm[k], si[k], size[k]);
                p[k] = tile;  /* tile rows are LG_TB elements apart */
                tile += LG_TA * LG_TB * size[k];
            }
            for (int64_t a = 0; a < na; a++) {
                for (int k = 0; k < nops; k++)
                    r[k] = p[k] + a * (copy[k] ? LG_TB * size[k] : sm[k]);
                f(0, nj, r, &err);
            }
        }
    }
    return err;
}

static void *lg_table[] = {(void *)lg_run_strided};
void *lg_get(int i) { return lg_table[i]; }
"""

_address: list = []  # [char * cdata] once compiled, [None] when it cannot be


def runner():
    """The runner's address as a ``char *`` (what ``_s`` entries take), or None without
    a compiler."""
    if not _address:
        try:
            _address.append(char_ptr(load_module(_SOURCE, 1)[0]))
        except CompileError:
            _address.append(None)
    return _address[0]
