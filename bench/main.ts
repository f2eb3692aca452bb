/**
 * `npm run bench`: the engine end to end through the worker pool against PyTorch eager on the same weights.
 *
 * 1. Writes a GPT-2-small-shaped checkpoint with random weights to .bench-tmp/ (reused when present).
 * 2. Kernel microbenchmark: GFLOP/s per path at 1 and 2 threads; the machine's GEMM peak = best large product.
 * 3. Engine through EnginePool + EngineClient (the extension's own path): a first load (reads the checkpoint and
 *    keeps the converted weights under .bench-tmp/kept-weights), a second load in a fresh pool (opens them), then per length a warm-up and
 *    ≥ 5 timed full traces = `analyze` (every layer's attention patterns) + `predictions` slice (logits, top-k
 *    and surprisal at every position); time to first view at 128 tokens; peak RSS of the whole process (the
 *    worker is a thread in it) around the 1024-token runs; the host event loop's longest stall meanwhile.
 * 4. The peer: bench/peer_torch.py under Debian's python3 with torch, threads 1 and 2 on the fastest OpenBLAS core type, the faster reported.
 * Ends with one `ratio@<tokens> engine=<s> peer=<s> ratio=<engine/peer>` line per length.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EngineClient } from '../src/engine-host/client';
import { EnginePool } from '../src/engine-host/pool';
import { GPT2_SMALL, writeGpt2Small } from './checkpoint';
import type { KernelPath } from '../src/engine/kernels/select';
import { runKernelBench, type GemmResult } from './kernels';

const LENGTHS = (process.env.TE_BENCH_LENGTHS ?? '16,128,512,1024').split(',').map(Number);
const RUNS = Number(process.env.TE_BENCH_RUNS ?? 5);
const root = path.resolve(__dirname, '..');
const tmp = path.join(root, '.bench-tmp');
const PACK_CACHE = path.join(tmp, 'kept-weights');
const log = (s: string) => console.log(s);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

/** Peak resident set of this process since the last reset (Linux: VmHWM; resettable via clear_refs). */
function peakRss(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** FLOPs of one full trace of GPT-2 small at n tokens: every product (projections, attention, MLP, logits at all positions). */
function traceFlops(n: number): number {
  const { n_layer: L, n_embd: d, n_inner: f, vocab_size: V } = GPT2_SMALL;
  const perLayer = 2 * n * d * (3 * d) + 2 * n * d * d + 2 * 2 * n * d * f + 2 * 2 * n * n * d; // qkv, o, mlp, scores + z
  return L * perLayer + 2 * n * d * V;
}

/** Text of exactly n GPT-2 tokens: common words that are one token each, checked with the model's tokenizer. */
async function textOfTokens(client: EngineClient, dir: string, n: number): Promise<{ text: string; ids: number[] }> {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'house', 'with', 'big', 'red', 'door', 'in', 'of', 'day'];
  let s = 12345;
  const pick = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return words[s % words.length];
  };
  let text = pick();
  while (text.split(' ').length < n + 8) text += ` ${pick()}`;
  const t = await client.tokenize(dir, text);
  if (t.ids.length < n) throw new Error(`bench text has ${t.ids.length} tokens, need ${n}`);
  const cut = text.slice(0, t.offsets[n - 1][1]);
  const check = await client.tokenize(dir, cut);
  if (check.ids.length !== n) throw new Error(`bench text for ${n} tokens tokenizes to ${check.ids.length}`);
  return { text: cut, ids: check.ids };
}

interface EngineRow { n: number; analyzeMs: number[]; predictMs: number[]; totalMs: number[]; faults: number[] }

/**
 * The first load of a model reads the checkpoint, packs the weights and keeps them for fast loading (as the
 * extension does, in its global storage); every later load opens the kept files. Both are timed, each in a fresh
 * worker pool; the traces run on the model of the second.
 */
