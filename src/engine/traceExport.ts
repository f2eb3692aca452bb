/**
 * A run in the fixtures' reference format (../shared/models/README.md): the JSON fields and the named F32 tensors
 * (`logits`, `attn.<l>` / `encoder.attn.<l>` / `decoder.self_attn.<l>` / `decoder.cross_attn.<l>`, `resid.<l>`,
 * `resid.final`). The CLI writes it to files; the worker sends it to the extension's "Export Trace".
 */
import type { Model } from './model';
import type { NamedTensor } from './safetensorsWriter';
import type { AnalysisTraces } from './slices';
import type { Trace } from './trace';

export interface ExportedTrace {
  readonly json: Record<string, unknown>;
  readonly tensors: NamedTensor[];
}

function topTokens(t: Trace, position: number): { id: number; token: string; prob: number }[] {
  return t.topK(position, 5).map(({ id, token, prob }) => ({ id, token, prob }));
}

/** Copies, so handing the arrays to another thread never detaches the trace's own storage. */
function stackTensors(t: Trace, attnName: string, prefix: string): NamedTensor[] {
  const { n, dModel: d } = t;
  const out: NamedTensor[] = [];
  for (let l = 0; l < t.nLayers; l++) out.push({ name: `${prefix}${attnName}.${l}`, shape: [t.nHeads, n, n], data: t.patternLayer(l) });
  for (let l = 0; l < t.nLayers; l++) out.push({ name: `${prefix}resid.${l}`, shape: [n, d], data: t.resid(l).slice() });
  out.push({ name: `${prefix}resid.final`, shape: [n, d], data: t.finalHidden.slice() });
  return out;
}

/** `positions` = the logits rows to include (default: every position). */
export function exportTrace(model: Model, a: AnalysisTraces, positions?: readonly number[]): ExportedTrace {
  const base = a.kind === 'single' ? a.trace : a.traces.encoder;
  const tk = base.tokens;
  let json: Record<string, unknown> = { text: base.text, input_ids: [...tk.ids], tokens: [...tk.tokens], offsets: tk.offsets.map(([s, e]) => [s, e]), special: [...tk.special] };
  let tensors: NamedTensor[];
  let head: Trace;
  if (a.kind === 'seq2seq') {
    const { encoder, decoder } = a.traces;
    head = decoder;
    tensors = [...stackTensors(encoder, 'attn', 'encoder.'), ...stackTensors(decoder, 'self_attn', 'decoder.')];
    for (let l = 0; l < decoder.nLayers; l++) tensors.push({ name: `decoder.cross_attn.${l}`, shape: [decoder.nHeads, decoder.n, encoder.n], data: decoder.crossPatternLayer(l) });
    json = { ...json, target_text: decoder.text, decoder_input_ids: [...decoder.tokens.ids], decoder_tokens: [...decoder.tokens.tokens], decoder_offsets: decoder.tokens.offsets.map(([s, e]) => [s, e]) };
  } else {
    head = a.trace;
    tensors = stackTensors(head, 'attn', '');
  }
  const rows = positions ? [...positions] : Array.from({ length: head.n }, (_, i) => i);
  tensors.unshift({ name: 'logits', shape: [rows.length, model.info.d_vocab], data: head.logitsAt(rows) });
  json.logits_positions = rows;
  json.attn_query_positions = null;
  if (model.info.kind === 'encoder') {
    const masks = model.maskPositions({ ids: [...tk.ids], tokens: [...tk.tokens], offsets: [], special: [] });
    json = { ...json, mask_positions: masks, top_mask: masks.map((position) => ({ position, top5: topTokens(head, position) })) };
  } else {
    json.top_next = Array.from({ length: head.n }, (_, p) => topTokens(head, p));
  }
  return { json, tensors };
}
