/**
 * What identifies this CPU for packed weights: MLAS picks its kernels, and with them the packed layout, from the
 * instruction sets the CPU reports, and a VM may report fewer than the model name suggests. So the signature is
 * the model name plus a digest of the reported feature flags (Linux; elsewhere the name and core count).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';

let cached: string | undefined;

export function cpuSignature(): string {
  if (cached !== undefined) return cached;
  const model = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  let flags = `${os.cpus().length} cores`;
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    if (line) flags = line.split(':')[1].trim();
  } catch {
    // not Linux: the model name alone
  }
  cached = `${model} [${createHash('sha256').update(flags).digest('hex').slice(0, 12)}]`;
  return cached;
}
