/*
 * Single-precision GEMM kernels for WebAssembly SIMD128 (no libc; built by scripts/build-wasm.mjs).
 * Row-major. The caller places operands in linear memory and passes byte offsets as pointers.
 *
 *   te_matmul_t(a, b, bias, out, m, k, n):  out[m,n] = a[m,k] · b[n,k]^T (+ bias[n])   nn.Linear layout
 *   te_matmul  (a, b, bias, out, m, k, n):  out[m,n] = a[m,k] · b[k,n]   (+ bias[n])   Conv1D layout
 *
 * bias may be 0 (none). Register blocking: 4 rows x 4 columns of k-vectorised dot products for the
 * transposed form, 4 rows x 16 columns of broadcast-multiply-adds for the plain form; scalar tails cover
 * any m, k, n.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define BLOCK_BYTES (192 * 1024)

static inline float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

static inline v128_t madd(v128_t acc, v128_t x, v128_t y) { return wasm_f32x4_add(acc, wasm_f32x4_mul(x, y)); }

/* One output: dot(a_row, b_row) over k with a vector body and a scalar tail. */
static float dot(const float *a, const float *b, int k) {
  v128_t acc = wasm_f32x4_splat(0.0f);
  int p = 0;
  for (; p + 4 <= k; p += 4) acc = madd(acc, wasm_v128_load(a + p), wasm_v128_load(b + p));
  float s = hsum(acc);
  for (; p < k; p++) s += a[p] * b[p];
  return s;
}

/* Columns of `out` per cache block: the block's rows of b (or columns, for te_matmul) stay in L2 while
   every row of a streams past them. */
static inline int column_block(int k, int multiple) {
  int nb = (BLOCK_BYTES / 4 / (k > 0 ? k : 1)) / multiple * multiple;
  return nb < multiple ? multiple : nb;
}

static void matmul_t_block(const float *a, const float *b, const float *bias, float *out, int m, int k, int n, int n_total);

EXPORT("te_matmul_t")
void te_matmul_t(const float *a, const float *b, const float *bias, float *out, int m, int k, int n) {
  int nb = column_block(k, 4);
  for (int j0 = 0; j0 < n; j0 += nb) {
    int w = n - j0 < nb ? n - j0 : nb;
    matmul_t_block(a, b + j0 * k, bias ? bias + j0 : 0, out + j0, m, k, w, n);
  }
}

/* Same contract as te_matmul_t for n columns, writing rows of stride n_total. */
static void matmul_t_block(const float *a, const float *b, const float *bias, float *out, int m, int k, int n, int n_total) {
  int k4 = k & ~3;
  int i = 0;
  for (; i + 4 <= m; i += 4) {
    const float *a0 = a + i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      const float *b0 = b + j * k, *b1 = b0 + k, *b2 = b1 + k, *b3 = b2 + k;
      v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c02 = c00, c03 = c00;
      v128_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
      v128_t c20 = c00, c21 = c00, c22 = c00, c23 = c00;
      v128_t c30 = c00, c31 = c00, c32 = c00, c33 = c00;
      for (int p = 0; p < k4; p += 4) {
        v128_t x0 = wasm_v128_load(a0 + p), x1 = wasm_v128_load(a1 + p), x2 = wasm_v128_load(a2 + p), x3 = wasm_v128_load(a3 + p);
        v128_t y0 = wasm_v128_load(b0 + p), y1 = wasm_v128_load(b1 + p), y2 = wasm_v128_load(b2 + p), y3 = wasm_v128_load(b3 + p);
        c00 = madd(c00, x0, y0); c01 = madd(c01, x0, y1); c02 = madd(c02, x0, y2); c03 = madd(c03, x0, y3);
        c10 = madd(c10, x1, y0); c11 = madd(c11, x1, y1); c12 = madd(c12, x1, y2); c13 = madd(c13, x1, y3);
        c20 = madd(c20, x2, y0); c21 = madd(c21, x2, y1); c22 = madd(c22, x2, y2); c23 = madd(c23, x2, y3);
        c30 = madd(c30, x3, y0); c31 = madd(c31, x3, y1); c32 = madd(c32, x3, y2); c33 = madd(c33, x3, y3);
      }
      float r[16] = {
        hsum(c00), hsum(c01), hsum(c02), hsum(c03), hsum(c10), hsum(c11), hsum(c12), hsum(c13),
        hsum(c20), hsum(c21), hsum(c22), hsum(c23), hsum(c30), hsum(c31), hsum(c32), hsum(c33),
      };
      for (int p = k4; p < k; p++) {
        const float xs[4] = {a0[p], a1[p], a2[p], a3[p]};
        const float ys[4] = {b0[p], b1[p], b2[p], b3[p]};
        for (int u = 0; u < 4; u++)
          for (int v = 0; v < 4; v++) r[u * 4 + v] += xs[u] * ys[v];
      }
      for (int u = 0; u < 4; u++)
        for (int v = 0; v < 4; v++) out[(i + u) * n_total + j + v] = r[u * 4 + v] + (bias ? bias[j + v] : 0.0f);
    }
    for (; j < n; j++) {
      const float *bj = b + j * k;
      float bb = bias ? bias[j] : 0.0f;
      out[(i + 0) * n_total + j] = dot(a0, bj, k) + bb;
      out[(i + 1) * n_total + j] = dot(a1, bj, k) + bb;
      out[(i + 2) * n_total + j] = dot(a2, bj, k) + bb;
      out[(i + 3) * n_total + j] = dot(a3, bj, k) + bb;
    }
  }
  for (; i < m; i++) {
    const float *ai = a + i * k;
    for (int j = 0; j < n; j++) out[i * n_total + j] = dot(ai, b + j * k, k) + (bias ? bias[j] : 0.0f);
  }
}

