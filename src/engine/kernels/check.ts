/** Shape check shared by every kernel path: a too-small array would otherwise read past its end silently (NaN) or out of bounds (native). */
export function checkGemmArgs(op: string, a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias: Float32Array | undefined, out: Float32Array): void {
  if (!(Number.isInteger(m) && Number.isInteger(k) && Number.isInteger(n) && m >= 0 && k >= 0 && n >= 0)) {
    throw new RangeError(`${op}: dimensions must be non-negative integers, got m=${m} k=${k} n=${n}`);
  }
  if (a.length < m * k || b.length < k * n || out.length < m * n || (bias !== undefined && bias.length < n)) {
    throw new RangeError(`${op}: arrays too small for m=${m} k=${k} n=${n} (a ${a.length}, b ${b.length}, out ${out.length}${bias ? `, bias ${bias.length}` : ''})`);
  }
}
