// The committed gemm.wasm (and its base64 copy in gemmBinary.ts) must be exactly what gemm.c builds to.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEMM_WASM_BASE64 } from '../../../src/engine/kernels/wasm/gemmBinary';

const root = path.resolve(__dirname, '../../..');
const wasmDir = path.join(root, 'src/engine/kernels/wasm');

function clangMajor(): number | undefined {
  try {
    return Number(/clang version (\d+)\./.exec(execFileSync('clang', ['--version'], { encoding: 'utf8' }))?.[1]);
  } catch {
    return undefined;
  }
}

describe('wasm kernels build', () => {
  it('gemmBinary.ts holds the same bytes as gemm.wasm', () => {
    expect(Buffer.from(GEMM_WASM_BASE64, 'base64').equals(fs.readFileSync(path.join(wasmDir, 'gemm.wasm')))).toBe(true);
  });

  it('gemm.wasm is byte-identical to a fresh build of gemm.c', async (ctx) => {
    const script = await import(path.join(root, 'scripts/build-wasm.mjs')) as { CLANG_MAJOR: number; compile(out: string): Buffer; binaryModule(b: Buffer): string };
    const major = clangMajor();
    if (major === undefined) {
      console.warn('skipping the gemm.wasm rebuild check: clang is not installed (apt-get install -y clang lld)');
      ctx.skip();
      return;
    }
    if (major !== script.CLANG_MAJOR) {
      console.warn(`skipping the gemm.wasm rebuild check: clang ${major} differs from the clang ${script.CLANG_MAJOR} the binary is built with`);
      ctx.skip();
      return;
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-wasm-test-'));
    try {
      const bytes = script.compile(path.join(tmp, 'gemm.wasm'));
      expect(bytes.equals(fs.readFileSync(path.join(wasmDir, 'gemm.wasm'))), 'gemm.wasm is stale: run npm run build:wasm').toBe(true);
      expect(script.binaryModule(bytes)).toBe(fs.readFileSync(path.join(wasmDir, 'gemmBinary.ts'), 'utf8'));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
