/**
 * Below these sizes a call into ONNX Runtime (~10 µs of binding and dispatch) costs more than the plain
 * JavaScript loops, so the ONNX path hands such work to the portable kernels.
 */

/** Multiply-adds of a product (GEMM m·n·k; attention heads·nq·nk·d). */
export const SMALL_PRODUCT = 16_384;

/** Elements of an element-wise or row-wise operation. */
export const SMALL_ELEMENTWISE = 4096;
