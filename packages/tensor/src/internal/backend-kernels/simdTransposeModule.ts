/**
 * A tiny WebAssembly module, assembled here byte by byte, that transposes a row-major matrix of
 * 32-bit values with 128-bit SIMD, reading and writing tfjs-backend-wasm's own heap (it imports the
 * backend's `WebAssembly.Memory`, shared or not).
 *
 * tfjs-backend-wasm's `Transpose` moves one element per loop step (≈ 2 ns per element here). A
 * training step's backward transposes every frozen weight it multiplies by (`dX = dY · W` runs as
 * `(Wᵀ · dYᵀ)ᵀ`, see `batchMatMulWasm.ts`), ~0.35 G elements per 0.5B step. This module moves 4 × 4
 * blocks: four 16-byte row loads, eight lane shuffles, four 16-byte column stores, in tiles of 64
 * columns so that the stores of neighbouring blocks share cache lines.
 *
 * Exports `transpose(source, target, rows, columns)`: byte offsets into the memory; it handles the
 * top-left `⌊rows/4⌋·4 × ⌊columns/4⌋·4` block (the caller copies the few remaining edge elements).
 */

/** Unsigned LEB128. */
const unsigned = (value: number): Array<number> => {
  const bytes: Array<number> = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
};

/** Signed LEB128 of a small integer. */
const signed = (value: number): Array<number> => {
  const bytes: Array<number> = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
};

const utf8 = (text: string): Array<number> => {
  const bytes = new TextEncoder().encode(text);
  return [...unsigned(bytes.length), ...bytes];
};

const section = (id: number, body: ReadonlyArray<number>): Array<number> => [
  id,
  ...unsigned(body.length),
  ...body,
];

const vector = (items: ReadonlyArray<ReadonlyArray<number>>): Array<number> => [
  ...unsigned(items.length),
  ...items.flat(),
];

// Opcodes (WebAssembly core 2.0 with fixed-width SIMD).
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...unsigned(depth)],
  brIf: (depth: number) => [0x0d, ...unsigned(depth)],
  get: (local: number) => [0x20, ...unsigned(local)],
  set: (local: number) => [0x21, ...unsigned(local)],
  const: (value: number) => [0x41, ...signed(value)],
  add: [0x6a],
  mul: [0x6c],
  and: [0x71],
  shl: [0x74],
  geU: [0x4f],
  ltU: [0x49],
  select: [0x1b],
  // memarg: alignment 2^0 (rows need not be 16-byte aligned), offset 0
  load: [0xfd, ...unsigned(0), 0x00, 0x00],
  store: [0xfd, ...unsigned(11), 0x00, 0x00],
  shuffle: (lanes: ReadonlyArray<number>) => [
    0xfd,
    ...unsigned(13),
    // 32-bit lanes 0–3 of the first operand, 4–7 of the second, as byte indices
    ...lanes.flatMap((lane) => [lane * 4, lane * 4 + 1, lane * 4 + 2, lane * 4 + 3]),
  ],
} as const;

// Locals: the four parameters, then i32 and v128 locals.
const SOURCE = 0;
const TARGET = 1;
const ROWS = 2;
const COLUMNS = 3;
const ROW = 4;
const COLUMN = 5;
const TILE = 6;
const TILE_END = 7;
const ROW_BYTES = 8; // columns · 4: from one source row to the next
const COLUMN_BYTES = 9; // rows · 4: from one target row to the next
const ADDRESS = 10;
const ROWS_4 = 11;
const COLUMNS_4 = 12;
const I32_LOCALS = 9;
const V = [13, 14, 15, 16]; // source rows of a block
const T = [17, 18, 19, 20]; // half-transposed pairs
const V128_LOCALS = 8;
/** Columns per tile. */
const TILE_COLUMNS = 64;

/** `address += bytes` as an expression: `address + local`. */
const plus = (address: number, bytes: number) => [...op.get(address), ...op.get(bytes), ...op.add];