static void matmul_block(const float *a, const float *b, const float *bias, float *out, int m, int k, int n, int n_total);

EXPORT("te_matmul")
void te_matmul(const float *a, const float *b, const float *bias, float *out, int m, int k, int n) {
  int nb = column_block(k, 16);
  for (int j0 = 0; j0 < n; j0 += nb) {
    int w = n - j0 < nb ? n - j0 : nb;
    matmul_block(a, b + j0, bias ? bias + j0 : 0, out + j0, m, k, w, n);
  }
}

/* Columns [0, n) of te_matmul, where b and out rows have stride n_total: 4 rows x 16 columns of
   broadcast-multiply-adds in vector accumulators. */
static void matmul_block(const float *a, const float *b, const float *bias, float *out, int m, int k, int n, int n_total) {
  int i = 0;
  for (; i + 4 <= m; i += 4) {
    const float *a0 = a + i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
    float *o0 = out + i * n_total, *o1 = o0 + n_total, *o2 = o1 + n_total, *o3 = o2 + n_total;
    int j = 0;
    for (; j + 16 <= n; j += 16) {
      v128_t z = wasm_f32x4_splat(0.0f);
      v128_t b0 = bias ? wasm_v128_load(bias + j) : z, b1 = bias ? wasm_v128_load(bias + j + 4) : z;
      v128_t b2 = bias ? wasm_v128_load(bias + j + 8) : z, b3 = bias ? wasm_v128_load(bias + j + 12) : z;
      v128_t c00 = b0, c01 = b1, c02 = b2, c03 = b3, c10 = b0, c11 = b1, c12 = b2, c13 = b3;
      v128_t c20 = b0, c21 = b1, c22 = b2, c23 = b3, c30 = b0, c31 = b1, c32 = b2, c33 = b3;
      for (int p = 0; p < k; p++) {
        const float *bp = b + p * n_total + j;
        v128_t y0 = wasm_v128_load(bp), y1 = wasm_v128_load(bp + 4), y2 = wasm_v128_load(bp + 8), y3 = wasm_v128_load(bp + 12);
        v128_t x0 = wasm_f32x4_splat(a0[p]), x1 = wasm_f32x4_splat(a1[p]), x2 = wasm_f32x4_splat(a2[p]), x3 = wasm_f32x4_splat(a3[p]);
        c00 = madd(c00, x0, y0); c01 = madd(c01, x0, y1); c02 = madd(c02, x0, y2); c03 = madd(c03, x0, y3);
        c10 = madd(c10, x1, y0); c11 = madd(c11, x1, y1); c12 = madd(c12, x1, y2); c13 = madd(c13, x1, y3);
        c20 = madd(c20, x2, y0); c21 = madd(c21, x2, y1); c22 = madd(c22, x2, y2); c23 = madd(c23, x2, y3);
        c30 = madd(c30, x3, y0); c31 = madd(c31, x3, y1); c32 = madd(c32, x3, y2); c33 = madd(c33, x3, y3);
      }
      wasm_v128_store(o0 + j, c00); wasm_v128_store(o0 + j + 4, c01); wasm_v128_store(o0 + j + 8, c02); wasm_v128_store(o0 + j + 12, c03);
      wasm_v128_store(o1 + j, c10); wasm_v128_store(o1 + j + 4, c11); wasm_v128_store(o1 + j + 8, c12); wasm_v128_store(o1 + j + 12, c13);
      wasm_v128_store(o2 + j, c20); wasm_v128_store(o2 + j + 4, c21); wasm_v128_store(o2 + j + 8, c22); wasm_v128_store(o2 + j + 12, c23);
      wasm_v128_store(o3 + j, c30); wasm_v128_store(o3 + j + 4, c31); wasm_v128_store(o3 + j + 8, c32); wasm_v128_store(o3 + j + 12, c33);
    }
    for (; j < n; j++) {
      float bb = bias ? bias[j] : 0.0f;
      float s0 = bb, s1 = bb, s2 = bb, s3 = bb;
      for (int p = 0; p < k; p++) {
        float y = b[p * n_total + j];
        s0 += a0[p] * y; s1 += a1[p] * y; s2 += a2[p] * y; s3 += a3[p] * y;
      }
      o0[j] = s0; o1[j] = s1; o2[j] = s2; o3[j] = s3;
    }
  }
  for (; i < m; i++) {
    const float *ai = a + i * k;
    float *oi = out + i * n_total;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      v128_t c = bias ? wasm_v128_load(bias + j) : wasm_f32x4_splat(0.0f);
      for (int p = 0; p < k; p++) c = madd(c, wasm_f32x4_splat(ai[p]), wasm_v128_load(b + p * n_total + j));
      wasm_v128_store(oi + j, c);
    }
    for (; j < n; j++) {
      float s = bias ? bias[j] : 0.0f;
      for (int p = 0; p < k; p++) s += ai[p] * b[p * n_total + j];
      oi[j] = s;
    }
  }
}
