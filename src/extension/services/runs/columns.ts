/** Growable typed-array columns: compact per-row storage for large runs. */

type TypedArray = Float64Array | Int32Array | Uint8Array | Int16Array;
type Ctor<T extends TypedArray> = new (n: number) => T;

export class Column<T extends TypedArray> {
  private data: T;
  length = 0;

  constructor(
    private readonly ctor: Ctor<T>,
    capacity = 1024,
  ) {
    this.data = new ctor(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new this.ctor(this.data.length * 2);
      next.set(this.data as never);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  set(i: number, value: number): void {
    this.data[i] = value;
  }

  clear(): void {
    this.length = 0;
    this.data = new this.ctor(1024);
  }

  /** Bytes held (capacity, not length). */
  get bytes(): number {
    return this.data.byteLength;
  }
}

export const f64 = () => new Column(Float64Array);
export const i32 = () => new Column(Int32Array);
export const u8 = () => new Column(Uint8Array);

/** Interns a small set of repeated strings (tasks, sources, labels) as ints. */
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }

  lookup(value: string): number {
    return this.ids.get(value) ?? -1;
  }

  clear(): void {
    this.ids.clear();
    this.values.length = 0;
  }
}