const body = (): Array<number> => {
  const code: Array<number> = [];
  const emit = (...parts: ReadonlyArray<ReadonlyArray<number>>) => {
    for (const part of parts) code.push(...part);
  };
  // rows4 = rows & ~3, columns4 = columns & ~3, rowBytes = columns << 2, columnBytes = rows << 2
  emit(op.get(ROWS), op.const(-4), op.and, op.set(ROWS_4));
  emit(op.get(COLUMNS), op.const(-4), op.and, op.set(COLUMNS_4));
  emit(op.get(COLUMNS), op.const(2), op.shl, op.set(ROW_BYTES));
  emit(op.get(ROWS), op.const(2), op.shl, op.set(COLUMN_BYTES));
  emit(op.const(0), op.set(TILE));
  emit(op.block, op.loop); // tiles
  emit(op.get(TILE), op.get(COLUMNS_4), op.geU, op.brIf(1));
  // tileEnd = min(tile + 64, columns4)
  emit(op.get(TILE), op.const(TILE_COLUMNS), op.add);
  emit(op.get(COLUMNS_4));
  emit(op.get(TILE), op.const(TILE_COLUMNS), op.add, op.get(COLUMNS_4), op.ltU);
  emit(op.select, op.set(TILE_END));
  emit(op.const(0), op.set(ROW));
  emit(op.block, op.loop); // rows, four at a time
  emit(op.get(ROW), op.get(ROWS_4), op.geU, op.brIf(1));
  emit(op.get(TILE), op.set(COLUMN));
  emit(op.block, op.loop); // the tile's columns, four at a time
  {
    emit(op.get(COLUMN), op.get(TILE_END), op.geU, op.brIf(1));
    // address = source + (row · columns + column) · 4
    emit(op.get(ROW), op.get(COLUMNS), op.mul, op.get(COLUMN), op.add, op.const(2), op.shl);
    emit(op.get(SOURCE), op.add, op.set(ADDRESS));
    for (let k = 0; k < 4; k++) {
      emit(op.get(ADDRESS), op.load, op.set(V[k]!));
      if (k < 3) emit(plus(ADDRESS, ROW_BYTES), op.set(ADDRESS));
    }
    // [a0 b0 a1 b1], [a2 b2 a3 b3], [c0 d0 c1 d1], [c2 d2 c3 d3]
    emit(op.get(V[0]!), op.get(V[1]!), op.shuffle([0, 4, 1, 5]), op.set(T[0]!));
    emit(op.get(V[0]!), op.get(V[1]!), op.shuffle([2, 6, 3, 7]), op.set(T[1]!));
    emit(op.get(V[2]!), op.get(V[3]!), op.shuffle([0, 4, 1, 5]), op.set(T[2]!));
    emit(op.get(V[2]!), op.get(V[3]!), op.shuffle([2, 6, 3, 7]), op.set(T[3]!));
    // address = target + (column · rows + row) · 4
    emit(op.get(COLUMN), op.get(ROWS), op.mul, op.get(ROW), op.add, op.const(2), op.shl);
    emit(op.get(TARGET), op.add, op.set(ADDRESS));
    const columns: ReadonlyArray<readonly [number, ReadonlyArray<number>]> = [
      [T[0]!, [0, 1, 4, 5]], // [a0 b0 c0 d0]
      [T[0]!, [2, 3, 6, 7]], // [a1 b1 c1 d1]
      [T[1]!, [0, 1, 4, 5]], // [a2 b2 c2 d2]
      [T[1]!, [2, 3, 6, 7]], // [a3 b3 c3 d3]
    ];
    columns.forEach(([first, lanes], k) => {
      const second = first === T[0] ? T[2]! : T[3]!;
      emit(op.get(ADDRESS), op.get(first), op.get(second), op.shuffle(lanes), op.store);
      if (k < 3) emit(plus(ADDRESS, COLUMN_BYTES), op.set(ADDRESS));
    });
    emit(op.get(COLUMN), op.const(4), op.add, op.set(COLUMN), op.br(0));
  }
  emit(op.end, op.end);
  emit(op.get(ROW), op.const(4), op.add, op.set(ROW), op.br(0));
  emit(op.end, op.end);
  emit(op.get(TILE), op.const(TILE_COLUMNS), op.add, op.set(TILE), op.br(0));
  emit(op.end, op.end);
  emit(op.end);
  const locals = vector([
    [...unsigned(I32_LOCALS), 0x7f],
    [...unsigned(V128_LOCALS), 0x7b],
  ]);
  const full = [...locals, ...code];
  return [...unsigned(full.length), ...full];
};

/**
 * The module's bytes, importing `env.memory` as a shared memory (tfjs's threaded build) or not.
 * A shared import must declare a maximum: 65536 pages (4 GiB), the most wasm32 allows.
 */
export const simdTransposeModuleBytes = (shared: boolean): Uint8Array => {
  const i32 = 0x7f;
  const types = section(1, vector([[0x60, ...vector([[i32], [i32], [i32], [i32]]), ...vector([])]]));
  const limits = shared ? [0x03, ...unsigned(0), ...unsigned(65536)] : [0x00, ...unsigned(0)];
  const imports = section(2, vector([[...utf8("env"), ...utf8("memory"), 0x02, ...limits]]));
  const functions = section(3, vector([unsigned(0)]));
  const exports = section(7, vector([[...utf8("transpose"), 0x00, ...unsigned(0)]]));
  const code = section(10, vector([body()]));
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...types,
    ...imports,
    ...functions,
    ...exports,
    ...code,
  ]);
};