async function benchLoads(dir: string, workerScript: string): Promise<{ firstLoadMs: number; cacheBytes: number }> {
  fs.rmSync(PACK_CACHE, { recursive: true, force: true });
  const pool = new EnginePool({ workerScript, log, packCache: PACK_CACHE });
  try {
    const t0 = performance.now();
    await new EngineClient(pool).loadModel(dir);
    const firstLoadMs = performance.now() - t0;
    const cacheBytes = dirBytes(PACK_CACHE);
    log(`engine: first load (reads the checkpoint, keeps the weights) ${firstLoadMs.toFixed(0)} ms; kept weights ${mb(cacheBytes)} in ${PACK_CACHE}`);
    return { firstLoadMs, cacheBytes };
  } finally {
    await pool.dispose();
  }
}

function dirBytes(p: string): number {
  return fs.readdirSync(p, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? dirBytes(path.join(p, e.name)) : fs.statSync(path.join(p, e.name)).size), 0);
}

async function benchEngine(dir: string, workerScript: string) {
  // TE_BENCH_KEEP_WEIGHTS=0: every load reads and packs the checkpoint (the engine without kept weights, for A/B).
  const keep = process.env.TE_BENCH_KEEP_WEIGHTS !== '0';
  const first = keep ? await benchLoads(dir, workerScript) : { firstLoadMs: NaN, cacheBytes: 0 };
  const pool = new EnginePool({ workerScript, log, packCache: keep ? PACK_CACHE : undefined });
  const client = new EngineClient(pool);
  try {
    const t0 = performance.now();
    const summary = await client.loadModel(dir);
    const loadMs = performance.now() - t0;
    const rssAfterLoad = process.memoryUsage().rss;
    log(`engine: kernels=${summary.info.kernels}, load ${loadMs.toFixed(0)} ms (${keep ? 'from the kept weights' : 'from the checkpoint'}), RSS after load ${mb(rssAfterLoad)}`);
    // Weights opened fast at load reach full speed while the worker is idle (Kernels.packDeferred); the traces
    // below are timed at full speed, so that step is finished (and timed) here, from the moment load returned.
    const p0 = performance.now();
    const packed = await client.finishPacking();
    const packMs = performance.now() - t0 - loadMs;
    const rssAfterPacking = process.memoryUsage().rss;
    log(`engine: weights at full speed ${packMs.toFixed(0)} ms after the load returned (${packed.steps} steps; this request ${(performance.now() - p0).toFixed(0)} ms), RSS ${mb(rssAfterPacking)}`);

    const texts = new Map<number, { text: string; ids: number[] }>();
    for (const n of LENGTHS) texts.set(n, await textOfTokens(client, dir, n));

    const fullTrace = async (text: string) => {
      const a0 = performance.now();
      const r = await client.analyze({ dir, text });
      const a1 = performance.now();
      await client.slice(r.traceId, { slice: 'predictions', query: { k: 5, temperature: 1 } });
      const a2 = performance.now();
      client.release(r.traceId);
      return { analyzeMs: a1 - a0, predictMs: a2 - a1, totalMs: a2 - a0, traceId: r.traceId };
    };

    const rows: EngineRow[] = [];
    let peak1024: number | undefined;
    let stallMs = 0;
    let stallP99 = 0;
    for (const n of LENGTHS) {
      const { text } = texts.get(n)!;
      await fullTrace(text); // warm-up (first use of each shape; weights are packed at load)
      const row: EngineRow = { n, analyzeMs: [], predictMs: [], totalMs: [], faults: [] };
      const measureHost = n === 1024;
      const canReset = measureHost && resetPeakRss();
      let last = performance.now();
      let worst = 0;
      const timer = measureHost ? setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last - 10);
        last = now;
      }, 10) : undefined;
      const h = measureHost ? monitorEventLoopDelay({ resolution: 5 }) : undefined;
      h?.enable();
      for (let r = 0; r < RUNS; r++) {
        const f0 = process.resourceUsage().minorPageFault;
        const t = await fullTrace(text);
        row.faults.push(process.resourceUsage().minorPageFault - f0);
        row.analyzeMs.push(t.analyzeMs);
        row.predictMs.push(t.predictMs);
        row.totalMs.push(t.totalMs);
      }
      if (timer) clearInterval(timer);
      h?.disable();
      if (measureHost) {
        stallMs = worst;
        stallP99 = h ? h.percentile(99) / 1e6 : 0;
        peak1024 = canReset ? peakRss() : undefined;
      }
      rows.push(row);
      log(`engine ${String(n).padStart(4)} tokens: full trace median ${median(row.totalMs).toFixed(1)} ms (min ${Math.min(...row.totalMs).toFixed(1)}; analyze ${median(row.analyzeMs).toFixed(1)} + predictions ${median(row.predictMs).toFixed(1)}), ${median(row.faults)} page faults (fresh 4 KB pages) per trace`);
    }

    // Time to first view at 128 tokens: the tokens, then layer 0's attention, which the worker streams as a
    // 'firstView' progress event the moment block 0 has run (the other layers follow). A run counts only if the
    // event carried the real [heads, n, n] pattern.
    const ttfv: { tokensMs: number; firstViewMs: number; doneMs: number }[] = [];
    // (Only when 128 is among TE_BENCH_LENGTHS, whose texts were prepared above.)
    const n128 = texts.get(128);
    for (let r = 0; n128 && r < RUNS; r++) {
      const t0v = performance.now();
      let tokensMs = NaN;
      let firstViewMs = NaN;
      const res = await client.analyze({ dir, text: n128.text }, {
        onTokens: () => { tokensMs = performance.now() - t0v; },
        onProgress: (e) => {
          const p = e.partial as { shape?: number[]; pattern?: Float32Array } | undefined;
          const ok = e.stage === 'firstView' && p?.pattern instanceof Float32Array && p.shape?.[1] === 128 && p.pattern.length === p.shape[0] * 128 * 128;
          if (ok && Number.isNaN(firstViewMs)) firstViewMs = performance.now() - t0v;
        },
      });
      ttfv.push({ tokensMs, firstViewMs, doneMs: performance.now() - t0v });
      client.release(res.traceId);
    }
    return { summary, loadMs, packMs, keep, ...first, rssAfterLoad, rssAfterPacking, rows, peak1024, stallMs, stallP99, texts, ttfv };
  } finally {
    await pool.dispose();
  }
}

