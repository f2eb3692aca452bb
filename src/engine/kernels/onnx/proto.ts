/**
 * A minimal ONNX ModelProto writer: only the protobuf fields our kernel graphs use (nodes with int/float
 * attributes, float inputs/outputs with fixed or symbolic dims, float initializers). Field numbers follow
 * onnx.proto3. Writing these few bytes ourselves avoids a protobuf dependency; initializer payloads are kept as
 * separate chunks so a large weight is copied once, into the final buffer.
 */

/** Protobuf wire encoding into a list of chunks (a nested message is measured before it is framed). */
class Writer {
  private readonly chunks: Uint8Array[] = [];
  private small: number[] = [];
  private size = 0;

  get length(): number {
    return this.size + this.small.length;
  }

  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    while (v >= 0x80) {
      this.small.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.small.push(v);
    return this;
  }

  /** Varint field (wire type 0); negative int64 values take ten bytes of two's complement, as protobuf does. */
  int(field: number, v: number): this {
    this.varint(field * 8);
    if (v >= 0) return this.varint(v);
    if (!Number.isSafeInteger(v)) throw new RangeError(`varint out of range: ${v}`);
    let u = BigInt.asUintN(64, BigInt(v));
    while (u >= 0x80n) {
      this.small.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.small.push(Number(u));
    return this;
  }

  /** 32-bit float field (wire type 5). */
  float(field: number, v: number): this {
    this.varint(field * 8 + 5);
    for (const b of new Uint8Array(new Float32Array([v]).buffer)) this.small.push(b);
    return this;
  }

  /** Length-delimited field (wire type 2) holding raw bytes (kept by reference until finish()). */
  raw(field: number, payload: Uint8Array): this {
    this.varint(field * 8 + 2).varint(payload.length);
    this.flushSmall();
    this.chunks.push(payload);
    this.size += payload.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    inner.flushSmall();
    this.varint(field * 8 + 2).varint(inner.size);
    this.flushSmall();
    for (const c of inner.chunks) this.chunks.push(c);
    this.size += inner.size;
    return this;
  }

  finish(): Uint8Array {
    this.flushSmall();
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  private flushSmall(): void {
    if (this.small.length === 0) return;
    this.chunks.push(Uint8Array.from(this.small));
    this.size += this.small.length;
    this.small = [];
  }
}

/** A dimension: a fixed size or a symbolic name (bound at run time). */
export type Dim = number | string;

/** Element types our graphs use (TensorProto.DataType numbers below). */
export type ElemType = 'float' | 'uint16' | 'int32' | 'int64' | 'double';
const ELEM_TYPE: Record<ElemType, number> = { float: 1, uint16: 4, int32: 6, int64: 7, double: 11 };

export interface ValueInfo {
  readonly name: string;
  readonly dims: readonly Dim[];
  /** Default 'float'. */
  readonly type?: ElemType;
}

/** A constant float tensor of the graph (e.g. a weight matrix the runtime may pre-pack). */
export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  /** The values (external initializers: only its length is used, and may be left out for `dims`' size). */
  readonly data?: Float32Array;
  /**
   * Leave the values out of the model bytes and point at an "external data file" of this name instead; the
   * caller hands the bytes to the session separately (ORT's in-memory external data), saving a copy.
   */
  readonly externalFile?: string;
}

export type AttrValue = { readonly int: number } | { readonly float: number } | { readonly ints: readonly number[] } | { readonly string: string };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly domain?: string;
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers?: readonly Initializer[];
  /** Default-domain opset (17 unless an op needs a newer one, e.g. Gelu: 20). */
  readonly opset?: number;
  /** Extra operator sets (e.g. com.microsoft for contrib ops). */
  readonly extraOpsets?: readonly { domain: string; version: number }[];
}

const FLOAT = ELEM_TYPE.float;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function valueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, ELEM_TYPE[v.type ?? 'float']);
    tensor.message(2, (shape) => {
      for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
    });
  }));
}

function node(w: Writer, n: NodeSpec, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`);
  w.string(4, n.op);
  for (const [name, value] of Object.entries(n.attrs ?? {})) {
    w.message(5, (a) => {
      a.string(1, name);
      if ('int' in value) a.int(3, value.int).int(20, ATTR_INT);
      else if ('float' in value) a.float(2, value.float).int(20, ATTR_FLOAT);
      else if ('string' in value) a.string(4, value.string).int(20, ATTR_STRING);
      else {
        for (const v of value.ints) a.int(8, v);
        a.int(20, ATTR_INTS);
      }
    });
  }
  if (n.domain) w.string(7, n.domain);
}

function initializer(w: Writer, t: Initializer): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const data = t.data;
  if (data ? count !== data.length : !t.externalFile) {
    throw new RangeError(`initializer ${t.name}: dims [${t.dims.join(', ')}] hold ${count} values, data has ${data?.length ?? 'none'}`);
  }
  for (const d of t.dims) w.int(1, d);
  w.int(2, FLOAT);
  w.string(8, t.name);
  if (t.externalFile) {
    const entry = (key: string, value: string) => w.message(13, (e) => e.string(1, key).string(2, value));
    entry('location', t.externalFile);
    entry('offset', '0');
    entry('length', String(4 * count));
    w.int(14, 1); // data_location = EXTERNAL
  } else if (data) { // (always, by the check above)
    w.raw(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // little-endian, as ONNX requires
  }
}

/** Serialises a single-graph ModelProto (IR version 9, default opset 17 unless given). */
export function encodeModel(g: GraphSpec): Uint8Array {
  const w = new Writer();
  w.int(1, 9); // ir_version (9 covers opsets up to 20)
  w.string(2, 'transformer-explorer'); // producer_name
  w.message(7, (graph) => {
    g.nodes.forEach((n, i) => graph.message(1, (nw) => node(nw, n, i)));
    graph.string(2, g.name);
    for (const t of g.initializers ?? []) graph.message(5, (tw) => initializer(tw, t));
    for (const i of g.inputs) graph.message(11, (v) => valueInfo(v, i));
    for (const o of g.outputs) graph.message(12, (v) => valueInfo(v, o));
  });
  w.message(8, (op) => op.string(1, '').int(2, g.opset ?? 17));
  for (const o of g.extraOpsets ?? []) w.message(8, (op) => op.string(1, o.domain).int(2, o.version));
  return w.finish();
}