interface PeerResult { threads: number; n: number; medianS: number }

function benchPeer(dir: string, texts: Map<number, { ids: number[] }>): { results: PeerResult[]; skipped?: string } {
  const python = process.env.TE_BENCH_PYTHON ?? '/usr/bin/python3';
  try {
    execFileSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
  } catch {
    return { results: [], skipped: `${python} has no torch/numpy (apt-get install -y python3-torch python3-numpy)` };
  }
  const idsFile = path.join(tmp, 'peer-ids.json');
  fs.writeFileSync(idsFile, JSON.stringify(Object.fromEntries([...texts].map(([n, t]) => [n, t.ids]))));
  const env = peerBlasEnv(python);
  const out = execFileSync(python, [path.join(root, 'bench', 'peer_torch.py'), dir, idsFile, String(RUNS)], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'], env });
  const last = out.trim().split('\n').pop() ?? '[]';
  return { results: JSON.parse(last) as PeerResult[] };
}

/**
 * The peer's BLAS at its best. Debian's OpenBLAS (0.3.21) does not know recent CPUs and falls back to its generic
 * Prescott kernels (~30 GFLOP/s here instead of ~170): time one 512×3072×768 product under OpenBLAS' own choice and
 * under the core types this CPU supports, and run the peer with the fastest (a preset OPENBLAS_CORETYPE is one of
 * the candidates too).
 */
function peerBlasEnv(python: string): NodeJS.ProcessEnv {
  const probe = 'import torch,time\na=torch.randn(512,3072);b=torch.randn(3072,768)\nfor _ in range(3): a@b\nt=time.perf_counter()\nfor _ in range(10): a@b\nprint(2*512*3072*768*10/(time.perf_counter()-t)/1e9)';
  const flags = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
  const candidates = [...new Set([undefined, process.env.OPENBLAS_CORETYPE, ...(flags.includes('avx512f') ? ['SkylakeX', 'Cooperlake'] : []), ...(flags.includes('avx2') ? ['Haswell'] : [])])];
  const envWith = (core: string | undefined): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    if (core) env.OPENBLAS_CORETYPE = core;
    return env;
  };
  let best: { core?: string; gflops: number } = { gflops: -1 };
  for (const core of candidates) {
    try {
      const gflops = Number(execFileSync(python, ['-c', probe], { encoding: 'utf8', env: envWith(core), stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      log(`peer BLAS probe: OPENBLAS_CORETYPE=${core ?? '(OpenBLAS default)'} → ${gflops.toFixed(1)} GFLOP/s (512x3072x768)`);
      if (gflops > best.gflops) best = { core, gflops };
    } catch {
      log(`peer BLAS probe: OPENBLAS_CORETYPE=${core ?? '(OpenBLAS default)'} failed`);
    }
  }
  log(`peer runs with OPENBLAS_CORETYPE=${best.core ?? '(OpenBLAS default)'}`);
  return envWith(best.core);
}

function bestGemm(results: Map<string, GemmResult[]>): { gflops: number; where: string } {
  let best = { gflops: 0, where: 'n/a' };
  for (const [key, rs] of results) {
    for (const r of rs) if (r.gflops > best.gflops) best = { gflops: r.gflops, where: `${key} ${r.shape.m}x${r.shape.k}x${r.shape.n}` };
  }
  return best;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--gemm-only') {
    const results = runKernelBench((process.env.TE_BENCH_GEMM_PATHS ?? 'portable,wasm,onnx').split(',') as KernelPath[], [1, 2], log);
    log(JSON.stringify([...results]));
    return;
  }
  const workerScript = process.argv[2];
  if (!workerScript) throw new Error('usage: node bench/run.mjs (builds the worker bundle and passes its path)');
  // `npm run bench -- --engine-only`: the engine section alone (a quick A/B while developing; no ratios).
  const engineOnly = process.argv.includes('--engine-only');
  fs.mkdirSync(tmp, { recursive: true });
  log(`machine: ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
  const models = process.env.TE_MODELS_DIR ?? path.join(root, '..', 'shared', 'models');
  const dir = path.join(tmp, 'gpt2-small-random');
  const bytes = writeGpt2Small(dir, path.join(models, 'gpt2-tokenizer'));
  log(`checkpoint: ${dir} (${mb(bytes)} F32 safetensors)`);

  if (engineOnly) {
    const e = await benchEngine(dir, workerScript);
    log(`load ${(e.loadMs / 1000).toFixed(2)} s (first load ${(e.firstLoadMs / 1000).toFixed(2)} s; full speed after +${(e.packMs / 1000).toFixed(2)} s); peak RSS during 1024-token traces ${e.peak1024 === undefined ? 'n/a' : mb(e.peak1024)}; longest host stall ${e.stallMs.toFixed(1)} ms`);
    return;
  }
  log('\n== GEMM microbenchmark (matmulT, weight layout, median of 5) ==');
  // In a child process, so its allocations do not count in the engine's RSS below.
  const child = execFileSync(process.execPath, [__filename, '--gemm-only'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n');
  child.slice(0, -1).forEach((l) => log(l));
  const gemm = new Map<string, GemmResult[]>(JSON.parse(child[child.length - 1]) as [string, GemmResult[]][]);
  const peak = bestGemm(gemm);
  log(`machine GEMM peak (best single product above): ${peak.gflops.toFixed(1)} GFLOP/s (${peak.where})`);

  log('\n== engine through the worker pool ==');
  const e = await benchEngine(dir, workerScript);

  log('\n== peer: PyTorch eager CPU ==');
  const peer = benchPeer(dir, e.texts);
  if (peer.skipped) log(`peer skipped: ${peer.skipped}`);
  const peerBest = new Map<number, PeerResult>();
  for (const r of peer.results) {
    log(`torch threads=${r.threads} ${String(r.n).padStart(4)} tokens: ${(r.medianS * 1000).toFixed(1)} ms`);
    const b = peerBest.get(r.n);
    if (!b || r.medianS < b.medianS) peerBest.set(r.n, r);
  }

  log('\n== results ==');
  const loads = e.keep ? `from the kept weights; first load of the model ${(e.firstLoadMs / 1000).toFixed(2)} s, keeping ${mb(e.cacheBytes)}` : 'from the checkpoint';
  log(`load: ${(e.loadMs / 1000).toFixed(2)} s (target ≤ 2 s; ${loads}); RSS after load ${mb(e.rssAfterLoad)}; kernels ${e.summary.info.kernels}`);
  log(`weights at full speed ${(e.packMs / 1000).toFixed(2)} s after the load returned (load + that: ${((e.loadMs + e.packMs) / 1000).toFixed(2)} s; traces before it run ~10-20% slower); RSS then ${mb(e.rssAfterPacking)}`);
  log('tokens | engine full trace (s) | analyze | predictions | GFLOP/s | % of peak | peer (s) [threads] | ratio');
  for (const r of e.rows) {
    const s = median(r.totalMs) / 1000;
    const gf = traceFlops(r.n) / s / 1e9;
    const p = peerBest.get(r.n);
    log(`${String(r.n).padStart(6)} | ${s.toFixed(3).padStart(21)} | ${(median(r.analyzeMs) / 1000).toFixed(3).padStart(7)} | ${(median(r.predictMs) / 1000).toFixed(3).padStart(11)} | ${gf.toFixed(1).padStart(7)} | ${((100 * gf) / peak.gflops).toFixed(0).padStart(8)}% | ${p ? `${p.medianS.toFixed(3)} [${p.threads}]` : 'n/a'} | ${p ? (s / p.medianS).toFixed(2) : 'n/a'}`);
  }
  const tt = e.ttfv;
  if (tt.length > 0) log(`time to first view @128 (loaded model): tokens ${median(tt.map((x) => x.tokensMs)).toFixed(1)} ms, layer-0 attention ${median(tt.map((x) => x.firstViewMs)).toFixed(1)} ms (target ≤ 100 ms); whole analysis ${median(tt.map((x) => x.doneMs)).toFixed(1)} ms`);
  else log('time to first view @128: n/a (128 is not among TE_BENCH_LENGTHS)');
  log(`peak RSS during 1024-token traces (whole process): ${e.peak1024 !== undefined ? mb(e.peak1024) : 'n/a'} (target ≤ 1500 MB)`);
  log(`host event loop during 1024-token traces: longest stall ${e.stallMs.toFixed(1)} ms, p99 delay ${e.stallP99.toFixed(1)} ms (target < 50 ms)`);
  log(`load average now: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const r of e.rows) {
    const s = median(r.totalMs) / 1000;
    const p = peerBest.get(r.n);
    log(`ratio@${r.n} engine=${s.toFixed(4)} peer=${p ? p.medianS.toFixed(4) : 'n/a'} ratio=${p ? (s / p.medianS).toFixed(3) : 'n/a'}`);
  }
}

// The pool unrefs its workers (an idle engine must not keep VS Code alive), so a pending request alone would let
// this process exit early: hold the event loop open until main settles.
const keepAlive = setInterval(() => undefined, 1 << 30);
main().then(() => clearInterval(keepAlive), (e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
